"""The SQL of the /track hot path, where the ORM's per-field work was most of the request's CPU
(bench/track_profile.py): one statement to touch a session (the events' insert is
apps.events.bulk.events_insert).

Only fixed statements and identifiers from model metadata; values are always parameters.
"""

from dataclasses import dataclass
from datetime import datetime

import orjson
from django.db import connection

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
