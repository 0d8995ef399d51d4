"""Benchmark: a scheduled workflow over a large segment (apps.tracking.schedules).

    DATABASE_URL=... REDIS_URL=... SECRET_KEY=... python bench/schedules.py \
        [--profiles N] [--share S] [--batch B]

N profiles are inserted, a share S of them in the audience segment; a deployed 2-node workflow
(start -> copy a trait from the run's event) is scheduled for the segment and one run walks the
audience in this process, batch after batch, as the worker's tasks would. Printed: runs/s, the
longest batch (the longest a batch transaction holds its profile locks), and a floor measured
in the same run: the same keyset walk over the members writing one trait per profile with a
single UPDATE per batch (no workflow, no run rows).

Uses the database named by DATABASE_URL (migrated); everything it creates is deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import time as clock_time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cdp.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.profiles.models import Profile, Segment  # noqa: E402
from apps.tracking.schedules import workflow_schedule_start, workflow_schedule_step  # noqa: E402
from apps.workflows.actions import action_by_id  # noqa: E402
from apps.workflows.models import Workflow, WorkflowRun, WorkflowSchedule  # noqa: E402
from apps.workflows.services.schedules import (  # noqa: E402
    workflow_schedule_drop,
    workflow_schedule_save,
)

SLUG = "bench-schedule-audience"
PREFIX = "bench-sched-"


def insert_profiles(n: int, share: float) -> None:
    every = max(1, round(1 / share))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO profiles_profile (
                id, primary_id, ids, static_ids, active, segments, created, updated,
                visit_count, metadata, stats, traits, interests, consents, aux, data
            )
            SELECT %(prefix)s || lpad(g::text, 9, '0'), NULL, '{}', '{}', true,
                   CASE WHEN g %% %(every)s = 0 THEN ARRAY[%(slug)s]::varchar(200)[]
                        ELSE '{}' END,
                   now(), now(), 0, '{}', '{}', '{}', '{}', '{}', '{}', '{}'
            FROM generate_series(1, %(n)s) AS g
            """,
            {"prefix": PREFIX, "every": every, "slug": SLUG, "n": n},
        )
        cursor.execute("ANALYZE profiles_profile")


def graph() -> dict:
    def node(node_id, action_id, **config):
        return {
            "id": node_id,
            "type": "startNode" if action_id == "start" else "flowNode",
            "position": {"x": 0, "y": 0},
            "data": {
                "start": action_id == "start",
                "debug": False,
                "spec": action_by_id(action_id).spec(config),
                "metadata": {"name": node_id},
            },
        }

    copy = {"traits": {"set": {"profile@traits.scheduled": "event@properties.schedule.name"}}}
    return {
        "nodes": [node("start", "start"), node("copy", "copy_data", **copy)],
        "edges": [
            {
                "id": "e",
                "source": "start",
                "sourceHandle": "payload",
                "target": "copy",
                "targetHandle": "payload",
            }
        ],
    }


def floor_walk(batch: int) -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        after = ""
        while True:
            cursor.execute(
                "WITH page AS (SELECT id FROM profiles_profile WHERE segments @> ARRAY[%s]"
                "::varchar(200)[] AND id > %s ORDER BY id LIMIT %s) "
                "UPDATE profiles_profile p SET traits = p.traits || '{\"floor\": 1}' "
                "FROM page WHERE p.id = page.id RETURNING p.id",
                [SLUG, after, batch],
            )
            ids = sorted(row[0] for row in cursor.fetchall())
            if len(ids) < batch:
                break
            after = ids[-1]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=20_000)
    parser.add_argument("--share", type=float, default=0.25)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    insert_profiles(args.profiles, args.share)
    segment = Segment.objects.create(
        name=SLUG, slug=SLUG, condition="profile@id EXISTS", kind=Segment.Kind.SCHEDULED
    )
    workflow = Workflow.objects.create(
        name="bench schedule", graph=graph(), draft=graph(), deployed_at=timezone.now()
    )
    schedule = workflow_schedule_save(
        schedule=WorkflowSchedule(
            name="bench",
            workflow=workflow,
            every="day",
            at_time=clock_time(3, 0),
            audience="segment",
            segment=segment,
        )
    )
    try:
        floor = floor_walk(args.batch)
        run = workflow_schedule_start(schedule_id=schedule.pk).run
        longest = 0.0
        started = time.perf_counter()
        while True:
            batch_started = time.perf_counter()
            more = workflow_schedule_step(run_id=run.pk, batch_size=args.batch).more
            longest = max(longest, time.perf_counter() - batch_started)
            if not more:
                break
        elapsed = time.perf_counter() - started
        run.refresh_from_db()
        members = run.profiles
        print(f"profiles {args.profiles}, members {members}, batch {args.batch}")
        print(
            f"scheduled run: {run.runs_ok} ok / {run.runs_failed} failed in {elapsed:.2f} s "
            f"= {members / elapsed:,.0f} runs/s; longest batch {longest * 1000:.0f} ms"
        )
        print(
            f"floor (keyset walk + one UPDATE per batch): {members / floor:,.0f} profiles/s; "
            f"ratio {floor / elapsed:.3f}"
        )
    finally:
        WorkflowRun.objects.filter(workflow=workflow).delete()
        schedule.delete()
        workflow_schedule_drop(schedule_id=schedule.pk)
        workflow.delete()
        segment.delete()
        Profile.objects.filter(pk__startswith=PREFIX).delete()


if __name__ == "__main__":
    main()
