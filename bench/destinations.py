"""Benchmark: the cost of destinations on the profile-change path and the send rate.

    DATABASE_URL=... REDIS_URL=... SECRET_KEY=... python bench/destinations.py \
        [--profiles N] [--rounds R] [--deliveries K]

1. Scheduling: `profile_deliveries_schedule` (the debounce upsert, 3 enabled profile
   destinations) for N profiles, R rounds of changes, against a floor measured in the same run:
   the simplest single-row upsert (`INSERT ... ON CONFLICT (k) DO UPDATE`) into a two-column
   table, one autocommitted statement per call, on the same connection.
2. Sending: K due deliveries sent by one destination run (claim, render, POST, record) to a
   local HTTP server, against a floor of K bare `requests` POSTs of the same body to it.
3. Cost of the hand-off when nothing matches: `event_deliveries_schedule` calls per second with
   no event destination (the per-process cache; no query).

Uses the database named by DATABASE_URL (migrated); everything it creates is deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cdp.settings")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.destinations.models import Delivery, Destination, Resource  # noqa: E402
from apps.destinations.selectors import enabled_destinations_cached  # noqa: E402
from apps.destinations.services import (  # noqa: E402
    destination_deliveries_send,
    event_deliveries_schedule,
    profile_deliveries_schedule,
)
from apps.profiles.models import Profile  # noqa: E402

BENCH_TAG = "bench-destinations"


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real webhook endpoint would
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


def _server() -> tuple[ThreadingHTTPServer, str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/hook"


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s ({count} in {seconds:.2f} s)"


def bench_scheduling(profiles: list[str], rounds: int) -> None:
    calls = len(profiles) * rounds
    started = time.perf_counter()
    for _ in range(rounds):
        for profile_id in profiles:
            profile_deliveries_schedule(profile_id=profile_id, changed_fields=["traits.plan"])
    ours = time.perf_counter() - started

    with connection.cursor() as cursor:
        # A logged table, like ours: each autocommitted statement pays its WAL flush.
        cursor.execute("CREATE TABLE bench_floor (k text PRIMARY KEY, n int NOT NULL)")
        started = time.perf_counter()
        for _ in range(rounds):
            for profile_id in profiles:
                cursor.execute(
                    "INSERT INTO bench_floor (k, n) VALUES (%s, 1) "
                    "ON CONFLICT (k) DO UPDATE SET n = bench_floor.n + 1",
                    [profile_id],
                )
        floor = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_floor")
    pending = Delivery.objects.filter(destination__name__startswith=BENCH_TAG).count()
    print("1. debounce upsert per profile change (3 profile destinations)")
    print(
        f"   ours : {_rate(calls, ours)}  -> {pending} pending rows (one per destination x profile)"
    )
    print(f"   floor: {_rate(calls, floor)}  (single-row upsert, same connection)")
    print(f"   ratio: ours take {ours / floor:.2f}x the floor's time")


def bench_sending(url: str, resource: Resource, profiles: list[str]) -> None:
    destination = Destination.objects.create(
        name=f"{BENCH_TAG} send",
        resource=resource,
        mapping={"id": "profile@id", "email": "profile@data.contact.email.main"},
        settings={"url": url, "timeout": 5},
        delay_seconds=0,
        max_delay_seconds=0,
    )
    enabled_destinations_cached.cache_clear()
    past = timezone.now() - timedelta(seconds=1)
    for profile_id in profiles:
        profile_deliveries_schedule(profile_id=profile_id, changed_fields=["x"], now=past)
    count = Delivery.objects.filter(destination=destination, status="pending").count()
    settings.CDP_DELIVERY_RUN_MAX = count + 1
    settings.CDP_DELIVERY_RUN_SECONDS = 3600
    started = time.perf_counter()
    destination_deliveries_send(destination_id=destination.pk)
    ours = time.perf_counter() - started
    sent = Delivery.objects.filter(destination=destination, status="sent").count()

    session = requests.Session()
    body = {"data": {"id": "x", "email": "ada@example.com"}, "changes": ["x"]}
    started = time.perf_counter()
    for _ in range(count):
        session.post(url, json=body, timeout=5)
    floor = time.perf_counter() - started
    print("2. sending due deliveries, one destination run (claim, render, POST, record)")
    print(f"   ours : {_rate(sent, ours)}")
    print(f"   floor: {_rate(count, floor)}  (bare requests POSTs, same server)")
    print(f"   ratio: ours take {ours / floor:.2f}x the floor's time")


def bench_no_match(calls: int) -> None:
    enabled_destinations_cached.cache_clear()
    event_deliveries_schedule(event_ids=["e"], source_id="s", event_types={"page-view"})
    started = time.perf_counter()
    for _ in range(calls):
        event_deliveries_schedule(event_ids=["e"], source_id="s", event_types={"page-view"})
    seconds = time.perf_counter() - started
    print("3. event hand-off with no event destination (per-process cache, no query)")
    print(f"   {_rate(calls, seconds)}, {seconds / calls * 1e6:.2f} µs per /track request")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--deliveries", type=int, default=1000)
    args = parser.parse_args()
    if Destination.objects.filter(enabled=True).exclude(name__startswith=BENCH_TAG).exists():
        sys.exit("This database has enabled destinations of its own; use an empty one.")

    httpd, url = _server()
    now = timezone.now()
    resource = Resource.objects.create(name=BENCH_TAG, type="webhook")
    profiles = [
        p.pk
        for p in Profile.objects.bulk_create(
            Profile(
                id=f"{BENCH_TAG}-{n}",
                created=now,
                updated=now,
                data={"contact": {"email": {"main": f"p{n}@example.com"}}},
            )
            for n in range(max(args.profiles, args.deliveries))
        )
    ]
    try:
        for n in range(3):
            Destination.objects.create(
                name=f"{BENCH_TAG} {n}",
                resource=resource,
                settings={"url": url},
                delay_seconds=20,
                max_delay_seconds=60,
            )
        enabled_destinations_cached.cache_clear()
        bench_scheduling(profiles[: args.profiles], args.rounds)
        Destination.objects.filter(name__startswith=BENCH_TAG).update(enabled=False)
        bench_sending(url, resource, profiles[: args.deliveries])
        Destination.objects.filter(name__startswith=BENCH_TAG).update(enabled=False)
        bench_no_match(100_000)
    finally:
        Destination.objects.filter(name__startswith=BENCH_TAG).delete()
        resource.delete()
        Profile.objects.filter(pk__in=profiles).delete()
        httpd.shutdown()


if __name__ == "__main__":
    main()
