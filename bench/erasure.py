"""The erasure benchmark (issue 12): forget a person with many events among many stored events,
and what it costs /track meanwhile.

    .venv/bin/python bench/erasure.py                       # 152,000 of 2,000,000 events
    .venv/bin/python bench/erasure.py --events 500000 --person-events 40000   # a smaller scale

With DATABASE_URL / REDIS_URL set it uses those servers (the database --database on that
PostgreSQL server is dropped and recreated); with them unset, the embedded ones. It

1. migrates a fresh database and fills it with SQL (INSERT ... SELECT generate_series): one
   person with --person-events events in sessions of 150 events, each with a workflow run;
   other profiles with the rest of --events (a run for every tenth); a webhook destination
   that forwards erasures, to a local HTTP server;
2. prints the plans of the erasure's batch queries on that data, and the plan of the single
   statement the erasure used to run (before issue 12) for the runs;
3. starts gunicorn (bench/track.py's setup, sync:3) and a Celery worker, seeds the returning
   visitors, and drives /track (1 event per request) for --baseline seconds: p50 / p99 without
   an erasure;
4. starts the erasure with `manage.py forget_profile` (what an operator runs: it returns at
   once, the worker erases) and drives the same load in --round-second rounds until the record
   says `done`: the erasure's duration (record start to finish), its counts, and /track p50 /
   p99 during it (per-round percentiles weighted by requests, as bench/track.py combines
   rounds), next to the baseline, with the ratios.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402

from bench import loadgen  # noqa: E402
from bench.track import (  # noqa: E402
    GunicornServer,
    ServerConfig,
    load_average,
    manage,
    prepare_checkout,
    run_load,
    smoke_request,
)

PERSON = "erase-me"
SESSION_EVENTS = 150
CHUNK = 250_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2_000_000, help="Events stored in all.")
    parser.add_argument(
        "--person-events", type=int, default=152_000, help="Events of the erased person."
    )
    parser.add_argument(
        "--profiles", type=int, default=20_000, help="Other profiles the rest belongs to."
    )
    parser.add_argument("--baseline", type=float, default=30, help="Seconds of load without.")
    parser.add_argument("--round-seconds", type=float, default=5, help="Load rounds during.")
    parser.add_argument("--concurrency", type=int, default=8, help="Concurrent connections.")
    parser.add_argument("--sessions", type=int, default=500, help="Returning visitors' pool.")
    parser.add_argument("--new-ratio", type=float, default=0.05, help="Share of new visitors.")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--server", type=ServerConfig.parse, default=ServerConfig.parse("sync:3"))
    parser.add_argument("--database", default="cdp_bench_erasure", help="Dropped and recreated.")
    return parser.parse_args()


# ---- data ---------------------------------------------------------------------------------

# Rows shaped like the CDP's (a page-view's properties and context); the person's first.
_EVENT_COLUMNS = (
    "id, type, source_id, profile_id, session_id, time, inserted, status, status_message, "
    "is_bot, properties, context, traits, metadata, request, tags"
)
_EVENT_VALUES = """
    %(prefix)s || g, 'page-view', %(source)s, {profile}, {session},
    now() - make_interval(secs => g), now() - make_interval(secs => g), 'processed', '', false,
    '{{"url": "https://shop.example.com/product/42", "title": "A product", "price": 19.99}}',
    '{{"page": {{"url": "https://shop.example.com/product/42", "referer": {{"host": null}}}},
      "browser": {{"local": {{"browser": {{"language": "en-US"}}}}}}}}',
    '{{}}', '{{"time": {{"insert": "2026-01-01T00:00:00+00:00"}}, "status": "processed"}}',
    '{{"headers": {{"user-agent": "Mozilla/5.0"}}}}', '{{"values": [], "count": 0}}'
"""


def fill(url: str, *, source_id: str, args) -> dict[str, float]:
    """Generate the rows with SQL; returns seconds per step."""
    others = args.events - args.person_events
    timings = {}
    with psycopg.connect(url, autocommit=True) as connection:

        def step(name: str, statement: str, params: dict | None = None) -> None:
            started = time.monotonic()
            connection.execute(statement, params or {})
            timings[name] = time.monotonic() - started
            print(f"  {name}: {timings[name]:.1f} s", flush=True)

        profile_values = (
            "SELECT {id}, NULL, '{{}}'::varchar[], true, '{{}}'::varchar[], now(), now(), 1, "
            "'{{}}'::jsonb, '{{}}'::jsonb, '{{}}'::jsonb, '{{}}'::jsonb, '{{}}'::jsonb, "
            "'{{}}'::jsonb, '{{}}'::jsonb FROM {series}"
        )
        profile_insert = (
            "INSERT INTO profiles_profile (id, primary_id, ids, active, segments, created, "
            "updated, visit_count, metadata, stats, traits, interests, consents, aux, data) "
        )
        step(
            "profiles",
            profile_insert
            + profile_values.format(id="'p-' || g", series="generate_series(1, %(n)s) g")
            + " UNION ALL "
            + profile_values.format(id="%(person)s", series="(SELECT 1) one"),
            {"n": args.profiles, "person": PERSON},
        )
        session_insert = (
            "INSERT INTO profiles_session (id, profile_id, created, updated, status, is_bot, "
            "metadata, device, os, app, utm, context, properties) "
            "SELECT {id}, {profile}, now(), now(), 'ended', false, '{{}}', '{{}}', '{{}}', "
            "'{{}}', '{{}}', '{{}}', '{{}}' FROM generate_series(1, %(n)s) g"
        )
        step(
            "sessions",
            session_insert.format(id="'s-' || g", profile="'p-' || g"),
            {"n": args.profiles},
        )
        person_sessions = -(-args.person_events // SESSION_EVENTS)
        step(
            "person sessions",
            session_insert.format(id="'ps-' || g", profile="%(person)s"),
            {"n": person_sessions, "person": PERSON},
        )
        event_insert = f"INSERT INTO events_event ({_EVENT_COLUMNS}) SELECT {_EVENT_VALUES} "
        step(
            "person events",
            event_insert.format(
                profile="%(person)s", session=f"'ps-' || (1 + (g - 1) / {SESSION_EVENTS})"
            )
            + "FROM generate_series(1, %(n)s) g",
            {"prefix": "pe-", "source": source_id, "person": PERSON, "n": args.person_events},
        )
        started = time.monotonic()
        for first in range(1, others + 1, CHUNK):
            last = min(others, first + CHUNK - 1)
            connection.execute(
                event_insert.format(
                    profile=f"'p-' || (1 + g %% {args.profiles})",
                    session=f"'s-' || (1 + g %% {args.profiles})",
                )
                + "FROM generate_series(%(first)s, %(last)s) g",
                {"prefix": "oe-", "source": source_id, "first": first, "last": last},
            )
            print(f"  other events: {last:,} of {others:,}", flush=True)
        timings["other events"] = time.monotonic() - started
        connection.execute(
            "INSERT INTO workflows_workflow (id, name, description, enabled, graph, version, "
            "draft, revision, deployed_at, created, updated) VALUES ('bench-flow', 'Bench', '', "
            "true, '{}', 1, '{}', 1, now(), now(), now())"
        )
        run_insert = (
            "INSERT INTO workflows_workflowrun (workflow_id, workflow_version, event_id, "
            "event_ref, event_type, profile_id, rule_ids, replay, status, error, error_node, "
            "started, duration_ms, log) "
            "SELECT 'bench-flow', 1, e.id, e.id, e.type, e.profile_id, '[]', false, 'ok', '', "
            "'', e.time, 1.5, '[]' FROM events_event e "
        )
        step("person runs", run_insert + "WHERE e.profile_id = %(person)s", {"person": PERSON})
        step(
            "other runs",
            run_insert + "WHERE e.profile_id <> %(person)s AND e.id LIKE '%%0'",
            {"person": PERSON},
        )
        step("analyze", "VACUUM ANALYZE")
    return timings


def destination_create(url: str, hook_url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO destinations_resource (id, name, description, type, credentials, "
            "created, updated) VALUES ('bench-hook', 'Hook', '', 'webhook', '{}', now(), now())"
        )
        connection.execute(
            "INSERT INTO destinations_destination (id, name, description, resource_id, kind, "
            "condition, mapping, settings, delay_seconds, max_delay_seconds, enabled, "
            "forward_erasures, event_type, source_id, created, updated) VALUES ('bench-dest', "
            "'Erasures', '', 'bench-hook', 'event', '', '{}', %s, 0, 60, true, true, 'never-sent', "
            "NULL, now(), now())",
            [psycopg.types.json.Jsonb({"url": hook_url, "timeout": 5})],
        )


class HookServer:
    """Answers 200 to every request and keeps the deletion requests it gets."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/erase"

    def stop(self) -> None:
        self.server.shutdown()


# ---- plans --------------------------------------------------------------------------------

_PLANS = {
    "batch: the person's events": (
        "SELECT id FROM events_event WHERE profile_id = %(p)s ORDER BY time LIMIT 1000"
    ),
    "batch: runs of 1000 events": (
        "SELECT id FROM workflows_workflowrun WHERE event_id = ANY(ARRAY(SELECT id FROM "
        "events_event WHERE profile_id = %(p)s ORDER BY time LIMIT 1000))"
    ),
    "batch: events of the person's sessions": (
        "SELECT id FROM events_event WHERE session_id IN (SELECT id FROM profiles_session "
        "WHERE profile_id = %(p)s) ORDER BY session_id, time LIMIT 1000"
    ),
    "batch: profile-less events naming the person": (
        "SELECT id FROM events_event WHERE profile_id IS NULL AND metadata -> 'profile_id' = "
        "ANY(ARRAY[to_jsonb(%(p)s::text)]) ORDER BY time LIMIT 1000"
    ),
    "before issue 12: the runs, in one statement": (
        "DELETE FROM workflows_workflowrun WHERE profile_id = %(p)s OR event_id IN (SELECT id "
        "FROM events_event WHERE profile_id = %(p)s OR session_id IN (SELECT id FROM "
        "profiles_session WHERE profile_id = %(p)s) OR (profile_id IS NULL AND metadata -> "
        "'profile_id' = ANY(ARRAY[to_jsonb(%(p)s::text)])))"
    ),
}


def print_plans(url: str) -> None:
    with psycopg.connect(url) as connection:
        for name, statement in _PLANS.items():
            plan = connection.execute("EXPLAIN " + statement, {"p": PERSON}).fetchall()
            print(f"-- {name}")
            for (line,) in plan:
                print(f"   {line}")


# ---- load ---------------------------------------------------------------------------------


def combine(rounds: list[dict]) -> dict:
    requests = sum(load["requests"] for load in rounds) or 1
    return {
        "requests": sum(load["requests"] for load in rounds),
        "errors": sum(load["errors"] + load["non_200"] for load in rounds),
        "p50_ms": sum(load["p50_ms"] * load["requests"] for load in rounds) / requests,
        "p99_ms": sum(load["p99_ms"] * load["requests"] for load in rounds) / requests,
        "seconds": sum(load.get("duration_s", 0) for load in rounds),
    }


def erasure_state(url: str) -> tuple | None:
    with psycopg.connect(url) as connection:
        return connection.execute(
            "SELECT status, EXTRACT(EPOCH FROM erased_at - started_at), deleted, "
            "deletion_requests FROM profiles_erasurerecord ORDER BY started_at DESC LIMIT 1"
        ).fetchone()


def main() -> None:
    args = parse_args()
    checkout = prepare_checkout(REPO, args.database)
    print(
        f"Filling: {args.events:,} events, {args.person_events:,} of them the person's "
        f"(load average {load_average()}) ...",
        flush=True,
    )
    started = time.monotonic()
    fill(checkout.url, source_id=checkout.source_id, args=args)
    print(f"Filled in {time.monotonic() - started:.0f} s.", flush=True)
    hook = HookServer()
    destination_create(checkout.url, hook.url)
    print_plans(checkout.url)

    workdir = Path(tempfile.mkdtemp(prefix="bench-erasure-"))
    env = {**checkout.env, "CDP_DELIVERY_DISPATCH_SECONDS": "1"}
    server = GunicornServer(
        app="cdp.wsgi:application", config=args.server, env=env, log_path=workdir / "web.log"
    )
    worker_log = (workdir / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cdp", "worker", "-B", "-c", "1", "-l", "warning"],
        cwd=REPO,
        env=env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    load_args = argparse.Namespace(
        loadgen=args.loadgen,
        concurrency=args.concurrency,
        sessions=args.sessions,
        new_ratio=args.new_ratio,
    )
    templates = loadgen.payload_templates(source_id=checkout.source_id, events_per_request=1)
    prefix = f"erasure-{os.getpid()}"

    def load(seconds: float, seed: bool = False) -> dict:
        before = time.monotonic()
        figures = run_load(
            load_args,
            port=server.port,
            templates=templates,
            prefix=prefix,
            duration=seconds,
            workdir=workdir,
            seed=seed,
        )
        return {**figures, "duration_s": time.monotonic() - before}

    try:
        server.wait_ready()
        smoke_request(server.port, checkout.source_id)
        load(0, seed=True)
        load(3)  # warm-up
        print(f"Baseline: {args.baseline:.0f} s of /track load (load average {load_average()})")
        baseline = combine(
            [
                load(args.round_seconds)
                for _ in range(max(1, round(args.baseline / args.round_seconds)))
            ]
        )
        print(f"Erasing {PERSON} with manage.py forget_profile ...", flush=True)
        command_started = time.monotonic()
        output = manage(env, "forget_profile", PERSON, "--yes")
        command_seconds = time.monotonic() - command_started
        print(f"  the command returned in {command_seconds:.2f} s: {output.strip()}")
        during = []
        while True:
            state = erasure_state(checkout.url)
            if state is not None and state[0] == "done":
                break
            during.append(load(args.round_seconds))
            print(f"  round {len(during)}: p99 {during[-1]['p99_ms']:.1f} ms", flush=True)
        status, seconds, deleted, deletion_requests = erasure_state(checkout.url)
        waited = time.monotonic() + 30
        while not hook.requests and time.monotonic() < waited:
            time.sleep(0.5)
    finally:
        server.stop()
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        worker_log.close()
        hook.stop()

    with_erasure = combine(during)
    print()
    print(f"scale: {args.events:,} events stored, the person's {args.person_events:,}")
    print(f"erasure: {seconds:.1f} s (record start to done); deleted {deleted}")
    print(
        f"deletion requests: {deletion_requests} recorded, {len(hook.requests)} received by "
        "the webhook"
    )
    print(f"forget_profile returned in {command_seconds:.2f} s")
    print(f"{'/track':<16} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, figures in (("without erasure", baseline), ("during erasure", with_erasure)):
        print(
            f"{name:<16} {figures['requests']:>9} {figures['p50_ms']:>8.1f} "
            f"{figures['p99_ms']:>8.1f} {figures['errors']:>7}"
        )
    print(
        f"ratio during/without: p50 {with_erasure['p50_ms'] / baseline['p50_ms']:.2f}, "
        f"p99 {with_erasure['p99_ms'] / baseline['p99_ms']:.2f}; "
        f"load average {load_average()}"
    )


if __name__ == "__main__":
    main()
