"""The data migration core/0002_roles installs the four groups, and takes them away backwards."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management import call_command

from apps.core.roles import role_permissions

migration = importlib.import_module("apps.core.migrations.0002_roles")

pytestmark = pytest.mark.django_db


def test_the_migration_installs_the_groups_and_removes_them_backwards():
    Group.objects.create(name="Support")  # a group of the operator's own stays as it is

    migration.remove_roles(apps, None)
    assert list(Group.objects.values_list("name", flat=True)) == ["Support"]

    migration.install_roles(apps, None)
    assert sorted(Group.objects.values_list("name", flat=True)) == [
        "Analyst",
        "Developer",
        "Maintainer",
        "Marketer",
        "Support",
    ]
    maintainer = Group.objects.get(name="Maintainer")
    assert set(maintainer.permissions.values_list("content_type__app_label", "codename")) == (
        role_permissions("Maintainer")
    )
    assert ("auth", "change_user") in role_permissions("Maintainer")


def test_every_migrate_puts_the_roles_table_back():
    Group.objects.get(name="Analyst").delete()
    Group.objects.get(name="Developer").permissions.clear()

    call_command("migrate", verbosity=0)

    assert Group.objects.get(name="Analyst").permissions.count() == len(role_permissions("Analyst"))
    assert Group.objects.get(name="Developer").permissions.count() == len(
        role_permissions("Developer")
    )
