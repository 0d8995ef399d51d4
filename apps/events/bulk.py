"""The bulk writes of events, one statement each: the insert of a tracking request's events and
the outcome of a processed batch.

The ORM's per-field work was most of the request's CPU on /track (bench/track_profile.py), and
Django's bulk_update builds a CASE expression per field and row, which cost more than the
workflows themselves (≈60 ms for 10 events on the benchmark machine). Here the rows travel as
one JSON array parameter, read by `jsonb_array_elements` / `jsonb_to_recordset`: one orjson
call to encode, one short statement, nothing per value in Python. Table and column names are
constants of this module; the data is only ever a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson
from django.db import connection
from django.db.models import Case, F, Q, When

from apps.core.rows import Statement, statements_execute
from apps.events.models import EARLIEST_TIME, LATEST_TIME, Event


def events_insert_sql(condition: str = "TRUE") -> str:
    """The multi-row insert of a request's events (the JSON array `%(events)s`) with the
    request's columns as named parameters; `condition` may refer to other parts of the
    statement it is put in (apps.tracking.returning). Per-request values are parameters once;
    per-event values travel as one JSON array. An event id already stored (a client retry)
    is skipped."""
    return f"""
INSERT INTO {Event._meta.db_table}
    (id, type, source_id, profile_id, session_id, time, inserted, status, status_message,
     is_bot, properties, context, traits, metadata, request, tags, hit)
SELECT e->>'id', e->>'type', %(source_id)s, %(profile_id)s, %(session_id)s,
       (e->>'time')::timestamptz, %(inserted)s, e->>'status', e->>'status_message',
       %(is_bot)s, e->'properties', e->'context', e->'traits', e->'metadata',
       %(request)s::jsonb, e->'tags', COALESCE(e->'hit', '{{}}'::jsonb)
FROM jsonb_array_elements(%(events)s::jsonb) AS e
WHERE {condition}
ON CONFLICT DO NOTHING
"""


_EVENTS_INSERT = events_insert_sql()

_OUTCOME_COLUMNS = (
    ("id", "text"),
    ("status", "text"),
    ("status_message", "text"),
    ("metadata", "jsonb"),
    ("properties", "jsonb"),
    ("traits", "jsonb"),
    ("context", "jsonb"),
    ("tags", "jsonb"),
)


def events_insert(**columns) -> None:
    """One multi-row insert; an event id that is already stored (a client retry) is skipped.
    `columns`: those `events_insert_params` takes."""
    with connection.cursor() as cursor:
        cursor.execute(_EVENTS_INSERT, events_insert_params(**columns))


def events_insert_params(
    *,
    events: list[dict],
    source_id: str,
    profile_id: str | None,
    session_id: str | None,
    inserted: datetime,
    is_bot: bool,
    request: dict,
) -> dict:
    """The named parameters of `events_insert_sql`."""
    return {
        "events": orjson.dumps(events).decode(),
        "source_id": source_id,
        "profile_id": profile_id,
        "session_id": session_id,
        "inserted": inserted,
        "is_bot": is_bot,
        "request": orjson.dumps(request).decode(),
    }


def events_outcome_write(events: Sequence[Event]) -> None:
    """Store status, status_message and the JSON fields of processed events."""
    statements_execute([events_outcome_statement(events)])


def events_outcome_statement(events: Sequence[Event]) -> Statement | None:
    """The UPDATE of `events_outcome_write` (None for no events), to send with other writes
    in one round trip."""
    if not events:
        return None
    table = connection.ops.quote_name(Event._meta.db_table)
    rows = [{name: getattr(event, name) for name, _ in _OUTCOME_COLUMNS} for event in events]
    assignments = ", ".join(f"{name} = v.{name}" for name, _ in _OUTCOME_COLUMNS[1:])
    record = ", ".join(f"{name} {kind}" for name, kind in _OUTCOME_COLUMNS)
    # Nodes may have put non-JSON values (datetimes) into the data: they are stored as text.
    data = orjson.dumps(rows, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    located, params = events_located(
        [event.pk for event in events], [event.inserted for event in events]
    )
    return (
        f"UPDATE {table} AS e SET {assignments} "
        f"FROM jsonb_to_recordset(%s::jsonb) AS v({record}) WHERE e.id = v.id AND {located}",
        [data, *params],
    )


def events_located(ids: Sequence[str], inserted: Sequence[datetime | None]) -> tuple[str, list]:
    """The condition (on alias `e`) and its parameters that find these events by index in the
    partitions they can be in, for an UPDATE joined to a set of rows by id.

    Joined by id alone, the planner cannot know that an id is unique (the key is (id,
    inserted)) nor how few rows the set has, and chose a hash join over a sequential scan of
    every partition: 50 ms per /track request with 150,000 stored events, growing with the
    table. `id = ANY(...)` makes it an index look-up; the range of the insert times (when
    every row has one) prunes the partitions at planning."""
    condition, params = "e.id = ANY(%s)", [list(ids)]
    if inserted and all(value is not None for value in inserted):
        condition += " AND e.inserted BETWEEN %s AND %s"
        params += [min(inserted), max(inserted)]
    return condition, params


def events_fail(*, event_ids: Sequence[str], reason: str) -> None:
    """Mark events `error` with the reason, without reading them (they may be unreadable). A
    time Python cannot read back (a row stored before events migration 0006) becomes the time
    the event was stored, as that migration repairs them: the row is readable again, and the
    time constraint, which checks every updated row, lets the update through."""
    unreadable_time = Q(time__lt=EARLIEST_TIME) | Q(time__gt=LATEST_TIME)
    Event.objects.filter(pk__in=list(event_ids)).update(
        status=Event.Status.ERROR,
        status_message=reason[:2000],
        time=Case(When(unreadable_time, then=F("inserted")), default=F("time")),
    )
