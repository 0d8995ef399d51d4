"""The workflow benchmark (DESIGN §11): events/s through a 3-node workflow on one Celery worker
(prefork, concurrency 2), and p95 from /track accepted to processed at half that rate.

    .venv/bin/python bench/workflows.py                  # about a minute
    .venv/bin/python bench/workflows.py --profiles 4000 --latency-seconds 30

With DATABASE_URL / REDIS_URL set it uses those servers (a database named --database on the
same PostgreSQL server is dropped and recreated, and the Celery queue in REDIS_URL is purged);
with them unset it starts the embedded ones. The workflow is start -> if
(`event@properties.plan == "pro"`) -> copy data (`profile@traits.plan` <- `event@properties.plan`)
on the true port, routed by a rule on `purchase` events. It prints:

1. baseline: no-op Celery tasks/s (the built-in `celery.accumulate`) through the same worker;
2. throughput: --profiles x --events-per-profile collected events stored up front, one
   message per profile (as /track sends one per request), timed from the first message
   to the last event committed as processed: events/s and tasks/s, and the ratio of
   tasks/s to the no-op baseline. 1 and 2 alternate for --rounds rounds; medians count;
3. latency: POST /track (gunicorn cdp.wsgi, 10 purchase events per request, returning
   visitors) at half the measured events/s; for each event the time from its /track answer
   to the moment a poll (every 20 ms) sees its workflow run, committed in the same
   transaction as its `processed` status: p50 / p95 / p99 / max.

Bar (DESIGN §11): at least 1,000 events/s, p95 under 2 s.
"""

import argparse
import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.track import (  # noqa: E402
    GunicornServer,
    ServerConfig,
    database_recreate,
    database_url,
    manage,
)

EVENT_TYPE = "purchase"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--profiles", type=int, default=1000, help="Profiles (= messages) per round."
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="Baseline and throughput alternate this many times (the median is used), so "
        "that other work on the machine weighs on both alike.",
    )
    parser.add_argument("--events-per-profile", type=int, default=10)
    parser.add_argument("--noop-tasks", type=int, default=2000, help="Baseline messages per round.")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--sessions", type=int, default=300, help="Returning visitors.")
    parser.add_argument("--database", default="cdp_bench_workflows", help="Dropped, recreated.")
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    return parser.parse_args()


def bench_graph() -> dict:
    def node(node_id, class_name, module, name, init, x):
        return {
            "id": node_id,
            "type": "flowNode",
            "position": {"x": x, "y": 40},
            "data": {
                "spec": {"className": class_name, "module": module, "init": init},
                "metadata": {"name": name},
            },
        }

    flow, data = "apps.workflows.actions.flow", "apps.workflows.actions.data"
    return {
        "nodes": [
            node("start", "StartAction", flow, "Start", {}, 0),
            node(
                "pro",
                "IfAction",
                flow,
                "Is pro?",
                {"condition": 'event@properties.plan == "pro"'},
                240,
            ),
            node(
                "copy",
                "CopyDataAction",
                data,
                "Keep plan",
                {"traits": {"set": {"profile@traits.plan": "event@properties.plan"}}},
                480,
            ),
        ],
        "edges": [
            {
                "id": "e1",
                "source": "start",
                "sourceHandle": "payload",
                "target": "pro",
                "targetHandle": "payload",
            },
            {
                "id": "e2",
                "source": "pro",
                "sourceHandle": "true",
                "target": "copy",
                "targetHandle": "payload",
            },
        ],
    }


# ---- set-up --------------------------------------------------------------------------------


def prepare(args) -> dict:
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
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    print(f"Preparing database {args.database} (migrate) ...", flush=True)
    manage(env, "migrate", "--noinput")
    os.environ.update(env)
    import django

    django.setup()
    return env


def workflow_setup() -> str:
    from apps.sources.services import event_source_create
    from apps.workflows.models import Rule
    from apps.workflows.services.workflows import workflow_create

    source = event_source_create(name="Bench", source_id="bench-source")
    workflow = workflow_create(name="Bench: if pro, copy plan", graph=bench_graph())
    Rule.objects.create(name="Purchases", event_type=EVENT_TYPE, workflow=workflow)
    return source.pk


class Worker:
    def __init__(self, env: dict, log_path: Path) -> None:
        self.hostname = f"bench-{uuid.uuid4().hex[:6]}@localhost"
        self.log = log_path.open("w")
        command = [
            sys.executable, "-m", "celery", "-A", "cdp", "worker", "--pool", "prefork",
            "--concurrency", "2", "--hostname", self.hostname, "--loglevel", "WARNING",
            "--without-gossip", "--without-mingle",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait_ready(self) -> None:
        from cdp.celery import app

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if app.control.ping(destination=[self.hostname], timeout=0.5):
                return
        raise SystemExit(f"The Celery worker did not start; see {self.log.name}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def queue_length() -> int:
    from cdp.celery import app

    with app.connection_for_write() as connection:
        return connection.default_channel.client.llen("celery")


def wait_until(predicate, *, timeout: float, poll: float = 0.01) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.perf_counter()
        time.sleep(poll)
    raise SystemExit("Timed out: the worker did not keep up at all")


# ---- 1. baseline ---------------------------------------------------------------------------


def noop_rate(count: int) -> float:
    from cdp.celery import app

    started = time.perf_counter()
    with app.producer_or_acquire() as producer:
        for _ in range(count):
            app.send_task("celery.accumulate", args=[1], producer=producer)
    ended = wait_until(lambda: queue_length() == 0, timeout=300)
    time.sleep(0.05)  # the last prefetched few (4 x 2) finish within a few ms
    return count / (ended + 0.05 - started)


# ---- 2. throughput -------------------------------------------------------------------------


def events_store(*, source_id: str, profiles: int, per_profile: int) -> list[str]:
    from django.utils import timezone

    from apps.events.models import Event
    from apps.profiles.models import Profile, Session

    now = timezone.now()
    profile_rows = [Profile(created=now, updated=now) for _ in range(profiles)]
    Profile.objects.bulk_create(profile_rows, batch_size=1000)
    sessions = [Session(profile=p, created=now, updated=now) for p in profile_rows]
    Session.objects.bulk_create(sessions, batch_size=1000)
    events = []
    for profile, session in zip(profile_rows, sessions, strict=True):
        for index in range(per_profile):
            moment = now - timedelta(seconds=per_profile - index)
            events.append(
                Event(
                    type=EVENT_TYPE,
                    source_id=source_id,
                    profile=profile,
                    session=session,
                    time=moment,
                    inserted=now,
                    status=Event.Status.COLLECTED,
                    properties={"plan": "pro" if index % 2 else "free", "price": 10 + index},
                    metadata={"time": {"insert": now.isoformat(), "create": moment.isoformat()}},
                )
            )
    Event.objects.bulk_create(events, batch_size=2000)
    return [profile.pk for profile in profile_rows]


def collected_count() -> int:
    from apps.events.models import Event

    return Event.objects.filter(status=Event.Status.COLLECTED).count()


def throughput(args, source_id: str) -> dict:
    from apps.tracking.tasks import process_profile_events
    from cdp.celery import app

    profile_ids = events_store(
        source_id=source_id, profiles=args.profiles, per_profile=args.events_per_profile
    )
    total = args.profiles * args.events_per_profile
    started = time.perf_counter()
    with app.producer_or_acquire() as producer:
        for profile_id in profile_ids:
            process_profile_events.apply_async(args=[profile_id], producer=producer)
    published = time.perf_counter()
    ended = wait_until(lambda: collected_count() == 0, timeout=600, poll=0.05)
    seconds = ended - started
    from apps.workflows.models import WorkflowRun

    runs = WorkflowRun.objects.filter(profile_id__in=profile_ids).count()
    if runs != total:
        raise SystemExit(f"Expected {total} workflow runs, found {runs}")
    return {
        "events": total,
        "messages": len(profile_ids),
        "seconds": seconds,
        "publish_seconds": published - started,
        "events_per_s": total / seconds,
        "tasks_per_s": len(profile_ids) / seconds,
    }


# ---- 3. latency ----------------------------------------------------------------------------


class TrackLoad:
    """Sends /track requests of 10 purchase events at a fixed rate from returning visitors and
    notes when each event was accepted (its request answered 200)."""

    def __init__(self, *, port: int, source_id: str, rate: float, seconds: float, sessions: int):
        self.port = port
        self.source_id = source_id
        self.interval = 10 / rate
        self.seconds = seconds
        self.accepted: dict[str, float] = {}
        self.errors = 0
        self.lock = threading.Lock()
        self.sessions = [{"id": f"bench-{uuid.uuid4()}", "profile": None} for _ in range(sessions)]

    def body(self, visitor: dict) -> tuple[str, list[str]]:
        ids = [str(uuid.uuid4()) for _ in range(10)]
        payload = {
            "source": {"id": self.source_id},
            "session": {"id": visitor["id"]},
            "profile": {"id": visitor["profile"]} if visitor["profile"] else None,
            "events": [
                {"id": event_id, "type": EVENT_TYPE, "properties": {"plan": "pro", "n": n}}
                for n, event_id in enumerate(ids)
            ],
        }
        return json.dumps(payload), ids

    def run(self, threads: int = 8) -> None:
        start = time.monotonic()
        slots = iter(range(10**9))
        slot_lock = threading.Lock()

        def worker():
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            while True:
                with slot_lock:
                    slot = next(slots)
                due = start + slot * self.interval
                if due - start > self.seconds:
                    break
                time.sleep(max(0.0, due - time.monotonic()))
                visitor = self.sessions[slot % len(self.sessions)]
                body, ids = self.body(visitor)
                try:
                    connection.request("POST", "/track", body, {"Content-Type": "application/json"})
                    response = connection.getresponse()
                    answer = response.read()
                except (OSError, http.client.HTTPException):
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                    with self.lock:
                        self.errors += 1
                    continue
                accepted = time.time()
                if response.status != 200:
                    with self.lock:
                        self.errors += 1
                    continue
                visitor["profile"] = json.loads(answer)["profile"]["id"]
                with self.lock:
                    for event_id in ids:
                        self.accepted[event_id] = accepted

        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()


def processed_poller(seen: dict[str, float], stop: threading.Event) -> None:
    """Notes when each event's workflow run became visible (committed with the event's new
    status, in the same transaction). Reads new run rows by id, with a look-back for rows of
    transactions that committed out of id order."""
    import psycopg

    last_id = 0
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as connection:
        while not stop.is_set():
            rows = connection.execute(
                "SELECT id, event_ref FROM workflows_workflowrun WHERE id > %s ORDER BY id",
                [max(0, last_id - 2000)],
            ).fetchall()
            now = time.time()
            for run_id, event_ref in rows:
                seen.setdefault(event_ref, now)
                last_id = max(last_id, run_id)
            time.sleep(0.02)


def latency(args, *, env: dict, source_id: str, rate: float, workdir: Path) -> dict:
    server = GunicornServer(
        app="cdp.wsgi:application",
        config=ServerConfig.parse("sync:3"),
        env=env,
        log_path=workdir / "gunicorn.log",
    )
    try:
        server.wait_ready()
        # Warm-up: every visitor's first request (creates its profile; not measured).
        warm = TrackLoad(
            port=server.port, source_id=source_id, rate=rate, seconds=1, sessions=args.sessions
        )
        warm.interval = 10 / max(rate, 200)
        warm.seconds = args.sessions * warm.interval
        warm.run()
        if not warm.accepted:
            raise SystemExit(f"/track accepted no request; see {workdir / 'gunicorn.log'}")
        wait_until(lambda: collected_count() == 0, timeout=120, poll=0.05)
        load = TrackLoad(
            port=server.port,
            source_id=source_id,
            rate=rate,
            seconds=args.latency_seconds,
            sessions=args.sessions,
        )
        load.sessions = warm.sessions
        seen: dict[str, float] = {}
        stop = threading.Event()
        poller = threading.Thread(target=processed_poller, args=(seen, stop))
        poller.start()
        started = time.monotonic()
        load.run()
        sent_seconds = time.monotonic() - started
        wait_until(lambda: load.accepted.keys() <= seen.keys(), timeout=120, poll=0.05)
        stop.set()
        poller.join()
    finally:
        server.stop()
    delays = sorted(
        max(0.0, seen[event_id] - load.accepted[event_id]) for event_id in load.accepted
    )
    quantiles = statistics.quantiles(delays, n=100, method="inclusive")
    return {
        "target_events_per_s": rate,
        "sent_events_per_s": len(load.accepted) / sent_seconds,
        "events": len(load.accepted),
        "errors": load.errors,
        "p50_ms": quantiles[49] * 1000,
        "p95_ms": quantiles[94] * 1000,
        "p99_ms": quantiles[98] * 1000,
        "max_ms": delays[-1] * 1000,
    }


# ---- main ----------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    env = prepare(args)
    source_id = workflow_setup()
    from cdp.celery import app

    app.control.purge()
    workdir = Path(f"/tmp/bench-workflows-{os.getpid()}")
    workdir.mkdir(exist_ok=True)
    worker = Worker(env, workdir / "worker.log")
    try:
        worker.wait_ready()
        print(f"load average before: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
        baselines, results = [], []
        for round_number in range(1, args.rounds + 1):
            baselines.append(noop_rate(args.noop_tasks))
            results.append(throughput(args, source_id))
            result = results[-1]
            print(
                f"round {round_number}: no-op {baselines[-1]:,.0f} tasks/s | workflow "
                f"{result['events']:,} events in {result['messages']:,} messages "
                f"({args.events_per_profile} per profile) in {result['seconds']:.2f} s -> "
                f"{result['events_per_s']:,.0f} events/s, {result['tasks_per_s']:,.0f} tasks/s"
            )
        baseline = statistics.median(baselines)
        result = sorted(results, key=lambda item: item["events_per_s"])[len(results) // 2]
        print(
            f"baseline (median): no-op Celery tasks/s, one worker prefork x2: {baseline:,.0f}\n"
            f"throughput (median): {result['events_per_s']:,.0f} events/s, "
            f"{result['tasks_per_s']:,.0f} tasks/s = "
            f"{result['tasks_per_s'] / baseline:.2f} x the no-op task rate"
        )
        rate = result["events_per_s"] / 2
        timing = latency(args, env=env, source_id=source_id, rate=rate, workdir=workdir)
        print(
            f"latency at {timing['target_events_per_s']:,.0f} events/s target "
            f"({timing['sent_events_per_s']:,.0f} sent, {timing['events']:,} events, "
            f"{timing['errors']} errors), /track accepted -> processed: "
            f"p50 {timing['p50_ms']:.0f} ms, p95 {timing['p95_ms']:.0f} ms, "
            f"p99 {timing['p99_ms']:.0f} ms, max {timing['max_ms']:.0f} ms"
        )
        verdict = result["events_per_s"] >= 1000 and timing["p95_ms"] < 2000
        print(f"bar (>= 1,000 events/s, p95 < 2 s): {'met' if verdict else 'NOT met'}")
        print(f"load average after: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
        if args.json:
            report = {
                "when": datetime.now(UTC).isoformat(),
                "baseline_noop_tasks_per_s": baselines,
                "throughput": results,
                "latency": timing,
            }
            args.json.write_text(json.dumps(report, indent=2))
    finally:
        worker.stop()


if __name__ == "__main__":
    main()
