"""Liveness of the background processes, for /api/v1/health.

Beat records each tick of its scheduler (apps.core.beat); every worker queue records when it
last ran the `core.heartbeat` task that beat sends to it every HEARTBEAT_SECONDS. A stale beat
heartbeat means beat is down; a stale queue heartbeat with a fresh beat one means no worker
consumes that queue (or it is far behind).
"""

import time

from django.core.cache import cache

HEARTBEAT_SECONDS = 15
BEAT = "beat"
_KEY = "cdp:heartbeat:{}"
# Kept long enough that a dead process shows as stale (its age), not as never seen.
_TTL_SECONDS = 7 * 24 * 3600


def heartbeat_record(name: str, *, at: float | None = None) -> None:
    cache.set(_KEY.format(name), time.time() if at is None else at, _TTL_SECONDS)


def heartbeat_ages(names: list[str]) -> dict[str, float | None]:
    """Seconds since each heartbeat (None: never seen)."""
    now = time.time()
    found = cache.get_many([_KEY.format(name) for name in names])
    ages = {}
    for name in names:
        at = found.get(_KEY.format(name))
        ages[name] = None if at is None else max(now - at, 0.0)
    return ages
