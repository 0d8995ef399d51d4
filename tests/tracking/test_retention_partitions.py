"""Retention drops whole month partitions of events when every event in them is past the
cut-off, and deletes row-wise in the partition straddling it (apps.tracking.retention)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from apps.destinations.models import Delivery, DeliveryAttempt
from apps.events.models import Event, StoredEventId
from apps.events.partitions import partition_create
from apps.tracking.models import PurgeRecord
from apps.tracking.retention import Options, events_step, purge_proceed, purge_start
from tests.events.factories import EventFactory
from tests.sources.factories import EventSourceFactory
from tests.tracking.test_retention import ZERO, delivery_for, run_for

pytestmark = pytest.mark.django_db

JANUARY, FEBRUARY, MARCH = (datetime(2024, month, 1, tzinfo=UTC) for month in (1, 2, 3))
CUT_OFF = datetime(2024, 3, 15, tzinfo=UTC)
FAST = Options(batch_size=2, pause_seconds=0)


def _stored(event_id: str, *, inserted: datetime, time: datetime, source) -> None:
    EventFactory(
        id=event_id, source=source, profile=None, session=None, inserted=inserted, time=time
    )


def _checked() -> None:
    """Run the deferred foreign-key checks of the rows the test stored: in production the purge
    runs in a transaction of its own, and PostgreSQL drops no table with pending checks."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'events_event_p2024%'")
        return {row[0] for row in cursor.fetchall()}


def test_whole_months_past_the_cut_off_are_dropped_and_the_straddling_one_purged_by_row():
    for month in (JANUARY, FEBRUARY, MARCH):
        partition_create(month)
    source = EventSourceFactory()
    # January: every event is past the cut-off; one has a delivery, one a workflow run.
    for n in range(3):
        _stored(f"jan-{n}", inserted=JANUARY + timedelta(days=n), time=JANUARY, source=source)
    delivery_for(event_id="jan-0")
    run = run_for("jan-1", started=JANUARY)
    # February: a client sent a time after the cut-off, so the month stays; its other event
    # goes row-wise.
    _stored("feb-old", inserted=FEBRUARY, time=FEBRUARY, source=source)
    _stored("feb-future", inserted=FEBRUARY, time=datetime(2030, 1, 1, tzinfo=UTC), source=source)
    # March straddles the cut-off.
    _stored("mar-old", inserted=MARCH, time=MARCH + timedelta(days=9), source=source)
    _stored("mar-new", inserted=CUT_OFF, time=CUT_OFF + timedelta(days=1), source=source)

    _checked()
    record = purge_start(plan=[events_step(before=CUT_OFF)], actor="test")
    assert purge_proceed(record_id=record.pk, options=FAST) is True

    assert _tables() == {"events_event_p202402", "events_event_p202403"}
    assert sorted(Event.objects.values_list("pk", flat=True)) == ["feb-future", "mar-new"]
    assert Delivery.objects.count() == 0
    assert DeliveryAttempt.objects.count() == 0
    run.refresh_from_db()
    assert (run.event_id, run.event_ref) == (None, "jan-1")
    # The dropped month's ids are forgotten; the ids of the rows deleted row-wise stay claimed.
    assert sorted(StoredEventId.objects.values_list("pk", flat=True)) == [
        "feb-future",
        "feb-old",
        "mar-new",
        "mar-old",
    ]
    record = PurgeRecord.objects.get(pk=record.pk)
    assert record.status == PurgeRecord.Status.DONE
    assert record.deleted == {**ZERO, "events": 5, "deliveries": 1, "delivery_attempts": 1}


def test_a_month_with_events_of_a_source_keeping_its_own_retention_is_purged_by_row():
    partition_create(JANUARY)
    own, other = EventSourceFactory(), EventSourceFactory()
    _stored("jan-own", inserted=JANUARY, time=JANUARY, source=own)
    _stored("jan-other", inserted=JANUARY, time=JANUARY, source=other)
    step = events_step(before=CUT_OFF)
    step["exclude_sources"] = [own.pk]

    _checked()
    record = purge_start(plan=[step], actor="test")
    assert purge_proceed(record_id=record.pk, options=FAST) is True

    assert _tables() == {"events_event_p202401"}
    assert list(Event.objects.values_list("pk", flat=True)) == ["jan-own"]
    assert PurgeRecord.objects.get(pk=record.pk).deleted == {**ZERO, "events": 1}


def test_a_purge_of_some_types_never_drops_a_partition():
    partition_create(JANUARY)
    source = EventSourceFactory()
    _stored("jan-view", inserted=JANUARY, time=JANUARY, source=source)

    _checked()
    record = purge_start(plan=[events_step(before=CUT_OFF, types=["page-view"])], actor="test")
    assert purge_proceed(record_id=record.pk, options=FAST) is True

    assert _tables() == {"events_event_p202401"}
    assert Event.objects.count() == 0
