"""The session statements of the /track hot path, where the ORM's per-field work was most of the
request's CPU (bench/track_profile.py): one statement to touch a session and read what identity
resolution needs, none of them raising on a missing row.

Only fixed statements and identifiers from model metadata; values are always parameters.
"""

from dataclasses import dataclass
from datetime import datetime

import orjson
from django.db import connection

from apps.profiles.models import Profile, Session


@dataclass(frozen=True, slots=True)
class SessionState:
    profile_id: str | None
    updated: datetime
    # The request's page views were added to the profile's stats.views by the touch.
    views_counted: bool = False


def _session_touch_sql(condition: str = "") -> str:
    """The touch of one session (`%(id)s`), returning its profile id and last update before
    the touch; `condition` narrows which session row it touches."""
    return f"""
UPDATE {Session._meta.db_table} AS s
SET updated = %(now)s,
    -- A visit the visit-end job closed is open again (a new visit of the same session).
    status = 'started',
    metadata = CASE WHEN s.status = 'ended' AND jsonb_typeof(s.metadata) = 'object'
                    THEN jsonb_set(s.metadata, '{{status}}', '"started"') ELSE s.metadata END,
    context = s.context || %(context)s::jsonb,
    utm = s.utm || %(utm)s::jsonb,
    properties = s.properties || %(properties)s::jsonb
FROM (SELECT id, updated, profile_id FROM {Session._meta.db_table}
      WHERE id = %(id)s {condition} FOR UPDATE) AS old
WHERE s.id = old.id
RETURNING old.profile_id, old.updated
"""


_SESSION_TOUCH = _session_touch_sql()

# A profile's `stats` with the request's page views (%(views)s) added to `stats.views`. A
# `stats.views` that a workflow overwrote with a non-number counts again from 0.
_STATS_WITH_VIEWS = """jsonb_set(
    CASE WHEN jsonb_typeof(p.stats) = 'object' THEN p.stats ELSE '{}'::jsonb END,
    '{views}',
    to_jsonb(CASE WHEN jsonb_typeof(p.stats -> 'views') = 'number'
                  THEN (p.stats ->> 'views')::numeric ELSE 0 END + %(views)s))"""

# Adds the request's page views (0 for none) to the profile of the session a `touched`
# statement touched.
PROFILE_VIEWS_OF_TOUCHED = f"""
UPDATE {Profile._meta.db_table} AS p
SET stats = {_STATS_WITH_VIEWS}
FROM touched WHERE p.id = touched.profile_id AND %(views)s > 0
RETURNING p.id
"""

# The same touch, and the request's page views added to its profile's `stats.views` in the
# same round trip (a returning visitor's request stays at one statement before the events).
_SESSION_TOUCH_COUNTING_VIEWS = f"""
WITH touched AS ({_SESSION_TOUCH}),
viewed AS ({PROFILE_VIEWS_OF_TOUCHED})
SELECT profile_id, updated, (SELECT count(*) FROM viewed) FROM touched
"""

# The touch of a returning visitor's request in one statement (apps.tracking.returning): only
# the session of the profile the client names (%(profile_id)s), and only while its visit goes
# on (last seen at or after %(visit_after)s); otherwise it touches nothing.
SESSION_TOUCH_IN_VISIT = _session_touch_sql(
    "AND profile_id = %(profile_id)s AND updated >= %(visit_after)s"
)

_PROFILE_VIEWS_ADD = f"""
UPDATE {Profile._meta.db_table} AS p SET stats = {_STATS_WITH_VIEWS} WHERE p.id = %(id)s
"""

_SESSION_STATE = f"SELECT profile_id, updated FROM {Session._meta.db_table} WHERE id = %s"

_SESSION_ATTACH = (
    f"UPDATE {Session._meta.db_table} SET profile_id = %s WHERE id = %s AND profile_id IS NULL"
)


def session_touch(
    *,
    session_id: str,
    now: datetime,
    context: dict,
    utm: dict,
    properties: dict,
    page_views: int = 0,
) -> SessionState | None:
    """Mark a stored session as seen and merge the request's context into it (shallow, like
    `{**old, **new}`); returns its state before the touch, or None when it is not stored.

    With `page_views`, they are added to the session's profile's `stats.views` in the same
    statement (`SessionState.views_counted` says whether there was a profile to count them on).
    """
    params = {
        "id": session_id,
        "now": now,
        "context": orjson.dumps(context).decode(),
        "utm": orjson.dumps(utm).decode(),
        "properties": orjson.dumps(properties).decode(),
    }
    with connection.cursor() as cursor:
        if page_views:
            cursor.execute(_SESSION_TOUCH_COUNTING_VIEWS, {**params, "views": page_views})
        else:
            cursor.execute(_SESSION_TOUCH, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return SessionState(
        profile_id=row[0], updated=row[1], views_counted=bool(page_views and row[2])
    )


def profile_views_add(*, profile_id: str, page_views: int) -> None:
    """Add page views to a profile's `stats.views` (requests whose session did not count them)."""
    with connection.cursor() as cursor:
        cursor.execute(_PROFILE_VIEWS_ADD, {"views": page_views, "id": profile_id})


def session_state(*, session_id: str) -> SessionState | None:
    with connection.cursor() as cursor:
        cursor.execute(_SESSION_STATE, [session_id])
        row = cursor.fetchone()
    return SessionState(profile_id=row[0], updated=row[1]) if row else None


def session_attach_profile(*, session_id: str, profile_id: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_SESSION_ATTACH, [profile_id, session_id])
