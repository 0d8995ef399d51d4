"""A worker's scans for waiting events (apps.tracking.batches) after many events were processed:
each processed event leaves a dead entry in the partial index of `collected` events until a
vacuum. The scans must be plain index scans, which mark the dead entries they meet so that
later scans skip them (a bitmap scan re-read them all on every claim: 12 ms per claim in
bench/workflows.py), and leave the connection's planner settings as they were. (Whether the
entries get marked also depends on the server: no older transaction may still see the rows.
So the tests check the scan, by the index's own count of rows fetched.)"""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.events.models import Event
from apps.tracking.batches import _events_waiting, _own_try_lock_and_candidates
from tests.workflows.factories import EventFactory, ProfileFactory

pytestmark = pytest.mark.django_db(transaction=True)

PROCESSED = 3000


@pytest.fixture
def processed_then_one_waiting():
    """PROCESSED events processed (their `collected` index entries dead), then one waiting
    event of another profile. Returns (the first profile's id, the other's)."""
    done, waiting = ProfileFactory(), ProfileFactory()
    start = timezone.now() - timedelta(hours=1)
    Event.objects.bulk_create(
        EventFactory.build(
            id=f"done-{n:05d}", profile=done, session=None, inserted=start + timedelta(seconds=n)
        )
        for n in range(PROCESSED)
    )
    assert Event.objects.filter(status="collected").update(status="processed") == PROCESSED
    EventFactory(id="waiting-1", profile=waiting, session=None)
    return done.id, waiting.id


def rows_fetched_by_index_scans_of_collected_events() -> int:
    """Live rows fetched through the partial index of `collected` events (each partition's) by
    plain index scans: a bitmap scan fetches its rows without counting them against the index.
    The count also holds earlier transactions' fetches that the backend has not yet reported
    (the fixture's UPDATE fetched 3,000), so the tests take a difference within one
    transaction, where nothing is reported."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(pg_stat_get_xact_tuples_fetched(inhrelid)), 0)::int "
            "FROM pg_inherits WHERE inhparent = 'event_collected_inserted'::regclass"
        )
        return cursor.fetchone()[0]


def bitmap_scans_setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_bitmapscan")
        return cursor.fetchone()[0]


def test_the_waiting_check_scans_the_index_of_collected_events(processed_then_one_waiting):
    done, _ = processed_then_one_waiting
    with transaction.atomic():
        before = rows_fetched_by_index_scans_of_collected_events()
        assert _events_waiting(done) is True  # the other profile's event waits
        fetched = rows_fetched_by_index_scans_of_collected_events() - before
        assert bitmap_scans_setting() == "on"  # the caller's transaction plans as usual

    assert fetched == 1  # the waiting event, through a plain index scan


def test_the_claim_scan_scans_the_index_of_collected_events_and_resets_the_planner(
    processed_then_one_waiting,
):
    done, waiting = processed_then_one_waiting
    with transaction.atomic():
        before = rows_fetched_by_index_scans_of_collected_events()
        own_locked, candidates = _own_try_lock_and_candidates(done, max_profiles=25)
        fetched = rows_fetched_by_index_scans_of_collected_events() - before
        assert bitmap_scans_setting() == "on"  # the rest of the batch plans as usual

    assert (own_locked, candidates) == (True, [(waiting, 1)])
    assert fetched == 1
