"""Event times Python cannot read back are refused by the database (events migration 0006),
and the rows stored before that are repaired by the migration."""

import importlib

import pytest
from django.db import IntegrityError, connection, transaction

from apps.events.models import Event
from tests.events.factories import EventFactory, legacy_event_time_set

pytestmark = pytest.mark.django_db

migration = importlib.import_module("apps.events.migrations.0006_event_time_readable")


@pytest.mark.parametrize(
    "value", ["0001-01-01 00:00:00+14", "9999-12-31 23:59:59-14", "infinity", "-infinity"]
)
def test_a_time_outside_the_years_1_to_9999_in_utc_is_refused(value):
    event = EventFactory()
    with (
        pytest.raises(IntegrityError, match="event_time_readable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE events_event SET time = %s WHERE id = %s", [value, event.pk])


def test_the_migration_repairs_a_stored_unreadable_time_and_says_so():
    readable = EventFactory()
    legacy = EventFactory(status=Event.Status.COLLECTED)
    legacy_event_time_set(legacy, "0001-01-01 00:00:00+14")

    with connection.cursor() as cursor:
        cursor.execute(migration.REPAIR_UNREADABLE_TIMES)

    legacy.refresh_from_db()
    assert legacy.time == legacy.inserted
    assert legacy.status == Event.Status.ERROR
    assert legacy.status_message == (
        "Its time 0001-12-31 10:00:00+00 BC is outside the years 1 to 9999 in UTC; "
        "the time it was stored is used instead."
    )
    before = readable.time
    readable.refresh_from_db()
    assert (readable.time, readable.status, readable.status_message) == (
        before,
        Event.Status.PROCESSED,
        "",
    )
