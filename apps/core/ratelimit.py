"""Fixed-window request counters in Redis, shared by every rate limit of the CDP.

Windows are aligned to the epoch; each counter is INCR'd and given an EXPIRE in one pipeline,
so a limited request costs one round trip. Redis unreachable or slow: None, and the caller lets
the request through (a limit is protection, not the source of truth).
"""

import logging
import math
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

# A limiter that waits on a frozen Redis would stall the endpoint it protects: its own client,
# with timeouts well under a request's budget.
REDIS_TIMEOUT_SECONDS = 0.25
KEY_PREFIX = "cdp:ratelimit"

_client: redis.Redis | None = None


@dataclass(frozen=True, slots=True)
class Window:
    index: int
    seconds_left: int


def current_window(window_seconds: int, *, now: float | None = None) -> Window:
    now = time.time() if now is None else now
    index = int(now // window_seconds)
    return Window(index, max(math.ceil((index + 1) * window_seconds - now), 1))


def window_hits(keys: list[str], window_seconds: int) -> list[int] | None:
    """Count one hit on each counter `keys` (already naming their window); their new counts,
    or None when Redis did not answer."""
    pipeline = _redis().pipeline(transaction=False)
    for key in keys:
        pipeline.incr(key)
        pipeline.expire(key, window_seconds)
    try:
        replies = pipeline.execute()
    except redis.RedisError as error:
        logger.warning("Rate limit not checked (Redis: %s)", error)
        return None
    return replies[::2]


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            # No retries: redis-py's default (3, with backoff) made every limited request
            # wait 3.3 s for a Redis that refuses connections.
            retry=Retry(NoBackoff(), 0),
        )
    return _client
