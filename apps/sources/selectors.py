from apps.core.caches import process_cached
from apps.sources.models import EventSource


# /track authenticates every request, and a source changes rarely: an admin change takes
# effect within CDP_SOURCE_CACHE_SECONDS.
@process_cached(ttl_setting="CDP_SOURCE_CACHE_SECONDS")
def event_source_get_cached(*, source_id: str) -> EventSource | None:
    return EventSource.objects.filter(pk=source_id).first()
