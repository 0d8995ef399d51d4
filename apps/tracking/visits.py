"""Visit end (issue 18 item 4): a session with no event for CDP_VISIT_TIMEOUT_MINUTES is
closed by a beat job, which stores a `visit-ended` system event so rules can route it (the
abandoned-basket case).

A visit starts with the session (or when a session comes back after the timeout) and the
pipeline stores a `visit-started` event then; its end is the session's last activity
(`updated`). The job, in batches of sessions locked FOR UPDATE SKIP LOCKED (a request touching
one of them waits for the batch, then reopens the session: sessions.session_touch):

- sets the session's status to `ended` and `metadata.time.duration` (seconds of the visit);
- stores one `visit-ended` event on the session's profile and source (those of its last
  event), at the time of the last activity, with {"duration", "events", "started", "ended"};
  its id is derived from the session and the visit's start, so a batch run twice stores it
  once;
- stores it `collected` when a rule, mapping or identification point wants it: the task
  that called the service hands those to the workers once the batch is committed.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.events.bulk import events_insert
from apps.events.models import Event
from apps.profiles.models import Session
from apps.tracking.routing import event_needs_processing
from apps.tracking.system_events import SYSTEM_EVENT_TYPES, VISIT_ENDED, VISIT_STARTED

SESSIONS_PER_BATCH = 500
_VISIT_IDS = uuid.UUID("6f2b3c1e-7d4a-4b8e-9a51-3c0de1f0a9b7")

# The sessions whose visit is over, with what the event needs: the visit's start (its latest
# visit-started event, else the session's creation), its events since then, and the source of
# its last event. Served by the partial index on open sessions and event_session_time.
_OPEN_SESSIONS_PAST = f"""
SELECT s.id, s.profile_id, s.created, s.updated, s.is_bot,
       started.time, last_event.source_id
FROM {Session._meta.db_table} AS s
LEFT JOIN LATERAL (
    SELECT e.time FROM {Event._meta.db_table} AS e
    WHERE e.session_id = s.id AND e.type = %(visit_started)s
    ORDER BY e.time DESC LIMIT 1
) AS started ON true
LEFT JOIN LATERAL (
    SELECT e.source_id FROM {Event._meta.db_table} AS e
    WHERE e.session_id = s.id ORDER BY e.time DESC LIMIT 1
) AS last_event ON true
WHERE s.status = 'started' AND s.updated < %(cutoff)s
ORDER BY s.updated
LIMIT %(limit)s
FOR UPDATE OF s SKIP LOCKED
"""

_VISIT_EVENT_COUNT = f"""
SELECT count(*) FROM {Event._meta.db_table}
WHERE session_id = %s AND time >= %s AND NOT (type = ANY(%s))
"""

_SESSION_END = f"""
UPDATE {Session._meta.db_table}
SET status = 'ended',
    metadata = jsonb_set(
        jsonb_set(CASE WHEN jsonb_typeof(metadata) = 'object' THEN metadata ELSE '{{}}' END,
                  '{{status}}', '"ended"'),
        '{{time}}',
        CASE WHEN jsonb_typeof(metadata -> 'time') = 'object' THEN metadata -> 'time'
             ELSE '{{}}' END || jsonb_build_object('duration', %s::float))
WHERE id = %s
"""


@dataclass(frozen=True, slots=True)
class EndedVisit:
    session_id: str
    profile_id: str | None
    event_id: str | None  # None: the session has no event, so no source to store one under
    duration_seconds: float
    events: int
    routed: bool = False  # stored `collected`: for the workers


def visits_end(*, now: datetime | None = None, limit: int = SESSIONS_PER_BATCH) -> list[EndedVisit]:
    """End one batch of visits idle for the visit timeout; returns them (empty: none left)."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.CDP_VISIT_TIMEOUT_MINUTES)
    ended = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _OPEN_SESSIONS_PAST,
            {"visit_started": VISIT_STARTED, "cutoff": cutoff, "limit": limit},
        )
        for (
            session_id,
            profile_id,
            created,
            updated,
            is_bot,
            started,
            source_id,
        ) in cursor.fetchall():
            visit_start = max(started, created) if started else created
            duration = max((updated - visit_start).total_seconds(), 0.0)
            cursor.execute(_VISIT_EVENT_COUNT, [session_id, visit_start, list(SYSTEM_EVENT_TYPES)])
            count = cursor.fetchone()[0]
            cursor.execute(_SESSION_END, [duration, session_id])
            event_id, routed = None, False
            if source_id is not None:
                routed = event_needs_processing(source_id=source_id, event_type=VISIT_ENDED)
                event_id = _visit_ended_store(
                    session_id=session_id,
                    profile_id=profile_id,
                    source_id=source_id,
                    is_bot=is_bot,
                    visit_start=visit_start,
                    last_activity=updated,
                    duration=duration,
                    count=count,
                    routed=routed,
                    now=now,
                )
            ended.append(EndedVisit(session_id, profile_id, event_id, duration, count, routed))
    return ended


def _visit_ended_store(
    *,
    session_id: str,
    profile_id: str | None,
    source_id: str,
    is_bot: bool,
    visit_start: datetime,
    last_activity: datetime,
    duration: float,
    count: int,
    routed: bool,
    now: datetime,
) -> str:
    event_id = str(uuid.uuid5(_VISIT_IDS, f"{session_id}@{visit_start.isoformat()}"))
    status = Event.Status.COLLECTED if routed else Event.Status.PROCESSED
    time = last_activity.isoformat()
    document = {
        "id": event_id,
        "type": VISIT_ENDED,
        "time": time,
        "status": status.value,
        "status_message": "",
        "properties": {
            "duration": round(duration, 3),
            "events": count,
            "started": visit_start.isoformat(),
            "ended": time,
        },
        "context": {},
        "traits": {},
        "metadata": {
            "channel": "",
            "profile_less": profile_id is None,
            "profile_id": profile_id,
            "time": {"insert": now.isoformat(), "create": time},
        },
        "tags": {"values": [], "count": 0},
    }
    events_insert(
        events=[document],
        source_id=source_id,
        profile_id=profile_id,
        session_id=session_id,
        inserted=now,
        is_bot=is_bot,
        request={},
    )
    return event_id
