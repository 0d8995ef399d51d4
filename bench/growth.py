"""Cost as the data grows (issue 20): /track and the workers on an empty database and on one
holding N stored events, side by side, and the events table's bytes per event.

    .venv/bin/python bench/growth.py                       # 20M events, 2M sessions, 1M profiles
    .venv/bin/python bench/growth.py --events 2000000      # a quicker run (sessions N/10,
                                                           # profiles N/20 unless given)

With DATABASE_URL / REDIS_URL set (required). The run, on the database --database (dropped
and recreated; dropped again at the end unless --keep):

1. at 0 stored events: bench/track.py (the returning-visitor case: --new-ratio 0, 10 events a
   request, against its raw floor measured in the same rounds) and bench/workflows.py (against
   its no-op Celery baseline measured in the same rounds);
2. fills the database with COPY: profiles, sessions, then N events of realistic small JSON
   (page views, product views, purchases, clicks, logins) spread evenly over the last --months
   months of insert time, oldest first, as they would have arrived; each month's partition is
   created first (apps.events.partitions), so the rows land where the live ones would. Prints
   progress and rows/s; ANALYZE at the end;
3. at N stored events: the same two benchmarks on that database (BENCH_KEEP_DATABASE=1 makes
   them keep it);
4. prints, side by side, throughput and p99 at 0 and at N with their ratios to each run's own
   baseline (the floor, the no-op tasks), and the events table's heap and index bytes per
   event summed over the partitions, the claim table's (StoredEventId) and the newest
   partition's index bytes (the index an insert touches).

The machine is shared: the ratios (N / 0, and each against its in-run baseline) are what to
compare; the absolute figures move with the load. The sizes do not.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402

from bench.track import database_recreate, database_url  # noqa: E402

PYTHON = sys.executable
SOURCE_ID = "growth-web"
TYPES = ("page-view", "page-view", "page-view", "product-view", "click", "purchase", "login")
BROWSER = '{"name": "Chrome", "version": "120.0", "language": "en-GB"}'
AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
COMMIT_ROWS = 500_000
ATTEMPTS = 3


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--sessions", type=int, help="Default: events / 10.")
    parser.add_argument("--profiles", type=int, help="Default: events / 20.")
    parser.add_argument("--months", type=int, default=12, help="Insert times spread over these.")
    parser.add_argument("--database", default="cdp_bench_growth")
    parser.add_argument(
        "--track-args",
        default="--targets cdp,floor --cases 10 --new-ratio 0 --duration 15 --rounds 3",
        help="bench/track.py's options (its --database and --json are set here).",
    )
    parser.add_argument(
        "--workflows-args",
        default="--profiles 500 --rounds 3 --latency-seconds 15",
        help="bench/workflows.py's options.",
    )
    parser.add_argument("--skip-track", action="store_true")
    parser.add_argument("--skip-workflows", action="store_true")
    parser.add_argument("--keep", action="store_true", help="Keep the database at the end.")
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args()
    args.sessions = args.sessions or max(1, args.events // 10)
    args.profiles = args.profiles or max(1, args.events // 20)
    return args


# ---- the two benchmarks ------------------------------------------------------------------


def run_benchmark(script: str, options: str, *, database: str, keep: bool, workdir: Path) -> dict:
    output = workdir / f"{Path(script).stem}-{'kept' if keep else 'fresh'}.json"
    env = {**os.environ, "BENCH_KEEP_DATABASE": "1" if keep else "0"}
    command = [PYTHON, str(REPO / script), *options.split(), "--database", database]
    command += ["--json", str(output)]
    for attempt in range(1, ATTEMPTS + 1):
        print(f"\n$ {' '.join(command[1:])}", flush=True)
        if subprocess.run(command, env=env, cwd=REPO).returncode == 0:
            return json.loads(output.read_text())
        # On the loaded shared machine a cold server may miss the smoke request's deadline.
        print(f"{script} failed (attempt {attempt} of {ATTEMPTS})", flush=True)
        env["BENCH_KEEP_DATABASE"] = "1"  # the database is there (and filled) by now
    raise SystemExit(f"{script} failed {ATTEMPTS} times; its output is above")


def track_figures(report: list) -> dict:
    """The CDP's client events/s and p99, and its ratio to the raw floor, of the first case."""
    results = report[0]["results"]
    cdp = next(result for result in results if result["target"] == "cdp")
    floor = next((result for result in results if result["target"] == "floor"), None)
    figures = {"events_per_s": cdp["client_per_s"], "p99_ms": cdp["p99_ms"]}
    if floor and floor["client_per_s"]:
        figures["over_baseline"] = cdp["client_per_s"] / floor["client_per_s"]
    return figures


def workflow_figures(report: dict) -> dict:
    """Median workflow events/s, its ratio to the no-op task rate, and accepted->processed p99."""
    throughput = sorted(turn["events_per_s"] for turn in report["throughput"])
    baseline = sorted(report["baseline_noop_tasks_per_s"])
    tasks = sorted(turn["tasks_per_s"] for turn in report["throughput"])
    median = throughput[len(throughput) // 2]
    return {
        "events_per_s": median,
        "p99_ms": report["latency"]["p99_ms"],
        "over_baseline": tasks[len(tasks) // 2] / baseline[len(baseline) // 2],
    }


# ---- the fill ------------------------------------------------------------------------------


def manage(url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "cdp.settings"}
    result = subprocess.run(
        [PYTHON, "manage.py", *args], env=env, cwd=REPO, check=True, capture_output=True, text=True
    )
    return result.stdout


def months_partitioned(url: str, first: datetime) -> None:
    """Create the month partitions from `first` to now, as the beat job would have."""
    code = (
        "from datetime import datetime, UTC\n"
        "from apps.events.partitions import month_after, month_start, partition_create\n"
        f"start = month_start(datetime.fromisoformat({first.isoformat()!r}))\n"
        "while start <= datetime.now(UTC):\n"
        "    partition_create(start)\n"
        "    start = month_after(start)\n"
    )
    manage(url, "shell", "-c", code)


class Progress:
    def __init__(self, what: str, total: int) -> None:
        self.what, self.total, self.started, self.last = what, total, time.monotonic(), 0.0

    def show(self, done: int, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < 10:
            return
        self.last = now
        elapsed = now - self.started
        print(
            f"  {self.what}: {done:,} / {self.total:,} ({done / self.total:.0%}) in "
            f"{elapsed:,.0f} s, {done / elapsed if elapsed else 0:,.0f} rows/s",
            flush=True,
        )


def copy_rows(connection, statement: str, rows, progress: Progress) -> float:
    """COPY `rows` (lines of COPY text) committing every COMMIT_ROWS; the rows/s."""
    done = 0
    rows = iter(rows)
    while done < progress.total:
        with (
            connection.transaction(),
            connection.cursor() as cursor,
            cursor.copy(statement) as copy,
        ):
            for _ in range(min(COMMIT_ROWS, progress.total - done)):
                copy.write(next(rows))
                done += 1
                if done % 50_000 == 0 and done < progress.total:
                    progress.show(done)
    progress.show(done, final=True)
    return done / (time.monotonic() - progress.started)


def profile_lines(count: int, now: str):
    for n in range(count):
        data = f'{{"contact": {{"email": {{"main": "person{n}@example.com"}}}}}}'
        yield (
            f"gp{n}\t\\N\t{{}}\t{{}}\tf\t{{}}\t{now}\t{now}\t3\t"
            f'{{"time": {{"insert": "{now}"}}}}\t{{}}\t{{}}\t{{}}\t{{}}\t{{}}\t{data}\n'
        )


def session_lines(count: int, profiles: int, now: str):
    for n in range(count):
        yield (
            f"gs{n}\t{now}\t{now}\tclosed\tf\t{{}}\t"
            '{"type": "desktop"}\t{"name": "Linux"}\t{}\t{}\t'
            f'{{"browser": {BROWSER}}}\t{{}}\tgp{n % profiles}\n'
        )


def event_lines(count: int, sessions: int, profiles: int, first: datetime, last: datetime):
    step = (last - first) / count
    for n in range(count):
        moment = (first + step * n).isoformat()
        session = n % sessions
        event_type = TYPES[n % len(TYPES)]
        product = n % 5000
        url = f"https://shop.example.com/p/{product}"
        properties = (
            f'{{"sku": "sku-{product}", "price": {product % 200 + 0.99}, "currency": "EUR"}}'
            if event_type in ("purchase", "product-view")
            else "{}"
        )
        page = f'{{"url": "{url}", "title": "Product {product}", "referer": ""}}'
        metadata = (
            f'{{"time": {{"insert": "{moment}", "create": "{moment}", "process_time": 0}}, '
            f'"ip": "203.0.113.{n % 250}", "status": "processed", "channel": "web"}}'
        )
        yield (
            f"{uuid.uuid4()}\t{event_type}\t{SOURCE_ID}\tgp{session % profiles}\tgs{session}\t"
            f"{moment}\t{moment}\tprocessed\t\tf\t{properties}\t"
            f'{{"page": {page}, "browser": {BROWSER}}}\t{{}}\t{metadata}\t'
            f'{{"headers": {{"user-agent": "{AGENT}"}}}}\t{{"values": [], "count": 0}}\t'
            f'{{"name": "Product {product}", "url": "{url}"}}\n'
        )


def fill(url: str, args: argparse.Namespace) -> dict:
    last = datetime.now(UTC) - timedelta(minutes=5)
    first = last - timedelta(days=30 * args.months)
    months_partitioned(url, first)
    now = last.isoformat()
    rates = {}
    with psycopg.connect(url) as connection:
        print(f"\nFilling {args.database} with COPY ...", flush=True)
        rates["profiles"] = copy_rows(
            connection,
            "COPY profiles_profile (id, primary_id, ids, static_ids, active, segments, created, "
            "updated, visit_count, metadata, stats, traits, interests, consents, aux, data) "
            "FROM STDIN",
            profile_lines(args.profiles, now),
            Progress("profiles", args.profiles),
        )
        rates["sessions"] = copy_rows(
            connection,
            "COPY profiles_session (id, created, updated, status, is_bot, metadata, device, os, "
            "app, utm, context, properties, profile_id) FROM STDIN",
            session_lines(args.sessions, args.profiles, now),
            Progress("sessions", args.sessions),
        )
        rates["events"] = copy_rows(
            connection,
            "COPY events_event (id, type, source_id, profile_id, session_id, time, inserted, "
            "status, status_message, is_bot, properties, context, traits, metadata, request, "
            "tags, hit) FROM STDIN",
            event_lines(args.events, args.sessions, args.profiles, first, last),
            Progress("events", args.events),
        )
        started = time.monotonic()
        connection.autocommit = True
        connection.execute("ANALYZE")
        print(f"  ANALYZE in {time.monotonic() - started:,.0f} s", flush=True)
    return rates


# ---- sizes ---------------------------------------------------------------------------------

_SIZES = """
SELECT count(*), coalesce(sum(pg_relation_size(c.oid)), 0),
       coalesce(sum(pg_indexes_size(c.oid)), 0), coalesce(sum(pg_total_relation_size(c.oid)), 0)
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'events_event'::regclass
"""
_NEWEST = """
SELECT c.relname, pg_indexes_size(c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'events_event'::regclass AND c.relname <> 'events_event_default'
  AND EXISTS (SELECT 1 FROM events_event e WHERE e.tableoid = c.oid)
ORDER BY c.relname DESC LIMIT 1
"""


def sizes(url: str) -> dict:
    with psycopg.connect(url, autocommit=True) as connection:
        events = connection.execute("SELECT count(*) FROM events_event").fetchone()[0]
        partitions, heap, indexes, total = connection.execute(_SIZES).fetchone()
        claims = connection.execute(
            "SELECT pg_total_relation_size('events_storedeventid')"
        ).fetchone()[0]
        newest = connection.execute(_NEWEST).fetchone()
    per = (lambda value: value / events) if events else (lambda value: 0.0)
    return {
        "events": events,
        "partitions": partitions,
        "heap_bytes_per_event": per(heap),
        "index_bytes_per_event": per(indexes),
        "total_bytes_per_event": per(total),
        "claims_bytes_per_event": per(claims),
        "total_bytes": total + claims,
        "newest_partition": newest[0] if newest else None,
        "newest_partition_index_bytes": newest[1] if newest else 0,
    }


# ---- report --------------------------------------------------------------------------------


def print_report(at_zero: dict, at_n: dict, stored: int) -> None:
    print(f"\n{'':<44} {'at 0':>12} {f'at {stored:,}':>14} {'N / 0':>7}")
    for bench in ("track", "workflows"):
        if bench not in at_zero:
            continue
        for key, label, digits in (
            ("events_per_s", "events/s", 0),
            ("p99_ms", "p99, ms", 0),
            ("over_baseline", "over its in-run baseline", 2),
        ):
            old, new = at_zero[bench].get(key), at_n[bench].get(key)
            if old is None or new is None:
                continue
            ratio = f"{new / old:.2f}" if old else "-"
            name = f"{bench} {label}"
            print(f"{name:<44} {old:>12,.{digits}f} {new:>14,.{digits}f} {ratio:>7}")
    for key, label in (
        ("heap_bytes_per_event", "events heap bytes/event"),
        ("index_bytes_per_event", "events index bytes/event"),
        ("total_bytes_per_event", "events total bytes/event (heap+index+toast)"),
        ("claims_bytes_per_event", "id claims bytes/event"),
    ):
        old, new = at_zero["sizes"][key], at_n["sizes"][key]
        print(f"{label:<44} {old:>12,.0f} {new:>14,.0f}")
    newest = at_n["sizes"]
    print(
        f"newest partition {newest['newest_partition']}: indexes "
        f"{newest['newest_partition_index_bytes'] / 2**20:,.0f} MiB of "
        f"{newest['index_bytes_per_event'] * newest['events'] / 2**20:,.0f} MiB over "
        f"{newest['partitions']} partitions"
    )


def main() -> None:
    args = parse_args()
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        raise SystemExit("Set DATABASE_URL and REDIS_URL (the servers this benchmark uses).")
    server_url = os.environ["DATABASE_URL"]
    url = database_url(server_url, args.database)
    database_recreate(server_url=server_url, name=args.database)
    manage(url, "migrate", "--noinput")
    results: dict = {"at_zero": {}, "at_n": {}}
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-growth-") as tmp:
            workdir = Path(tmp)
            for keep, key in ((False, "at_zero"), (True, "at_n")):
                if keep:
                    results["fill_rows_per_s"] = fill(url, args)
                results[key]["sizes"] = sizes(url)
                # Printed now too: a benchmark that fails below must not take them along.
                print(f"sizes {key}: {json.dumps(results[key]['sizes'], default=str)}", flush=True)
                if not args.skip_track:
                    report = run_benchmark(
                        "bench/track.py",
                        args.track_args,
                        database=args.database,
                        keep=keep,
                        workdir=workdir,
                    )
                    results[key]["track"] = track_figures(report)
                if not args.skip_workflows:
                    report = run_benchmark(
                        "bench/workflows.py",
                        args.workflows_args,
                        database=args.database,
                        keep=True,
                        workdir=workdir,
                    )
                    results[key]["workflows"] = workflow_figures(report)
                if not keep:
                    # The benchmarks' own rows at 0 give the bytes per event of a live table.
                    results[key]["sizes"] = sizes(url)
        print_report(results["at_zero"], results["at_n"], args.events)
        print(f"whole run: {time.monotonic() - started:,.0f} s")
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, default=str))
    finally:
        if not args.keep:
            with psycopg.connect(database_url(server_url, "postgres"), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            print(f"dropped database {args.database}")


if __name__ == "__main__":
    main()
