"""A returning visitor's request in one statement (issue 20: /track's round trips).

Most requests come from a visitor whose session is stored, belongs to the profile the client
sends, and is within its visit. For them the pipeline's transaction (BEGIN, the session touch,
the INSERT, COMMIT) is one statement in autocommit: the touch, the page views on the profile
and the events' insert, which PostgreSQL runs atomically, prepared once per connection and
without the connection's health check. The touch applies only to such a session; when it
touches nothing (a new or another profile's session, a visit that timed out, a session a
merge moved meanwhile) the statement wrote nothing and the pipeline takes its general path
(pipeline.py), which resolves the identity as always.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

from apps.core.rows import server_bound_cursor
from apps.events.bulk import events_insert_params, events_insert_sql
from apps.profiles.services.sessions import PROFILE_VIEWS_OF_TOUCHED, SESSION_TOUCH_IN_VISIT

_RETURNING_VISIT = f"""
WITH touched AS ({SESSION_TOUCH_IN_VISIT}),
viewed AS ({PROFILE_VIEWS_OF_TOUCHED}),
stored AS ({events_insert_sql("EXISTS (SELECT 1 FROM touched)")} RETURNING 1)
SELECT count(*) FROM touched
"""


@dataclass(frozen=True, slots=True)
class ReturningVisit:
    session_id: str
    profile_id: str
    context: dict
    utm: dict
    properties: dict
    page_views: int


def returning_visit_store(
    visit: ReturningVisit,
    *,
    events: list[dict],
    source_id: str,
    now: datetime,
    is_bot: bool,
    request: dict,
) -> bool:
    """Touch the visit's session, count its page views and store the events, in one statement
    outside any transaction; False when the session is not the visit's (nothing written)."""
    timeout = timedelta(minutes=settings.CDP_VISIT_TIMEOUT_MINUTES)
    params = {
        **events_insert_params(
            events=events,
            source_id=source_id,
            profile_id=visit.profile_id,
            session_id=visit.session_id,
            inserted=now,
            is_bot=is_bot,
            request=request,
        ),
        "id": visit.session_id,
        "now": now,
        "visit_after": now - timeout,
        "context": orjson.dumps(visit.context).decode(),
        "utm": orjson.dumps(visit.utm).decode(),
        "properties": orjson.dumps(visit.properties).decode(),
        "views": visit.page_views,
    }
    # No health check (a `SELECT 1` round trip on a request's first query): a connection the
    # server dropped fails the statement, which committed nothing, and it runs again on a new
    # connection. (Dropped between commit and answer, the retry would count the page views
    # twice; the events' ids are claimed once.)
    connection.health_check_done = True
    try:
        return _returning_visit_run(params)
    except (OperationalError, InterfaceError):
        # Only a connection that was open and broke is replaced (none: the server is down).
        if connection.connection is None or connection.is_usable():
            raise
        connection.close()
    return _returning_visit_run(params)


def _returning_visit_run(params: dict) -> bool:
    with server_bound_cursor() as cursor:
        cursor.execute(_RETURNING_VISIT, params)
        (touched,) = cursor.fetchone()
    return touched == 1
