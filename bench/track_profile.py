"""Where a /track request spends its time, in-process, for working on the pipeline.

    .venv/bin/python bench/track_profile.py [--events 10] [--requests 1000] [--cprofile]
    .venv/bin/python bench/track_profile.py --events 1 --answering    # an answering rule's cost

Prepares a fresh database as bench/track.py does (`cdp_bench_profile`), then sends requests
through Django's full handler stack (test Client: middleware, DRF view, pipeline, database) in
this process and prints:

- the SQL statements of a returning visitor's request and of a new visitor's request (each one
  is a round trip to PostgreSQL);
- Python CPU time per request (process time: little moved by other work on the machine, unlike
  wall time, so it tells whether a change made the code cheaper) and wall time per request;
- with --cprofile, the functions that cost the most (own time and cumulative);
- with --answering, the same for requests to a second source whose page-view events a rule
  that answers in the request routes (bench/track.py's 3-node workflow), taken in turn with
  the plain ones in blocks of 50 so that the machine's other work weighs on both alike, and
  the ratio answering / plain.

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
    parser.add_argument(
        "--answering",
        action="store_true",
        help="Also measure requests whose page-view an answering rule routes, with the ratio.",
    )
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
    visitors = {"plain": visitor}
    if args.answering:
        checkout = track.Checkout(repo=track.REPO, env=env, url=url, source_id=source_id)
        answering_source = track.answering_rule_create(checkout)
        visitors["answering"] = Visitor(
            source_id=answering_source, events=args.events, sessions=args.sessions
        )

    unanswered: list[list[str]] = []

    def send(user_agent: str, body: str, visitor: Visitor = visitor) -> None:
        response = client.post(
            "/track", body, content_type="application/json", HTTP_USER_AGENT=user_agent
        )
        if response.status_code != 200:
            raise SystemExit(f"/track answered {response.status_code}: {response.content[:500]}")
        answer = response.json()
        if visitor is not visitors["plain"] and not answer["response"]:
            # Past the budget on a busy machine: counted, the figures say how often.
            unanswered.append(answer["warnings"])
        visitor.profiles[answer["session"]["id"]] = answer["profile"]["id"]

    for name, each in visitors.items():
        for session_id in each.pool:
            send(*each.request(session_id), visitor=each)
        for label, build in (("returning visitor", each.returning), ("new visitor", each.new)):
            with CaptureQueriesContext(connection) as queries:
                send(*build(), visitor=each)
            print(
                f"\nSQL of one {label}'s request, {name} "
                f"({len(queries.captured_queries)} round trips):"
            )
            for query in queries.captured_queries:
                print(f"  {query['sql'][:110]}")

    if args.answering:
        profiler = answering_compare(args, send, visitors)
        print(f"answering requests without a response (budget passed): {len(unanswered)}")
        if profiler:
            print_profile(profiler, args.top, "answering requests")
        return
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
        print_profile(profiler, args.top, "")


def print_profile(profiler: cProfile.Profile, top: int, label: str) -> None:
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(top)
        print(f"\n--- cProfile by {order}{', ' + label if label else ''} ---")
        print(out.getvalue().split("\n\n", 1)[-1].strip())


def answering_compare(args, send, visitors: dict[str, Visitor]) -> cProfile.Profile | None:
    """Plain and answering requests in turn, in blocks, and the ratio of their costs; with
    --cprofile, the profile of the answering requests (the figures are then inflated), in
    process time: where the answering step's Python CPU goes, without the waits on
    PostgreSQL, which a loaded machine stretches."""
    block = 50
    spent = {name: [0.0, 0.0] for name in visitors}
    profiler = cProfile.Profile(time.process_time) if args.cprofile else None
    for _ in range(max(1, args.requests // block)):
        for name, visitor in visitors.items():
            requests = [visitor.returning() for _ in range(block)]
            profiling = profiler is not None and name == "answering"
            cpu, wall = time.process_time(), time.perf_counter()
            if profiling:
                profiler.enable()
            for user_agent, body in requests:
                send(user_agent, body, visitor=visitor)
            if profiling:
                profiler.disable()
            spent[name][0] += time.process_time() - cpu
            spent[name][1] += time.perf_counter() - wall
    count = max(1, args.requests // block) * block
    print(f"\n{count} returning visitors' requests of {args.events} events per source:")
    for name, (cpu, wall) in spent.items():
        print(
            f"  {name:<10} Python CPU {cpu / count * 1000:.2f} ms/request, "
            f"wall {wall / count * 1000:.2f} ms/request"
        )
    (plain_cpu, plain_wall), (answer_cpu, answer_wall) = spent["plain"], spent["answering"]
    added_ms = (answer_wall - plain_wall) / count * 1000
    print(
        f"ratio answering / plain: CPU {answer_cpu / plain_cpu:.2f}, wall "
        f"{answer_wall / plain_wall:.2f} (added wall {added_ms:.2f} ms/request); "
        f"load average {track.load_average()}"
    )
    return profiler


if __name__ == "__main__":
    main()
