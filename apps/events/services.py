"""Writes of the events app: event types and their mappings."""

from apps.events.models import EventType
from apps.events.selectors import event_type_cache_clear


def event_type_save(*, event_type: EventType) -> EventType:
    """Validate (type spelling, JSON schema) and save; this process sees it at once, the
    others within CDP_EVENT_TYPE_CACHE_SECONDS."""
    event_type.full_clean()
    event_type.save()
    event_type_cache_clear()
    return event_type
