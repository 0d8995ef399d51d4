"""Tracardi's profile counters, `stats.visits` and `stats.views`, for profiles stored before
the tracking request kept them (apps.profiles.services.identity counts them from then on).

- `stats.visits` is the visit count (`Profile.visit_count`, metadata.time.visit.count);
- `stats.views` is the number of page-view events; the stored ones are counted, and a profile
  whose counter is already higher (page views of events that were not stored) keeps it.

Run by `manage.py profile_stats_backfill`, in keyset batches of profiles, each one statement;
safe to run again (it sets, never adds).
"""

from django.db import connection

from apps.events.models import Event
from apps.profiles.models import Profile
from apps.tracking.pipeline import PAGE_VIEW

_PROFILES = Profile._meta.db_table
_EVENTS = Event._meta.db_table
# Names are model metadata; values are parameters.
_BACKFILL = f"""
WITH batch AS (
    SELECT id FROM {_PROFILES} WHERE id > %(after)s ORDER BY id LIMIT %(size)s FOR UPDATE
),
views AS (
    SELECT profile_id, count(*) AS n FROM {_EVENTS}
    WHERE profile_id IN (SELECT id FROM batch) AND type = %(page_view)s
    GROUP BY profile_id
)
UPDATE {_PROFILES} AS p
SET stats = (CASE WHEN jsonb_typeof(p.stats) = 'object' THEN p.stats ELSE '{{}}'::jsonb END)
    || jsonb_build_object(
        'visits', p.visit_count,
        'views', GREATEST(
            COALESCE(views.n, 0),
            CASE WHEN jsonb_typeof(p.stats -> 'views') = 'number'
                 THEN (p.stats ->> 'views')::numeric ELSE 0 END))
FROM batch LEFT JOIN views ON views.profile_id = batch.id
WHERE p.id = batch.id
RETURNING p.id
"""


def profile_stats_backfill_batch(*, after_id: str, batch_size: int) -> tuple[str | None, int]:
    """Set stats.visits and stats.views on the next `batch_size` profiles by id after
    `after_id`. Returns (the id to continue after or None when done, profiles updated)."""
    with connection.cursor() as cursor:
        cursor.execute(_BACKFILL, {"after": after_id, "size": batch_size, "page_view": PAGE_VIEW})
        ids = [row[0] for row in cursor.fetchall()]
    if len(ids) < batch_size:
        return None, len(ids)
    return max(ids), len(ids)
