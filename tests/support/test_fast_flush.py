"""The fast flush (tests/support/fast_flush.py) leaves the rows Django's flush leaves: no test
data, and the content types, permissions and role groups post_migrate makes."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from apps.core.roles import MARKETER
from apps.profiles.models import Profile
from tests.profiles.factories import ProfileFactory
from tests.support.fast_flush import MANY_ROWS

pytestmark = pytest.mark.django_db(transaction=True)


def flush() -> None:
    """The flush pytest-django's transactional_db runs after each test."""
    call_command("flush", verbosity=0, interactive=False, reset_sequences=False)


def database_state() -> dict:
    return {
        "content types": sorted(ContentType.objects.values_list("app_label", "model")),
        "permissions": sorted(
            Permission.objects.values_list("content_type__app_label", "codename")
        ),
        "groups": sorted(
            (group.name, sorted(group.permissions.values_list("codename", flat=True)))
            for group in Group.objects.all()
        ),
        "users": get_user_model().objects.count(),
        "profiles": Profile.objects.count(),
    }


def test_untouched_seeded_rows_are_kept_and_test_data_goes():
    flush()  # Django's full flush first: the seeded rows' checksums are recorded after it
    after_migrate = database_state()
    permission_ids = sorted(Permission.objects.values_list("pk", flat=True))
    assert after_migrate["users"] == 0
    assert len(after_migrate["permissions"]) > 100
    assert len(after_migrate["groups"]) == 4

    get_user_model().objects.create_superuser("marketer", "m@example.com", "password")
    ProfileFactory(id="p1")
    flush()

    assert database_state() == after_migrate
    # The same rows, not made again by post_migrate.
    assert sorted(Permission.objects.values_list("pk", flat=True)) == permission_ids


def test_changed_seeded_rows_are_made_again_by_post_migrate():
    flush()
    after_migrate = database_state()
    marketer = Group.objects.get(name=MARKETER)
    marketer.permissions.remove(marketer.permissions.first())
    Group.objects.create(name="extra")
    Permission.objects.filter(codename="view_profile").delete()
    get_user_model().objects.create_user("ann", password="password")
    flush()

    assert database_state() == after_migrate


def test_a_table_of_many_rows_is_truncated_and_post_migrate_runs_again():
    flush()
    after_migrate = database_state()
    permission_ids = sorted(Permission.objects.values_list("pk", flat=True))
    Profile.objects.bulk_create(ProfileFactory.build_batch(MANY_ROWS + 1))
    flush()

    assert database_state() == after_migrate
    # Django's TRUNCATE of every table, then post_migrate made the permissions again.
    assert set(Permission.objects.values_list("pk", flat=True)).isdisjoint(permission_ids)
