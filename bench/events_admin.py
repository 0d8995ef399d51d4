"""The event and profile lists of the admin on a large events table (issue 15).

    .venv/bin/python bench/events_admin.py                       # 2,000,000 events
    .venv/bin/python bench/events_admin.py --events 20000000     # the large run
    .venv/bin/python bench/events_admin.py --reuse               # time again, no new fill

With DATABASE_URL / REDIS_URL set it uses those servers (the database --database on that
PostgreSQL server is dropped and recreated); with them unset, the embedded ones. It

1. migrates a fresh database and fills it with SQL (INSERT ... SELECT generate_series, the
   events table's secondary indexes dropped during the fill and built again after it): events
   stored over the last 90 days, six types (page-view the most), 0.1% `error`, 0.2% `invalid`,
   the newest 2,000 `collected`, the rest `processed`, 2% bots; properties per type (a purchase
   has an order_id, a signup an email); profiles and sessions they belong to; a JSON schema for
   `purchase`;
2. prints the plans (EXPLAIN ANALYZE) of the events queries of the filtered changelists, as
   Django wrote them (page, bounded count, trend), with the partial indexes of events migration
   0007 and without them (dropped inside a transaction that is rolled back), and the cost of
   100,000 /track-shaped inserts with and without them;
3. times the admin changelists in this process (Django's test client, a superuser, the whole
   request: filters, count, rows, template) and counts their queries: median of --repeat
   requests after one warm-up, next to a floor measured in the same run, a bare
   `SELECT ... ORDER BY inserted DESC LIMIT 100` over the index, and the ratio.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402

from bench.track import database_url, load_average, prepare_checkout  # noqa: E402

CHUNK = 1_000_000
DAYS = 90
TYPES = (
    # (type, share in 1000)
    ("page-view", 600),
    ("add-to-cart", 150),
    ("identify", 100),
    ("session-opened", 80),
    ("signup", 40),
    ("purchase", 30),
)
NEW_INDEXES = ("event_error_inserted", "event_bot_inserted")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2_000_000, help="Events stored in all.")
    parser.add_argument("--profiles", type=int, default=200_000, help="Profiles (and sessions).")
    parser.add_argument("--repeat", type=int, default=5, help="Timed requests per case.")
    parser.add_argument("--database", default="cdp_bench_events_admin")
    parser.add_argument(
        "--reuse", action="store_true", help="Use the database of an earlier run as it is."
    )
    parser.add_argument("--no-plans", action="store_true", help="Skip the plans and inserts.")
    return parser.parse_args()


# ---- data ---------------------------------------------------------------------------------


def _type_case() -> str:
    """A CASE choosing the type from mod(g, 1000) by the shares of TYPES."""
    parts, low = [], 0
    for name, share in TYPES:
        parts.append(f"WHEN mod(g, 1000) < {low + share} THEN '{name}'")
        low += share
    return "CASE " + " ".join(parts) + " END"


# The newest event is g = 1, stored a second ago; g = N about DAYS ago.
_EVENTS_SQL = f"""
INSERT INTO events_event (id, type, source_id, profile_id, session_id, time, inserted, status,
    status_message, is_bot, properties, context, traits, metadata, request, tags)
SELECT 'ev-' || g, t.type, %(source)s,
    'p-' || mod(g, %(profiles)s), 's-' || mod(g, %(profiles)s),
    t.at, t.at,
    CASE WHEN g <= 2000 THEN 'collected' WHEN mod(g, 1000) = 7 THEN 'error'
         WHEN mod(g, 500) = 11 THEN 'invalid' ELSE 'processed' END,
    CASE WHEN mod(g, 1000) = 7 THEN 'A workflow failed' ELSE '' END,
    mod(g, 50) = 3,
    CASE t.type
      WHEN 'purchase' THEN jsonb_build_object('order_id', 'A-' || g, 'total', (mod(g, 300)) + 0.99,
          'currency', 'EUR', 'items', mod(g, 5) + 1)
      WHEN 'signup' THEN jsonb_build_object('email', 'user' || g || '@example.com',
          'plan', 'free')
      WHEN 'add-to-cart' THEN jsonb_build_object('product_id', 'SKU-' || (mod(g, 2000)),
          'price', (mod(g, 90)) + 0.5, 'quantity', mod(g, 3) + 1)
      WHEN 'page-view' THEN jsonb_build_object(
          'url', 'https://shop.example.com/p/' || mod(g, 500),
          'title', 'Product ' || (mod(g, 500)))
      ELSE '{{}}'::jsonb END,
    '{{"page": {{"url": "https://shop.example.com/"}}}}', '{{}}',
    '{{"status": "processed"}}', '{{"headers": {{"user-agent": "Mozilla/5.0"}}}}',
    '{{"values": [], "count": 0}}'
FROM generate_series(%(first)s, %(last)s) g,
LATERAL (SELECT {_type_case()} AS type,
    %(now)s - make_interval(secs => g * %(spacing)s) AS at) t
"""


def fill(url: str, *, source_id: str, events: int, profiles: int) -> None:
    now = datetime.now(UTC)
    with psycopg.connect(url, autocommit=True) as connection:

        def step(name: str, statement: str, params: dict | None = None) -> None:
            started = time.monotonic()
            connection.execute(statement, params or {})
            print(f"  {name}: {time.monotonic() - started:.1f} s", flush=True)

        connection.execute("SET maintenance_work_mem = '512MB'")
        step(
            "profiles",
            "INSERT INTO profiles_profile (id, primary_id, ids, active, segments, created, "
            "updated, visit_count, metadata, stats, traits, interests, consents, aux, data, "
            "static_ids) "
            "SELECT 'p-' || g, NULL, ARRAY['p-' || g], true, '{}', now(), now(), 1, '{}', "
            "'{}', jsonb_build_object('name', 'Person ' || g), '{}', '{}', '{}', "
            "jsonb_build_object('contact', jsonb_build_object('email', jsonb_build_object("
            "'main', 'person' || g || '@example.com'))), '{}' "
            "FROM generate_series(0, %(n)s - 1) g",
            {"n": profiles},
        )
        step(
            "sessions",
            "INSERT INTO profiles_session (id, profile_id, created, updated, status, is_bot, "
            "metadata, device, os, app, utm, context, properties) "
            "SELECT 's-' || g, 'p-' || g, now(), now(), 'ended', false, '{}', '{}', '{}', "
            "'{}', '{}', '{}', '{}' FROM generate_series(0, %(n)s - 1) g",
            {"n": profiles},
        )
        connection.execute(
            "INSERT INTO events_eventtype (type, name, description, journey_state, tags, "
            "json_schema, predefined, created, updated) VALUES ('purchase', 'Purchase', '', "
            "'purchase', '{}', %s, false, now(), now()) "
            "ON CONFLICT (type) DO UPDATE SET json_schema = excluded.json_schema",
            [
                psycopg.types.json.Jsonb(
                    {
                        "type": "object",
                        "required": ["order_id", "total"],
                        "properties": {
                            "order_id": {"type": "string"},
                            "total": {"type": "number"},
                            "currency": {"type": "string"},
                        },
                    }
                )
            ],
        )
        indexes = connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events_event' "
            "AND indexname <> 'events_event_pkey'"
        ).fetchall()
        constraints = connection.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'events_event'::regclass AND contype = 'f'"
        ).fetchall()
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        for name, _ in constraints:
            connection.execute(f'ALTER TABLE events_event DROP CONSTRAINT "{name}"')
        started = time.monotonic()
        spacing = DAYS * 86400 / events
        for first in range(1, events + 1, CHUNK):
            last = min(events, first + CHUNK - 1)
            connection.execute(
                _EVENTS_SQL,
                {
                    "source": source_id,
                    "profiles": profiles,
                    "first": first,
                    "last": last,
                    "now": now,
                    "spacing": spacing,
                },
            )
            print(
                f"  events: {last:,} of {events:,} ({time.monotonic() - started:.0f} s)",
                flush=True,
            )
        for name, definition in indexes:
            step(f"index {name}", definition)
        for name, definition in constraints:
            step(
                f"constraint {name}",
                f'ALTER TABLE events_event ADD CONSTRAINT "{name}" {definition} NOT VALID',
            )
        step("vacuum analyze", "VACUUM ANALYZE")


# ---- plans --------------------------------------------------------------------------------

_COLUMNS = "id, type, source_id, profile_id, session_id, time, inserted, status, is_bot"
# The changelists whose queries are explained: the ones the partial indexes serve, and the
# ones that read a range of an older index.
PLAN_CASES = (
    ("status=error", {"status__exact": "error"}),
    ("status=processed", {"status__exact": "processed"}),
    ("is_bot=true", {"is_bot__exact": "1"}),
    ("type=purchase", {"type": "purchase"}),
    ("search email=..., last 7 days", {"q": "email=nobody@example.com"}),
)


def _admin_client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    return client


def print_plans() -> None:
    """EXPLAIN ANALYZE of each events query a changelist runs (the page, its bounded count, the
    trend), as Django wrote it, with the partial indexes and without them (dropped inside a
    transaction that is rolled back)."""
    from django.core.cache import cache
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    client = _admin_client()
    for name, params in PLAN_CASES:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            client.get("/admin/events/event/", params)
        statements = [
            query["sql"]
            for query in captured.captured_queries
            if '"events_event"' in query["sql"] or "FROM events_event" in query["sql"]
        ]
        for label in ("after (with the 0007 partial indexes)", "before (without them)"):
            with transaction.atomic(), connection.cursor() as cursor:
                if label.startswith("before"):
                    for index in NEW_INDEXES:
                        cursor.execute(f'DROP INDEX "{index}"')
                for statement in statements:
                    if "WITH RECURSIVE types" in statement:
                        continue  # the type filter's choices, the same on every page
                    cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + statement)  # warm
                    cursor.fetchall()
                    cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + statement)
                    print(f"-- {name}, {label}:\n   {statement}")
                    for (line,) in cursor.fetchall():
                        print(f"   {line}")
                transaction.set_rollback(True)


_INSERT_SQL = """
INSERT INTO events_event (id, type, source_id, time, inserted, status, status_message, is_bot,
    properties, context, traits, metadata, request, tags)
SELECT 'ins-' || %(run)s || '-' || g, 'page-view', %(source)s, now(), now(),
    CASE WHEN mod(g, 1000) = 7 THEN 'error' ELSE 'processed' END, '', mod(g, 50) = 3,
    '{"url": "https://shop.example.com/"}', '{}', '{}', '{}', '{}', '{}'
FROM generate_series(1, %(n)s) g
"""


def print_insert_cost(url: str, source_id: str, rows: int = 100_000, rounds: int = 6) -> None:
    """Rows shaped like /track's (0.1% error, 2% bots), inserted in a transaction that is rolled
    back, in alternating rounds with and without the two partial indexes."""
    seconds: dict[str, list[float]] = {"with": [], "without": []}
    with psycopg.connect(url) as connection:
        for run in range(rounds):
            # Each round in the other order: the first insert of a round pays for extending the
            # table over the rolled-back rows of the last.
            for variant in ("with", "without") if run % 2 == 0 else ("without", "with"):
                if variant == "without":
                    for index in NEW_INDEXES:
                        connection.execute(f'DROP INDEX "{index}"')
                started = time.monotonic()
                connection.execute(
                    _INSERT_SQL, {"run": f"{run}{variant}", "source": source_id, "n": rows}
                )
                seconds[variant].append(time.monotonic() - started)
                connection.rollback()
    with_s, without_s = statistics.median(seconds["with"]), statistics.median(seconds["without"])
    print(
        f"-- {rows:,} inserts (median of {rounds}): {with_s:.2f} s with the partial indexes, "
        f"{without_s:.2f} s without (x{with_s / without_s:.2f})"
    )


# ---- the lists ----------------------------------------------------------------------------


def setup_django(url: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="cdp.settings",
        DATABASE_URL=url,
        DEBUG="false",
        ALLOWED_HOSTS="testserver",
        LOG_LEVEL="WARNING",
        CACHE_KEY_PREFIX="bench-events-admin",
    )
    import django

    django.setup()


def cases(events: int) -> list[tuple[str, str, dict]]:
    # g = 2970 is a processed purchase (mod(g, 1000) in purchase's share, 970 to 999), stored
    # hours ago; its order id is A-2970. The cursor: the 10,000th newest event's time.
    spacing = DAYS * 86400 / events
    now = datetime.now(UTC)
    before = (now - timedelta(seconds=10_000 * spacing)).isoformat()
    recent_order = 2970
    events_url = "/admin/events/event/"
    profiles_url = "/admin/profiles/profile/"
    return [
        ("events: unfiltered", events_url, {}),
        ("events: status=error", events_url, {"status__exact": "error"}),
        ("events: status=processed", events_url, {"status__exact": "processed"}),
        ("events: is_bot=true", events_url, {"is_bot__exact": "1"}),
        ("events: type=purchase (columns, chart)", events_url, {"type": "purchase"}),
        ("events: stored in the last 24 hours", events_url, {"stored": "24h"}),
        (
            "events: search order_id=..., last 7 days",
            events_url,
            {"q": f"order_id=A-{recent_order}"},
        ),
        ("events: search email=..., last 7 days", events_url, {"q": "email=nobody@example.com"}),
        ("events: older than the 10,000th", events_url, {"before": before}),
        (
            "events: status=processed older than the 10,000th",
            events_url,
            {"status__exact": "processed", "before": before},
        ),
        ("events: page 100", events_url, {"p": "100"}),
        ("events: one profile's", events_url, {"profile": "p-17"}),
        ("profiles: unfiltered", profiles_url, {}),
        ("profiles: search by id", profiles_url, {"q": "p-17"}),
    ]


def time_lists(events: int, repeat: int) -> None:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _admin_client()

    def floor() -> float:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {_COLUMNS} FROM events_event ORDER BY inserted DESC LIMIT 100")
            cursor.fetchall()
        return time.perf_counter() - started

    print(
        f"\n{'case':<52} {'ms':>8} {'sql ms':>8} {'floor ms':>9} {'ratio':>7} {'queries':>8}"
        f"   (median of {repeat}; load average {load_average()})"
    )
    for name, url, params in cases(events):
        cache.clear()  # the first request after a cache expiry: the cost a marketer can meet
        client.get(url, params)
        timings, floors, sql_times, queries = [], [], [], 0
        for _ in range(repeat):
            floors.append(floor())
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url, params)
            timings.append(time.perf_counter() - started)
            queries = len(captured.captured_queries)
            sql_times.append(sum(float(query["time"]) for query in captured.captured_queries))
            if response.status_code != 200:
                raise SystemExit(f"{name}: HTTP {response.status_code}")
        ms, floor_ms = statistics.median(timings) * 1000, statistics.median(floors) * 1000
        sql_ms = statistics.median(sql_times) * 1000
        print(
            f"{name:<52} {ms:8.1f} {sql_ms:8.1f} {floor_ms:9.2f} {ms / floor_ms:7.0f} {queries:8}"
        )
    print(f"(load average after: {load_average()})")


def main() -> None:
    args = parse_args()
    if args.reuse:
        url = database_url(os.environ["DATABASE_URL"], args.database)
        with psycopg.connect(url) as connection:
            source_id = connection.execute("SELECT id FROM sources_eventsource LIMIT 1").fetchone()[
                0
            ]
    else:
        checkout = prepare_checkout(REPO, args.database)
        url, source_id = checkout.url, checkout.source_id
        print(f"Filling {args.events:,} events (load average {load_average()}) ...", flush=True)
        started = time.monotonic()
        fill(url, source_id=source_id, events=args.events, profiles=args.profiles)
        print(f"Filled in {time.monotonic() - started:.0f} s.", flush=True)
    setup_django(url)
    if not args.no_plans:
        print_plans()
        print_insert_cost(url, source_id)
    time_lists(args.events, args.repeat)


if __name__ == "__main__":
    main()
