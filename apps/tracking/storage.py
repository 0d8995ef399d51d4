"""The SQL of the /track hot path, where the ORM's per-field work was most of the request's CPU
(bench/track_profile.py): one statement inserts all events, and a repeated event id is skipped
instead of raising (no savepoint). The session statements are in apps.profiles.services.sessions.

Only fixed statements and identifiers from model metadata; values are always parameters.
"""

from datetime import datetime

import orjson
from django.db import connection

from apps.events.models import Event

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
