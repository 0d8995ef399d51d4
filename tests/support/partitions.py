"""The events table is partitioned by month (apps.events.partitions): a plan scans each
partition's copy of an index, which PostgreSQL names after the partition. Tests that check which
index a query uses map those names back to the parent index."""

import re

from django.db import connection

from tests.profiles.factories import ProfileFactory


def parent_indexes(names: list[str]) -> list[str]:
    """The partitioned (parent) index of each partition index in `names`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT parent.relname FROM pg_inherits i "
            "JOIN pg_class child ON child.oid = i.inhrelid "
            "JOIN pg_class parent ON parent.oid = i.inhparent WHERE child.relname = ANY(%s)",
            [names],
        )
        return [row[0] for row in cursor.fetchall()]


def scanned_parent_indexes(plan: str) -> set[str]:
    """The parent indexes an EXPLAIN text scans (through the partitions' copies)."""
    scanned = re.findall(r"Index (?:Only )?Scan (?:Backward )?(?:using|on) (\S+)", plan)
    return set(parent_indexes(scanned))


def events_analysed() -> None:
    """5,000 events over 50 profiles, 5 types and the last 3.5 days (one a minute), then
    ANALYZE: the planner chooses from statistics like a live table's, not from whatever
    earlier tests left (the rows go with the test's transaction)."""
    for n in range(50):
        ProfileFactory(id=f"p{n}")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO events_event (id, type, source_id, profile_id, session_id, time, "
            "inserted, status, status_message, is_bot, properties, context, traits, metadata, "
            "request, tags, hit) "
            "SELECT 'lean-' || n, "
            "(ARRAY['page-view', 'purchase', 'view', 'click', 'login'])[n % 5 + 1], "
            "'s' || (n % 3), 'p' || (n % 50), 'session-' || (n % 400), "
            "now() - (n || ' minutes')::interval, now() - (n || ' minutes')::interval, "
            "(ARRAY['processed','processed','processed','collected','invalid'])[n % 5 + 1], "
            "'', n % 97 = 0, '{}', '{}', '{}', '{}', '{}', '{}', '{}' "
            "FROM generate_series(1, 5000) AS n"
        )
        cursor.execute("ANALYZE events_event")
