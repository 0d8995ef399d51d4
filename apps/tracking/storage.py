"""The SQL of the /track hot path, where the ORM's per-field work was most of the request's CPU
(bench/track_profile.py): one statement to touch a session, one to insert all events, and
inserts that report a conflict instead of raising it (no savepoints).

Only fixed statements and identifiers from model metadata; values are always parameters.
"""

from dataclasses import dataclass
from datetime import datetime

import orjson
from django.db import connection

from apps.events.models import Event
from apps.profiles.models import Session


@dataclass(frozen=True, slots=True)
class SessionState:
    profile_id: str | None
    updated: datetime


_SESSION_TOUCH = f"""
UPDATE {Session._meta.db_table} AS s
SET updated = %(now)s,
    context = s.context || %(context)s::jsonb,
    utm = s.utm || %(utm)s::jsonb,
    properties = s.properties || %(properties)s::jsonb
FROM (SELECT id, updated, profile_id FROM {Session._meta.db_table}
      WHERE id = %(id)s FOR UPDATE) AS old
WHERE s.id = old.id
RETURNING old.profile_id, old.updated
"""

_SESSION_STATE = f"SELECT profile_id, updated FROM {Session._meta.db_table} WHERE id = %s"

_SESSION_ATTACH = (
    f"UPDATE {Session._meta.db_table} SET profile_id = %s WHERE id = %s AND profile_id IS NULL"
)

# Per-request values are parameters once; per-event values travel as one JSON array.
_EVENTS_INSERT = f"""
INSERT INTO {Event._meta.db_table}
    (id, type, source_id, profile_id, session_id, time, inserted, status, status_message,
     is_bot, properties, context, traits, metadata, request, tags)
SELECT e->>'id', e->>'type', %(source_id)s, %(profile_id)s, %(session_id)s,
       (e->>'time')::timestamptz, %(inserted)s, e->>'status', e->>'status_message',
       %(is_bot)s, e->'properties', e->'context', e->'traits', e->'metadata',
       %(request)s::jsonb, e->'tags'
FROM jsonb_array_elements(%(events)s::jsonb) AS e
ON CONFLICT (id) DO NOTHING
"""


def session_touch(
    *, session_id: str, now: datetime, context: dict, utm: dict, properties: dict
) -> SessionState | None:
    """Mark a stored session as seen and merge the request's context into it (shallow, like
    `{**old, **new}`); returns its state before the touch, or None when it is not stored."""
    with connection.cursor() as cursor:
        cursor.execute(
            _SESSION_TOUCH,
            {
                "id": session_id,
                "now": now,
                "context": orjson.dumps(context).decode(),
                "utm": orjson.dumps(utm).decode(),
                "properties": orjson.dumps(properties).decode(),
            },
        )
        row = cursor.fetchone()
    return SessionState(profile_id=row[0], updated=row[1]) if row else None


def session_state(*, session_id: str) -> SessionState | None:
    with connection.cursor() as cursor:
        cursor.execute(_SESSION_STATE, [session_id])
        row = cursor.fetchone()
    return SessionState(profile_id=row[0], updated=row[1]) if row else None


def session_attach_profile(*, session_id: str, profile_id: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_SESSION_ATTACH, [profile_id, session_id])


def events_insert(
    *,
    events: list[dict],
    source_id: str,
    profile_id: str | None,
    session_id: str | None,
    inserted: datetime,
    is_bot: bool,
    request: dict,
) -> None:
    """One multi-row insert; an event id that is already stored (a client retry) is skipped."""
    with connection.cursor() as cursor:
        cursor.execute(
            _EVENTS_INSERT,
            {
                "events": orjson.dumps(events).decode(),
                "source_id": source_id,
                "profile_id": profile_id,
                "session_id": session_id,
                "inserted": inserted,
                "is_bot": is_bot,
                "request": orjson.dumps(request).decode(),
            },
        )
