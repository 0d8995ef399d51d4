"""The events table's partitions (docs/manual/storage.md): events_event is partitioned by
RANGE of `inserted`, the server's insert time, one partition per calendar month (UTC), named
events_event_pYYYYMM, plus the DEFAULT partition events_event_default for any row no month
partition takes, so that no insert can fail for a missing partition.

- `inserted` is the key because it only moves forward: every insert lands in the newest
  partition, whose indexes are the small hot ones, and a month partition is past retention
  as a whole once its month is. The client's `time` can be anything.
- `partitions_ensure` (the beat job events.partitions_ensure, daily) creates the current month
  and CDP_EVENT_PARTITIONS_AHEAD months ahead; creating one that exists is a no-op, and rows
  already in the DEFAULT partition for that month (the job did not run in time) are moved
  into it in the same transaction.
- `partition_drop` removes a whole month (retention, apps.tracking.retention).

Idempotency (a retried event id stored once) cannot use the primary key any more: on a
partitioned table it must include the partition key, (id, inserted), and a retry has another
`inserted`. Every insert goes through the BEFORE INSERT trigger event_id_claim (events
migration 0017), which claims the id in the small unpartitioned table of StoredEventId rows
with ON CONFLICT DO NOTHING and skips the event when the id was claimed before, in any
partition. Writers keep `ON CONFLICT DO NOTHING` and `RETURNING` working as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.events.models import Event, StoredEventId

PARENT = Event._meta.db_table
DEFAULT_PARTITION = f"{PARENT}_default"
_NAME = re.compile(rf"^{PARENT}_p(\d{{4}})(\d{{2}})$")
# Partition creation and dropping serialise on this (two beat ticks, a purge, a test).
_LOCK_KEY = 0x4556_5054  # "EVPT"


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    start: datetime
    end: datetime


def month_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def month_after(start: datetime) -> datetime:
    if start.month == 12:
        return datetime(start.year + 1, 1, 1, tzinfo=UTC)
    return datetime(start.year, start.month + 1, 1, tzinfo=UTC)


def partition_name(start: datetime) -> str:
    return f"{PARENT}_p{start:%Y%m}"


def partitions_list() -> list[Partition]:
    """The month partitions, oldest first (the DEFAULT partition is not one of them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [PARENT],
        )
        names = [row[0] for row in cursor.fetchall()]
    partitions = []
    for name in names:
        match = _NAME.match(name)
        if match:
            start = datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)
            partitions.append(Partition(name, start, month_after(start)))
    return sorted(partitions, key=lambda partition: partition.start)


def partition_create(start: datetime) -> bool:
    """Create the month partition starting at `start` (the first of a month, UTC) unless it
    exists; True when this call created it. Rows of that month already in the DEFAULT partition
    move into it: ATTACH refuses while the DEFAULT partition holds rows of the new range."""
    start = month_start(start)
    name = partition_name(start)
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if cursor.fetchone()[0]:
            return False
        end = month_after(start)
        cursor.execute(
            f"CREATE TABLE {quote(name)} "
            f"(LIKE {quote(PARENT)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        # Moving rows out of DEFAULT takes its lock; it is empty while the job runs ahead.
        cursor.execute(
            f"WITH moved AS (DELETE FROM {quote(DEFAULT_PARTITION)} "
            "WHERE inserted >= %s AND inserted < %s RETURNING *) "
            f"INSERT INTO {quote(name)} SELECT * FROM moved",
            [start, end],
        )
        cursor.execute(
            f"ALTER TABLE {quote(PARENT)} ATTACH PARTITION {quote(name)} "
            "FOR VALUES FROM (%s) TO (%s)",
            [start, end],
        )
    return True


def partitions_ensure(*, now: datetime | None = None, ahead: int | None = None) -> list[str]:
    """Create the partitions of the current month and `ahead` months after it (default
    CDP_EVENT_PARTITIONS_AHEAD) that are missing; the names of those created."""
    ahead = settings.CDP_EVENT_PARTITIONS_AHEAD if ahead is None else ahead
    start = month_start(now or timezone.now())
    created = []
    for _ in range(ahead + 1):
        if partition_create(start):
            created.append(partition_name(start))
        start = month_after(start)
    return created


def partition_rows(partition: Partition) -> int:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {quote(partition.name)}")
        return cursor.fetchone()[0]


def partition_all_before(partition: Partition, *, before: datetime, exclude_sources=()) -> bool:
    """Whether every event of `partition` is past a retention cut-off: its events' `time` is
    before `before` (an event whose client time is later keeps the whole partition, to be
    purged row-wise later) and none is from `exclude_sources` (sources with a retention of
    their own)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT NOT EXISTS (SELECT 1 FROM {quote(partition.name)} "
            "WHERE time >= %s OR source_id = ANY(%s))",
            [before, list(exclude_sources)],
        )
        return cursor.fetchone()[0]


def partition_drop(partition: Partition) -> None:
    """Drop a whole month of events and forget their ids' claims (StoredEventId): a purged
    event's id may be stored again, as a deleted row's could before partitioning. Dependants
    (deliveries, workflow runs) are the caller's."""
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        cursor.execute(f"DROP TABLE IF EXISTS {quote(partition.name)}")
        StoredEventId.objects.filter(
            inserted__gte=partition.start, inserted__lt=partition.end
        ).delete()
