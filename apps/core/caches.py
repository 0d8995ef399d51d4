"""Per-process caches of the few, rarely changing rows that the hot paths read on every request
or event: event sources, event types, identification points, live segments, the routing table
and compiled workflows, enabled destinations.

An entry lives for the number of seconds a setting names (read at each load, so tests and
operators can change it), so a change made in the admin is seen by every process within that
time; the process that made the change clears the cache at once. Every cache registers itself
here, so `process_caches_clear()` empties them all (tests do, before and after each test).

    @process_cached(ttl_setting="CDP_SOURCE_CACHE_SECONDS")
    def event_source_get_cached(*, source_id: str) -> EventSource | None: ...

    event_source_get_cached(source_id="web")    # a query at most once per TTL and key
    event_source_get_cached.cache_clear()       # after a change in this process
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from functools import update_wrapper
from typing import Generic, ParamSpec, TypeVar

from django.conf import settings

P = ParamSpec("P")
R = TypeVar("R")

# A cache keyed by request input (source ids) starts over past this many keys, so a flood of
# unknown ids cannot grow it without bound.
MAX_ENTRIES = 10_000

_ALL: list[ProcessCache] = []


class ProcessCache(Generic[P, R]):
    """`load(*args, **kwargs)` memoised per argument tuple for `ttl_setting` seconds."""

    def __init__(self, load: Callable[P, R], *, ttl_setting: str, max_entries: int) -> None:
        self._load = load
        self._ttl_setting = ttl_setting
        self._max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, R]] = {}
        # One loader at a time: a burst of requests after expiry makes one query, not many.
        self._lock = threading.Lock()
        update_wrapper(self, load)
        _ALL.append(self)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        key = (args, tuple(sorted(kwargs.items()))) if kwargs else args
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        with self._lock:
            now = time.monotonic()
            entries = self._entries
            entry = entries.get(key)
            if entry is not None and entry[0] > now:
                return entry[1]
            value = self._load(*args, **kwargs)
            # Kept in the dict the load started with: when cache_clear replaced it meanwhile,
            # the value (read before the change) is returned to this caller only.
            if len(entries) >= self._max_entries:
                entries.clear()
            entries[key] = (now + getattr(settings, self._ttl_setting), value)
            return value

    def cache_clear(self) -> None:
        # Replaces the dict rather than emptying it, without the lock: a clear never waits
        # for a slow load, and a load in progress cannot put a stale value back.
        self._entries = {}


def process_cached(
    *, ttl_setting: str, max_entries: int = MAX_ENTRIES
) -> Callable[[Callable[P, R]], ProcessCache[P, R]]:
    def decorate(load: Callable[P, R]) -> ProcessCache[P, R]:
        return ProcessCache(load, ttl_setting=ttl_setting, max_entries=max_entries)

    return decorate


def process_caches_clear() -> None:
    """Empty every per-process cache (tests; a process that must see all changes at once)."""
    for cache in _ALL:
        cache.cache_clear()
