"""What IP geolocation costs /track (issue 23 item 5: at most 5%), lookup on vs off, same run.

    DATABASE_URL=... REDIS_URL=... SECRET_KEY=x .venv/bin/python bench/geo.py \
        [--requests 3000] [--block 20] [--events 1] [--networks 20000] [--known 0.5]

Prepares a fresh database as bench/track.py does (`cdp_bench_geo`), writes a GeoLite2-City
shaped .mmdb of --networks IPv4 /24 networks (mmdb-writer), then sends /track requests through
Django's full handler stack in this process (test Client: middleware, DRF view, pipeline,
PostgreSQL), each opening a NEW session (so every request makes a lookup: the worst case; a
returning session's request makes none), with an X-Forwarded-For inside the database: a
--known share of them from a known profile (its last device geo is updated in its row), the
rest from a new profile. Blocks of --block requests alternate lookup on (CDP_GEOIP_DATABASE set)
and off (empty), so that both modes see the same machine load (a busy machine moves wall time
by tens of percent from one second to the next); it checks that the sessions of the "on" blocks
were located and the "off" ones not, and prints per mode the wall and CPU (this process's
process time) per request over all its blocks, the ratio on / off, and one lookup alone.
"""

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import track  # noqa: E402
from bench.track_profile import Visitor  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="Requests per mode.")
    parser.add_argument("--block", type=int, default=20, help="Requests per block.")
    parser.add_argument("--events", type=int, default=1, help="Events per request.")
    parser.add_argument("--networks", type=int, default=20000, help="Networks in the .mmdb.")
    parser.add_argument("--known", type=float, default=0.5, help="Share of known profiles.")
    parser.add_argument("--database", default="cdp_bench_geo", help="Dropped and recreated.")
    return parser.parse_args()


def city_database(path: Path, networks: int) -> list[str]:
    """A City-shaped database of `networks` /24 networks; returns one address in each."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(
        ip_version=6, ipv4_compatible=True, database_type="GeoLite2-City", description="bench"
    )
    rng = random.Random(5)
    addresses = []
    for index in range(networks):
        a, b, c = rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255)
        writer.insert_network(
            IPSet([f"{a}.{b}.{c}.0/24"]),
            {
                "city": {"names": {"en": f"City {index}"}},
                "country": {"iso_code": "GB", "names": {"en": "United Kingdom"}},
                "location": {"latitude": 51.5 + index / 1e6, "longitude": -0.1},
                "postal": {"code": f"P{index}"},
                "subdivisions": [{"iso_code": "ENG", "names": {"en": "England"}}],
            },
        )
        addresses.append(f"{a}.{b}.{c}.{rng.randint(1, 254)}")
    writer.to_db_file(str(path))
    return addresses


def main() -> None:
    args = parse_args()
    env, _url, source_id = track.prepare(args)
    os.environ.update({key: env[key] for key in ("DATABASE_URL", "SECRET_KEY", "DEBUG")})
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cdp.settings")
    os.environ["CDP_GEOIP_DATABASE"] = ""
    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    from django.conf import settings
    from django.test import Client

    from apps.profiles.geo import geo_database, ip_locate
    from apps.profiles.models import Session

    with tempfile.TemporaryDirectory(prefix="bench-geo-") as tmp:
        path = Path(tmp) / "GeoLite2-City.mmdb"
        started = time.perf_counter()
        addresses = city_database(path, args.networks)
        print(
            f"Wrote {path.name}: {args.networks} networks, {path.stat().st_size / 1e6:.1f} MB, "
            f"in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        client = Client()
        visitor = Visitor(source_id=source_id, events=args.events, sessions=1)
        rng = random.Random(9)

        known_profiles: list[str] = []

        def send(geo_on: bool) -> str:
            session_id = str(uuid.uuid4())
            if known_profiles and rng.random() < args.known:
                visitor.profiles[session_id] = rng.choice(known_profiles)
            user_agent, body = visitor.request(session_id)
            response = client.post(
                "/track",
                body,
                content_type="application/json",
                HTTP_USER_AGENT=user_agent,
                HTTP_X_FORWARDED_FOR=rng.choice(addresses),
            )
            if response.status_code != 200:
                raise SystemExit(f"/track answered {response.status_code}: {response.content}")
            answer = response.json()
            if len(known_profiles) < 500:
                known_profiles.append(answer["profile"]["id"])
            return answer["session"]["id"]

        def block_of(geo_on: bool) -> tuple[float, float, list[str]]:
            settings.CDP_GEOIP_DATABASE = str(path) if geo_on else ""
            cpu, wall = time.process_time(), time.perf_counter()
            sessions = [send(geo_on) for _ in range(args.block)]
            return time.perf_counter() - wall, time.process_time() - cpu, sessions

        for geo_on in (True, False) * 5:  # warm-up: connections, caches, the first open
            block_of(geo_on)
        wall = {True: 0.0, False: 0.0}
        cpu = {True: 0.0, False: 0.0}
        located = {True: 0, False: 0}
        blocks = max(1, args.requests // args.block)
        for number in range(blocks):
            for geo_on in (True, False) if number % 2 == 0 else (False, True):
                block_wall, block_cpu, sessions = block_of(geo_on)
                wall[geo_on] += block_wall
                cpu[geo_on] += block_cpu
                located[geo_on] += Session.objects.filter(
                    pk__in=sessions, device__has_key="geo"
                ).count()
        measured = blocks * args.block
        if located != {True: measured, False: 0}:
            raise SystemExit(f"expected {measured} sessions located with the lookup on: {located}")

        settings.CDP_GEOIP_DATABASE = str(path)
        geo_database()
        sample = [rng.choice(addresses) for _ in range(20000)]
        started = time.perf_counter()
        for address in sample:
            ip_locate(address)
        lookup_us = (time.perf_counter() - started) / len(sample) * 1e6

    on_wall, off_wall = wall[True] / measured * 1000, wall[False] / measured * 1000
    on_cpu, off_cpu = cpu[True] / measured * 1000, cpu[False] / measured * 1000
    print(
        f"{measured} requests opening a session ({args.known:.0%} of known profiles), "
        f"{args.events} event(s) each, per mode, in alternating blocks of {args.block}; "
        f"load average {track.load_average()}"
    )
    print(f"lookup on : wall {on_wall:.3f} ms/request, CPU {on_cpu:.3f} ms/request")
    print(f"lookup off: wall {off_wall:.3f} ms/request, CPU {off_cpu:.3f} ms/request")
    print(
        f"ratio on/off: wall {on_wall / off_wall:.3f}, CPU {on_cpu / off_cpu:.3f} "
        f"(budget 1.05); one lookup alone {lookup_us:.1f} µs "
        f"= {lookup_us / 10 / off_cpu:.2f}% of a request's CPU"
    )


if __name__ == "__main__":
    main()
