"""Rate limits on the public endpoints (/track, /collect, /redirect), per source and per client.

Off unless configured. Settings give the defaults for every source (CDP_RATE_LIMIT_SOURCE,
CDP_RATE_LIMIT_CLIENT: requests per window, 0 = no limit; CDP_RATE_LIMIT_WINDOW_SECONDS); a
source's `config.rate_limit` ({"source": n, "client": n, "window_seconds": s}, validated by
EventSource.clean) overrides them for that source, 0 lifting a limit there. A client is the
request's address as CDP_RATE_LIMIT_PROXIES trusted proxies report it, counted per source.

Counting: apps.core.ratelimit's fixed windows, one Redis counter per (source | client, window):
one round trip per limited request, none when no limit applies. Over the limit: 429
`{"detail": ...}` with `Retry-After` (the seconds left in the window), before anything is
stored. Redis unreachable or slow: the request goes
through (a limit is protection, not the source of truth) and a warning is logged.
"""

from dataclasses import dataclass

from django.conf import settings
from rest_framework.exceptions import Throttled

from apps.core.ratelimit import KEY_PREFIX, current_window, window_hits
from apps.sources.models import EventSource


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
    window = current_window(limits.window_seconds)
    counters = []
    if limits.source:
        counters.append(
            (f"{KEY_PREFIX}:s:{source.pk}:{window.index}", limits.source, "event source")
        )
    if limits.client:
        client = f"{KEY_PREFIX}:c:{source.pk}:{client_address(request)}:{window.index}"
        counters.append((client, limits.client, "client of event source"))
    counts = window_hits([key for key, _, _ in counters], limits.window_seconds)
    if counts is None:
        return
    for (_, limit, scope), count in zip(counters, counts, strict=True):
        if count > limit:
            raise Throttled(
                wait=window.seconds_left,
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
