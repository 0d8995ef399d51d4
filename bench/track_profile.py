"""Where a /track request spends its time, in-process, for working on the pipeline.

    .venv/bin/python bench/track_profile.py [--events 10] [--requests 1000] [--cprofile]

Prepares a fresh database as bench/track.py does (`cdp_bench_profile`), then sends requests
through Django's full handler stack (test Client: middleware, DRF view, pipeline, database) in
this process and prints:

- the SQL statements of a returning visitor's request and of a new visitor's request (each one
  is a round trip to PostgreSQL);
- Python CPU time per request (process time: little moved by other work on the machine, unlike
  wall time, so it tells whether a change made the code cheaper) and wall time per request;
- with --cprofile, the functions that cost the most (own time and cumulative).

The load-level figures (events/s, latency, ratio to the raw floor) come from bench/track.py.
"""

import argparse
import cProfile
import io
import os
import pstats
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import loadgen, track  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10, help="Events per request.")
    parser.add_argument("--requests", type=int, default=1000, help="Measured requests.")
    parser.add_argument("--sessions", type=int, default=200, help="Returning visitors' pool.")
    parser.add_argument("--cprofile", action="store_true", help="Also print a cProfile top.")
    parser.add_argument("--top", type=int, default=30, help="Rows of each cProfile table.")
    parser.add_argument("--database", default="cdp_bench_profile", help="Dropped and recreated.")
    return parser.parse_args()


class Visitor:
    """Builds tracker requests for returning and new visitors, as the load generators do."""

    def __init__(self, *, source_id: str, events: int, sessions: int) -> None:
        self.templates = loadgen.payload_templates(source_id=source_id, events_per_request=events)
        self.pool = loadgen.pool_session_ids("profile", sessions)
        self.profiles: dict[str, str] = {}
        self.random = random.Random(1)

    def request(self, session_id: str) -> tuple[str, str]:
        user_agent, template = self.random.choice(self.templates)
        known = self.profiles.get(session_id)
        body = (
            template.replace("__SESSION__", session_id)
            .replace("__PROFILE__", f'{{"id":"{known}"}}' if known else "null")
            .replace("__TIME__", time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()))
        )
        parts = body.split("__EID__")
        ids = [str(uuid.uuid4()) for _ in parts[1:]]
        return user_agent, "".join(part + eid for part, eid in zip(parts, [*ids, ""], strict=True))

    def returning(self) -> tuple[str, str]:
        return self.request(self.random.choice(self.pool))

    def new(self) -> tuple[str, str]:
        return self.request(str(uuid.uuid4()))


def main() -> None:
    args = parse_args()
    env, url, source_id = track.prepare(args)
    os.environ.update({key: env[key] for key in ("DATABASE_URL", "SECRET_KEY", "DEBUG")})
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cdp.settings")
    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic here
    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    visitor = Visitor(source_id=source_id, events=args.events, sessions=args.sessions)

    def send(user_agent: str, body: str) -> None:
        response = client.post(
            "/track", body, content_type="application/json", HTTP_USER_AGENT=user_agent
        )
        if response.status_code != 200:
            raise SystemExit(f"/track answered {response.status_code}: {response.content[:500]}")
        answer = response.json()
        visitor.profiles[answer["session"]["id"]] = answer["profile"]["id"]

    for session_id in visitor.pool:
        send(*visitor.request(session_id))
    for label, build in (("returning visitor", visitor.returning), ("new visitor", visitor.new)):
        with CaptureQueriesContext(connection) as queries:
            send(*build())
        print(f"\nSQL of one {label}'s request ({len(queries.captured_queries)} round trips):")
        for query in queries.captured_queries:
            print(f"  {query['sql'][:110]}")

    requests = [visitor.returning() for _ in range(args.requests)]
    profiler = cProfile.Profile() if args.cprofile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for user_agent, body in requests:
        send(user_agent, body)
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"\n{args.requests} returning visitors' requests of {args.events} events: "
        f"Python CPU {cpu / args.requests * 1000:.2f} ms/request, "
        f"wall {wall / args.requests * 1000:.2f} ms/request"
        + (" (under cProfile: both inflated)" if profiler else "")
        + f"; load average {track.load_average()}"
    )
    if profiler:
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
            print(f"\n--- cProfile by {order} ---")
            print(out.getvalue().split("\n\n", 1)[-1].strip())


if __name__ == "__main__":
    main()
