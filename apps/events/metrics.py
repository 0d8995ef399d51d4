"""Daily event counts for the trend charts (apps.tracking.trends)."""

from datetime import datetime

from django.db.models import Count

from apps.events.models import Event


def event_counts(*, start: datetime, end: datetime) -> dict[str, dict[str, int]]:
    """Events stored in [start, end) per type and per source: one range over the index on
    -inserted."""
    by_type: dict[str, int] = {}
    by_source: dict[str, int] = {}
    rows = (
        Event.objects.filter(inserted__gte=start, inserted__lt=end)
        .values_list("type", "source_id")
        .annotate(events=Count("id"))
        .order_by()
    )
    for event_type, source_id, events in rows:
        by_type[event_type] = by_type.get(event_type, 0) + events
        by_source[source_id] = by_source.get(source_id, 0) + events
    return {"events.type": by_type, "events.source": by_source}
