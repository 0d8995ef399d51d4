"""Benchmark: a scheduled sync of a large audience (apps.destinations.services.syncs).

    DATABASE_URL=... REDIS_URL=... SECRET_KEY=... python bench/syncs.py \
        [--profiles N] [--share S] [--leave L] [--batch B] [--condition]

N profiles are inserted, a share S of them in the audience segment. The first sync queues every
member (a pending delivery each, plus its member row); then a share L of the members leave the
segment and a second sync queues the same members again (their deliveries are still pending:
merged, not doubled) and one removal per leaver. Each is timed against a floor measured in the
same run: the same keyset walk over the members (same index, same batch size) inserting the ids
into a bare two-column table. Also printed: the longest batch (the longest a sync transaction
holds its locks).

Uses the database named by DATABASE_URL (migrated); everything it creates is deleted at the end.
Nothing is sent (the deliveries stay pending).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cdp.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from apps.destinations.models import Destination, DestinationSyncRun, Resource  # noqa: E402
from apps.destinations.services import (  # noqa: E402
    destination_create,
    destination_delete,
    destination_sync_start,
    destination_sync_step,
    resource_create,
)
from apps.profiles.models import Segment  # noqa: E402

SLUG = "bench-sync-audience"
PREFIX = "bench-sync-"


def insert_profiles(n: int, share: float) -> None:
    every = max(1, round(1 / share)) if share else 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO profiles_profile (
                id, primary_id, ids, static_ids, active, segments, created, updated,
                visit_count, metadata, stats, traits, interests, consents, aux, data
            )
            SELECT %(prefix)s || lpad(g::text, 9, '0'), NULL, '{}', '{}', true,
                   CASE WHEN %(every)s > 0 AND g %% %(every)s = 0
                        THEN ARRAY[%(slug)s]::varchar(200)[] ELSE '{}' END,
                   now(), now(), 0, '{}', '{}',
                   jsonb_build_object('plan', CASE WHEN g %% 10 = 0 THEN 'free' ELSE 'pro' END),
                   '{}', '{}', '{}',
                   jsonb_build_object('contact', jsonb_build_object('email',
                       jsonb_build_object('main', 'p' || g || '@example.com')))
            FROM generate_series(1, %(n)s) AS g
            """,
            {"prefix": PREFIX, "every": every, "slug": SLUG, "n": n},
        )
        cursor.execute("ANALYZE profiles_profile")


def floor_walk(batch: int) -> float:
    """The same keyset walk over the members, inserting ids into a bare table."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_floor (k text PRIMARY KEY, v text)")
        after = ""
        while True:
            cursor.execute(
                """
                INSERT INTO bench_floor (k, v)
                SELECT id, 'x' FROM profiles_profile
                WHERE segments @> ARRAY[%s]::varchar(200)[] AND id > %s
                ORDER BY id LIMIT %s
                RETURNING k
                """,
                [SLUG, after, batch],
            )
            keys = [row[0] for row in cursor.fetchall()]
            if len(keys) < batch:
                break
            after = max(keys)
        cursor.execute("DROP TABLE bench_floor")
    return time.perf_counter() - started


def timed_sync(destination: Destination, batch: int) -> tuple[float, float, DestinationSyncRun]:
    started_at = time.perf_counter()
    run = destination_sync_start(destination_id=destination.pk, trigger="send_now").run
    longest = 0.0
    while True:
        step_started = time.perf_counter()
        more = destination_sync_step(run_id=run.pk, batch_size=batch)
        longest = max(longest, time.perf_counter() - step_started)
        if not more:
            break
    run.refresh_from_db()
    return time.perf_counter() - started_at, longest, run


def cleanup() -> None:
    for destination in Destination.objects.filter(name=f"{PREFIX}destination"):
        destination_delete(destination=destination)
    Segment.objects.filter(slug=SLUG).delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM profiles_profile WHERE id LIKE %s", [PREFIX + "%"])
    Resource.objects.filter(name=f"{PREFIX}resource").delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=200_000)
    parser.add_argument("--share", type=float, default=0.5)
    parser.add_argument("--leave", type=float, default=0.01)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument(
        "--condition", action="store_true", help="a destination condition (profiles loaded)"
    )
    args = parser.parse_args()
    cleanup()
    try:
        insert_profiles(args.profiles, args.share)
        segment = Segment(name=SLUG, slug=SLUG, condition="profile@id EXISTS", kind="scheduled")
        segment.save()
        destination = destination_create(
            name=f"{PREFIX}destination",
            resource=resource_create(name=f"{PREFIX}resource", type="webhook"),
            settings={"url": "http://127.0.0.1:9/hook"},
            condition='profile@traits.plan == "pro"' if args.condition else "",
            sync_segment_id=segment.pk,
            removal_mapping={"action": "remove", "id": "profile@id"},
        )
        floor = floor_walk(args.batch)
        first, first_longest, run = timed_sync(destination, args.batch)
        members = run.members_queued + run.already_pending + run.skipped_by_condition
        print(f"members: {members} of {args.profiles} profiles, batch {args.batch}")
        print(f"floor (keyset walk + bare insert): {floor:.2f} s")
        print(
            f"first sync: {first:.2f} s ({first / floor:.1f}x floor, "
            f"{first / members * 1e6:.0f} µs per member), longest batch "
            f"{first_longest * 1000:.0f} ms; queued {run.members_queued}, "
            f"skipped by condition {run.skipped_by_condition}"
        )
        with connection.cursor() as cursor:
            every = max(1, round(1 / args.leave)) if args.leave else 0
            cursor.execute(
                """
                UPDATE profiles_profile SET segments = '{}'
                WHERE id LIKE %s AND segments @> ARRAY[%s]::varchar(200)[]
                  AND %s > 0 AND right(id, 6)::int %% %s = 0
                """,
                [PREFIX + "%", SLUG, every, max(every, 1)],
            )
            left = cursor.rowcount
        second, second_longest, run = timed_sync(destination, args.batch)
        print(
            f"second sync ({left} left): {second:.2f} s ({second / floor:.1f}x floor), longest "
            f"batch {second_longest * 1000:.0f} ms; queued {run.members_queued}, already "
            f"pending {run.already_pending}, removals {run.removals_queued}"
        )
    finally:
        cleanup()


if __name__ == "__main__":
    main()
