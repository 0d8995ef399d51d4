import time

from django.conf import settings

from apps.sources.models import EventSource

# Per-process cache of sources by id: /track authenticates every request, and a source changes
# rarely. Entries live CDP_SOURCE_CACHE_SECONDS, so an admin change takes effect within seconds.
_source_cache: dict[str, tuple[float, EventSource | None]] = {}


def event_source_get_cached(*, source_id: str) -> EventSource | None:
    now = time.monotonic()
    cached = _source_cache.get(source_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    source = EventSource.objects.filter(pk=source_id).first()
    if len(_source_cache) > 10_000:
        _source_cache.clear()
    _source_cache[source_id] = (now + settings.CDP_SOURCE_CACHE_SECONDS, source)
    return source


def event_source_cache_clear() -> None:
    _source_cache.clear()
