"""The outcome of processed events is written by one UPDATE joined to the rows by id
(apps.events.bulk). Joined by id alone, PostgreSQL planned a hash join over a sequential scan
of every partition: each /track request with an answering rule, and each worker batch, read
the whole events table (50 ms per request at 150,000 stored events, and growing). These tests
run the statement under EXPLAIN ANALYZE among 5,000 analysed events and count the rows it
reads."""

from datetime import UTC, datetime

import orjson
import pytest
from django.db import connection

from apps.events.bulk import events_located, events_outcome_write
from apps.events.models import Event
from tests.support.partitions import events_analysed

pytestmark = pytest.mark.django_db


def _plans_of(run) -> list[dict]:
    """Run `run()` with every statement it sends executed as EXPLAIN (ANALYZE, FORMAT JSON):
    the statements still take effect; their plans are returned."""
    plans = []

    def explain(execute, sql, params, many, context):
        # The driver's own cursor: Django's would call this wrapper again.
        with connection.connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
            (document,) = cursor.fetchone()
        plans.append((document if isinstance(document, list) else orjson.loads(document))[0])

    with connection.execute_wrapper(explain):
        run()
    return plans


def _rows_read(node: dict, table_prefix: str) -> int:
    """Rows a plan's scans of `table_prefix*` relations read: returned or filtered out."""
    read = 0
    if node.get("Relation Name", "").startswith(table_prefix):
        read += node.get("Actual Rows", 0) * node.get("Actual Loops", 1)
        read += node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
    for child in node.get("Plans", []):
        read += _rows_read(child, table_prefix)
    return read


def test_the_outcome_of_three_events_reads_three_rows_among_five_thousand():
    events_analysed()
    events = list(Event.objects.filter(pk__in=["lean-10", "lean-11", "lean-12"]).order_by("pk"))
    for event in events:
        event.status = Event.Status.PROCESSED
        event.status_message = f"done {event.pk}"
        event.traits = {"checked": event.pk}

    (plan,) = _plans_of(lambda: events_outcome_write(events))

    assert _rows_read(plan["Plan"], "events_event") == 3
    stored = Event.objects.filter(pk__in=["lean-10", "lean-11", "lean-12"]).order_by("pk")
    assert [(e.pk, e.status, e.status_message, e.traits) for e in stored] == [
        ("lean-10", "processed", "done lean-10", {"checked": "lean-10"}),
        ("lean-11", "processed", "done lean-11", {"checked": "lean-11"}),
        ("lean-12", "processed", "done lean-12", {"checked": "lean-12"}),
    ]
    assert Event.objects.filter(status_message__startswith="done").count() == 3


def test_the_located_condition_bounds_the_insert_times_only_when_every_event_has_one():
    first = datetime(2026, 12, 1, 10, tzinfo=UTC)
    last = datetime(2026, 12, 3, 9, tzinfo=UTC)

    assert events_located(["a", "b"], [last, first]) == (
        "e.id = ANY(%s) AND e.inserted BETWEEN %s AND %s",
        [["a", "b"], first, last],
    )
    assert events_located(["a", "b"], [last, None]) == ("e.id = ANY(%s)", [["a", "b"]])
