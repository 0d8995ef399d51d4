"""Past one machine (issue 20, item 5): the /track and workflow figures of bench/track.py and
bench/workflows.py, measured on one web node and one worker, and on two web nodes behind HAProxy
with two worker nodes consuming separate queues, in the same run, with ratios; then two proofs
that the nodes are stateless.

    .venv/bin/python bench/cluster.py                        # Redis broker, about 8 minutes
    .venv/bin/python bench/cluster.py --broker rabbitmq      # RabbitMQ at --rabbitmq-url
    .venv/bin/python bench/cluster.py --phases sticky,kill   # the two proofs only

With DATABASE_URL / REDIS_URL set it uses those servers; the database --database on the same
PostgreSQL server is dropped and recreated, and the tier queues on the broker are purged.
HAProxy comes from Debian (`apt-get install -y haproxy`); this script runs the binary itself on
a generated configuration (round robin, a health check every second on /api/v1/health that
requires the node's own database check to pass), never the system service.

The topologies, each node a separate process group on this machine:

- single: one gunicorn (--server, sync:3 as in the Procfile) and one Celery worker consuming
  every queue (concurrency 2);
- cluster: two such gunicorns behind HAProxy; worker node 1 consumes the workflows queue
  (`celery`, concurrency 2), worker node 2 the destinations and maintenance queues
  (concurrency 1).

Phases (--phases, in this order):

1. track: bench/track.py's cases (--cases events per request; returning visitors, 10% new;
   wrk, or bench/loadgen.py without it) against the single node and against the balancer in
   alternating rounds: requests/s, stored and client events/s, p50 / p99, errors; ratio
   cluster / single. No rule routes these events: the web tier alone.
2. workflows: bench/workflows.py's throughput case (--profiles x --events-per-profile collected
   purchase events, one message per profile, a 3-node workflow) and its no-op baseline, the
   topologies' workers taking turns; then the latency case (POST /track at a fixed rate, time
   from the answer to the committed workflow run: p50 / p95 / p99) through the single node and
   through the balancer.
3. sticky: one visitor's requests through the balancer, one after the other: which node
   answered each (HAProxy's X-Cdp-Node header), and that every answer and the database name
   one profile and one session holding every event.
4. kill: purchase events at a fixed rate through the balancer; after a third of the time web
   node 2's process group is killed (SIGKILL, like a machine dying). Printed: requests
   answered 200 and not, per phase (before / after the kill), and whether every accepted event
   is stored and processed by the workflow (the acceptance is the promise: none may be lost).

On a 2-core machine two nodes cannot be faster than one: they share the same cores, and the
balancer adds a hop. Read the cluster figures as the per-node budget and as the proof that
nothing ties a visitor to a node, not as a speed-up.
"""

import argparse
import contextlib
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import loadgen  # noqa: E402
from bench.track import (  # noqa: E402
    CDP_TABLE,
    HEADER,
    ServerConfig,
    combine_rounds,
    free_port,
    load_average,
    prepare_checkout,
    print_result,
    python_for,
    run_load,
    smoke_request,
    stored_since,
)
from bench.workflows import (  # noqa: E402
    EVENT_TYPE,
    TrackLoad,
    collected_count,
    newest_run_id,
    processed_poller,
    throughput,
    wait_until,
    workflow_setup,
)

PHASES = ("track", "workflows", "sticky", "kill")
TIER_QUEUES = ("celery", "destinations", "maintenance")
# The node check: /api/v1/health answers 503 when beat or a worker tier is down, which is the
# installation's state, not this node's; a node is in service when it answers and its own
# database check passes ("database":{"ok":true in the JSON, whatever the overall status).
HEALTH_BODY_REGEX = "database.:[{].ok.:true"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--broker", choices=["redis", "rabbitmq"], default="redis")
    parser.add_argument("--rabbitmq-url", default="amqp://guest:guest@127.0.0.1:5672//")
    parser.add_argument(
        "--phases", default=",".join(PHASES), help="Comma-separated, of " + ", ".join(PHASES)
    )
    parser.add_argument("--database", default="cdp_bench_cluster", help="Dropped and recreated.")
    parser.add_argument(
        "--server",
        type=ServerConfig.parse,
        default=ServerConfig.parse("sync:3"),
        help="Gunicorn setup of every web node: sync:N or gthread:NxT.",
    )
    parser.add_argument("--cases", default="1,10", help="Events per request, comma-separated.")
    parser.add_argument("--duration", type=float, default=12, help="Seconds per case and topology.")
    parser.add_argument("--rounds", type=int, default=3, help="Turns the duration is split into.")
    parser.add_argument("--warmup", type=float, default=3, help="Seconds of warm-up per case.")
    parser.add_argument("--concurrency", type=int, default=32, help="Concurrent connections.")
    parser.add_argument("--sessions", type=int, default=2000, help="Returning visitors' pool.")
    parser.add_argument("--new-ratio", type=float, default=0.1, help="Share of new visitors.")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--profiles", type=int, default=500, help="Workflow throughput case.")
    parser.add_argument("--events-per-profile", type=int, default=10)
    parser.add_argument("--workflow-rounds", type=int, default=2, help="Throughput turns each.")
    parser.add_argument("--noop-tasks", type=int, default=3000, help="No-op baseline tasks.")
    parser.add_argument("--latency-seconds", type=float, default=20)
    parser.add_argument(
        "--latency-rate", type=float, default=0, help="Events/s (0: half the lower throughput)."
    )
    parser.add_argument("--sticky-requests", type=int, default=20)
    parser.add_argument("--kill-seconds", type=float, default=24)
    parser.add_argument("--kill-rate", type=float, default=200, help="Events/s in the kill phase.")
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args()
    unknown = set(args.phases.split(",")) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases {sorted(unknown)}: choose from {', '.join(PHASES)}")
    return args


# ---- processes -------------------------------------------------------------------------------


class Node:
    """A process in its own process group: stopped with SIGTERM, killed like a lost machine."""

    def __init__(self, name: str, command: list[str], *, env: dict, workdir: Path) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.running():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.running():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        # Children left by a master that died first belong to the same group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def failed(self, what: str) -> SystemExit:
        return SystemExit(
            f"{self.name}: {what}; its log {self.log_path}:\n{self.log_path.read_text()[-3000:]}"
        )


class WebNode(Node):
    def __init__(self, name: str, *, config: ServerConfig, env: dict, workdir: Path) -> None:
        self.port = free_port()
        command = [
            python_for(REPO), "-m", "gunicorn", "cdp.wsgi:application",
            f"--bind=127.0.0.1:{self.port}", *config.gunicorn_args(), "--backlog=2048",
            "--keep-alive=5", "--log-level=warning",
        ]  # fmt: skip
        super().__init__(name, command, env=env, workdir=workdir)

    def wait_ready(self, source_id: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not self.running():
                raise self.failed("exited at start-up")
            try:
                smoke_request(self.port, source_id)
                return
            except (OSError, http.client.HTTPException):
                time.sleep(0.3)
        raise self.failed("not answering after 60 s")


class WorkerNode(Node):
    def __init__(
        self, name: str, *, queues: tuple[str, ...], concurrency: int, env: dict, workdir: Path
    ) -> None:
        self.hostname = f"{name}-{uuid.uuid4().hex[:6]}@localhost"
        command = [
            python_for(REPO), "-m", "celery", "-A", "cdp", "worker", "--pool", "prefork",
            "--concurrency", str(concurrency), "--queues", ",".join(queues),
            "--hostname", self.hostname, "--loglevel", "WARNING",
            "--without-gossip", "--without-mingle",
        ]  # fmt: skip
        super().__init__(name, command, env=env, workdir=workdir)

    def wait_ready(self) -> None:
        from cdp.celery import app

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if not self.running():
                raise self.failed("exited at start-up")
            if app.control.ping(destination=[self.hostname], timeout=0.5):
                return
        raise self.failed("did not answer a ping within 90 s")


HAPROXY_CONFIG = """\
global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # A request whose node refused the connection, or closed it without a byte of answer (a
    # node that died mid-request: its transaction rolled back), goes to the other node. A
    # repeated /track stores its events once (their ids, ON CONFLICT DO NOTHING); the browser
    # tracker retries the same way.
    retries 3
    retry-on conn-failure empty-response
    option redispatch
    # The visitor's address for the events' client ip and geo location (its first entry).
    option forwardfor
frontend cdp
    bind 127.0.0.1:{port}
    default_backend web
backend web
    balance roundrobin
    option httpchk
    http-check send meth GET uri /api/v1/health ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect rstring {health_regex}
    # A sync worker answers the check after the requests queued before it: under overload
    # that takes seconds, and a check that gives up sooner takes a busy (not broken)
    # node out of service. A dead node refuses the connection at once.
    timeout check 5s
    default-server inter 1s fall 2 rise 2
    http-response set-header X-Cdp-Node %s
{servers}
"""


class Balancer(Node):
    def __init__(self, nodes: list[WebNode], *, workdir: Path) -> None:
        self.port = free_port()
        servers = "\n".join(f"    server {node.name} 127.0.0.1:{node.port} check" for node in nodes)
        config = workdir / "haproxy.cfg"
        config.write_text(
            HAPROXY_CONFIG.format(port=self.port, health_regex=HEALTH_BODY_REGEX, servers=servers)
        )
        command = ["haproxy", "-f", str(config), "-db"]
        super().__init__("haproxy", command, env=dict(os.environ), workdir=workdir)
        self.node_names = {node.name for node in nodes}

    def wait_ready(self, source_id: str) -> None:
        """Until both nodes passed their health checks (each answered through the balancer)."""
        deadline = time.monotonic() + 60
        seen: set[str] = set()
        while time.monotonic() < deadline and seen != self.node_names:
            if not self.running():
                raise self.failed("exited at start-up")
            try:
                seen.add(track_once(self.port, source_id, f"probe-{uuid.uuid4()}")[0])
            except (OSError, http.client.HTTPException, KeyError, ValueError):
                time.sleep(0.3)
        if seen != self.node_names:
            raise self.failed(f"only {sorted(seen)} answered through the balancer")


def track_once(
    port: int, source_id: str, session_id: str, profile_id: str | None = None, events: int = 2
) -> tuple[str, dict, list[str]]:
    """One /track request: (the node that answered, the answer, the event ids sent)."""
    ids = [str(uuid.uuid4()) for _ in range(events)]
    body = {
        "source": {"id": source_id},
        "session": {"id": session_id},
        "profile": {"id": profile_id} if profile_id else None,
        "events": [
            {"id": event_id, "type": "page-view", "properties": {"n": n}}
            for n, event_id in enumerate(ids)
        ],
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/track", json.dumps(body), {"Content-Type": "application/json"})
        response = connection.getresponse()
        answer = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise ValueError(f"/track answered {response.status}: {answer[:300]!r}")
    return response.getheader("X-Cdp-Node", "direct"), json.loads(answer), ids


class Topology:
    """The web entry point (a node's port or the balancer's) and how to start its workers."""

    def __init__(self, label: str, port: int, workers: list[tuple[str, tuple[str, ...], int]]):
        self.label = label
        self.port = port
        self.workers = workers

    def start_workers(self, env: dict, workdir: Path) -> list[WorkerNode]:
        nodes = [
            WorkerNode(name, queues=queues, concurrency=concurrency, env=env, workdir=workdir)
            for name, queues, concurrency in self.workers
        ]
        for node in nodes:
            node.wait_ready()
        return nodes


# ---- broker --------------------------------------------------------------------------------


def queue_depths() -> dict[str, int]:
    """Ready messages per tier queue (Redis or RabbitMQ: the same kombu call)."""
    from kombu import Queue

    from cdp.celery import app

    with app.connection_for_write() as connection:
        channel = connection.default_channel
        return {
            name: Queue(name, channel=channel).queue_declare().message_count for name in TIER_QUEUES
        }


def broker_purge() -> None:
    from cdp.celery import app

    queue_depths()  # declares them, so that the purge finds each
    app.control.purge()


def noop_rate(count: int) -> float:
    """bench/workflows.py's baseline on either broker: no-op tasks/s through the workers."""
    from cdp.celery import app

    started = time.perf_counter()
    with app.producer_or_acquire() as producer:
        for _ in range(count):
            app.send_task("celery.accumulate", args=[1], producer=producer)
    ended = wait_until(lambda: queue_depths()["celery"] == 0, timeout=300, poll=0.02)
    return count / (ended - started)


# ---- phases --------------------------------------------------------------------------------


def track_phase(args, *, topologies: list[Topology], checkout, workdir: Path) -> list[dict]:
    source_id = checkout.source_id
    prefixes = {top.label: f"{top.label.replace(' ', '')}-{os.getpid()}" for top in topologies}
    for top in topologies:
        run_load(
            args,
            port=top.port,
            templates=loadgen.payload_templates(source_id=source_id, events_per_request=1),
            prefix=prefixes[top.label],
            duration=0,
            workdir=workdir,
            seed=True,
        )
    print(HEADER)
    results = []
    for events in [int(text) for text in args.cases.split(",")]:
        templates = loadgen.payload_templates(source_id=source_id, events_per_request=events)
        for top in topologies:
            if args.warmup > 0:
                run_load(
                    args,
                    port=top.port,
                    templates=templates,
                    prefix=prefixes[top.label],
                    duration=args.warmup,
                    workdir=workdir,
                )
        rounds: dict[str, list] = {top.label: [] for top in topologies}
        for _ in range(args.rounds):
            for top in topologies:
                since = datetime.now(UTC)
                load = run_load(
                    args,
                    port=top.port,
                    templates=templates,
                    prefix=prefixes[top.label],
                    duration=args.duration / args.rounds,
                    workdir=workdir,
                )
                time.sleep(1)  # the requests in flight when the generator stopped commit
                rounds[top.label].append((load, *stored_since(checkout.url, CDP_TABLE, since)))
        case = {
            top.label: combine_rounds(top.label, events, rounds[top.label]) for top in topologies
        }
        for result in case.values():
            print_result(result)
        single, cluster = case["single"], case["2 web"]
        ratio = cluster.client_per_s / single.client_per_s if single.client_per_s else 0.0
        print(
            f"ratio 2 web nodes + HAProxy / single node, {events} ev/request (client events/s): "
            f"{ratio:.2f} ({cluster.client_per_s:.0f} / {single.client_per_s:.0f}); "
            f"p99 {single.p99_ms:.0f} -> {cluster.p99_ms:.0f} ms",
            flush=True,
        )
        results.append(
            {
                "events_per_request": events,
                **{
                    label: {
                        **vars(result),
                        "stored_per_s": result.stored_per_s,
                        "client_per_s": result.client_per_s,
                        "requests_per_s": result.requests_per_s,
                    }
                    for label, result in case.items()
                },
                "cluster_over_single": ratio,
            }
        )
    return results


def workflow_phase(
    args, *, topologies: list[Topology], env: dict, workdir: Path, source_id: str
) -> dict:
    figures: dict[str, dict[str, list]] = {
        top.label: {"noop": [], "events_per_s": []} for top in topologies
    }
    print(f"{'workers':<28} {'no-op tasks/s':>14} {'events/s':>10} {'tasks/s':>9} {'/ no-op':>8}")
    for _ in range(args.workflow_rounds):
        for top in topologies:
            workers = top.start_workers(env, workdir)
            try:
                noop = noop_rate(args.noop_tasks)
                measured = throughput(args, source_id)
            finally:
                for worker in workers:
                    worker.stop()
            figures[top.label]["noop"].append(noop)
            figures[top.label]["events_per_s"].append(measured["events_per_s"])
            print(
                f"{top.label:<28} {noop:>14.0f} {measured['events_per_s']:>10.0f} "
                f"{measured['tasks_per_s']:>9.0f} {measured['tasks_per_s'] / noop:>8.2f}",
                flush=True,
            )
    medians = {
        label: {key: statistics.median(values) for key, values in series.items()}
        for label, series in figures.items()
    }
    single, cluster = (medians[top.label] for top in topologies)
    ratio = cluster["events_per_s"] / single["events_per_s"]
    print(
        f"medians: single {single['events_per_s']:.0f} events/s (no-op {single['noop']:.0f}), "
        f"cluster {cluster['events_per_s']:.0f} events/s (no-op {cluster['noop']:.0f}); "
        f"ratio cluster / single {ratio:.2f}",
        flush=True,
    )
    rate = args.latency_rate or min(single["events_per_s"], cluster["events_per_s"]) / 2
    latencies = {}
    for top in topologies:
        workers = top.start_workers(env, workdir)
        try:
            latencies[top.label] = track_latency(
                args, port=top.port, source_id=source_id, rate=rate
            )
        finally:
            for worker in workers:
                worker.stop()
        shown = latencies[top.label]
        print(
            f"latency {top.label:<22} at {rate:.0f} events/s "
            f"(sent {shown['sent_events_per_s']:.0f}): p50 {shown['p50_ms']:.0f} ms, "
            f"p95 {shown['p95_ms']:.0f} ms, "
            f"p99 {shown['p99_ms']:.0f} ms, max {shown['max_ms']:.0f} ms, errors {shown['errors']}",
            flush=True,
        )
    return {"throughput": figures, "medians": medians, "ratio": ratio, "latency": latencies}


def track_latency(args, *, port: int, source_id: str, rate: float) -> dict:
    """bench/workflows.py's latency case against `port` (a node or the balancer)."""
    warm = TrackLoad(port=port, source_id=source_id, rate=rate, seconds=1, sessions=200)
    warm.interval = 10 / max(rate, 200)
    warm.seconds = 200 * warm.interval
    warm.run()
    wait_until(lambda: collected_count() == 0, timeout=180, poll=0.05)
    load = TrackLoad(
        port=port, source_id=source_id, rate=rate, seconds=args.latency_seconds, sessions=200
    )
    load.sessions = warm.sessions
    seen: dict[str, float] = {}
    stop = threading.Event()
    poller = threading.Thread(target=processed_poller, args=(seen, stop, newest_run_id()))
    poller.start()
    started = time.monotonic()
    try:
        load.run()
        sent_seconds = time.monotonic() - started
        wait_until(lambda: load.accepted.keys() <= seen.keys(), timeout=300, poll=0.05)
    finally:
        stop.set()
        poller.join()
    delays = sorted(max(0.0, seen[key] - load.accepted[key]) for key in load.accepted)
    quantiles = statistics.quantiles(delays, n=100, method="inclusive")
    return {
        "events": len(load.accepted),
        "errors": load.errors,
        "sent_events_per_s": len(load.accepted) / sent_seconds,
        "p50_ms": quantiles[49] * 1000,
        "p95_ms": quantiles[94] * 1000,
        "p99_ms": quantiles[98] * 1000,
        "max_ms": delays[-1] * 1000,
    }


def sticky_phase(args, *, balancer: Balancer, source_id: str) -> dict:
    """One visitor through the balancer: the nodes alternate, the profile stays one."""
    from apps.events.models import Event
    from apps.profiles.models import Profile, Session

    session_id = f"sticky-{uuid.uuid4()}"
    nodes, profiles, sent = [], [], []
    profile_id = None
    for _ in range(args.sticky_requests):
        node, answer, ids = track_once(balancer.port, source_id, session_id, profile_id)
        profile_id = answer["profile"]["id"]
        nodes.append(node)
        profiles.append(profile_id)
        sent.extend(ids)
    stored = Event.objects.filter(id__in=sent)
    stored_profiles = set(stored.values_list("profile_id", flat=True))
    stored_sessions = set(stored.values_list("session_id", flat=True))
    figures = {
        "nodes": nodes,
        "per_node": dict(Counter(nodes)),
        "profile_ids_answered": len(set(profiles)),
        "events_sent": len(sent),
        "events_stored": stored.count(),
        "stored_profile_ids": len(stored_profiles),
        "stored_session_ids": len(stored_sessions),
        "profiles_with_this_session": Session.objects.filter(pk__in=stored_sessions)
        .values("profile_id")
        .distinct()
        .count(),
        "profile_exists": Profile.objects.filter(pk=profiles[-1]).exists(),
    }
    consistent = (
        len(figures["per_node"]) == 2
        and figures["profile_ids_answered"] == 1
        and figures["events_stored"] == figures["events_sent"]
        and stored_profiles == {profiles[-1]}
        and len(stored_sessions) == 1
        and figures["profile_exists"]
    )
    figures["consistent"] = consistent
    print(
        f"{args.sticky_requests} requests of one visitor: nodes {' '.join(nodes)}\n"
        f"  per node {figures['per_node']}; profile ids answered: "
        f"{figures['profile_ids_answered']}; events sent {len(sent)}, stored "
        f"{figures['events_stored']}, under {len(stored_profiles)} profile(s) and "
        f"{len(stored_sessions)} session(s): {'CONSISTENT' if consistent else 'INCONSISTENT'}",
        flush=True,
    )
    return figures


class NodeCountingLoad(TrackLoad):
    """TrackLoad through the balancer, noting for each request the time, the node that answered
    (HAProxy's X-Cdp-Node) and the status (0: no answer)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.outcomes: list[tuple[float, str, int]] = []

    def run(self, threads: int = 8) -> None:
        start = time.monotonic()
        slots = iter(range(10**9))
        slot_lock = threading.Lock()

        def send_requests() -> None:
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
                        self.outcomes.append((time.monotonic(), "-", 0))
                    continue
                answered = time.time()
                with self.lock:
                    self.outcomes.append(
                        (time.monotonic(), response.getheader("X-Cdp-Node", "-"), response.status)
                    )
                    if response.status != 200:
                        self.errors += 1
                        continue
                visitor["profile"] = json.loads(answer)["profile"]["id"]
                with self.lock:
                    for event_id in ids:
                        self.accepted[event_id] = answered

        pool = [threading.Thread(target=send_requests) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()


def kill_phase(args, *, balancer: Balancer, victim: WebNode, source_id: str) -> dict:
    """Load through the balancer while one web node dies: no accepted event may be lost."""
    from apps.events.models import Event

    load = NodeCountingLoad(
        port=balancer.port,
        source_id=source_id,
        rate=args.kill_rate,
        seconds=args.kill_seconds,
        sessions=200,
    )
    seen: dict[str, float] = {}
    stop = threading.Event()
    poller = threading.Thread(target=processed_poller, args=(seen, stop, newest_run_id()))
    poller.start()
    killed_at: list[float] = []

    def killer():
        time.sleep(args.kill_seconds / 3)
        killed_at.append(time.monotonic())
        victim.kill()

    killer_thread = threading.Thread(target=killer)
    started = time.monotonic()
    killer_thread.start()
    try:
        load.run()
        killer_thread.join()
        accepted = set(load.accepted)
        # Every accepted event processed by the workflow (its run committed with its status).
        wait_until(lambda: accepted <= seen.keys(), timeout=300, poll=0.1)
    finally:
        stop.set()
        poller.join()
    stored = Event.objects.filter(id__in=accepted).count()
    processed = Event.objects.filter(id__in=accepted, status=Event.Status.PROCESSED).count()
    kill_time = killed_at[0]
    before = [o for o in load.outcomes if o[0] < kill_time]
    after = [o for o in load.outcomes if o[0] >= kill_time]
    last_victim_answer = max(
        (o[0] for o in after if o[1] == victim.name and o[2] == 200), default=kill_time
    )
    figures = {
        "seconds": args.kill_seconds,
        "killed_after_s": kill_time - started,
        "accepted_events": len(accepted),
        "stored": stored,
        "processed": processed,
        "lost": len(accepted) - stored,
        "before_kill": dict(Counter(f"{node}:{status}" for _, node, status in before)),
        "after_kill": dict(Counter(f"{node}:{status}" for _, node, status in after)),
        "victim_answers_after_kill_s": last_victim_answer - kill_time,
        "client_errors": load.errors,
    }
    print(
        f"{args.kill_rate:.0f} events/s for {args.kill_seconds:.0f} s through HAProxy; "
        f"{victim.name} killed (SIGKILL, its process group) "
        f"after {figures['killed_after_s']:.1f} s\n"
        f"  answers before the kill (node:status): {figures['before_kill']}\n"
        f"  answers after the kill: {figures['after_kill']}\n"
        f"  accepted events {len(accepted)}, stored {stored}, processed by the workflow "
        f"{processed}: lost {figures['lost']}; requests not accepted: {load.errors}",
        flush=True,
    )
    return figures


# ---- main ----------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    phases = args.phases.split(",")
    broker = (
        args.rabbitmq_url
        if args.broker == "rabbitmq"
        else os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL", "")
    )
    extra = {"CELERY_BROKER_URL": broker} if broker else {}
    checkout = prepare_checkout(REPO, args.database, **extra)
    env = checkout.env
    os.environ.update(env)
    import django

    django.setup()
    broker_purge()
    # The workflow of bench/workflows.py, on purchase events (bench/loadgen.py sends none, so
    # the /track phase routes nothing), before the web nodes start and cache their rules.
    bench_source = workflow_setup()
    generator = "wrk" if args.loadgen != "python" and loadgen.wrk_available() else "python"
    print(
        f"broker {args.broker}; web nodes gunicorn {args.server}; load: {generator}; "
        f"load average before: {load_average()}",
        flush=True,
    )
    report: dict = {"broker": args.broker, "server": str(args.server), "loadgen": generator}
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        workdir = Path(tmp)
        nodes: list[Node] = []
        try:
            single = WebNode("single", config=args.server, env=env, workdir=workdir)
            web = [WebNode(f"web{n}", config=args.server, env=env, workdir=workdir) for n in (1, 2)]
            nodes.extend([single, *web])
            for node in (single, *web):
                node.wait_ready(checkout.source_id)
            balancer = Balancer(web, workdir=workdir)
            nodes.append(balancer)
            balancer.wait_ready(checkout.source_id)
            topologies = [
                Topology("single", single.port, [("worker", TIER_QUEUES, 2)]),
                Topology(
                    "2 web",
                    balancer.port,
                    [
                        ("worker-workflows", ("celery",), 2),
                        ("worker-other", ("destinations", "maintenance"), 1),
                    ],
                ),
            ]
            if "track" in phases:
                print(
                    f"\n1. /track: {args.concurrency} connections, {args.warmup:g} s warm-up + "
                    f"{args.duration:g} s per case and topology in {args.rounds} rounds",
                    flush=True,
                )
                report["track"] = track_phase(
                    args, topologies=topologies, checkout=checkout, workdir=workdir
                )
            if "workflows" in phases:
                print(
                    f"\n2. workflows: {args.profiles} profiles x {args.events_per_profile} "
                    f"collected {EVENT_TYPE} events; single = 1 worker on every queue "
                    "(concurrency 2), cluster = worker node 1 on `celery` (2) + worker node 2 "
                    "on `destinations,maintenance` (1)",
                    flush=True,
                )
                report["workflows"] = workflow_phase(
                    args, topologies=topologies, env=env, workdir=workdir, source_id=bench_source
                )
            if "sticky" in phases or "kill" in phases:
                workers = topologies[1].start_workers(env, workdir)
                nodes.extend(workers)
            if "sticky" in phases:
                print("\n3. one visitor through the balancer", flush=True)
                report["sticky"] = sticky_phase(args, balancer=balancer, source_id=bench_source)
            if "kill" in phases:
                print("\n4. a web node killed under load", flush=True)
                report["kill"] = kill_phase(
                    args, balancer=balancer, victim=web[1], source_id=bench_source
                )
        finally:
            for node in reversed(nodes):
                node.stop()
    print(f"load average after: {load_average()}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
