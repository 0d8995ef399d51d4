"""Reads behind the admin's filters, each bounded so that a list page stays fast however large
the events table grows."""

from django.db import connection

from apps.events.models import Event

MAX_EVENT_TYPES = 200

# Distinct event types by a "loose index scan" over the (type, -time) index: one index probe per
# type instead of reading every event (SELECT DISTINCT would scan the whole table). The table
# name is a constant of this code, never input.
_EVENT_TYPES_SQL = f"""
WITH RECURSIVE types(type) AS (
    (SELECT type FROM {Event._meta.db_table} ORDER BY type LIMIT 1)
    UNION ALL
    SELECT (SELECT e.type FROM {Event._meta.db_table} e WHERE e.type > types.type
            ORDER BY e.type LIMIT 1)
    FROM types WHERE types.type IS NOT NULL
)
SELECT type FROM types WHERE type IS NOT NULL LIMIT %s
"""


def event_types_in_use(*, limit: int = MAX_EVENT_TYPES) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(_EVENT_TYPES_SQL, [limit])
        return [row[0] for row in cursor.fetchall()]
