"""manage.py create_user and sync_roles: an operator makes a user of a role."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from apps.core.roles import role_permissions

pytestmark = pytest.mark.django_db


def test_create_user_makes_a_staff_user_of_the_role_and_prints_its_password(capsys):
    call_command("create_user", "ann", role="marketer", email="ann@example.com")

    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Created 'ann' with the role Marketer."
    password = out[1].removeprefix("Password (shown once): ")
    assert len(password) == 16
    ann = get_user_model().objects.get(username="ann")
    assert (ann.is_staff, ann.is_superuser, ann.email) == (True, False, "ann@example.com")
    assert list(ann.groups.values_list("name", flat=True)) == ["Marketer"]
    assert ann.check_password(password)
    assert ann.has_perm("profiles.change_segment")
    assert not ann.has_perm("api.add_apikey")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["bob", "--role", "boss"],
            "argument --role: invalid choice: 'boss' (choose from 'analyst', 'developer', "
            "'maintainer', 'marketer')",
        ),
        (["taken", "--role", "analyst"], "A user named 'taken' exists already"),
        (["  ", "--role", "analyst"], "Give a username that is not empty."),
    ],
)
def test_create_user_refuses_bad_input_and_stores_nothing(arguments, message):
    get_user_model().objects.create_user("taken")
    with pytest.raises(CommandError) as refused:
        call_command("create_user", *arguments)
    assert message in str(refused.value)
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["taken"]


def test_sync_roles_puts_the_table_back(capsys):
    Group.objects.get(name="Analyst").permissions.clear()
    Group.objects.get(name="Developer").delete()

    call_command("sync_roles")

    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{name}: {len(role_permissions(name))} permissions"
        for name in ("Marketer", "Developer", "Maintainer", "Analyst")
    ]
    developer = Group.objects.get(name="Developer")
    assert developer.permissions.count() == len(role_permissions("Developer")) == 27
    # Views of the marketer's models, and reports (parked runs, reports: 2 more than 18).
    assert Group.objects.get(name="Analyst").permissions.count() == 20
