"""The export benchmark (issue 14): `manage.py export_profiles` over many profiles, its rate and
its memory, against PostgreSQL's own COPY of the same documents.

    .venv/bin/python bench/export.py                    # 100,000 then 1,000,000 profiles
    .venv/bin/python bench/export.py --rows 200000 --small 20000   # a quicker run

With DATABASE_URL / REDIS_URL set it uses those servers (the database --database on that
PostgreSQL server is dropped and recreated); with them unset, the embedded ones. It

1. migrates a fresh database and fills it with SQL (INSERT ... SELECT generate_series) with
   --small profiles shaped like the tracker's (metadata times and visits, stats, traits, an
   e-mail and a name, every tenth in a segment);
2. runs `manage.py export_profiles -o FILE --no-progress` (what an operator runs, its own
   process) and reads its peak resident memory from the kernel (wait4's ru_maxrss) and its
   wall time: rows/s, the whole command included (start-up, the count, the queries, the
   writes), and without the start-up (an export of no rows, timed once);
3. runs the floor: `COPY (SELECT jsonb_build_object(...) FROM profiles_profile ORDER BY id)
   TO STDOUT`, the same documents as JSON lines built by PostgreSQL and written to a file by
   a client that does nothing else;
4. adds profiles up to --rows and does 2 and 3 again, then (with --variants) the CSV of three
   columns and the gzip'd JSON Lines;
5. prints rows/s, MB written and peak memory per run, the ratio export / floor, and the
   memory at --rows next to the one at --small (constant memory: about the same).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402

from bench.track import load_average, prepare_checkout, python_for  # noqa: E402

CHUNK = 250_000
TARGET_ROWS_PER_SECOND = 50_000

_PROFILE_INSERT = """
INSERT INTO profiles_profile (id, primary_id, ids, static_ids, active, segments, created,
    updated, visit_count, metadata, stats, traits, interests, consents, aux, data)
SELECT
    md5(g::text)::uuid::text, NULL, '{}', '{}', true,
    CASE WHEN g %% 10 = 0 THEN ARRAY['high-value'] ELSE '{}' END::varchar[],
    now() - make_interval(mins => g), now() - make_interval(secs => g), 1 + g %% 7,
    jsonb_build_object(
        'time', jsonb_build_object(
            'insert', to_char(now() - make_interval(mins => g), 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'),
            'create', to_char(now() - make_interval(mins => g), 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'),
            'update', to_char(now() - make_interval(secs => g), 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'),
            'visit', jsonb_build_object('last', NULL, 'current', NULL, 'count', 1 + g %% 7,
                                        'tz', 'Europe/Warsaw')),
        'fields', jsonb_build_object('traits.plan', '2026-01-01T00:00:00+00:00')),
    jsonb_build_object('visits', 1 + g %% 7, 'page-views', g %% 50),
    jsonb_build_object('plan', CASE WHEN g %% 3 = 0 THEN 'pro' ELSE 'free' END, 'seats', g %% 20),
    '{}', '{}', '{}',
    jsonb_build_object(
        'pii', jsonb_build_object('firstname', 'Ada', 'lastname', 'Lovelace ' || g),
        'contact', jsonb_build_object(
            'email', jsonb_build_object('main', 'user' || g || '@example.com'),
            'phone', '{}'::jsonb, 'address', '{}'::jsonb),
        'identifier', '{}'::jsonb, 'devices', '{}'::jsonb, 'media', '{}'::jsonb,
        'preferences', '{}'::jsonb, 'job', '{}'::jsonb, 'loyalty', '{}'::jsonb,
        'metrics', '{}'::jsonb)
FROM generate_series(%(first)s::int, %(last)s::int) g
"""

# The floor: the same document, built by PostgreSQL.
_COPY = """
COPY (SELECT jsonb_build_object('id', id, 'primary_id', primary_id, 'ids', to_jsonb(ids),
    'active', active, 'segments', to_jsonb(segments), 'metadata', metadata, 'stats', stats,
    'traits', traits, 'interests', interests, 'consents', consents, 'aux', aux, 'data', data)
    FROM profiles_profile ORDER BY id) TO STDOUT
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="Profiles at the end.")
    parser.add_argument("--small", type=int, default=100_000, help="Profiles at first.")
    parser.add_argument(
        "--variants", action="store_true", help="Also CSV columns and .jsonl.gz at --rows."
    )
    parser.add_argument("--database", default="cdp_bench_export", help="Dropped and recreated.")
    return parser.parse_args()


def fill(url: str, first: int, last: int) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        for start in range(first, last + 1, CHUNK):
            end = min(last, start + CHUNK - 1)
            connection.execute(_PROFILE_INSERT, {"first": start, "last": end})
            print(f"  profiles: {end:,}", flush=True)
        connection.execute("VACUUM ANALYZE profiles_profile")


def export_run(env: dict, path: Path, *args: str) -> dict:
    """One export in its own process: wall seconds, peak RSS (kernel's ru_maxrss), bytes."""
    started = time.monotonic()
    process = subprocess.Popen(
        [python_for(REPO), "manage.py", "export_profiles", "-o", str(path), "--no-progress", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    error = process.stderr.read().decode()
    process.stderr.close()
    if process.returncode != 0:
        raise SystemExit(f"export_profiles failed:\n{error}")
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "bytes": path.stat().st_size}


def floor_run(url: str, path: Path) -> dict:
    started = time.monotonic()
    with psycopg.connect(url) as connection, path.open("wb") as file:
        cursor = connection.cursor()
        with cursor.copy(_COPY) as copy:
            for block in copy:
                file.write(block)
    return {"seconds": time.monotonic() - started, "peak_mb": 0.0, "bytes": path.stat().st_size}


def line(name: str, rows: int, figures: dict, startup: float) -> str:
    rate = rows / figures["seconds"]
    memory = f"{figures['peak_mb']:>8.0f}" if figures["peak_mb"] else f"{'-':>8}"
    streaming = rows / (figures["seconds"] - startup) if figures["peak_mb"] else rate
    return (
        f"{name:<34} {rows:>10,} {figures['seconds']:>8.1f} {rate:>10,.0f} {streaming:>10,.0f} "
        f"{figures['bytes'] / 1e6:>8.0f} {memory}"
    )


def main() -> None:
    args = parse_args()
    checkout = prepare_checkout(REPO, args.database)
    workdir = Path(tempfile.mkdtemp(prefix="bench-export-"))
    results = []
    filled = 0
    # What every run pays before its first row: Python, Django, the connection.
    startup = export_run(checkout.env, workdir / "empty.jsonl", "--until", "2000-01-01")
    print(f"Start-up (an export of no rows): {startup['seconds']:.2f} s", flush=True)
    for rows in dict.fromkeys([args.small, args.rows]):
        print(f"Filling to {rows:,} profiles (load average {load_average()}) ...", flush=True)
        fill(checkout.url, filled + 1, rows)
        filled = rows
        print(f"Exporting {rows:,} profiles (load average {load_average()}) ...", flush=True)
        export = export_run(checkout.env, workdir / "profiles.jsonl")
        floor = floor_run(checkout.url, workdir / "floor.jsonl")
        results.append(("export_profiles jsonl", rows, export))
        results.append(("floor: COPY of jsonb_build_object", rows, floor))
        print(
            f"  export {rows / export['seconds']:,.0f} rows/s, floor "
            f"{rows / floor['seconds']:,.0f} rows/s",
            flush=True,
        )
    if args.variants:
        csv = export_run(
            checkout.env,
            workdir / "profiles.csv",
            "--columns",
            "id,data.contact.email.main,traits.plan",
        )
        results.append(("export_profiles csv (3 columns)", args.rows, csv))
        gz = export_run(checkout.env, workdir / "profiles.jsonl.gz")
        results.append(("export_profiles jsonl.gz", args.rows, gz))
        where = export_run(
            checkout.env, workdir / "where.jsonl", "--where", 'profile@traits.plan == "pro"'
        )
        results.append(("export_profiles --where (1 in 3)", args.rows, where))

    print()
    print(
        f"{'run':<34} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'- startup':>10} "
        f"{'MB out':>8} {'peak MB':>8}"
    )
    for name, rows, figures in results:
        print(line(name, rows, figures, startup["seconds"]))
    exports = [figures for name, _, figures in results if name == "export_profiles jsonl"]
    floors = [figures for name, _, figures in results if name.startswith("floor")]
    big_export, big_floor = exports[-1], floors[-1]
    rate = args.rows / big_export["seconds"]
    print()
    print(
        f"ratio export / floor at {args.rows:,} rows: "
        f"{big_floor['seconds'] / big_export['seconds']:.2f} "
        f"(export {rate:,.0f} rows/s; target >= {TARGET_ROWS_PER_SECOND:,}: "
        f"{'met' if rate >= TARGET_ROWS_PER_SECOND else 'NOT met'})"
    )
    if len(exports) > 1:
        print(
            f"peak memory: {exports[0]['peak_mb']:.0f} MB at {args.small:,} rows, "
            f"{exports[-1]['peak_mb']:.0f} MB at {args.rows:,} rows "
            f"(ratio {exports[-1]['peak_mb'] / exports[0]['peak_mb']:.2f})"
        )
    print(f"load average {load_average()}")


if __name__ == "__main__":
    main()
