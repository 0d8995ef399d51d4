"""Benchmark: what event types add per event on the ingestion and processing paths.

    .venv/bin/python bench/event_types.py [--events N] [--repeats R]

No database or server: the per-process event type snapshot is built in memory (as it is after
its first load), so the figures are the pure per-event cost. Prints, each against a baseline
measured in the same run:

1. `event_validation_error` on a type without a schema (most events) vs a dict lookup;
2. `event_validation_error` on a type with a JSON schema vs calling the compiled jsonschema
   validator directly (the wrapper's overhead);
3. `mapping_apply` of the predefined `identification` rules (25 rules, 2 with conditions) vs
   hand-written assignments of the same four values.

Bar: validation of an event without a schema under 2 µs, so that a 10-event /track request
spends under 20 µs on it.
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cdp.settings")
os.environ.setdefault("SECRET_KEY", "bench")
os.environ.setdefault("DATABASE_URL", "postgres://bench@127.0.0.1:1/unused")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:1/0")

import django  # noqa: E402

django.setup()

from jsonschema import Draft202012Validator  # noqa: E402

from apps.events import registry as events_registry  # noqa: E402
from apps.events.mapping import mapping_rule_compile  # noqa: E402
from apps.events.models import EventType, EventTypeMapping  # noqa: E402
from apps.events.predefined import PREDEFINED_EVENT_TYPES  # noqa: E402
from apps.events.registry import event_validation_error, mapping_apply  # noqa: E402
from apps.profiles.models import empty_profile_data  # noqa: E402

BAR_NO_SCHEMA_MICROSECONDS = 2.0

ORDER_SCHEMA = {
    "type": "object",
    "required": ["order_id", "total", "currency"],
    "properties": {
        "order_id": {"type": "string", "minLength": 1},
        "total": {"type": "number", "minimum": 0},
        "currency": {"type": "string", "enum": ["EUR", "USD", "PLN"]},
        "items": {"type": "array", "items": {"type": "object"}},
        "coupon": {"type": "string"},
    },
}
ORDER = {
    "order_id": "A-1029",
    "total": 129.5,
    "currency": "EUR",
    "items": [{"sku": "X1", "qty": 2}, {"sku": "Y7", "qty": 1}],
}
IDENTIFICATION = {
    "id": "e-1",
    "type": "identification",
    "properties": {
        "email": {"main": "ann@example.com"},
        "firstname": "Ann",
        "lastname": "Nowak",
        "login": "ann",
    },
}


def install_registry() -> Draft202012Validator:
    """The snapshot the first event of a process would load, built without a database."""
    identification = next(t for t in PREDEFINED_EVENT_TYPES if t["type"] == "identification")
    kind = EventType(type="identification", name="Identification")
    rules = tuple(
        mapping_rule_compile(EventTypeMapping(event_type=kind, position=position, **rule))
        for position, rule in enumerate(identification["mappings"], start=1)
    )
    validator = Draft202012Validator(
        ORDER_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    registry = events_registry.EventTypeRegistry(
        validators={"order": validator}, mappings={"identification": rules}
    )
    # The per-process cache's entry for its one key (no arguments), never expiring.
    events_registry.event_type_registry._entries[()] = (math.inf, registry)
    return validator


def per_call_microseconds(call: Callable[[], object], events: int, repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(events):
            call()
        timings.append((time.perf_counter() - started) / events * 1e6)
    return statistics.median(timings)


def new_profile() -> dict:
    return {
        "id": "p",
        "segments": [],
        "traits": {},
        "interests": {},
        "stats": {},
        "consents": {},
        "aux": {},
        "metadata": {},
        "data": empty_profile_data(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    validator = install_registry()
    events, repeats = args.events, args.repeats

    lookup_table = {"order": validator}
    no_schema = per_call_microseconds(
        lambda: event_validation_error(event_type="page-view", properties={"url": "/"}),
        events,
        repeats,
    )
    dict_lookup = per_call_microseconds(lambda: lookup_table.get("page-view"), events, repeats)

    with_schema = per_call_microseconds(
        lambda: event_validation_error(event_type="order", properties=ORDER), events, repeats
    )
    bare_validator = per_call_microseconds(
        lambda: next(validator.iter_errors(ORDER), None), events, repeats
    )

    profiles = [new_profile() for _ in range(events)]
    profile_iter = iter(profiles * repeats)
    mapped = per_call_microseconds(
        lambda: mapping_apply(profile=next(profile_iter), event=IDENTIFICATION, session=None),
        events,
        repeats,
    )

    def by_hand() -> None:
        profile = copy.deepcopy(profiles[0])
        properties = IDENTIFICATION["properties"]
        profile["data"]["contact"]["email"]["main"] = properties["email"]["main"]
        profile["data"]["pii"]["firstname"] = properties["firstname"]
        profile["data"]["pii"]["lastname"] = properties["lastname"]
        profile["data"]["identifier"]["token"] = properties["login"]

    hand = per_call_microseconds(by_hand, events, repeats)

    print(f"events per measurement: {events}, repeats: {repeats} (median)")
    print(
        f"1. validation, type without schema: {no_schema:.2f} µs/event "
        f"({1e6 / no_schema:,.0f}/s); dict lookup baseline {dict_lookup:.2f} µs; "
        f"ratio {no_schema / dict_lookup:.1f}x"
    )
    print(
        f"2. validation, 5-property schema:   {with_schema:.2f} µs/event "
        f"({1e6 / with_schema:,.0f}/s); bare jsonschema {bare_validator:.2f} µs; "
        f"ratio {with_schema / bare_validator:.2f}x"
    )
    print(
        f"3. mapping_apply, identification:   {mapped:.2f} µs/event "
        f"({1e6 / mapped:,.0f}/s); hand-written (with profile copy) {hand:.2f} µs; "
        f"ratio {mapped / hand:.1f}x"
    )
    ok = no_schema < BAR_NO_SCHEMA_MICROSECONDS
    verdict = "ok" if ok else "MISSED"
    print(f"bar: no-schema validation < {BAR_NO_SCHEMA_MICROSECONDS} µs/event: {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
