"""The events table is partitioned by month of `inserted` (apps.events.partitions): partitions
are created ahead by the beat job, a row outside them goes to the DEFAULT partition and moves
into its month when that is created, and an event id is stored once across partitions."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from apps.events.bulk import events_insert
from apps.events.models import Event, StoredEventId
from apps.events.partitions import (
    DEFAULT_PARTITION,
    partition_create,
    partitions_ensure,
    partitions_list,
)
from apps.events.tasks import partitions_ensure as partitions_ensure_task
from tests.sources.factories import EventSourceFactory

pytestmark = pytest.mark.django_db

JANUARY = datetime(2031, 1, 31, 23, 59, 59, tzinfo=UTC)
FEBRUARY = datetime(2031, 2, 1, 0, 0, 1, tzinfo=UTC)


def _partition_of(event_id: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM events_event WHERE id = %s", [event_id]
        )
        return [row[0] for row in cursor.fetchall()]


def _store(event_id: str, *, inserted: datetime, source_id: str, event_type: str = "page-view"):
    events_insert(
        events=[
            {
                "id": event_id,
                "type": event_type,
                "time": inserted.isoformat(),
                "status": "processed",
                "status_message": "",
                "properties": {},
                "context": {},
                "traits": {},
                "metadata": {},
                "tags": {"values": [], "count": 0},
            }
        ],
        source_id=source_id,
        profile_id=None,
        session_id=None,
        inserted=inserted,
        is_bot=False,
        request={},
    )


def test_a_retried_event_id_is_stored_once_across_a_partition_boundary():
    source = EventSourceFactory()
    assert partitions_ensure(now=JANUARY, ahead=0) == ["events_event_p203101"]
    _store("retried-1", inserted=JANUARY, source_id=source.pk, event_type="first")
    # Time moves into February; the beat job has created its partition.
    assert partitions_ensure(now=FEBRUARY, ahead=0) == ["events_event_p203102"]
    _store("retried-1", inserted=FEBRUARY, source_id=source.pk, event_type="retry")
    _store("new-in-february", inserted=FEBRUARY, source_id=source.pk)

    assert _partition_of("retried-1") == ["events_event_p203101"]
    assert Event.objects.get(pk="retried-1").type == "first"
    assert _partition_of("new-in-february") == ["events_event_p203102"]
    assert list(StoredEventId.objects.filter(pk="retried-1").values_list("inserted")) == [
        (JANUARY,)
    ]


def test_an_import_of_already_stored_events_returns_only_the_new_ones():
    """The writers' RETURNING sees only the rows stored: a skipped retry returns nothing."""
    source = EventSourceFactory()
    _store("kept", inserted=JANUARY, source_id=source.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO events_event (id, type, source_id, time, inserted, status, "
            "status_message, is_bot, properties, context, traits, metadata, request, tags) "
            "SELECT v, 'x', %s, now(), now(), 'processed', '', false, '{}', '{}', '{}', '{}', "
            "'{}', '{}' FROM unnest(ARRAY['kept', 'fresh']) AS v ON CONFLICT DO NOTHING "
            "RETURNING id",
            [source.pk],
        )
        assert cursor.fetchall() == [("fresh",)]
    assert Event.objects.filter(pk__in=["kept", "fresh"]).count() == 2


def test_a_row_without_its_month_partition_goes_to_default_and_moves_when_it_is_created():
    source = EventSourceFactory()
    late = datetime(2040, 6, 15, tzinfo=UTC)
    _store("far-ahead", inserted=late, source_id=source.pk)
    assert _partition_of("far-ahead") == [DEFAULT_PARTITION]

    assert partition_create(late) is True
    assert partition_create(late) is False  # idempotent
    assert _partition_of("far-ahead") == ["events_event_p204006"]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {DEFAULT_PARTITION}")
        assert cursor.fetchone() == (0,)


def test_the_beat_job_creates_this_month_and_the_months_ahead_once(settings):
    settings.CDP_EVENT_PARTITIONS_AHEAD = 2
    before = {partition.name for partition in partitions_list()}
    created = partitions_ensure_task()
    after = {partition.name for partition in partitions_list()}
    assert set(created) == after - before
    assert partitions_ensure_task() == []
    now = datetime.now(UTC)
    months = [(now.year * 12 + now.month - 1 + ahead) for ahead in range(3)]
    expected = {f"events_event_p{month // 12:04d}{month % 12 + 1:02d}" for month in months}
    assert expected <= after


def test_the_beat_schedule_runs_the_job_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["events-partitions-ensure"]
    assert entry["task"] == "events.partitions_ensure"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({2}, {10})
