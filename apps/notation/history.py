"""Aggregates over the profile's stored events: what they mean, and the interface that answers
them.

The notation only describes a `HistoryQuery`; it never reads events itself (it is the bottom
layer). The caller passes a `HistoryProvider` with the data:
`condition.evaluate(data, history=provider)`. The apps above implement it with indexed queries
on the events table (apps.events.history); `EventListHistory` below answers the same queries
over a list of event documents and is the executable definition of their meaning.

Meaning, for the events that pass the filters (`type "a"` or `type ["a", "b"]`: the stored,
normalised type; `last N minutes|hours|days|weeks`: `time >= now - N units`, so an event
exactly N days old is inside `last N days`; no window: all events):

| function | value | with no event |
|---|---|---|
| `count(events ...)` | how many | 0 |
| `sum(event@path ...)` | the sum of the values at path that are JSON numbers | 0 |
| `avg`, `min`, `max(event@path ...)` | of the values at path that are JSON numbers | null |
| `first`, `last(events ...)@path` | the value at path of the earliest / latest event | null |
| `days_since(events ...)` | days (with a fraction) from the latest event to now | null |

First and last order by time, then by id; a path the event lacks gives null.
Values that are not numbers (missing, text, true/false, null) are skipped by sum/avg/min/max.
A comparison with null is false (`days_since(events type "purchase") > 30` does not hold for
a profile that never purchased; write `... IS NULL OR ... > 30` to include them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from .functions import to_datetime

# The key under which `Condition.evaluate(data, history=...)` hands the provider to the
# compiled closures. Not a string, so no data source or dot path can ever name it.
HISTORY: Final = object()

EVENTS_FUNCTIONS: Final = ("count", "days_since", "first", "last")
VALUE_FUNCTIONS: Final = ("sum", "avg", "min", "max")
# The event document fields an aggregate path may start with: the event's JSON columns (any
# keys below them) and two plain columns (no keys below them).
JSON_FIELDS: Final = ("properties", "context", "traits", "tags", "request", "metadata")
PLAIN_FIELDS: Final = ("type", "id")
TIME_UNITS: Final = {"minute": "minutes", "hour": "hours", "day": "days", "week": "weeks"}
SECONDS_PER_DAY: Final = 86_400


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """One aggregate as written in a condition; hashable, so providers cache by it."""

    function: str
    # Keys into the event document: the value summed / read, () for count and days_since.
    path: tuple[str, ...] = ()
    # Normalised event types; () for every type.
    types: tuple[str, ...] = ()
    window: timedelta | None = None

    def since(self, now: datetime) -> datetime | None:
        return None if self.window is None else now - self.window

    @property
    def text(self) -> str:
        """The aggregate in the notation (for messages)."""
        filters = ""
        if self.types:
            quoted = ", ".join(f'"{name}"' for name in self.types)
            filters += f" type {quoted if len(self.types) == 1 else f'[{quoted}]'}"
        if self.window is not None:
            filters += f" in last {window_text(self.window)}"
        dotted = ".".join(self.path)
        if self.function in VALUE_FUNCTIONS:
            return f"{self.function}(event@{dotted}{filters})"
        tail = f"@{dotted}" if self.path else ""
        return f"{self.function}(events{filters}){tail}"


class HistoryProvider(Protocol):
    """Answers aggregates over one profile's stored events, at one `now` (the same for every
    aggregate of an evaluation, so `last 7 days` means one instant throughout)."""

    now: datetime

    def aggregate(self, query: HistoryQuery) -> Any: ...


def normalise_type(name: str) -> str:
    """Event types as they are stored: lower case, runs of whitespace as one '-'."""
    return "-".join(name.strip().lower().split())


def window_text(window: timedelta) -> str:
    """`timedelta(days=14)` -> "2 weeks": the largest unit that divides it."""
    seconds = int(window.total_seconds())
    unit, size = next(
        (unit, size)
        for unit, size in (("week", 604_800), ("day", 86_400), ("hour", 3_600), ("minute", 60))
        if seconds % size == 0
    )
    amount = seconds // size
    return f"{amount} {unit}{'' if amount == 1 else 's'}"


_DIGITS: Final = re.compile(r"\d+")


def event_time(event: Mapping[str, Any]) -> datetime:
    return to_datetime(event["time"])


def value_at(event: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at `path` in an event document, or None where the path ends early."""
    value: Any = event
    for key in path:
        if isinstance(value, Mapping):
            value = value.get(key)
        elif isinstance(value, list) and _DIGITS.fullmatch(key) and int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    return value


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def matching(events: Iterable[Mapping[str, Any]], query: HistoryQuery, now: datetime) -> list:
    """The events that pass the query's filters, earliest first (by time, then id)."""
    since = query.since(now)
    selected = [
        event
        for event in events
        if (not query.types or event.get("type") in query.types)
        and (since is None or event_time(event) >= since)
    ]
    return sorted(selected, key=lambda event: (event_time(event), str(event.get("id", ""))))


def aggregate_events(
    events: Iterable[Mapping[str, Any]], query: HistoryQuery, now: datetime
) -> Any:
    """The aggregate over event documents, as the module doc defines it."""
    selected = matching(events, query, now)
    if query.function == "count":
        return len(selected)
    if query.function in ("first", "last"):
        if not selected:
            return None
        return value_at(selected[0] if query.function == "first" else selected[-1], query.path)
    if query.function == "days_since":
        if not selected:
            return None
        return (now - event_time(selected[-1])).total_seconds() / SECONDS_PER_DAY
    numbers = [value for event in selected if is_number(value := value_at(event, query.path))]
    if query.function == "sum":
        return sum(numbers)
    if not numbers:
        return None
    if query.function == "avg":
        return sum(numbers) / len(numbers)
    return min(numbers) if query.function == "min" else max(numbers)


class EventListHistory:
    """A HistoryProvider over event documents in memory (`type`, `time`, `id`, and the JSON
    fields): for test runs of a workflow on sample data, and the reference the database
    providers are tested against."""

    def __init__(self, events: Iterable[Mapping[str, Any]], *, now: datetime) -> None:
        self.events = list(events)
        self.now = now

    def aggregate(self, query: HistoryQuery) -> Any:
        return aggregate_events(self.events, query, self.now)
