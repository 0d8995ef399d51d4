"""Benchmark: evaluations per second of a parsed three-clause condition.

    python bench/notation.py [--iterations N] [--repeats R]

Evaluates `profile@stats.visits > 3 AND event@properties.price >= 10 OR profile@segments
CONTAINS "vip"` over a few realistic Tracardi profile/event records (chosen so both sides of
the OR decide the result), against a hand-written lambda doing the same check on the same data
in the same run. Also reports the un-cached parse time. Exits 1 when below the bar.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apps.notation import compile_condition, condition_cache_clear, evaluate  # noqa: E402
from apps.notation.parsing import condition_parser  # noqa: E402

CONDITION = (
    'profile@stats.visits > 3 AND event@properties.price >= 10 OR profile@segments CONTAINS "vip"'
)
BAR_EVALUATIONS_PER_SECOND = 50_000

PROFILE: dict[str, Any] = {
    "id": "7f4b2c1e-5a0d-4e2b-9a51-0c3f8e6d2b17",
    "ids": ["7f4b2c1e-5a0d-4e2b-9a51-0c3f8e6d2b17", "email:ann@example.com"],
    "metadata": {
        "time": {
            "insert": "2026-03-02T08:14:11.402000+00:00",
            "create": "2026-03-02T08:14:11.402000+00:00",
            "update": "2026-11-21T19:40:03.118000+00:00",
            "visit": {
                "last": "2026-11-20T18:02:44+00:00",
                "current": "2026-11-21T19:39:57+00:00",
                "count": 14,
                "tz": "Europe/Warsaw",
            },
        },
        "fields": {"data.contact.email.main": ["2026-03-02T08:20:00+00:00", "event-1"]},
        "system": {"aux": {}},
    },
    "stats": {"visits": 14, "views": 63},
    "traits": {"plan": "pro", "lifetime_value": 1240.5},
    "segments": ["newsletter", "returning"],
    "interests": {"shoes": 3, "running": 5},
    "consents": {"marketing": {"granted": True}},
    "active": True,
    "aux": {},
    "data": {
        "pii": {"firstname": "Ann", "lastname": "Nowak", "gender": "female", "language": "pl"},
        "contact": {"email": {"main": "ann@example.com"}, "phone": {"mobile": "+48600100200"}},
        "devices": {"last": {"geo": {"country": {"code": "PL"}, "city": "Wrocław"}}},
        "loyalty": {"card": {"id": "L-100", "points": 820}},
    },
}

EVENT: dict[str, Any] = {
    "id": "0c8d9a62-6f1e-4d7b-8f43-2b9e5a1c7d08",
    "type": "product-view",
    "metadata": {
        "time": {"insert": "2026-11-21T19:40:03.118000+00:00", "process_time": 0.004},
        "status": "collected",
        "channel": "web",
        "ip": "203.0.113.7",
    },
    "source": {"id": "3ac1f1b0-web"},
    "session": {"id": "c19f5be2-session", "start": "2026-11-21T19:30:00+00:00"},
    "profile": {"id": "7f4b2c1e-5a0d-4e2b-9a51-0c3f8e6d2b17"},
    "context": {"page": {"url": "https://shop.example.com/p/trail-runner", "title": "Trail"}},
    "properties": {"sku": "TR-42", "price": 129.99, "currency": "EUR", "category": "shoes"},
    "tags": {"values": ["product-view"], "count": 1},
}


def make_records() -> list[dict[str, Any]]:
    """Four records: the AND side decides, the OR side decides, both false, both true."""
    variants = [
        ({"stats.visits": 14, "segments": ["newsletter"]}, {"price": 129.99}),  # AND true
        ({"stats.visits": 2, "segments": ["vip", "newsletter"]}, {"price": 5.0}),  # OR true
        ({"stats.visits": 1, "segments": ["returning"]}, {"price": 129.99}),  # false
        ({"stats.visits": 30, "segments": ["vip"]}, {"price": 10}),  # AND true
    ]
    records = []
    for profile_changes, properties in variants:
        profile = copy.deepcopy(PROFILE)
        event = copy.deepcopy(EVENT)
        profile["stats"]["visits"] = profile_changes["stats.visits"]
        profile["segments"] = profile_changes["segments"]
        event["properties"].update(properties)
        records.append({"profile": profile, "event": event, "session": {"id": "c19f5be2"}})
    return records


def baseline(data: dict[str, Any]) -> bool:
    # The same check written by hand, with the same care for absent keys.
    profile = data.get("profile") or {}
    event = data.get("event") or {}
    visits = (profile.get("stats") or {}).get("visits")
    price = (event.get("properties") or {}).get("price")
    segments = profile.get("segments")
    return bool(
        (visits is not None and visits > 3 and price is not None and price >= 10)
        or (isinstance(segments, list) and "vip" in segments)
    )


def evaluations_per_second(
    check: Callable[[dict[str, Any]], bool],
    records: list[dict[str, Any]],
    iterations: int,
    repeats: int,
) -> float:
    """Best of `repeats` timed runs of `iterations` evaluations cycling through `records`."""
    inputs = list(itertools.islice(itertools.cycle(records), iterations))
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for data in inputs:
            check(data)
        best = min(best, time.perf_counter() - started)
    return iterations / best


def parse_seconds(samples: int) -> tuple[float, float]:
    """(first parse including building the lark parser, median un-cached parse afterwards)."""
    condition_parser.cache_clear()
    condition_cache_clear()
    started = time.perf_counter()
    compile_condition(CONDITION)
    first = time.perf_counter() - started
    timings = []
    for _ in range(samples):
        condition_cache_clear()
        started = time.perf_counter()
        compile_condition(CONDITION)
        timings.append(time.perf_counter() - started)
    return first, statistics.median(timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()

    first_parse, parse = parse_seconds(samples=200)
    records = make_records()
    condition = compile_condition(CONDITION)
    results = [condition.evaluate(record) for record in records]
    if results != [baseline(record) for record in records]:
        print(f"Mismatch: condition {results} vs baseline", file=sys.stderr)
        return 2

    parsed_rate = evaluations_per_second(
        condition.evaluate, records, arguments.iterations, arguments.repeats
    )
    by_text_rate = evaluations_per_second(
        lambda data: evaluate(CONDITION, data), records, arguments.iterations, arguments.repeats
    )
    baseline_rate = evaluations_per_second(
        baseline, records, arguments.iterations, arguments.repeats
    )

    print(f"condition: {CONDITION}")
    print(f"records: {len(records)}, results {results}")
    print(f"iterations: {arguments.iterations:,} x best of {arguments.repeats}")
    print(f"first parse (builds the lark parser): {first_parse * 1000:9.2f} ms")
    print(f"un-cached parse + compile:            {parse * 1e6:9.1f} us per condition")
    print(f"parsed condition .evaluate(data):     {parsed_rate:12,.0f} evaluations/s")
    print(f"evaluate(text, data) via the cache:   {by_text_rate:12,.0f} evaluations/s")
    print(f"hand-written Python baseline:         {baseline_rate:12,.0f} evaluations/s")
    print(f"baseline / parsed:                    {baseline_rate / parsed_rate:12.2f}x")
    passed = parsed_rate >= BAR_EVALUATIONS_PER_SECOND
    verdict = "PASS" if passed else "FAIL"
    print(f"bar {BAR_EVALUATIONS_PER_SECOND:,} evaluations/s: {verdict}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
