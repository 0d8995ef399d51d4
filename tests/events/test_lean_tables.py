"""The tables written at the rate of events carry only the indexes a query uses and only the
foreign-key constraint that guards a race (issue 20): every other index and check is paid on
every insert. These tests pin the exact set, show each index serving its query, and show that
the ORM's cascades keep integrity where the database constraint was dropped."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import ProtectedError
from django.utils import timezone

from apps.destinations.models import Delivery
from apps.events.models import Event
from apps.profiles.models import Session
from apps.workflows.models import WorkflowRun
from tests.destinations.factories import DestinationFactory
from tests.events.factories import EventFactory
from tests.support.partitions import events_analysed, parent_indexes
from tests.workflows.factories import WorkflowFactory

pytestmark = pytest.mark.django_db


def _indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        return {row[0] for row in cursor.fetchall()}


def _foreign_keys(table: str) -> set[str]:
    """The referenced table of each foreign-key constraint on `table`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT confrelid::regclass::text FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            [table],
        )
        return {row[0] for row in cursor.fetchall()}


def test_the_events_table_keeps_only_the_indexes_its_queries_use():
    assert _indexes("events_event") == {
        "events_event_pkey",
        "event_inserted",
        "event_source_inserted",
        "event_profile_time",
        "event_profile_type_time",
        "event_session_time",
        "event_type_time",
        "event_profile_collected",
        "event_collected_inserted",
        "event_invalid_inserted",
        "event_error_inserted",
        "event_bot_inserted",
    }
    assert _foreign_keys("events_event") == {"profiles_profile"}


def test_sessions_runs_and_deliveries_have_no_duplicate_indexes():
    assert _indexes("profiles_session") == {
        "profiles_session_pkey",
        "session_profile_updated",
        "session_updated",
        "session_open_updated",
    }
    assert "profiles_profile_id_d9b59daa_like" not in _indexes("profiles_profile")
    assert _indexes("destinations_delivery") == {
        "destinations_delivery_pkey",
        "delivery_created",
        "delivery_event",
        "delivery_health",
        "delivery_one_pending_per_profile",
        "delivery_one_per_erasure",
        "delivery_one_per_event",
        "delivery_pending_due",
        "delivery_profile_created",
        "delivery_sending_claimed",
        "delivery_sync_run",
    }
    assert _indexes("destinations_deliveryattempt") == {
        "destinations_deliveryattempt_pkey",
        "attempt_delivery_started",
        "attempt_destination",
        "attempt_destination_error",
        "attempt_started",
    }
    assert _foreign_keys("workflows_workflowrun") == {"profiles_profile", "workflows_workflow"}
    assert _foreign_keys("destinations_delivery") == {
        "destinations_destination",
        "destinations_destinationsyncrun",
        "profiles_profile",
    }


EVENT_QUERIES = {
    # The profile page's timeline and the worker's reads of a profile's history.
    "event_profile_time": "SELECT id FROM events_event WHERE profile_id = 'p' ORDER BY time",
    "event_session_time": "SELECT id FROM events_event WHERE session_id = 's' ORDER BY time",
    # The notation's aggregates over a person's events of some types in a window.
    "event_profile_type_time": (
        "SELECT time FROM events_event WHERE profile_id = 'p1' AND type = 'purchase' "
        "AND time >= now() - interval '7 days' ORDER BY time"
    ),
    # The events list filtered by type (admin, API); the daily chart of a type.
    "event_type_time": "SELECT id FROM events_event WHERE type = 'purchase' ORDER BY time DESC",
    "event_source_inserted": (
        "SELECT id FROM events_event WHERE source_id = 'x' ORDER BY inserted DESC LIMIT 100"
    ),
    "event_inserted": "SELECT id FROM events_event ORDER BY inserted DESC LIMIT 100",
    # The worker's one hot query.
    "event_profile_collected": (
        "SELECT id FROM events_event WHERE profile_id = 'p' AND status = 'collected' "
        "ORDER BY time, inserted"
    ),
    # The requeue sweep and the quarantine list.
    "event_collected_inserted": (
        "SELECT id FROM events_event WHERE status = 'collected' AND inserted < now() "
        "ORDER BY inserted"
    ),
    "event_invalid_inserted": (
        "SELECT id FROM events_event WHERE status = 'invalid' ORDER BY inserted LIMIT 100"
    ),
    "event_error_inserted": (
        "SELECT id FROM events_event WHERE status = 'error' ORDER BY inserted DESC LIMIT 100"
    ),
    "event_bot_inserted": "SELECT id FROM events_event WHERE is_bot ORDER BY inserted DESC LIMIT 9",
}


@pytest.mark.parametrize("index", sorted(EVENT_QUERIES))
def test_each_index_of_the_events_table_serves_its_query(index):
    events_analysed()
    with connection.cursor() as cursor:
        # An empty table's plan is a coin toss between indexes: with scans and sorts
        # discouraged, the index that gives the rows in the query's order wins.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + EVENT_QUERIES[index])
        plan = "\n".join(row[0] for row in cursor.fetchall())

    # The table is partitioned by month (apps.events.partitions): the plan scans each
    # partition's copy of the index, which PostgreSQL names after the partition.
    scanned = re.findall(r"Index (?:Only )?Scan (?:Backward )?(?:using|on) (\S+)", plan)
    assert scanned, plan
    assert set(parent_indexes(scanned)) == {index}, plan


def test_every_partition_carries_exactly_the_parents_indexes():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'events_event'::regclass"
        )
        partitions = [row[0] for row in cursor.fetchall()]
    assert "events_event_default" in partitions
    parent = _indexes("events_event")
    for partition in partitions:
        names = sorted(_indexes(partition))
        assert len(names) == len(parent)
        assert set(parent_indexes(names)) == parent


def test_the_newest_events_list_reads_only_the_partitions_of_its_time_range():
    """The events list by time with a date filter prunes the partitions before the range (the
    DEFAULT partition may hold any time and is always read)."""
    events_analysed()
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT id FROM events_event WHERE inserted >= date_trunc('month', now()) "
            "ORDER BY inserted DESC LIMIT 100"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYYMM')")
        this_month = cursor.fetchone()[0]
    scanned = set(re.findall(r" on (events_event_\w+?) ", plan))
    assert f"events_event_p{this_month}" in scanned, plan
    months = {int(name[-6:]) for name in scanned if name != "events_event_default"}
    assert min(months) == int(this_month), plan


def test_a_source_with_events_cannot_be_deleted():
    event = EventFactory()

    with pytest.raises(ProtectedError):
        event.source.delete()

    assert Event.objects.filter(pk=event.pk).exists()


def _run_and_delivery(event: Event) -> tuple[WorkflowRun, Delivery]:
    now = timezone.now()
    run = WorkflowRun.objects.create(
        workflow=WorkflowFactory(),
        workflow_version=1,
        event=event,
        event_ref=event.pk,
        event_type=event.type,
        profile=event.profile,
        status=WorkflowRun.Status.OK,
        started=now,
        duration_ms=1.0,
    )
    delivery = Delivery.objects.create(
        destination=DestinationFactory(),
        profile=event.profile,
        event=event,
        due_at=now,
        first_change_at=now,
        latest_due_at=now + timedelta(minutes=5),
        created=now,
        updated=now,
    )
    return run, delivery


def test_deleting_a_session_takes_its_events_and_their_deliveries_along():
    event = EventFactory()
    kept = EventFactory(profile=event.profile)
    run, delivery = _run_and_delivery(event)

    Session.objects.filter(pk=event.session_id).delete()

    assert list(Event.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not Delivery.objects.filter(pk=delivery.pk).exists()
    run.refresh_from_db()
    assert (run.event_id, run.event_ref) == (None, event.pk)


def test_erasing_a_profile_leaves_no_row_pointing_at_what_went():
    event = EventFactory()
    other = EventFactory()
    _run_and_delivery(event)
    _run_and_delivery(other)

    event.profile.delete()

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT "
            "(SELECT count(*) FROM events_event e WHERE NOT EXISTS "
            " (SELECT 1 FROM profiles_session s WHERE s.id = e.session_id)), "
            "(SELECT count(*) FROM events_event e WHERE NOT EXISTS "
            " (SELECT 1 FROM sources_eventsource s WHERE s.id = e.source_id)), "
            "(SELECT count(*) FROM destinations_delivery d WHERE d.event_id IS NOT NULL "
            " AND NOT EXISTS (SELECT 1 FROM events_event e WHERE e.id = d.event_id)), "
            "(SELECT count(*) FROM workflows_workflowrun r WHERE r.event_id IS NOT NULL "
            " AND NOT EXISTS (SELECT 1 FROM events_event e WHERE e.id = r.event_id))"
        )
        orphans = cursor.fetchone()

    assert orphans == (0, 0, 0, 0)
    assert list(Event.objects.values_list("pk", flat=True)) == [other.pk]
    assert Delivery.objects.count() == 1
