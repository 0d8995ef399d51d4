"""A report over 2,000,000 events: how long it takes, its plan, and a floor from the same run
(SELECT count(*) over the same rows).

The events go into a database of their own, `<DATABASE_URL's name>_bench_reports` on the same
server (created and migrated on the first run, reused while it holds exactly `--events` rows),
by COPY: 12 event types, 20 countries, a total on every purchase, times over 60 days. Then
ANALYZE, and per report `--repeats` runs through the reports' own code path (read-only
transaction, statement timeout, row limit), the plan (EXPLAIN ANALYZE of the same SQL), and the
floor run alongside each repeat so that other work on the machine weighs on both alike.

    DATABASE_URL=postgres://... REDIS_URL=... .venv/bin/python bench/reports.py [--events N]
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TYPES = [
    "page-view",
    "purchase",
    "add-to-cart",
    "search",
    "sign-in",
    "sign-up",
    "newsletter",
    "video-play",
    "download",
    "share",
    "rate",
    "contact",
]
COUNTRIES = [f"C{n:02d}" for n in range(20)]
SOURCE = "bench-reports-source"
PROFILE = "bench-reports-profile"
COLUMNS = (
    "id, type, source_id, profile_id, session_id, time, inserted, status, status_message, "
    "is_bot, properties, context, traits, metadata, request, tags"
)


def database_url(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def database_ready(server_url: str) -> str:
    """The bench database's URL, created and migrated when missing."""
    name = urlsplit(server_url).path.lstrip("/") + "_bench_reports"
    with psycopg.connect(database_url(server_url, "postgres"), autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = database_url(server_url, name)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
    )
    return url


def events_fill(url: str, count: int, now: datetime) -> None:
    with psycopg.connect(url) as connection:
        stored = connection.execute("SELECT count(*) FROM events_event").fetchone()[0]
        if stored == count:
            print(f"events: {count:,} already stored (reused)")
            return
        connection.execute("TRUNCATE events_event")
        # The source needs no row: events reference it without a database constraint.
        random.seed(7)
        started = time.monotonic()
        copying = f"COPY events_event ({COLUMNS}) FROM STDIN"
        with connection.cursor() as cursor, cursor.copy(copying) as copy:
            for n in range(count):
                kind = TYPES[n % len(TYPES)]
                country = COUNTRIES[random.randrange(len(COUNTRIES))]
                properties = (
                    f'{{"country": "{country}", "total": {random.randrange(1, 50000) / 100}}}'
                    if kind == "purchase"
                    else f'{{"country": "{country}"}}'
                )
                moment = now - timedelta(seconds=random.randrange(60 * 86400))
                copy.write_row(
                    (
                        f"bench-e-{n}",
                        kind,
                        SOURCE,
                        None,
                        None,
                        moment,
                        moment,
                        "processed",
                        "",
                        False,
                        properties,
                        "{}",
                        "{}",
                        "{}",
                        "{}",
                        "{}",
                    )
                )
        connection.commit()
        print(f"events: {count:,} stored by COPY in {time.monotonic() - started:.1f} s")
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE events_event")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("Set DATABASE_URL (the bench database goes on the same server).")
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cdp.settings")
    url = database_ready(os.environ["DATABASE_URL"])
    now = datetime.now(UTC)
    events_fill(url, args.events, now)

    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.db import connection

    from apps.reports.definition import Definition, Parameter, build_query, parameter_values
    from apps.reports.running import definition_run

    reports = {
        "count of all events by type": (
            Definition(subject="event", group_by="type"),
            "SELECT count(*) FROM events_event",
        ),
        "sum of purchase totals by country, last 30 days, total >= {{min_total}}": (
            Definition(
                subject="event",
                filter='event@type == "purchase" AND event@properties.total >= {{min_total}}',
                window_days=30,
                group_by="properties.country",
                metric="sum",
                metric_field="properties.total",
                parameters=(Parameter("min_total", "number", "100"),),
            ),
            "SELECT count(*) FROM events_event WHERE type = 'purchase' AND time >= %(since)s "
            "AND (properties->>'total')::numeric >= 100",
        ),
    }
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        print(
            f"max_parallel_workers_per_gather: {cursor.fetchone()[0]}; load average: "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
    for title, (definition, floor_sql) in reports.items():
        print(f"\n== {title}")
        report_times, floor_times = [], []
        result = None
        for _ in range(args.repeats):
            started = time.perf_counter()
            result = definition_run(definition=definition, now=now)
            report_times.append(time.perf_counter() - started)
            with connection.cursor() as cursor:
                started = time.perf_counter()
                cursor.execute(floor_sql, {"since": now - timedelta(days=30)})
                floor_rows = cursor.fetchone()[0]
                floor_times.append(time.perf_counter() - started)
        query = build_query(definition, parameter_values(definition, {}), now=now, limit=1000)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query.sql, query.params)
            plan = "\n".join(f"    {row[0]}" for row in cursor.fetchall())
        report_median = statistics.median(report_times)
        floor_median = statistics.median(floor_times)
        print(f"rows: {len(result.rows)}, first: {result.rows[:3]}")
        print(
            f"report: median {report_median * 1000:.0f} ms, best {min(report_times) * 1000:.0f} "
            f"ms over {args.repeats} runs ({'within' if report_median < 2 else 'OVER'} 2 s)"
        )
        print(
            f"floor ({floor_sql.split(' FROM')[0]} over the same rows, {floor_rows:,}): "
            f"median {floor_median * 1000:.0f} ms; report / floor = "
            f"{report_median / floor_median:.1f}"
        )
        print("plan:\n" + plan)
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
