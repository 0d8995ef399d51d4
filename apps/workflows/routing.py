"""Whether a rule routes an event to a workflow.

Ingestion asks this for each event while it builds the rows (with the event type's mapping
and the identification points: apps.tracking.routing.event_needs_processing); it is a lookup
in the per-process table of enabled rules (selectors.routing_table), no query per event.
"""

from apps.workflows.selectors import awaited_event_types, routing_table


def event_is_routed(*, source_id: str, event_type: str) -> bool:
    return routing_table().routes(source_id, event_type)


def event_answers_in_request(*, source_id: str, event_type: str) -> bool:
    """A rule marked "answers in the request" routes the event (same cached table)."""
    return routing_table().answers(source_id, event_type)


def answering_rules_exist() -> bool:
    """Any enabled rule answers in the request: when none does, /track skips the whole step."""
    return bool(routing_table().answering)


def event_type_awaited(event_type: str) -> bool:
    """A "Wait for an event" node of a routed workflow waits for this type (same caches)."""
    return event_type in awaited_event_types()
