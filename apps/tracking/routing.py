"""Whether a stored event needs a worker: the one answer for tracked, released (re-validated)
and injected events. Each part reads a per-process cache, so there is no query per event."""

from apps.events.registry import event_type_has_mapping
from apps.profiles.services.identification import event_type_identifies
from apps.workflows.routing import event_is_routed


def event_needs_processing(*, source_id: str, event_type: str) -> bool:
    """A rule routes it to a workflow, its type maps properties onto the profile, or an
    identification point listens to its type. Else it is stored `processed` at once."""
    return (
        event_is_routed(source_id=source_id, event_type=event_type)
        or event_type_has_mapping(event_type)
        or event_type_identifies(event_type)
    )
