"""What the events table's indexes and foreign keys cost per insert: before and after the lean
table (events migration 0010), in the same run.

Two copies of `events_event` are made in the database named by DATABASE_URL (migrated):
`bench_events_lean`, as the table is now (its indexes, the profile's foreign key), and
`bench_events_before`, with what migration 0010 dropped put back (single-column indexes on
profile, session and source, the LIKE-pattern copies of the four id columns, the foreign keys
to the session and the source). Rows go in as /track writes them: one multi-row INSERT of
`--batch` events of one profile and session per transaction, the same rows to both tables,
rounds taken in turn so that other work on the machine weighs on both alike. Prints rows/s per
table and the ratio.

    DATABASE_URL=postgres://... .venv/bin/python bench/event_table.py [--rows 50000]
"""

import argparse
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import django
import orjson
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cdp.settings")
os.environ.setdefault("SECRET_KEY", "bench")
django.setup()

from django.utils import timezone  # noqa: E402 (after django.setup())

from apps.profiles.models import Profile, Session  # noqa: E402
from apps.sources.models import EventSource  # noqa: E402

TABLES = ("bench_events_before", "bench_events_lean")
DROPPED = [
    "CREATE INDEX ON {t} (profile_id)",
    "CREATE INDEX ON {t} (profile_id varchar_pattern_ops)",
    "CREATE INDEX ON {t} (session_id)",
    "CREATE INDEX ON {t} (session_id varchar_pattern_ops)",
    "CREATE INDEX ON {t} (source_id varchar_pattern_ops)",
    "CREATE INDEX ON {t} (id varchar_pattern_ops)",
    "ALTER TABLE {t} ADD FOREIGN KEY (session_id) REFERENCES profiles_session (id) "
    "DEFERRABLE INITIALLY DEFERRED",
    "ALTER TABLE {t} ADD FOREIGN KEY (source_id) REFERENCES sources_eventsource (id) "
    "DEFERRABLE INITIALLY DEFERRED",
]
INSERT = """
INSERT INTO {t} (id, type, source_id, profile_id, session_id, time, inserted, status,
    status_message, is_bot, properties, context, traits, metadata, request, tags)
SELECT * FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[],
    %s::varchar[], %s::timestamptz[], %s::timestamptz[], %s::varchar[], %s::text[],
    %s::bool[], %s::jsonb[], %s::jsonb[], %s::jsonb[], %s::jsonb[], %s::jsonb[], %s::jsonb[])
ON CONFLICT DO NOTHING
"""


def prepare(conn: psycopg.Connection, profiles: int) -> tuple[str, list[tuple[str, str]]]:
    with conn.transaction():
        for table in TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(f"CREATE TABLE {table} (LIKE events_event INCLUDING ALL)")
            conn.execute(
                f"ALTER TABLE {table} ADD FOREIGN KEY (profile_id) REFERENCES "
                "profiles_profile (id) DEFERRABLE INITIALLY DEFERRED"
            )
        for statement in DROPPED:
            conn.execute(statement.format(t=TABLES[0]))
    EventSource.objects.get_or_create(
        pk="bench-table-source", defaults={"name": "bench event table", "bridge": "rest"}
    )
    pairs = [(f"bench-p-{n}", f"bench-s-{n}") for n in range(profiles)]
    now = timezone.now()
    Profile.objects.bulk_create(
        [Profile(pk=p, created=now, updated=now) for p, _ in pairs], ignore_conflicts=True
    )
    Session.objects.bulk_create(
        [Session(pk=s, profile_id=p, created=now, updated=now) for p, s in pairs],
        ignore_conflicts=True,
    )
    return "bench-table-source", pairs


def batch_params(source: str, pair: tuple[str, str], size: int) -> list:
    now = datetime.now(UTC)
    properties = orjson.dumps({"url": "https://shop.example.com/p/1", "price": 12.5}).decode()
    context = orjson.dumps({"page": {"url": "https://shop.example.com/", "title": "Shop"}})
    columns = [[] for _ in range(16)]
    for _ in range(size):
        row = [
            uuid.uuid4().hex,
            "page-view",
            source,
            pair[0],
            pair[1],
            now,
            now,
            "processed",
            "",
            False,
            properties,
            context.decode(),
            "{}",
            '{"ip": "127.0.0.1", "channel": "web"}',
            '{"headers": {"user-agent": "bench"}}',
            '{"values": [], "count": 0}',
        ]
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    return columns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000, help="rows per table")
    parser.add_argument("--batch", type=int, default=10, help="events per INSERT")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profiles", type=int, default=2_000)
    args = parser.parse_args()
    conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    print("preparing the two tables and", args.profiles, "profiles and sessions ...")
    source, pairs = prepare(conn, args.profiles)
    per_round = args.rows // args.rounds // args.batch
    seconds = dict.fromkeys(TABLES, 0.0)
    inserted = dict.fromkeys(TABLES, 0)
    for round_number in range(args.rounds):
        batches = [
            batch_params(source, pairs[(round_number * per_round + n) % len(pairs)], args.batch)
            for n in range(per_round)
        ]
        order = TABLES if round_number % 2 == 0 else TABLES[::-1]
        for table in order:
            statement = INSERT.format(t=table)
            started = time.perf_counter()
            for params in batches:
                with conn.transaction():
                    conn.execute(statement, params)
            seconds[table] += time.perf_counter() - started
            inserted[table] += per_round * args.batch
    for table in TABLES:
        rate = inserted[table] / seconds[table]
        took = seconds[table]
        print(f"{table:22} {inserted[table]:>8} rows in {took:6.2f} s: {rate:8.0f} rows/s")
    before, lean = (inserted[t] / seconds[t] for t in TABLES)
    print(f"lean / before: {lean / before:.2f}x rows/s ({args.batch} events per transaction)")
    with conn.transaction():
        for table in TABLES:
            conn.execute(f"DROP TABLE {table}")


if __name__ == "__main__":
    main()
