"""Rate limits on the public endpoints (/track, /collect, /redirect), per source and per client.

Off unless configured. Settings give the defaults for every source (CDP_RATE_LIMIT_SOURCE,
CDP_RATE_LIMIT_CLIENT: requests per window, 0 = no limit; CDP_RATE_LIMIT_WINDOW_SECONDS); a
source's `config.rate_limit` ({"source": n, "client": n, "window_seconds": s}, validated by
EventSource.clean) overrides them for that source, 0 lifting a limit there. A client is the
request's address as CDP_RATE_LIMIT_PROXIES trusted proxies report it, counted per source.

Counting: fixed windows aligned to the epoch, one Redis counter per (source | client, window),
INCR and EXPIRE for every counter sent in one pipeline: one round trip per limited request, none
when no limit applies. Over the limit: 429 `{"detail": ...}` with `Retry-After` (the seconds
left in the window), before anything is stored. Redis unreachable or slow: the request goes
through (a limit is protection, not the source of truth) and a warning is logged.
"""

import logging
import math
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from rest_framework.exceptions import Throttled

from apps.sources.models import EventSource

logger = logging.getLogger(__name__)

# A limiter that waits on a frozen Redis would stall the endpoint it protects: its own client,
# with timeouts well under a request's budget.
REDIS_TIMEOUT_SECONDS = 0.25
KEY_PREFIX = "cdp:ratelimit"

_client: redis.Redis | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    source: int
    client: int
    window_seconds: int


def source_rate_limits(source: EventSource) -> Limits:
    """The limits of a source: its config's, else the settings' defaults."""
    configured = source.config.get("rate_limit")
    configured = configured if isinstance(configured, dict) else {}
    return Limits(
        source=_count(configured.get("source"), settings.CDP_RATE_LIMIT_SOURCE),
        client=_count(configured.get("client"), settings.CDP_RATE_LIMIT_CLIENT),
        window_seconds=max(
            1, _count(configured.get("window_seconds"), settings.CDP_RATE_LIMIT_WINDOW_SECONDS)
        ),
    )


def request_rate_check(*, source: EventSource, request) -> None:
    """Count this request against its source's limits; raise Throttled (429) when over one."""
    limits = source_rate_limits(source)
    if not limits.source and not limits.client:
        return
    now = time.time()
    window = int(now // limits.window_seconds)
    counters = []
    if limits.source:
        counters.append((f"{KEY_PREFIX}:s:{source.pk}:{window}", limits.source, "event source"))
    if limits.client:
        client = f"{KEY_PREFIX}:c:{source.pk}:{client_address(request)}:{window}"
        counters.append((client, limits.client, "client of event source"))
    pipeline = _redis().pipeline(transaction=False)
    for key, _, _ in counters:
        pipeline.incr(key)
        pipeline.expire(key, limits.window_seconds)
    try:
        replies = pipeline.execute()
    except redis.RedisError as error:
        logger.warning("Rate limit of source %s not checked: %s", source.pk, error)
        return
    for (_, limit, scope), count in zip(counters, replies[::2], strict=True):
        if count > limit:
            wait = math.ceil((window + 1) * limits.window_seconds - now)
            raise Throttled(
                wait=max(wait, 1),
                detail=f"Too many requests: more than {limit} per {limits.window_seconds} s "
                f"for this {scope} {source.pk}.",
            )


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or with CDP_RATE_LIMIT_PROXIES = n trusted proxies in
    front, the address the outermost of them saw (the n-th from the right in X-Forwarded-For;
    entries further left are the client's own claims and could be anything)."""
    proxies = settings.CDP_RATE_LIMIT_PROXIES
    remote = request.META.get("REMOTE_ADDR") or ""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    return hops[-min(proxies, len(hops))] if hops else remote


def _count(value, default: int) -> int:
    # Configs are validated when saved; one written around that falls back to the setting.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return default
    return value


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
    return _client
