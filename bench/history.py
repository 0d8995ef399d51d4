"""Benchmark: conditions over a profile's event history (the notation's aggregates).

    DATABASE_URL=... REDIS_URL=... SECRET_KEY=... python bench/history.py \
        [--events 100000] [--others 200000] [--repeat 300]

Stores one profile with `--events` events (70% page views, 10% purchases with a price, the rest
of 4 other types, spread over 400 days) and `--others` events of 2,000 other profiles, then
VACUUMs and ANALYZEs. For each aggregate condition it prints the median and p99 latency of a whole
evaluation in Python (compile cache warm; a new StoredEventHistory each time, so every
evaluation queries the database: the cache never answers) and of the segment SQL path (the
condition as the WHERE of a query on that profile's row), next to a baseline measured in the
same loop on the same connection: a single indexed point query (the event by primary key).
Then EXPLAIN (ANALYZE, BUFFERS) of each aggregate's query.

Uses the database named by DATABASE_URL (migrated); everything it creates is deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cdp.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps import notation  # noqa: E402
from apps.events.history import StoredEventHistory, history_sql  # noqa: E402
from apps.events.models import Event  # noqa: E402
from apps.profiles.models import Profile  # noqa: E402
from apps.profiles.segment_sql import condition_sql  # noqa: E402
from apps.sources.models import EventSource  # noqa: E402

PREFIX = "bench-history"
PROFILE = f"{PREFIX}-buyer"
CONDITIONS = (
    'count(events type "purchase" in last 7 days) > 2',
    'sum(event@properties.price, type "purchase", last 30 days) >= 100',
    'last(events type "page-view")@properties.url == "/pricing"',
    'days_since(events type "purchase") > 30',
    'avg(event@properties.price type ["purchase", "refund"] last 52 weeks) > 50',
    "count(events in last 24 hours) > 10",
    "count(events) > 50000",
)


def setup(events: int, others: int) -> str:
    """Stores the events; returns the id of one of them (for the baseline)."""
    source = EventSource.objects.create(name=f"{PREFIX}-source", bridge=EventSource.Bridge.REST)
    now = timezone.now()
    Profile.objects.bulk_create(
        [
            Profile(id=profile_id, created=now, updated=now)
            for profile_id in [PROFILE, *(f"{PREFIX}-other-{number}" for number in range(2000))]
        ],
        batch_size=1000,
    )
    with connection.cursor() as cursor:
        # Types by i % 10: 0 purchase, 1 add-to-basket, 2 refund/checkout/login, rest page-view.
        insert = f"""
            INSERT INTO {Event._meta.db_table}
                (id, type, source_id, profile_id, time, inserted, status, status_message,
                 is_bot, properties, context, traits, metadata, request, tags)
            SELECT %(prefix)s || '-' || %(who)s || '-' || i,
                   CASE WHEN i %% 10 = 0 THEN 'purchase'
                        WHEN i %% 10 = 1 THEN 'product-added-to-basket'
                        WHEN i %% 30 = 2 THEN 'refund'
                        WHEN i %% 30 = 12 THEN 'checkout'
                        WHEN i %% 30 = 22 THEN 'login'
                        ELSE 'page-view' END,
                   %(source)s,
                   PROFILE_EXPRESSION,
                   %(now)s - (i * (400 * 86400.0 / %(count)s)) * interval '1 second',
                   %(now)s, 'processed', '', false,
                   CASE WHEN i %% 10 = 0 THEN jsonb_build_object('price', (i %% 97) + 3)
                        ELSE jsonb_build_object('url', '/page/' || (i %% 50)) END,
                   '{{}}', '{{}}', '{{}}', '{{}}', '{{}}'
            FROM generate_series(1, %(count)s) AS i
        """
        cursor.execute(
            insert.replace("PROFILE_EXPRESSION", "%(profile)s"),
            {"prefix": PREFIX, "who": "buyer", "source": source.pk, "profile": PROFILE,
             "now": now, "count": events},
        )  # fmt: skip
        cursor.execute(
            insert.replace("PROFILE_EXPRESSION", "%(prefix)s || '-other-' || (i %% 2000)"),
            {"prefix": PREFIX, "who": "other", "source": source.pk, "now": now, "count": others},
        )
    # As autovacuum leaves a table between bursts of inserts: visibility map set (index-only
    # scans skip the heap), statistics current. VACUUM cannot run inside a transaction.
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {Event._meta.db_table}")
        cursor.execute(f"VACUUM (ANALYZE) {Profile._meta.db_table}")
    return f"{PREFIX}-buyer-{events // 2}"


def teardown() -> None:
    """Deletes what this benchmark stores (also what an interrupted run left)."""
    sources = list(EventSource.objects.filter(name__startswith=PREFIX).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {Event._meta.db_table} WHERE source_id = ANY(%s)", [sources]
        )  # fmt: skip
    Profile.objects.filter(id__startswith=PREFIX).delete()
    EventSource.objects.filter(pk__in=sources).delete()


def timed(function, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):7.3f} ms   p99 {p99:7.3f} ms"


def point_query(event_id: str):
    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {Event._meta.db_table} WHERE id = %s", [event_id]
            )  # fmt: skip
            cursor.fetchone()

    return run


def python_path(condition: notation.Condition):
    def run() -> bool:
        return condition.evaluate({}, history=StoredEventHistory(PROFILE))

    return run


def sql_path(text: str):
    def run() -> None:
        where, params = condition_sql(text)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {Profile._meta.db_table} WHERE id = %(profile)s AND {where}",
                {**params, "profile": PROFILE},
            )
            cursor.fetchall()

    return run


def explain(query: notation.HistoryQuery) -> str:
    params: dict = {}

    def param(value) -> str:
        name = f"h{len(params)}"
        params[name] = value
        return f"%({name})s"

    expression = history_sql(
        query,
        profile_id_sql=param(PROFILE),
        now_sql=f"{param(timezone.now())}::timestamptz",
        param=param,
    )
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) SELECT {expression}", params)
        return "\n".join(f"    {row[0]}" for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--others", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=300)
    options = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    teardown()
    started = time.perf_counter()
    try:
        some_event = setup(options.events, options.others)
        print(
            f"stored {options.events:,} events of one profile and {options.others:,} of 2,000 "
            f"others in {time.perf_counter() - started:.1f} s"
        )
        baseline = point_query(some_event)
        timed(baseline, 50)  # warm the connection and the caches
        print(f"\nbaseline, a single indexed point query (event by id): "
              f"{summary(timed(baseline, options.repeat))}\n")  # fmt: skip
        for text in CONDITIONS:
            condition = notation.compile_condition(text)
            python, sql = python_path(condition), sql_path(text)
            timed(python, 20)
            timed(sql, 20)
            # Interleaved with the baseline, so load on the machine weighs on all alike.
            python_samples, sql_samples, base_samples = [], [], []
            for _ in range(options.repeat):
                python_samples += timed(python, 1)
                sql_samples += timed(sql, 1)
                base_samples += timed(baseline, 1)
            print(f"{text}\n    answer {python()}")
            print(f"    Python path (provider): {summary(python_samples)}")
            print(f"    SQL path (segment):     {summary(sql_samples)}")
            print(f"    baseline point query:   {summary(base_samples)}")
        print("\nQuery plans (EXPLAIN ANALYZE, one aggregate each):")
        for text in CONDITIONS:
            for query in notation.compile_condition(text).history:
                print(f"\n  {query.text}\n{explain(query)}")
    finally:
        teardown()
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
