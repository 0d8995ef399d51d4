"""Whether a stored event needs a worker: the one answer for tracked, released (re-validated)
and injected events. Each part reads a per-process cache, so there is no query per event."""

from apps.events.registry import event_type_has_mapping
from apps.profiles.services.consents import event_type_gives_consents
from apps.profiles.services.identification import event_type_identifies
from apps.profiles.services.segments import live_segments_count, live_segments_read
from apps.workflows.routing import event_is_routed, event_type_awaited

# Profile paths the tracking request writes without segmentation (apps.profiles.services.
# identity: a visit, the page views): the worker re-evaluates live segments that read them
# when it processes the event (processing.events_run).
COUNTED_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "visit-started": (("stats", "visits"), ("metadata", "time", "visit")),
    "page-view": (("stats", "views"),),
}


def event_needs_processing(*, source_id: str, event_type: str) -> bool:
    """A rule routes it to a workflow, its type maps properties onto the profile (mapping
    rules, or the consents of `consent-given`), an identification point listens to its type,
    a live segment reads a counter the event changed or counts events of its type, or a
    "Wait for an event" node waits for its type (it may wake a parked branch). Else it is stored
    `processed` at once."""
    return (
        event_is_routed(source_id=source_id, event_type=event_type)
        or event_type_has_mapping(event_type)
        or event_type_gives_consents(event_type)
        or event_type_identifies(event_type)
        or event_changes_live_segments(event_type)
        or live_segments_count(event_type)
        or event_type_awaited(event_type)
    )


def event_changes_live_segments(event_type: str) -> bool:
    counted = COUNTED_PATHS.get(event_type)
    return counted is not None and any(live_segments_read(path) for path in counted)


def counted_fields(event_type: str) -> list[str]:
    """The dot paths the tracking request counted for an event of this type."""
    return [".".join(path) for path in COUNTED_PATHS.get(event_type, ())]
