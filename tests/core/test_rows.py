import pytest
from django.db import connection

from apps.core.rows import rows_fetch, rows_fetch_together
from apps.events.models import Event
from apps.profiles.models import Profile
from tests.workflows.factories import EventFactory, ProfileFactory

pytestmark = pytest.mark.django_db


def test_rows_read_like_the_orm(django_assert_num_queries):
    profile = ProfileFactory(
        ids=["old-1"], segments=["vip"], traits={"nested": {"a": [1, 2]}}, primary_id=None
    )
    event = EventFactory(profile=profile, properties={"n": 1.5, "s": "é"}, tags={"values": []})

    with django_assert_num_queries(1):
        [fetched] = rows_fetch(Event, "profile_id = %s ORDER BY time", [profile.pk])
    [fetched_profile] = rows_fetch(Profile, "id = %s", [profile.pk])

    expected = Event.objects.get(pk=event.pk)
    for field in Event._meta.concrete_fields:
        assert getattr(fetched, field.attname) == getattr(expected, field.attname), field.name
    assert fetched._state.adding is False
    stored_profile = Profile.objects.get(pk=profile.pk)
    for field in Profile._meta.concrete_fields:
        assert getattr(fetched_profile, field.attname) == getattr(stored_profile, field.attname)


def test_no_rows():
    assert rows_fetch(Profile, "id = %s", ["nobody"]) == []


def test_several_reads_travel_together_in_one_query(django_assert_num_queries):
    profile = ProfileFactory(traits={"plan": "pro"})
    event = EventFactory(profile=profile, properties={"n": 1})

    with django_assert_num_queries(1):
        events, profiles, nothing = rows_fetch_together(
            [
                (Event, "profile_id = %s ORDER BY time", [profile.pk]),
                (Profile, "id = %s", [profile.pk]),
                (Profile, "id = %s", ["missing"]),
            ],
            # Statements whose results are skipped: one without rows, one with a row.
            first=[
                ("SAVEPOINT together", []),
                ("SELECT set_config('lock_timeout', %s, true)", ["50ms"]),
            ],
        )

    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout; RELEASE SAVEPOINT together")
        assert cursor.fetchone() == ("50ms",)
    assert [(row.pk, row.properties) for row in events] == [(event.pk, {"n": 1})]
    assert [(row.pk, row.traits) for row in profiles] == [(profile.pk, {"plan": "pro"})]
    assert nothing == []
