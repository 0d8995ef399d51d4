"""The purge benchmark (issue 14): delete many events older than the cut-off with
`manage.py purge` while /track runs at half its peak, and what that costs /track.

    .venv/bin/python bench/purge.py --events 10000000     # the issue's figure (long: the fill)
    .venv/bin/python bench/purge.py --events 1000000      # a quicker run

With DATABASE_URL / REDIS_URL set it uses those servers (the database --database on that
PostgreSQL server is dropped and recreated); with them unset, the embedded ones. It

1. migrates a fresh database and fills it with SQL (INSERT ... SELECT generate_series):
   --events events older than the cut-off (100 to 200 days old, six types, of --profiles
   profiles and their sessions, a workflow run for every tenth: the purge leaves those runs
   without their event), and a tenth as many recent events that must stay;
2. starts gunicorn (bench/track.py's setup, sync:3), seeds the returning visitors, and finds
   /track's peak: requests/s at --concurrency connections for --peak-seconds (1 event per
   request, bench/track.py's payloads);
3. drives /track at half that rate (paced: each connection sends on a schedule, so the rate
   stays the same whatever the latency) for --baseline seconds: p50 / p99 without a purge;
4. starts `manage.py purge --events-older-than 90d` (what an operator runs, its own process,
   the default batch size and pause) and drives the same paced load in rounds until it ends:
   /track p50 / p99 during the purge next to the baseline, and the purge's rows/s;
5. checks what is left: no event older than the cut-off, every recent event and every run.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402

from bench import loadgen  # noqa: E402
from bench.track import (  # noqa: E402
    GunicornServer,
    ServerConfig,
    load_average,
    prepare_checkout,
    python_for,
    run_load,
    smoke_request,
)

CHUNK = 250_000
TYPES = ("page-view", "product-view", "scroll-depth", "click", "add-to-cart", "search")

_EVENT_INSERT = """
INSERT INTO events_event (id, type, source_id, profile_id, session_id, time, inserted, status,
    status_message, is_bot, properties, context, traits, metadata, request, tags)
SELECT %(prefix)s || g, (%(types)s::text[])[1 + g %% 6], %(source)s,
    'p-' || (1 + g %% %(profiles)s), 's-' || (1 + g %% %(profiles)s),
    now() - make_interval(days => %(days)s) - make_interval(secs => g %% 8640000),
    now() - make_interval(days => %(days)s) - make_interval(secs => g %% 8640000),
    'processed', '', false,
    '{"url": "https://shop.example.com/product/42", "title": "A product", "price": 19.99}',
    '{"page": {"url": "https://shop.example.com/product/42", "referer": {"host": null}},
      "browser": {"local": {"browser": {"language": "en-US"}}}}',
    '{}', '{"time": {"insert": "2026-01-01T00:00:00+00:00"}, "status": "processed"}',
    '{"headers": {"user-agent": "Mozilla/5.0"}}', '{"values": [], "count": 0}'
FROM generate_series(%(first)s::int, %(last)s::int) g
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--events", type=int, default=10_000_000, help="Events older than the cut-off."
    )
    parser.add_argument("--profiles", type=int, default=50_000, help="Profiles they belong to.")
    parser.add_argument("--peak-seconds", type=float, default=15, help="Closed-loop peak run.")
    parser.add_argument("--baseline", type=float, default=30, help="Seconds of load without.")
    parser.add_argument("--round-seconds", type=float, default=5, help="Load rounds during.")
    parser.add_argument("--concurrency", type=int, default=8, help="Connections.")
    parser.add_argument("--sessions", type=int, default=500, help="Returning visitors' pool.")
    parser.add_argument("--new-ratio", type=float, default=0.05, help="Share of new visitors.")
    parser.add_argument("--server", type=ServerConfig.parse, default=ServerConfig.parse("sync:3"))
    parser.add_argument("--database", default="cdp_bench_purge", help="Dropped and recreated.")
    return parser.parse_args()


# ---- data ---------------------------------------------------------------------------------


def fill(url: str, *, source_id: str, args) -> None:
    with psycopg.connect(url, autocommit=True) as connection:

        def step(name: str, statement: str, params: dict | None = None) -> None:
            started = time.monotonic()
            connection.execute(statement, params or {})
            print(f"  {name}: {time.monotonic() - started:.1f} s", flush=True)

        step(
            "profiles",
            "INSERT INTO profiles_profile (id, primary_id, ids, static_ids, active, segments, "
            "created, updated, visit_count, metadata, stats, traits, interests, consents, aux, "
            "data) SELECT 'p-' || g, NULL, '{}', '{}', true, '{}', now(), now(), 1, '{}', '{}', "
            "'{}', '{}', '{}', '{}', '{}' FROM generate_series(1, %(n)s::int) g",
            {"n": args.profiles},
        )
        step(
            "sessions",
            "INSERT INTO profiles_session (id, profile_id, created, updated, status, is_bot, "
            "metadata, device, os, app, utm, context, properties) SELECT 's-' || g, 'p-' || g, "
            "now(), now(), 'ended', false, '{}', '{}', '{}', '{}', '{}', '{}', '{}' "
            "FROM generate_series(1, %(n)s::int) g",
            {"n": args.profiles},
        )
        common = {"types": list(TYPES), "source": source_id, "profiles": args.profiles}
        started = time.monotonic()
        for first in range(1, args.events + 1, CHUNK):
            last = min(args.events, first + CHUNK - 1)
            connection.execute(
                _EVENT_INSERT,
                {**common, "prefix": "old-", "days": 100, "first": first, "last": last},
            )
            print(f"  old events: {last:,} of {args.events:,}", flush=True)
        recent = max(1, args.events // 10)
        for first in range(1, recent + 1, CHUNK):
            last = min(recent, first + CHUNK - 1)
            # 0 to 89 days old: all younger than the 90-day cut-off.
            connection.execute(
                _EVENT_INSERT.replace("8640000", "7689600"),
                {**common, "prefix": "new-", "days": 0, "first": first, "last": last},
            )
        print(f"  events: {time.monotonic() - started:.0f} s", flush=True)
        connection.execute(
            "INSERT INTO workflows_workflow (id, name, description, enabled, graph, version, "
            "draft, revision, deployed_at, created, updated) VALUES ('bench-flow', 'Bench', '', "
            "true, '{}', 1, '{}', 1, now(), now(), now())"
        )
        step(
            "runs (every tenth event)",
            "INSERT INTO workflows_workflowrun (workflow_id, workflow_version, event_id, "
            "event_ref, event_type, profile_id, rule_ids, replay, status, error, error_node, "
            "started, duration_ms, log) SELECT 'bench-flow', 1, e.id, e.id, e.type, "
            "e.profile_id, '[]', false, 'ok', '', '', now(), 1.5, '[]' FROM events_event e "
            "WHERE e.id LIKE '%%0'",
        )
        step("analyze", "VACUUM ANALYZE")


def counts(url: str) -> dict:
    with psycopg.connect(url) as connection:
        old, recent = connection.execute(
            "SELECT count(*) FILTER (WHERE time < now() - interval '90 days'), "
            "count(*) FILTER (WHERE id LIKE 'new-%%') FROM events_event"
        ).fetchone()
        runs, orphaned = connection.execute(
            "SELECT count(*), count(*) FILTER (WHERE event_id IS NULL) FROM workflows_workflowrun"
        ).fetchone()
    return {
        "old events": old,
        "recent events": recent,
        "runs": runs,
        "runs without event": orphaned,
    }


# ---- paced load ---------------------------------------------------------------------------


def paced_load(config: dict, workdir: Path) -> dict:
    """The load generator at a fixed rate (`rate` in the config), in a process of its own (it
    competes like any client would)."""
    figures = loadgen.run_python(config=config, workdir=workdir)
    return {**figures, "seconds": figures["duration_s"]}


def combine(rounds: list[dict]) -> dict:
    requests = sum(load["requests"] for load in rounds) or 1
    return {
        "requests": sum(load["requests"] for load in rounds),
        "errors": sum(load["errors"] + load["non_200"] for load in rounds),
        "p50_ms": sum(load["p50_ms"] * load["requests"] for load in rounds) / requests,
        "p99_ms": sum(load["p99_ms"] * load["requests"] for load in rounds) / requests,
        "max_ms": max((load["max_ms"] for load in rounds), default=0.0),
        "seconds": sum(load["seconds"] for load in rounds),
    }


def main() -> None:
    args = parse_args()
    checkout = prepare_checkout(REPO, args.database)
    print(f"Filling: {args.events:,} old events (load average {load_average()}) ...", flush=True)
    started = time.monotonic()
    fill(checkout.url, source_id=checkout.source_id, args=args)
    print(f"Filled in {time.monotonic() - started:.0f} s: {counts(checkout.url)}", flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="bench-purge-"))
    server = GunicornServer(
        app="cdp.wsgi:application",
        config=args.server,
        env=checkout.env,
        log_path=workdir / "web.log",
    )
    load_args = argparse.Namespace(
        loadgen="python",
        concurrency=args.concurrency,
        sessions=args.sessions,
        new_ratio=args.new_ratio,
    )
    templates = loadgen.payload_templates(source_id=checkout.source_id, events_per_request=1)
    prefix = f"purge-{os.getpid()}"
    try:
        server.wait_ready()
        smoke_request(server.port, checkout.source_id)
        run_load(
            load_args,
            port=server.port,
            templates=templates,
            prefix=prefix,
            duration=0,
            workdir=workdir,
            seed=True,
        )
        peak = run_load(
            load_args,
            port=server.port,
            templates=templates,
            prefix=prefix,
            duration=args.peak_seconds,
            workdir=workdir,
        )
        peak_rate = peak["requests"] / peak["duration_s"]
        rate = peak_rate / 2
        print(
            f"/track peak: {peak_rate:,.0f} requests/s (p99 {peak['p99_ms']:.0f} ms); "
            f"driving {rate:,.0f} requests/s",
            flush=True,
        )
        config = {
            "host": "127.0.0.1",
            "port": server.port,
            "templates": templates,
            "prefix": prefix,
            "concurrency": args.concurrency * 2,
            "rate": rate,
            "pool_size": args.sessions,
            "new_ratio": args.new_ratio,
            "profiles_path": str(workdir / f"{prefix}-profiles.tsv"),
        }
        rounds = max(1, round(args.baseline / args.round_seconds))
        print(f"Baseline: {args.baseline:.0f} s (load average {load_average()})", flush=True)
        baseline = combine(
            [paced_load({**config, "duration": args.round_seconds}, workdir) for _ in range(rounds)]
        )
        print(f"  p50 {baseline['p50_ms']:.1f} ms, p99 {baseline['p99_ms']:.1f} ms", flush=True)
        print("Purging with manage.py purge --events-older-than 90d ...", flush=True)
        purge_started = time.monotonic()
        purge = subprocess.Popen(
            [python_for(REPO), "manage.py", "purge", "--events-older-than", "90d", "--no-progress"],
            cwd=REPO,
            env=checkout.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        during = []
        while purge.poll() is None:
            during.append(paced_load({**config, "duration": args.round_seconds}, workdir))
            print(
                f"  round {len(during)}: p99 {during[-1]['p99_ms']:.1f} ms "
                f"({during[-1]['requests']} requests)",
                flush=True,
            )
        purge_seconds = time.monotonic() - purge_started
        output, errors = purge.communicate()
        if purge.returncode != 0:
            raise SystemExit(f"manage.py purge failed:\n{errors}")
    finally:
        server.stop()

    left = counts(checkout.url)
    deleted = int(re.search(r"^  events: (\d+)$", output, re.M).group(1))
    with_purge = combine(during)
    print()
    print(output.strip())
    print()
    print(f"scale: {args.events:,} events older than the cut-off, {args.events // 10:,} recent")
    print(
        f"purge: {deleted:,} events in {purge_seconds:.0f} s ({deleted / purge_seconds:,.0f} "
        f"events/s, process start included)"
    )
    print(f"left: {left}")
    print(f"/track at half its peak ({rate:,.0f} of {peak_rate:,.0f} requests/s):")
    print(f"{'':<16} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7}")
    for name, figures in (("without purge", baseline), ("during purge", with_purge)):
        print(
            f"{name:<16} {figures['requests']:>9} {figures['p50_ms']:>8.1f} "
            f"{figures['p99_ms']:>8.1f} {figures['max_ms']:>8.1f} {figures['errors']:>7}"
        )
    print(
        f"ratio during/without: p50 {with_purge['p50_ms'] / baseline['p50_ms']:.2f}, "
        f"p99 {with_purge['p99_ms'] / baseline['p99_ms']:.2f}; load average {load_average()}"
    )


if __name__ == "__main__":
    main()
