"""Tracardi's roles (Marketer, Developer, Maintainer, Analyst) as groups: apps.core.roles."""

from django.db import migrations

from apps.core.role_sync import roles_sync
from apps.core.roles import ROLE_LIST


def install_roles(apps, schema_editor):
    roles_sync(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
    )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=[role.name for role in ROLE_LIST]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_daily_metrics"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(install_roles, remove_roles)]
