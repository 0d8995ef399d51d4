"""The data migration core/0002_roles installs the four groups, and takes them away backwards."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

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
