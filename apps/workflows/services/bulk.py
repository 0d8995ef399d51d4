"""The two writes of a processed batch, one statement each.

Django's bulk_update builds a CASE expression per field and row, which cost more than the
workflows themselves (≈60 ms for 10 events on the benchmark machine). Here the rows travel as
one JSON array parameter, read by `jsonb_to_recordset`: one orjson call to encode, one short
statement, nothing per value in Python. Table and column names are constants of this module;
the data is only ever a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from django.db import connection

from apps.events.models import Event
from apps.workflows.models import WorkflowRun

_EVENT_COLUMNS = (
    ("id", "text"),
    ("status", "text"),
    ("status_message", "text"),
    ("metadata", "jsonb"),
    ("properties", "jsonb"),
    ("traits", "jsonb"),
    ("context", "jsonb"),
    ("tags", "jsonb"),
)
_RUN_COLUMNS = (
    ("workflow_id", "text"),
    ("workflow_version", "int"),
    ("event_id", "text"),
    ("event_ref", "text"),
    ("event_type", "text"),
    ("profile_id", "text"),
    ("rule_ids", "jsonb"),
    ("replay", "bool"),
    ("status", "text"),
    ("error", "text"),
    ("error_node", "text"),
    ("started", "timestamptz"),
    ("duration_ms", "float8"),
    ("log", "jsonb"),
)


def _rows_json(rows: list[dict]) -> str:
    # Nodes may have put non-JSON values (datetimes) into the data: they are stored as text.
    return orjson.dumps(rows, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def _record_type(columns: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{name} {kind}" for name, kind in columns)


def events_outcome_write(events: Sequence[Event]) -> None:
    """Store status, status_message and the JSON fields of processed events."""
    if not events:
        return
    table = connection.ops.quote_name(Event._meta.db_table)
    rows = [{name: getattr(event, name) for name, _ in _EVENT_COLUMNS} for event in events]
    assignments = ", ".join(f"{name} = v.{name}" for name, _ in _EVENT_COLUMNS[1:])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS e SET {assignments} "
            f"FROM jsonb_to_recordset(%s::jsonb) AS v({_record_type(_EVENT_COLUMNS)}) "
            "WHERE e.id = v.id",
            [_rows_json(rows)],
        )


def workflow_runs_insert(runs: Sequence[WorkflowRun]) -> None:
    if not runs:
        return
    table = connection.ops.quote_name(WorkflowRun._meta.db_table)
    rows = [{name: getattr(run, name) for name, _ in _RUN_COLUMNS} for run in runs]
    names = ", ".join(name for name, _ in _RUN_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} "
            f"FROM jsonb_to_recordset(%s::jsonb) AS r({_record_type(_RUN_COLUMNS)})",
            [_rows_json(rows)],
        )
