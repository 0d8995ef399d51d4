"""Benchmark: resuming parked workflow branches (issue 18) against the worker's plain event rate.

    DATABASE_URL=... REDIS_URL=... SECRET_KEY=... .venv/bin/python bench/parked.py \
        [--parked 100000] [--profiles 1000 --events-per-profile 10]

A database named --database on the DATABASE_URL server is dropped, recreated and migrated; the
Celery queue in REDIS_URL is purged. Then:

1. --parked branches are stored at once (one profile each, their `parked` WorkflowRun rows and
   ParkedRun rows written with INSERT ... SELECT FROM jsonb_to_recordset / unnest), all due
   within the same minute (the minute just past), waiting at the Wait node of a workflow
   start -> wait -> copy data (`profile@traits.plan` <- `payload@properties.plan`): each
   resumed branch writes its profile, as the plain workflow below does;
2. a real worker (prefork, concurrency 2) and a real `celery beat` start; beat's job
   (`workflows.resume_parked_runs`, every CDP_WORKFLOW_RESUME_EVERY_SECONDS) resumes them.
   Timed from beat's start to the last branch committed as resumed: branches/s;
3. exactly once: every ParkedRun is `resumed`, every run `ok` with exactly 4 log entries
   (start, wait, then the resumed wait and copy once), every profile's plan written;
4. the plain event rate through the same worker, as bench/workflows.py's throughput step
   (start -> if -> copy data; one message per profile), and the ratio.

Target (issue 18): 100,000 branches due in the same minute resume within 2 minutes.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.track import database_recreate, database_url, manage  # noqa: E402

CHUNK = 10_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parked", type=int, default=100_000)
    parser.add_argument("--profiles", type=int, default=1000, help="Plain rate: messages.")
    parser.add_argument("--events-per-profile", type=int, default=10)
    parser.add_argument("--database", default="cdp_bench_parked")
    return parser.parse_args()


def prepare(args) -> dict:
    database_recreate(server_url=os.environ["DATABASE_URL"], name=args.database)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cdp.settings",
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "DATABASE_URL": database_url(os.environ["DATABASE_URL"], args.database),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    print(f"Preparing database {args.database} ...", flush=True)
    manage(env, "migrate", "--noinput")
    os.environ.update(env)
    import django

    django.setup()
    return env


def wait_graph() -> dict:
    from apps.workflows.actions import action_by_id

    def node(node_id: str, action_id: str, **config) -> dict:
        return {
            "id": node_id,
            "type": "flowNode",
            "position": {"x": 0, "y": 0},
            "data": {"spec": action_by_id(action_id).spec(config), "metadata": {"name": node_id}},
        }

    def edge(source: str, target: str) -> dict:
        return {
            "id": f"{source}-{target}",
            "source": source,
            "sourceHandle": "payload",
            "target": target,
            "targetHandle": "payload",
        }

    return {
        "nodes": [
            node("start", "start"),
            node("wait", "wait", mode="for a time", amount=1, unit="hours"),
            node("copy", "copy_data", traits={"set": {"profile@traits.plan": "payload@plan"}}),
        ],
        "edges": [edge("start", "wait"), edge("wait", "copy")],
    }


def parked_store(count: int) -> str:
    """`count` profiles, each with a parked run due within the minute just past."""
    import orjson
    from django.db import connection
    from django.utils import timezone

    from apps.core.ids import new_id
    from apps.profiles.models import Profile
    from apps.workflows.models import ParkedRun, WorkflowRun
    from apps.workflows.services.workflows import workflow_create

    workflow = workflow_create(name="Bench: wait, then copy plan", graph=wait_graph())
    now = timezone.now()
    minute = now.replace(second=0, microsecond=0) - timedelta(minutes=1)
    started = time.perf_counter()
    for offset in range(0, count, CHUNK):
        size = min(CHUNK, count - offset)
        ids = [new_id() for _ in range(size)]
        Profile.objects.bulk_create(
            [Profile(pk=pid, created=now, updated=now) for pid in ids], batch_size=CHUNK
        )
        runs = [
            {
                "workflow_id": workflow.pk,
                "event_ref": f"ev-{pid}",
                "event_type": "purchase",
                "profile_id": pid,
                "started": now.isoformat(),
                "log": [
                    {"node": "start", "port": "payload"},
                    {"node": "wait", "port": None},
                ],
            }
            for pid in ids
        ]
        parked = [
            {
                "workflow_id": workflow.pk,
                "event_ref": f"ev-{pid}",
                "profile_id": pid,
                "due_at": (minute + timedelta(seconds=(offset + i) % 60)).isoformat(),
                "state": {
                    "payload": {"plan": "pro", "n": offset + i},
                    "memory": {},
                    "event": {"id": f"ev-{pid}", "type": "purchase"},
                    "session_id": None,
                },
            }
            for i, pid in enumerate(ids)
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {WorkflowRun._meta.db_table} (workflow_id, workflow_version, "
                "event_ref, event_type, profile_id, rule_ids, replay, in_request, status, error, "
                "error_node, started, duration_ms, log) "
                "SELECT workflow_id, 1, event_ref, event_type, profile_id, '[]', false, false, "
                "'parked', '', '', started, 0.1, log FROM jsonb_to_recordset(%s::jsonb) AS r("
                "workflow_id text, event_ref text, event_type text, profile_id text, "
                "started timestamptz, log jsonb)",
                [orjson.dumps(runs).decode()],
            )
            cursor.execute(
                f"INSERT INTO {ParkedRun._meta.db_table} (workflow_id, workflow_version, "
                "event_ref, event_type, profile_id, node_id, node_name, due_at, due_port, "
                "waiting_for, status, state, created, outcome) "
                "SELECT workflow_id, 1, event_ref, 'purchase', profile_id, 'wait', 'wait', "
                "due_at, 'payload', '', 'parked', state, now(), '' "
                "FROM jsonb_to_recordset(%s::jsonb) AS r(workflow_id text, event_ref text, "
                "profile_id text, due_at timestamptz, state jsonb)",
                [orjson.dumps(parked).decode()],
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"stored {count:,} parked branches in {time.perf_counter() - started:.1f} s", flush=True)
    return workflow.pk


def beat_start(env: dict) -> subprocess.Popen:
    schedule = Path(tempfile.mkdtemp()) / "schedule"
    log = open(Path(tempfile.gettempdir()) / "bench-parked-beat.log", "w")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cdp", "beat", "--loglevel", "WARNING",
         "--pidfile=", "-s", str(schedule)],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def parked_left() -> int:
    from apps.workflows.models import ParkedRun

    return ParkedRun.objects.filter(status="parked").count()


def exactly_once(workflow_id: str, count: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE status = 'resumed'), count(*) "
            "FROM workflows_parkedrun WHERE workflow_id = %s",
            [workflow_id],
        )
        resumed, total = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FILTER (WHERE status = 'ok' AND jsonb_array_length(log) = 4), "
            "count(*) FROM workflows_workflowrun WHERE workflow_id = %s",
            [workflow_id],
        )
        runs_once, runs = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM profiles_profile WHERE traits ->> 'plan' = 'pro'")
        (profiles_written,) = cursor.fetchone()
    print(
        f"exactly once: {resumed:,}/{total:,} branches resumed, {runs_once:,}/{runs:,} runs ok "
        f"with the resumed nodes once, {profiles_written:,} profiles written",
        flush=True,
    )
    if not (resumed == total == runs_once == runs == profiles_written == count):
        raise SystemExit("NOT exactly once")


def main() -> None:
    args = parse_args()
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        raise SystemExit("Set DATABASE_URL and REDIS_URL")
    env = prepare(args)
    from bench.workflows import Worker, throughput, workflow_setup
    from cdp.celery import app

    app.control.purge()
    workflow_id = parked_store(args.parked)
    plain_source = workflow_setup()
    workdir = Path(tempfile.mkdtemp(prefix="bench-parked-"))
    worker = Worker(env, workdir / "worker.log", REPO)
    worker.wait_ready()
    beat = None
    try:
        print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
        started = time.perf_counter()
        beat = beat_start(env)
        left = args.parked
        while left:
            time.sleep(0.5)
            left = parked_left()
            if time.perf_counter() - started > 900:
                raise SystemExit(f"Timed out with {left:,} branches still parked")
        seconds = time.perf_counter() - started
        beat.terminate()
        beat.wait(timeout=30)
        beat = None
        resume_rate = args.parked / seconds
        print(
            f"resumed {args.parked:,} branches in {seconds:.1f} s (from beat's start) -> "
            f"{resume_rate:,.0f} branches/s; target: within 120 s "
            f"({'met' if seconds <= 120 else 'NOT met'})",
            flush=True,
        )
        exactly_once(workflow_id, args.parked)
        plain = throughput(args, plain_source)
        print(
            f"plain events through the same worker: {plain['events']:,} events in "
            f"{plain['messages']:,} messages in {plain['seconds']:.2f} s -> "
            f"{plain['events_per_s']:,.0f} events/s",
            flush=True,
        )
        print(
            f"ratio resumed branches/s : plain events/s = {resume_rate / plain['events_per_s']:.2f}"
        )
        print(f"load average after: {os.getloadavg()[0]:.2f}; logs in {workdir}")
    finally:
        if beat is not None:
            beat.terminate()
        worker.stop()


if __name__ == "__main__":
    main()
