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
   visitors) at each --latency-at rate: half the measured events/s, and 1,500 events/s (half
   of issue 20's 3,000); for each event the time from its /track answer
   to the moment a poll (every 20 ms) sees its workflow run, committed in the same
   transaction as its `processed` status: p50 / p95 / p99 / max.

Bar (DESIGN §11): at least 1,000 events/s, p95 under 2 s. Issue 20's target: at least 3,000
events/s, p95 under 250 ms. Both are figures of a quiet machine; on a shared one read the
ratio to the no-op rate (and, with --before, after / before), which the load weighs on alike.

With `--before DIR` it also measures the CDP of checkout DIR (e.g. a git worktree of the base
commit; its worker and server run from DIR, on a database of their own) in the same run: the
rounds of 1 and 2 take turns (before, after, before, ...), each checkout's worker running only
in its own turns (the two share the Celery queue in REDIS_URL); 3 drives both at half the lower
of their two medians. It prints before and after side by side with the ratio after / before.

Django is set up for one checkout per process, so each checkout is driven by an agent process
(this script with --agent DIR) that prepares its database, owns its worker and answers one
command per turn; the coordinating process only alternates the turns and prints.
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
    python_for,
)

EVENT_TYPE = "purchase"
BENCH_SOURCE = "bench-source"


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
    parser.add_argument(
        "--latency-at",
        default="half,1500",
        help="Comma-separated rates of the latency step: `half` (half the measured events/s) "
        "and events/s figures (1500: half of issue 20's 3,000 events/s).",
    )
    parser.add_argument("--sessions", type=int, default=300, help="Returning visitors.")
    parser.add_argument("--database", default="cdp_bench_workflows", help="Dropped, recreated.")
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    parser.add_argument(
        "--before",
        type=Path,
        metavar="DIR",
        help="Also measure the CDP of checkout DIR (e.g. a git worktree of the base commit), "
        "in the same rounds, on its own database (--database + '_before').",
    )
    # An agent's own options (see Side): the checkout it runs, and whether its worker may run
    # only during its turns.
    parser.add_argument("--agent", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker-per-turn", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        args.latency_at = [
            rate if rate == "half" else float(rate) for rate in args.latency_at.split(",")
        ]
    except ValueError:
        parser.error(f"--latency-at {args.latency_at}: give `half` or events/s, comma-separated")
    if args.before:
        args.before = args.before.resolve()
        if not (args.before / "manage.py").exists():
            parser.error(f"--before {args.before}: not a checkout of the CDP (no manage.py)")
    return args


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
    """The agent's database, migrated by its checkout; then Django, set up on that code."""
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
    print(f"Preparing database {args.database} (migrate, code of {args.agent}) ...", flush=True)
    manage(env, "migrate", "--noinput", repo=args.agent)
    os.environ.update(env)
    import django

    django.setup()
    return env


def workflow_setup() -> str:
    from apps.sources.models import EventSource
    from apps.sources.services import event_source_create
    from apps.workflows.models import Rule
    from apps.workflows.services.workflows import workflow_create

    if EventSource.objects.filter(pk=BENCH_SOURCE).exists():
        # A kept database (bench/growth.py runs this at 0 and again at N on one database):
        # the source, the workflow and its rule are there already; a second rule would run
        # every purchase twice.
        return BENCH_SOURCE
    source = event_source_create(name="Bench", source_id=BENCH_SOURCE)
    workflow = workflow_create(name="Bench: if pro, copy plan", graph=bench_graph())
    Rule.objects.create(name="Purchases", event_type=EVENT_TYPE, workflow=workflow)
    return source.pk


class Worker:
    def __init__(self, env: dict, log_path: Path, repo: Path) -> None:
        self.hostname = f"bench-{uuid.uuid4().hex[:6]}@localhost"
        self.log = log_path.open("a")  # one worker per turn with --before: keep every turn's
        command = [
            python_for(repo), "-m", "celery", "-A", "cdp", "worker", "--pool", "prefork",
            "--concurrency", "2", "--hostname", self.hostname, "--loglevel", "WARNING",
            "--without-gossip", "--without-mingle",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=repo, env=env, stdout=self.log, stderr=subprocess.STDOUT
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


# By name: the task's module moved (workflows -> tracking), its name did not, so a checkout
# from before the move is measured the same way.
PROCESS_PROFILE_EVENTS = "workflows.process_profile_events"


def throughput(args, source_id: str) -> dict:
    from cdp.celery import app

    profile_ids = events_store(
        source_id=source_id, profiles=args.profiles, per_profile=args.events_per_profile
    )
    total = args.profiles * args.events_per_profile
    started = time.perf_counter()
    with app.producer_or_acquire() as producer:
        for profile_id in profile_ids:
            app.send_task(PROCESS_PROFILE_EVENTS, args=[profile_id], producer=producer)
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

    def run(self, threads: int = 16) -> None:
        """Paced from `threads` connections: each waits for its answer, so they must outnumber
        the requests in flight at the rate (8 fell behind at 2,700 events/s, when the
        answers slowed under the load: 2,300-2,400 sent)."""
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


def newest_run_id() -> int:
    """The newest workflow run's id: a latency step's poller starts past it (the runs of
    earlier steps are not the step's). Read before the load starts, so that no run of the
    step can come before it."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as connection:
        return connection.execute(
            "SELECT coalesce(max(id), 0) FROM workflows_workflowrun"
        ).fetchone()[0]


def processed_poller(seen: dict[str, float], stop: threading.Event, last_id: int) -> None:
    """Notes when each event's workflow run became visible (committed with the event's new
    status, in the same transaction). Reads the run rows past the highest id seen (at first
    `last_id`, from newest_run_id: the catch-up on 150,000 older runs, 1,000 a poll, delayed
    the first seconds' events by 2 s), and the
    ids it skipped below it (rows of transactions that committed out of id order; an id of a
    rolled-back insert stays a hole, forgotten after a minute). A look-back of the last 2,000
    ids on every poll cost this process and PostgreSQL a tenth of a core at 1,500 events/s,
    on the machine being measured."""
    import psycopg

    holes: dict[int, float] = {}  # skipped id -> when first skipped
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as connection:
        while not stop.is_set():
            # Two index scans, not `id > %s OR id = ANY(%s)`, which cost 1.8 ms a poll (9% of
            # a core at 50 polls/s): without statistics (this server's autovacuum is off) the
            # planner reads the whole table for `id > %s`, unless a small LIMIT asks for the
            # order. A poll that hits it returns the lowest ids, so it leaves no false holes.
            rows = connection.execute(
                "(SELECT id, event_ref FROM workflows_workflowrun WHERE id > %s "
                "ORDER BY id LIMIT 1000) "
                "UNION ALL SELECT id, event_ref FROM workflows_workflowrun WHERE id = ANY(%s) "
                "ORDER BY id",
                [last_id, list(holes)],
            ).fetchall()
            now = time.time()
            returned = set()
            for run_id, event_ref in rows:
                seen.setdefault(event_ref, now)
                returned.add(run_id)
                holes.pop(run_id, None)
            newest = max(returned, default=last_id)
            for skipped in range(last_id + 1, newest):
                if skipped not in returned:
                    holes[skipped] = now
            last_id = max(last_id, newest)
            holes = {run_id: since for run_id, since in holes.items() if now - since < 60}
            time.sleep(0.02)


def latency(args, *, env: dict, source_id: str, rate: float, workdir: Path) -> dict:
    server = GunicornServer(
        app="cdp.wsgi:application",
        config=ServerConfig.parse("sync:3"),
        env=env,
        log_path=workdir / "gunicorn.log",
        repo=args.agent,
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
        poller = threading.Thread(target=processed_poller, args=(seen, stop, newest_run_id()))
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


# ---- agents: one process per checkout ---------------------------------------------------


class Side:
    """A checkout under test, measured by its agent process (this script with --agent DIR, which
    answers each command, a JSON line on its stdin, with one JSON line on its stdout), and the
    figures it gave."""

    def __init__(self, label: str, repo: Path, database: str, *, both: bool) -> None:
        self.label = label
        self.tag = f", {label}" if both else ""  # names the side in printed lines
        self.rounds: list[dict] = []
        self.latencies: list[dict] = []  # one per --latency-at rate, in its order
        command = [python_for(repo), str(Path(__file__).resolve()), *sys.argv[1:]]
        command += ["--agent", str(repo), "--database", database]  # the last --database counts
        if both:
            command.append("--worker-per-turn")
        env = dict(os.environ)
        if label == "before":
            # Its own cache keys too: both checkouts use REDIS_URL.
            env["CACHE_KEY_PREFIX"] = f"{os.environ.get('CACHE_KEY_PREFIX', 'cdp')}-before"
        self.process = subprocess.Popen(
            command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def answer(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"The {self.label} agent stopped; its output is above")
        return json.loads(line)

    def call(self, command: str, *params) -> dict:
        self.process.stdin.write(json.dumps([command, *params]) + "\n")
        self.process.stdin.flush()
        return self.answer()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()  # the agent stops its worker and exits
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()

    @property
    def baseline(self) -> float:
        return statistics.median(turn["baseline"] for turn in self.rounds)

    @property
    def result(self) -> dict:
        results = sorted((turn["throughput"] for turn in self.rounds), key=events_per_s)
        return results[len(results) // 2]

    @property
    def latency(self) -> dict:
        """The latency at the first --latency-at rate (half the measured rate by default)."""
        return self.latencies[0]

    @property
    def over_baseline(self) -> float:
        return self.result["tasks_per_s"] / self.baseline


def events_per_s(result: dict) -> float:
    return result["events_per_s"]


def agent(args) -> None:
    """Prepare the checkout args.agent, then run the coordinator's commands: `round` (the no-op
    baseline, then the workflow throughput) and `latency RATE`."""
    replies, sys.stdout = sys.stdout, sys.stderr  # prints to the terminal, replies to stdout
    # Its `apps` and `cdp`, before their first import; and its directory as the working one,
    # which Django's set-up puts first on sys.path (from the coordinator's, the other
    # checkout's apps were imported).
    os.chdir(args.agent)
    sys.path.insert(0, str(args.agent))
    env = prepare(args)
    source_id = workflow_setup()
    from cdp.celery import app

    app.control.purge()
    workdir = Path(f"/tmp/bench-workflows-{os.getpid()}")
    workdir.mkdir(exist_ok=True)

    def worker_started() -> Worker:
        worker = Worker(env, workdir / "worker.log", args.agent)
        worker.wait_ready()
        return worker

    def reply(value: dict) -> None:
        replies.write(json.dumps(value) + "\n")
        replies.flush()

    worker = None if args.worker_per_turn else worker_started()
    try:
        reply({"workdir": str(workdir)})
        for line in sys.stdin:
            command, *params = json.loads(line)
            turn_worker = worker or worker_started()
            try:
                if command == "round":
                    result = {
                        "baseline": noop_rate(args.noop_tasks),
                        "throughput": throughput(args, source_id),
                    }
                else:
                    (rate,) = params
                    result = latency(args, env=env, source_id=source_id, rate=rate, workdir=workdir)
            finally:
                if turn_worker is not worker:
                    turn_worker.stop()
            reply(result)
    finally:
        if worker is not None:
            worker.stop()


# ---- main ----------------------------------------------------------------------------------


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> None:
    args = parse_args()
    if args.agent:
        agent(args)
        return
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        from cdp.embedded import ensure_services

        ensure_services()
    if not os.environ.get("SECRET_KEY"):
        os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    both = args.before is not None
    sides = [Side("after", REPO, args.database, both=both)]
    if both:
        sides.insert(0, Side("before", args.before, f"{args.database}_before", both=True))
    try:
        for side in sides:
            print(f"logs{side.tag}: {side.answer()['workdir']}")
        print(f"load average before: {load_average()}")
        for round_number in range(1, args.rounds + 1):
            for side in sides:
                side.rounds.append(side.call("round"))
                baseline, result = side.rounds[-1]["baseline"], side.rounds[-1]["throughput"]
                print(
                    f"round {round_number}{side.tag}: no-op {baseline:,.0f} tasks/s | workflow "
                    f"{result['events']:,} events in {result['messages']:,} messages "
                    f"({args.events_per_profile} per profile) in {result['seconds']:.2f} s -> "
                    f"{result['events_per_s']:,.0f} events/s, {result['tasks_per_s']:,.0f} tasks/s"
                )
        # With --before both meet the same load (`half`: the lower half).
        half = min(events_per_s(side.result) for side in sides) / 2
        for rate in args.latency_at:
            for side in sides:
                side.latencies.append(side.call("latency", half if rate == "half" else rate))
        for side in sides:
            print_side(side)
        if both:
            print_before_after(*sides)
        print(f"load average after: {load_average()}")
    finally:
        for side in sides:
            side.close()
    if args.json:
        report = {"when": datetime.now(UTC).isoformat(), **side_report(sides[-1])}
        if both:
            report["before"] = side_report(sides[0])
        args.json.write_text(json.dumps(report, indent=2))


def print_side(side: Side) -> None:
    result = side.result
    print(
        f"baseline (median){side.tag}: no-op Celery tasks/s, one worker prefork x2: "
        f"{side.baseline:,.0f}\n"
        f"throughput (median){side.tag}: {result['events_per_s']:,.0f} events/s, "
        f"{result['tasks_per_s']:,.0f} tasks/s = {side.over_baseline:.2f} x the no-op task rate"
    )
    for timing in side.latencies:
        print(
            f"latency{side.tag} at {timing['target_events_per_s']:,.0f} events/s target "
            f"({timing['sent_events_per_s']:,.0f} sent, {timing['events']:,} events, "
            f"{timing['errors']} errors), /track accepted -> processed: "
            f"p50 {timing['p50_ms']:.0f} ms, p95 {timing['p95_ms']:.0f} ms, "
            f"p99 {timing['p99_ms']:.0f} ms, max {timing['max_ms']:.0f} ms"
        )
    # Each bar: a throughput, and a p95 at half that throughput (or more). `half` of the
    # measured rate is above it whenever the throughput passes the bar, a harder test.
    for events, p95_ms, name in ((1000, 2000, "2 s"), (3000, 250, "250 ms")):
        for timing in side.latencies:
            if timing["target_events_per_s"] < events / 2:
                continue
            # A saturated machine may send less than the target: then the p95 says nothing of
            # the bar's rate, and the bar is not met there.
            if timing["sent_events_per_s"] < 0.97 * timing["target_events_per_s"]:
                verdict = "NOT met (the machine did not sustain the rate)"
            elif result["events_per_s"] >= events and timing["p95_ms"] < p95_ms:
                verdict = "met"
            else:
                verdict = "NOT met"
            print(
                f"bar{side.tag} (>= {events:,} events/s, p95 < {name} at "
                f"{timing['target_events_per_s']:,.0f} events/s, "
                f"{timing['sent_events_per_s']:,.0f} sent): {verdict}"
            )


def print_before_after(before: Side, after: Side) -> None:
    rows = [
        ("throughput, events/s", events_per_s(before.result), events_per_s(after.result), 0),
        ("throughput / no-op rate", before.over_baseline, after.over_baseline, 2),
        *(
            (
                f"{q} ms at {old['target_events_per_s']:,.0f} ev/s",
                old[f"{q}_ms"],
                new[f"{q}_ms"],
                0,
            )
            for old, new in zip(before.latencies, after.latencies, strict=True)
            for q in ("p50", "p95", "p99")
        ),
    ]
    print(f"{'medians':<24} {'before':>9} {'after':>9} {'after/before':>13}")
    for name, old, new, digits in rows:
        ratio = f"{new / old:.2f}" if old else "-"
        print(f"{name:<24} {old:>9,.{digits}f} {new:>9,.{digits}f} {ratio:>13}")


def side_report(side: Side) -> dict:
    return {
        "baseline_noop_tasks_per_s": [turn["baseline"] for turn in side.rounds],
        "throughput": [turn["throughput"] for turn in side.rounds],
        "latency": side.latency,
        "latencies": side.latencies,
    }


if __name__ == "__main__":
    main()
