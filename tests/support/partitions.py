"""The events table is partitioned by month (apps.events.partitions): a plan scans each
partition's copy of an index, which PostgreSQL names after the partition. Tests that check which
index a query uses map those names back to the parent index."""

import re

from django.db import connection


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
