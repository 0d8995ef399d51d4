"""The flush after each transactional test: Django's (TRUNCATE every table, then post_migrate)
against the tests' fast flush (tests/support/fast_flush.py), on the same database in turn.

    .venv/bin/python bench/flush.py                # 10 rounds
    .venv/bin/python bench/flush.py --rounds 30

With DATABASE_URL set it uses that PostgreSQL server (the database --database on it is dropped
and recreated and migrated); unset, the embedded one. Each round leaves what a typical browser
test leaves (a superuser, five profiles with an event each), flushes it Django's way, leaves it
again and flushes it the fast way (the order alternates from round to round, so other work on
the machine weighs on both alike). It prints the median and worst flush of each and the ratio
Django / fast of the medians, with the load average before and after.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cdp.settings")
os.environ.setdefault("SECRET_KEY", "bench-flush")

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from cdp.embedded import ensure_services  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="Flushes of each kind.")
    parser.add_argument("--database", default="cdp_bench_flush", help="Dropped and recreated.")
    return parser.parse_args()


def recreate_database(name: str) -> None:
    configured = urlsplit(os.environ["DATABASE_URL"])
    admin_url = urlunsplit(configured._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    os.environ["DATABASE_URL"] = urlunsplit(configured._replace(path="/" + name))


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    args = parse_args()
    ensure_services()
    recreate_database(args.database)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from tests.events.factories import EventFactory
    from tests.profiles.factories import ProfileFactory
    from tests.support.fast_flush import fast_flush

    print(f"migrating {args.database} ...", flush=True)
    call_command("migrate", verbosity=0)

    def leave_test_data() -> None:
        get_user_model().objects.create_superuser("marketer", "m@example.com", "password")
        for number in range(5):
            EventFactory(profile=ProfileFactory(id=f"p{number}"))

    def flush() -> None:
        call_command("flush", verbosity=0, interactive=False, reset_sequences=False)

    def timed_flush(fast: bool) -> float:
        leave_test_data()
        started = time.perf_counter()
        if fast:
            with fast_flush():
                flush()
        else:
            flush()
        return time.perf_counter() - started

    # The fast flush keeps post_migrate's rows once it has seen them right after post_migrate.
    with fast_flush():
        flush()
    print(f"load average before: {load_average()}", flush=True)
    times: dict[str, list[float]] = {"django": [], "fast": []}
    for round_number in range(args.rounds):
        order = ("django", "fast") if round_number % 2 == 0 else ("fast", "django")
        for kind in order:
            times[kind].append(timed_flush(fast=kind == "fast"))
            # Django's flush made the seeded rows again: let the fast flush record them anew.
            if kind == "django":
                with fast_flush():
                    flush()
    print(f"load average after: {load_average()}")
    for kind, values in times.items():
        print(
            f"{kind:>6} flush: median {statistics.median(values) * 1000:7.1f} ms, "
            f"worst {max(values) * 1000:7.1f} ms over {len(values)}"
        )
    ratio = statistics.median(times["django"]) / statistics.median(times["fast"])
    print(f"ratio django / fast (medians): {ratio:.1f}x")


if __name__ == "__main__":
    main()
