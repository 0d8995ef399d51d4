"""Where a worker task's time goes, per profile and per batch (issue 20), in one process: the
events of --profiles profiles (--events-per-profile each, the 3-node workflow of
bench/workflows.py) processed one profile per call (`profile_events_process`, what a task did
before batching) and as one batch of many profiles (`profiles_events_process`), alternately,
--rounds times. It prints, for each, statements sent to PostgreSQL, process CPU ms and wall ms
per 100 events, and the ratios batch / one profile per call. CPU time is steadier than wall time
on a busy machine; the statements do not depend on the load at all.

    .venv/bin/python bench/workflow_batch.py                  # about 20 s on a quiet machine
    .venv/bin/python bench/workflow_batch.py --profiles 50 --rounds 5

It uses DATABASE_URL's server (a database named --database is dropped and recreated) and
REDIS_URL; with them unset it starts the embedded ones. No Celery worker is involved.
"""

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.track import database_recreate, database_url, manage  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=50, help="Profiles per batch.")
    parser.add_argument("--events-per-profile", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", default="cdp_bench_workflow_batch")
    return parser.parse_args()


def prepare(args) -> None:
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        from cdp.embedded import ensure_services

        ensure_services()
    database_recreate(server_url=os.environ["DATABASE_URL"], name=args.database)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cdp.settings",
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "DATABASE_URL": database_url(os.environ["DATABASE_URL"], args.database),
        "LOG_LEVEL": "WARNING",
    }
    manage(env, "migrate", "--noinput", repo=REPO)
    os.environ.update(env)
    import django

    django.setup()


def measure(way: str, args, source_id: str) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.tracking.batches import profiles_events_process
    from apps.tracking.processing import profile_events_process
    from bench.workflows import events_store

    profile_ids = events_store(
        source_id=source_id, profiles=args.profiles, per_profile=args.events_per_profile
    )
    wall, cpu = time.perf_counter(), time.process_time()
    with CaptureQueriesContext(connection) as queries:
        if way == "batch":
            result = profiles_events_process(
                profile_id=profile_ids[0], max_profiles=args.profiles, max_events=10**6
            )
            done = result.events
        else:
            done = sum(profile_events_process(profile_id=pk).events for pk in profile_ids)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    events = args.profiles * args.events_per_profile
    if done != events:
        raise SystemExit(f"{way}: {done} events processed, expected {events}")
    per_100 = 100 / events
    return {
        "statements": len(queries.captured_queries) * per_100,
        "cpu_ms": cpu * 1000 * per_100,
        "wall_ms": wall * 1000 * per_100,
    }


def main() -> None:
    args = parse_args()
    prepare(args)
    from bench.workflows import workflow_setup

    source_id = workflow_setup()
    print(f"load average before: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    measure("batch", args, source_id)  # caches warm (rules, compiled workflow, routing)
    results: dict[str, list[dict]] = {"single": [], "batch": []}
    for round_number in range(1, args.rounds + 1):
        for way in ("single", "batch"):
            figures = measure(way, args, source_id)
            results[way].append(figures)
            print(
                f"round {round_number} {way:>6}: per 100 events {figures['statements']:.1f} "
                f"statements, {figures['cpu_ms']:.1f} ms CPU, {figures['wall_ms']:.1f} ms wall"
            )
    print(f"medians per 100 events ({args.profiles} profiles x {args.events_per_profile} events):")
    print(f"{'':<12} {'one/call':>9} {'batch':>9} {'batch/one':>10}")
    for key in ("statements", "cpu_ms", "wall_ms"):
        single = statistics.median(figures[key] for figures in results["single"])
        batch = statistics.median(figures[key] for figures in results["batch"])
        print(f"{key:<12} {single:>9.1f} {batch:>9.1f} {batch / single:>10.2f}")
    print(f"load average after: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
