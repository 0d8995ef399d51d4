"""The /track benchmark (DESIGN §11): stored events/s and latency, CDP against a raw floor.

    .venv/bin/python bench/track.py                 # the default run, about 3.5 minutes
    .venv/bin/python bench/track.py --sweep sync:2,sync:3,gthread:2x4   # compare server setups

With DATABASE_URL / REDIS_URL set it uses those servers (a database named --database on the
same PostgreSQL server is dropped and recreated); with them unset it starts the embedded ones
like manage.py does. Then, for the CDP (gunicorn cdp.wsgi) and for two floors (gunicorn
bench.raw_floor: a bare WSGI app doing one JSON parse and one multi-row insert per request; the
raw floor into a table with the CDP's event columns and indexes, the lean floor into a table
of id, profile id, insert time and JSONB: the physical limit of the machine), served by the same
gunicorn configuration, it drives POST /track with 1 and with 10 events per request at a fixed
concurrency, after a warm-up, and prints per case:

- stored events/s: rows the run stored (counted in the database afterwards) divided by the span
  of their insert times, all rows and client events only (the CDP also stores its system
  events profile-created / session-opened / visit-started for new visitors);
- latency p50 / p99 as the load generator saw it; errors and non-200 answers;
- the ratios CDP / floor and CDP / lean on client events/s.

With `--answering` it then measures, for each case, the CDP's peak with a second source
whose page-view events a rule that answers in the request routes to a 3-node workflow
(start -> Create response -> end), unpaced as the plain peak was (`a-peak`); then the CDP at
half the lower of the two peaks (paced load, the Python generator), in rounds taken in turn
between the benchmark's source and the answering one: the same server, the same rate, the
same payloads; it prints both and the added p99, and how the in-request runs ended. With
`--before` too, the base commit's server takes its turns in the same rounds, at the same
rate (`b-none`, `b-answ`), and the added p99 is printed before -> after.

With `--before DIR` it also measures the CDP of checkout DIR (e.g. a git worktree of the base
commit; its servers run from DIR, on a database of their own) as target `before`, in the same
rounds (before, CDP, floor, before, ...), and prints before and after side by side with the
ratio after / before.
"""

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from bench import loadgen  # noqa: E402

# Chosen from the sweeps in bench/README.md: the best mean and the lowest p99 on 2 cores.
DEFAULT_SERVER = "sync:3"
CDP_TABLE = "events_event"
FLOOR_TABLE = "bench_raw_event"
# The lean floor's table: id, profile id, insert time and the event as JSONB, nothing else.
LEAN_TABLE = "bench_lean_event"
TARGETS = {
    "before": ("cdp.wsgi:application", CDP_TABLE),  # the CDP of the --before checkout
    "cdp": ("cdp.wsgi:application", CDP_TABLE),
    "floor": ("bench.raw_floor:application", FLOOR_TABLE),
    "lean": ("bench.raw_floor:lean_application", LEAN_TABLE),
}
FLOORS = ("floor", "lean")
# --answering: the rule and its workflow, made in the benchmark's database by manage.py shell.
ANSWERING_EVENT_TYPE = "page-view"  # the first event of every benchmark request
ANSWERING_SETUP = """
from apps.workflows.actions import action_by_id
from apps.workflows.models import Rule
from apps.workflows.services.workflows import workflow_create

def node(node_id, action_id, **config):
    return {"id": node_id, "type": "flowNode", "position": {"x": 0, "y": 0},
            "data": {"start": action_id == "start", "debug": False,
                     "spec": action_by_id(action_id).spec(config),
                     "metadata": {"name": node_id}}}

def edge(source, target):
    return {"id": source + "-" + target, "source": source, "sourceHandle": "payload",
            "target": target, "targetHandle": "payload"}

body = {"code": "event@type", "percent": 10, "visits": "profile@stats.visits"}
graph = {"nodes": [node("start", "start"),
                   node("respond", "create_response", key="offer", body=body),
                   node("end", "end")],
         "edges": [edge("start", "respond"), edge("respond", "end")]}
workflow = workflow_create(name="Bench offer", graph=graph)
Rule.objects.create(name="Bench offer", event_type="__TYPE__", source_id="__SOURCE__",
                    workflow=workflow, answers_in_request=True)
"""


@dataclass(frozen=True)
class ServerConfig:
    worker_class: str
    workers: int
    threads: int

    @classmethod
    def parse(cls, text: str) -> "ServerConfig":
        """`sync:3` (3 sync workers) or `gthread:2x4` (2 workers of 4 threads)."""
        worker_class, _, size = text.partition(":")
        if worker_class not in ("sync", "gthread") or not size:
            raise argparse.ArgumentTypeError(f"{text!r}: expected sync:N or gthread:NxT")
        workers, _, threads = size.partition("x")
        return cls(worker_class, int(workers), int(threads or 1))

    def __str__(self) -> str:
        if self.worker_class == "sync":
            return f"sync:{self.workers}"
        return f"gthread:{self.workers}x{self.threads}"

    def gunicorn_args(self) -> list[str]:
        args = [f"--worker-class={self.worker_class}", f"--workers={self.workers}"]
        if self.worker_class == "gthread":
            args.append(f"--threads={self.threads}")
        return args


@dataclass
class CaseResult:
    target: str
    events_per_request: int
    requests: int
    errors: int
    non_200: int
    stored: int
    client_stored: int
    span_s: float
    p50_ms: float
    p99_ms: float

    @property
    def stored_per_s(self) -> float:
        return self.stored / self.span_s if self.span_s else 0.0

    @property
    def client_per_s(self) -> float:
        return self.client_stored / self.span_s if self.span_s else 0.0

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.span_s if self.span_s else 0.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=float, default=15, help="Seconds measured per case and server."
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="The duration is split into this many turns."
    )
    parser.add_argument("--warmup", type=float, default=3, help="Seconds of warm-up per case.")
    parser.add_argument("--concurrency", type=int, default=32, help="Concurrent connections.")
    parser.add_argument("--cases", default="1,10", help="Events per request, comma-separated.")
    parser.add_argument(
        "--server",
        type=ServerConfig.parse,
        default=ServerConfig.parse(DEFAULT_SERVER),
        help=f"Gunicorn setup: sync:N or gthread:NxT (default {DEFAULT_SERVER}).",
    )
    parser.add_argument(
        "--sweep",
        help="Comma-separated gunicorn setups to run one after the other (overrides --server).",
    )
    parser.add_argument(
        "--targets",
        default="cdp,floor,lean",
        help="Comma-separated: cdp, floor (the CDP's table and indexes), lean (the lean floor).",
    )
    parser.add_argument(
        "--cdp-app",
        default=TARGETS["cdp"][0],
        help="The CDP's WSGI app for gunicorn, to measure a variant (module:attribute).",
    )
    parser.add_argument(
        "--before",
        type=Path,
        metavar="DIR",
        help="Also measure the CDP of checkout DIR (e.g. a git worktree of the base commit) as "
        "target 'before', in the same rounds, on its own database (--database + '_before').",
    )
    parser.add_argument(
        "--loadgen", choices=["auto", "wrk", "python"], default="auto", help="auto: wrk if found."
    )
    parser.add_argument("--sessions", type=int, default=2000, help="Returning visitors' pool.")
    parser.add_argument(
        "--new-ratio", type=float, default=0.1, help="Share of requests from new visitors."
    )
    parser.add_argument(
        "--answering",
        action="store_true",
        help="Also measure the peak with an answering rule, and an answering rule against none "
        "at half the lower peak (paced, Python).",
    )
    parser.add_argument("--database", default="cdp_bench", help="Dropped and recreated.")
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args()
    if args.before:
        args.before = args.before.resolve()
        if not (args.before / "manage.py").exists():
            parser.error(f"--before {args.before}: not a checkout of the CDP (no manage.py)")
        args.targets = f"before,{args.targets}"
    elif "before" in args.targets.split(","):
        parser.error("the target 'before' needs --before DIR")
    return args


# ---- checkouts --------------------------------------------------------------------------


def python_for(repo: Path) -> str:
    """The interpreter for a checkout's processes: its own .venv if it has one (its requirements
    may differ), else ours."""
    own = repo / ".venv" / "bin" / "python"
    return str(own) if repo != REPO and own.exists() else sys.executable


@dataclass(frozen=True)
class Checkout:
    """The CDP code its servers run (cwd, so they import its `apps` and `cdp`) and their env."""

    repo: Path
    env: dict
    url: str
    source_id: str


# ---- database ---------------------------------------------------------------------------


def database_url(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def database_recreate(*, server_url: str, name: str) -> None:
    """Drop and create `name`; with BENCH_KEEP_DATABASE=1 an existing one is kept with its rows
    (bench/growth.py measures on a filled database; migrate still runs)."""
    with psycopg.connect(database_url(server_url, "postgres"), autocommit=True) as connection:
        identifier = sql.Identifier(name)
        if (
            os.environ.get("BENCH_KEEP_DATABASE") == "1"
            and connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
        ):
            return
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(identifier))


def manage(env: dict, *args: str, repo: Path = REPO) -> str:
    completed = subprocess.run(
        [python_for(repo), "manage.py", *args], cwd=repo, env=env, capture_output=True, text=True
    )
    if completed.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{completed.stderr}")
    return completed.stdout


def floor_table_create(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        # A kept database (BENCH_KEEP_DATABASE=1, bench/growth.py's run at N) has them from
        # the run before: the floors start empty.
        for table in (FLOOR_TABLE, LEAN_TABLE):
            connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        # Same columns, defaults and indexes as the CDP's event table; no foreign keys.
        connection.execute(
            sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING INDEXES)").format(
                sql.Identifier(FLOOR_TABLE), sql.Identifier(CDP_TABLE)
            )
        )
        # The lean floor's: the least a row of a tracked event can be, its id the only index.
        connection.execute(
            sql.SQL(
                "CREATE TABLE {} (id varchar(64) PRIMARY KEY, profile_id varchar(64), "
                "inserted timestamptz NOT NULL, data jsonb NOT NULL)"
            ).format(sql.Identifier(LEAN_TABLE))
        )
        # A partitioned CDP table's key is (id, inserted) and its ids are kept unique by a claim
        # table (apps.events.partitions): the floor keeps them unique with an index on id, so
        # that its ON CONFLICT (id) has its arbiter.
        partitioned = connection.execute(
            "SELECT relkind = 'p' FROM pg_class WHERE oid = %s::regclass", [CDP_TABLE]
        ).fetchone()[0]
        if partitioned:
            connection.execute(
                sql.SQL("CREATE UNIQUE INDEX {} ON {} (id)").format(
                    sql.Identifier(f"{FLOOR_TABLE}_id"), sql.Identifier(FLOOR_TABLE)
                )
            )


def stored_since(url: str, table: str, since: datetime) -> tuple[int, int, float]:
    """(rows, client rows, seconds between the first and the last insert time) since `since`."""
    # The lean table has the type inside its JSON (and only ever client events).
    type_column = "data->>'type'" if table == LEAN_TABLE else "type"
    query = sql.SQL(
        "SELECT count(*), count(*) FILTER (WHERE NOT {} = ANY(%s)), "
        "EXTRACT(EPOCH FROM max(inserted) - min(inserted)) FROM {} WHERE inserted >= %s"
    ).format(sql.SQL(type_column), sql.Identifier(table))
    with psycopg.connect(url) as connection:
        rows, client_rows, span = connection.execute(
            query, [list(loadgen.SYSTEM_EVENT_TYPES), since]
        ).fetchone()
    return rows, client_rows, float(span or 0)


# ---- server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class GunicornServer:
    def __init__(
        self, *, app: str, config: ServerConfig, env: dict, log_path: Path, repo: Path = REPO
    ) -> None:
        self.port = free_port()
        self.log_path = log_path
        command = [
            python_for(repo),
            "-m",
            "gunicorn",
            app,
            f"--bind=127.0.0.1:{self.port}",
            *config.gunicorn_args(),
            "--backlog=2048",
            "--keep-alive=5",
            "--log-level=warning",
        ]
        self.log = log_path.open("w")
        self.process = subprocess.Popen(
            command, cwd=repo, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"gunicorn did not start:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def smoke_request(port: int, source_id: str) -> None:
    """One real request before the load: a setup mistake fails here with the server's answer."""
    _, template = loadgen.payload_templates(source_id=source_id, events_per_request=1)[0]
    body = (
        template.replace("__SESSION__", "bench-smoke")
        .replace("__PROFILE__", "null")
        .replace("__TIME__", "2026-01-01T00:00:00.000Z")
        .replace("__EID__", secrets.token_hex(16))
    )
    # A generous deadline: a cold server on the loaded shared machine takes its time.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=180)
    connection.request("POST", "/track", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    answer = response.read()
    connection.close()
    if response.status != 200 or not json.loads(answer).get("profile"):
        raise SystemExit(f"smoke request answered {response.status}: {answer[:500]!r}")


# ---- measuring ---------------------------------------------------------------------------


@dataclass
class Target:
    """A running server under test, its returning visitors' id prefix and the checkout whose
    database and source it uses (the floor: the CDP's, with a table of its own)."""

    name: str
    server: GunicornServer
    prefix: str
    checkout: Checkout


def run_load(
    args,
    *,
    port: int,
    templates,
    prefix: str,
    duration: float,
    workdir: Path,
    seed=False,
    rate: float | None = None,
) -> dict:
    profiles_path = workdir / f"{prefix}-profiles.tsv"
    # wrk cannot pace its requests: a paced run uses the Python generator.
    use_wrk = (
        not seed
        and not rate
        and (args.loadgen == "wrk" or (args.loadgen == "auto" and loadgen.wrk_available()))
    )
    if use_wrk:
        return loadgen.run_wrk(
            url=f"http://127.0.0.1:{port}",
            templates=templates,
            prefix=prefix,
            concurrency=args.concurrency,
            duration=duration,
            pool_size=args.sessions,
            new_ratio=args.new_ratio,
            threads=2,
            profiles_path=profiles_path,
            workdir=workdir,
        )
    config = {
        "host": "127.0.0.1",
        "port": port,
        "templates": templates,
        "prefix": prefix,
        "concurrency": args.concurrency,
        "duration": duration,
        "pool_size": args.sessions,
        "new_ratio": args.new_ratio,
        "profiles_path": str(profiles_path),
        "seed": seed,
    }
    if rate:
        config["rate"] = rate
    return loadgen.run_python(config=config, workdir=workdir)


def measure_round(
    args,
    *,
    target: Target,
    templates,
    duration: float,
    workdir: Path,
    rate: float | None = None,
    prefix: str | None = None,
):
    """One measured stretch of load: the generator's figures and what the database stored."""
    since = datetime.now(UTC)
    load = run_load(
        args,
        port=target.server.port,
        templates=templates,
        prefix=prefix or target.prefix,
        duration=duration,
        workdir=workdir,
        rate=rate,
    )
    time.sleep(1)  # let the requests still in flight when the generator stopped commit
    stored, client_stored, span = stored_since(target.checkout.url, TARGETS[target.name][1], since)
    return load, stored, client_stored, span


def combine_rounds(target: str, events: int, rounds: list) -> CaseResult:
    requests = sum(load["requests"] for load, *_ in rounds) or 1

    def weighted(key: str) -> float:
        # wrk reports percentiles per run only: weight each round's by its requests.
        return sum(load[key] * load["requests"] for load, *_ in rounds) / requests

    return CaseResult(
        target=target,
        events_per_request=events,
        requests=sum(load["requests"] for load, *_ in rounds),
        errors=sum(load["errors"] for load, *_ in rounds),
        non_200=sum(load["non_200"] for load, *_ in rounds),
        stored=sum(stored for _, stored, _, _ in rounds),
        client_stored=sum(client for _, _, client, _ in rounds),
        span_s=sum(span for *_, span in rounds),
        p50_ms=weighted("p50_ms"),
        p99_ms=weighted("p99_ms"),
    )


def run_config(
    args, *, config: ServerConfig, checkouts: dict[str, Checkout], workdir: Path
) -> list[CaseResult]:
    """Start every target under one gunicorn setup, then measure the cases round by round.

    The targets take turns (CDP, floor, CDP, floor, ...; with --before: before, CDP, floor,
    ...) in short rounds, so that a change in what else the machine is doing weighs on all alike.
    """
    targets: list[Target] = []
    try:
        for name in args.targets.split(","):
            checkout = checkouts["before" if name == "before" else "cdp"]
            server = GunicornServer(
                app=TARGETS[name][0] if name in FLOORS else args.cdp_app,
                config=config,
                env=checkout.env,
                log_path=workdir / f"{name}.log",
                repo=checkout.repo,
            )
            prefix = f"{name}-{str(config).replace(':', '-')}-{os.getpid()}"
            targets.append(Target(name=name, server=server, prefix=prefix, checkout=checkout))
        for target in targets:
            source_id = target.checkout.source_id
            seed_templates = loadgen.payload_templates(source_id=source_id, events_per_request=1)
            target.server.wait_ready()
            smoke_request(target.server.port, source_id)
            # The seeding pass visits each pooled session once, so that the measured runs
            # see returning visitors (and their known profile ids), plus new_ratio new ones.
            run_load(
                args,
                port=target.server.port,
                templates=seed_templates,
                prefix=target.prefix,
                duration=0,
                workdir=workdir,
                seed=True,
            )
        results = []
        for events in [int(text) for text in args.cases.split(",")]:
            templates = {
                target.name: loadgen.payload_templates(
                    source_id=target.checkout.source_id, events_per_request=events
                )
                for target in targets
            }
            for target in targets:
                if args.warmup > 0:
                    run_load(
                        args,
                        port=target.server.port,
                        templates=templates[target.name],
                        prefix=target.prefix,
                        duration=args.warmup,
                        workdir=workdir,
                    )
            rounds: dict[str, list] = {target.name: [] for target in targets}
            for _ in range(args.rounds):
                for target in targets:
                    rounds[target.name].append(
                        measure_round(
                            args,
                            target=target,
                            templates=templates[target.name],
                            duration=args.duration / args.rounds,
                            workdir=workdir,
                        )
                    )
            for target in targets:
                result = combine_rounds(target.name, events, rounds[target.name])
                print_result(result)
                results.append(result)
        if args.answering:
            # The CDP, and with --before the base commit too, in the same rounds and at the
            # same rate (half the CDP's peak): the added p99 of both, measured side by side.
            measured = [target for target in targets if target.name in ("before", "cdp")]
            peaks = {
                result.events_per_request: result.requests_per_s
                for result in results
                if result.target == "cdp"
            }
            results.extend(answering_phase(args, targets=measured, peaks=peaks, workdir=workdir))
        return results
    finally:
        for target in targets:
            target.server.stop()


def answering_rule_create(checkout: Checkout) -> str:
    """A second REST source whose page-view events an answering rule routes; its id."""
    source_id = manage(
        checkout.env,
        "create_event_source",
        "Bench answering",
        "--bridge",
        "rest",
        repo=checkout.repo,
    ).strip()
    script = ANSWERING_SETUP.replace("__SOURCE__", source_id).replace(
        "__TYPE__", ANSWERING_EVENT_TYPE
    )
    manage(checkout.env, "shell", "-c", script, repo=checkout.repo)
    return source_id


def in_request_runs(url: str, since: datetime) -> dict[str, int]:
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT status, count(*) FROM workflows_workflowrun "
            "WHERE in_request AND started >= %s GROUP BY status",
            [since],
        ).fetchall()
    return dict(rows)


# The labels of the answering phase's results, by target: (no rule, answering rule).
ANSWERING_LABELS = {"cdp": ("norule", "answer"), "before": ("b-none", "b-answ")}


def answering_phase(args, *, targets: list[Target], peaks: dict[int, float], workdir: Path):
    """Per case, at half the CDP's peak requests/s: rounds in turn between the benchmark's
    source (no rule) and the answering source of each target (the CDP, and the --before
    checkout when there is one, at the same rate); labelled by ANSWERING_LABELS."""
    answering_sources = {}
    for target in targets:
        answering_sources[target.name] = answering_rule_create(target.checkout)
        run_load(
            args,
            port=target.server.port,
            templates=loadgen.payload_templates(
                source_id=answering_sources[target.name], events_per_request=1
            ),
            prefix=f"{target.prefix}-answer",
            duration=0,
            workdir=workdir,
            seed=True,
        )
    results = []
    for events, peak in sorted(peaks.items()):
        # The peak with the answering rule, measured as the plain one was (wrk, unpaced).
        answering_peak = answering_peak_measure(
            args,
            target=next(target for target in targets if target.name == "cdp"),
            templates=loadgen.payload_templates(
                source_id=answering_sources["cdp"], events_per_request=events
            ),
            events=events,
            workdir=workdir,
        )
        results.append(answering_peak)
        lower = min(peak, answering_peak.requests_per_s)
        rate = lower / 2
        sides = {}
        for target in targets:
            plain, answering = ANSWERING_LABELS[target.name]
            sides[plain] = (
                target,
                loadgen.payload_templates(
                    source_id=target.checkout.source_id, events_per_request=events
                ),
                target.prefix,
            )
            sides[answering] = (
                target,
                loadgen.payload_templates(
                    source_id=answering_sources[target.name], events_per_request=events
                ),
                f"{target.prefix}-answer",
            )
        for target, templates, side_prefix in sides.values():
            warm_up(
                args,
                target=target,
                templates=templates,
                prefix=side_prefix,
                workdir=workdir,
                rate=rate,
            )
        rounds: dict[str, list] = {name: [] for name in sides}
        since = datetime.now(UTC)
        for _ in range(args.rounds):
            for name, (target, templates, side_prefix) in sides.items():
                rounds[name].append(
                    measure_round(
                        args,
                        target=target,
                        templates=templates,
                        duration=args.duration / args.rounds,
                        workdir=workdir,
                        rate=rate,
                        prefix=side_prefix,
                    )
                )
        print(
            f"answering rule, {events} ev/request, paced at {rate:.0f} requests/s (half the "
            f"lower peak: {peak:.0f} without a rule, {answering_peak.requests_per_s:.0f} with "
            f"the answering rule):"
        )
        combined = {name: combine_rounds(name, events, rounds[name]) for name in sides}
        for result in combined.values():
            print_result(result)
        added_by_target = {}
        for target in targets:
            plain, answering = ANSWERING_LABELS[target.name]
            runs = in_request_runs(target.checkout.url, since)
            added = added_by_target[target.name] = (
                combined[answering].p99_ms - combined[plain].p99_ms
            )
            print(
                f"{target.name}: added p99 with an answering rule: {added:+.1f} ms "
                f"(p50 {combined[answering].p50_ms - combined[plain].p50_ms:+.1f} ms); "
                f"answering / no rule: stored ev/s "
                f"{combined[answering].stored_per_s / (combined[plain].stored_per_s or 1):.2f}, "
                f"p99 {combined[answering].p99_ms / (combined[plain].p99_ms or 1):.2f}; "
                f"in-request runs by status: {runs or 'none'}",
                flush=True,
            )
        if len(added_by_target) == 2:
            print(
                f"added p99 before -> after: {added_by_target['before']:+.1f} -> "
                f"{added_by_target['cdp']:+.1f} ms",
                flush=True,
            )
        results.extend(combined.values())
    return results


def warm_up(args, *, target: Target, templates, prefix: str, workdir: Path, rate=None) -> None:
    """--warmup seconds of the same load, not measured."""
    if args.warmup > 0:
        run_load(
            args,
            port=target.server.port,
            templates=templates,
            prefix=prefix,
            duration=args.warmup,
            workdir=workdir,
            rate=rate,
        )


def answering_peak_measure(args, *, target: Target, templates, events: int, workdir: Path):
    """The CDP's peak when the answering rule routes every request's page view: unpaced, in
    --rounds turns of the plain case's length, as the plain peak was measured."""
    prefix = f"{target.prefix}-answer"
    warm_up(args, target=target, templates=templates, prefix=prefix, workdir=workdir)
    rounds = [
        measure_round(
            args,
            target=target,
            templates=templates,
            duration=args.duration / args.rounds,
            workdir=workdir,
            prefix=prefix,
        )
        for _ in range(args.rounds)
    ]
    result = combine_rounds("a-peak", events, rounds)
    print("peak with the answering rule (unpaced):")
    print_result(result)
    return result


# ---- output -----------------------------------------------------------------------------

HEADER = (
    f"{'case':<14} {'server':<6} {'req/s':>8} {'stored ev/s':>12} {'client ev/s':>12} "
    f"{'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
)


def print_result(result: CaseResult) -> None:
    case = f"{result.events_per_request} ev/request"
    errors = result.errors + result.non_200
    print(
        f"{case:<14} {result.target:<6} {result.requests_per_s:>8.0f} "
        f"{result.stored_per_s:>12.0f} {result.client_per_s:>12.0f} "
        f"{result.p50_ms:>8.1f} {result.p99_ms:>8.1f} {errors:>7}",
        flush=True,
    )


def print_ratios(results: list[CaseResult]) -> list[dict]:
    ratios = []
    by_key = {(result.target, result.events_per_request): result for result in results}
    for events in sorted({result.events_per_request for result in results}):
        before, after = (by_key.get((name, events)) for name in ("before", "cdp"))
        ratio: dict = {"events_per_request": events}
        for name, label, cdp in (("before", "before", before), ("cdp", "CDP", after)):
            for floor_name in FLOORS:
                floor = by_key.get((floor_name, events))
                if cdp is None or floor is None or not floor.client_per_s:
                    continue
                key = f"{name}_over_{floor_name}"
                ratio[key] = cdp.client_per_s / floor.client_per_s
                print(
                    f"ratio {label}/{floor_name}, {events} ev/request (client events/s): "
                    f"{ratio[key]:.2f} ({cdp.client_per_s:.0f} / {floor.client_per_s:.0f})"
                )
        if before is not None and after is not None and before.client_per_s:
            ratio["after_over_before"] = after.client_per_s / before.client_per_s
            print(
                f"after/before, {events} ev/request: client events/s {before.client_per_s:.0f} "
                f"-> {after.client_per_s:.0f} = {ratio['after_over_before']:.2f}; "
                f"p50 {before.p50_ms:.1f} -> {after.p50_ms:.1f} ms; "
                f"p99 {before.p99_ms:.1f} -> {after.p99_ms:.1f} ms; "
                f"errors {before.errors + before.non_200} -> {after.errors + after.non_200}"
            )
        if len(ratio) > 1:
            ratios.append(ratio)
    return ratios


def load_average() -> str:
    # Other work on the machine shows in the figures: printed so a reader can tell.
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


# ---- main -------------------------------------------------------------------------------


def prepare_checkout(repo: Path, database: str, **env_extra: str) -> Checkout:
    """A fresh database for a checkout's CDP, migrated by that checkout, with a REST source."""
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        from cdp.embedded import ensure_services

        ensure_services()
    if not os.environ.get("SECRET_KEY"):
        os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    url = database_url(os.environ["DATABASE_URL"], database)
    database_recreate(server_url=os.environ["DATABASE_URL"], name=database)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cdp.settings",
        "DEBUG": "false",
        "DATABASE_URL": url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        **env_extra,
    }
    print(f"Preparing database {database} (migrate, code of {repo}) ...", flush=True)
    manage(env, "migrate", "--noinput", repo=repo)
    source_id = manage(env, "create_event_source", "Bench", "--bridge", "rest", repo=repo).strip()
    return Checkout(repo=repo, env=env, url=url, source_id=source_id)


def prepare(args) -> tuple[dict, str, str]:
    """Fresh benchmark database, migrated, with a REST source: (server env, db url, source id)."""
    checkout = prepare_checkout(REPO, args.database)
    floor_table_create(checkout.url)
    return checkout.env, checkout.url, checkout.source_id


def prepare_before(args) -> Checkout:
    """The --before checkout's own database, and its own cache keys (both share REDIS_URL)."""
    prefix = f"{os.environ.get('CACHE_KEY_PREFIX', 'cdp')}-before"
    return prepare_checkout(args.before, f"{args.database}_before", CACHE_KEY_PREFIX=prefix)


def main() -> None:
    args = parse_args()
    configs = (
        [ServerConfig.parse(text) for text in args.sweep.split(",")]
        if args.sweep
        else [args.server]
    )
    checkouts = {"cdp": Checkout(REPO, *prepare(args))}
    if args.before:
        checkouts["before"] = prepare_before(args)
    generator = "wrk" if args.loadgen != "python" and loadgen.wrk_available() else "python"
    report = []
    with tempfile.TemporaryDirectory(prefix="bench-track-") as tmp:
        workdir = Path(tmp)
        for config in configs:
            print(
                f"\ngunicorn {config}, {args.concurrency} connections, load: {generator}, "
                f"{args.warmup:g} s warm-up + {args.duration:g} s per case and server "
                f"in {args.rounds} rounds, {args.sessions} returning sessions, "
                f"{args.new_ratio:.0%} new visitors; load average before: {load_average()}"
            )
            print(HEADER)
            results = run_config(args, config=config, checkouts=checkouts, workdir=workdir)
            ratios = print_ratios(results)
            print(f"load average after: {load_average()}")
            report.append(
                {
                    "server": str(config),
                    "loadgen": generator,
                    "results": [
                        {
                            **vars(result),
                            "stored_per_s": result.stored_per_s,
                            "client_per_s": result.client_per_s,
                        }
                        for result in results
                    ],
                    "ratios": ratios,
                }
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
