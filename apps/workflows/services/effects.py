"""Side effects of workflow nodes that need the database (the engine's FlowEffects protocol):
the pieces every implementation shares, and the dry run of test runs.

The effects that store (injected events, merges) are implemented by the event processing
that calls the workflows (apps.tracking.effects): it decides what an injected event needs.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import orjson

from apps.core.ids import new_id
from apps.core.text import normalise_event_type
from apps.events.documents import event_document
from apps.events.models import Event
from apps.sources.selectors import event_source_get_cached
from apps.workflows.actions.base import ActionError

if TYPE_CHECKING:
    from apps.workflows.engine import Flow

# An injected event may be routed to a workflow that injects again; stop runaway chains.
MAX_INJECT_DEPTH = 5


def injected_event_build(
    *, flow: Flow, event_type: str, properties: dict, source_id: str | None, now: datetime
) -> Event:
    """The unsaved event a node injects: of the flow's source unless another is named, one
    level deeper in its chain of injected events, with the flow's session. Its status and
    profile are the caller's to set. Raises ActionError past MAX_INJECT_DEPTH or for a
    source that does not exist."""
    metadata = flow.event.get("metadata") or {}
    depth = int((metadata.get("injected") or {}).get("depth", 0)) + 1
    if depth > MAX_INJECT_DEPTH:
        raise ActionError(
            f"not injecting {event_type!r}: this event is already the {depth - 1}th in a chain "
            f"of injected events (at most {MAX_INJECT_DEPTH})"
        )
    source_id = source_id or (flow.event.get("source") or {}).get("id")
    if not source_id or event_source_get_cached(source_id=source_id) is None:
        raise ActionError(f"cannot inject an event: there is no event source {source_id!r}")
    return Event(
        id=new_id(),
        type=normalise_event_type(event_type),
        source_id=source_id,
        session_id=flow.session.get("id") if flow.session is not None else None,
        time=now,
        inserted=now,
        properties=orjson.loads(orjson.dumps(properties, default=str)),
        metadata={
            "time": {"insert": now.isoformat(), "create": now.isoformat()},
            "injected": {
                "workflow": flow.workflow.get("id"),
                "event": flow.event.get("id"),
                "depth": depth,
            },
        },
    )


class DryRunEffects:
    """Test runs: report what would be injected or merged, store nothing."""

    def __init__(self, *, now: datetime) -> None:
        self.now = now
        self.injected: list[dict] = []
        self.merge_by: list[str] = []

    def profile_merge_request(self, *, flow: Flow, merge_by: list[str]) -> None:
        self.merge_by.extend(path for path in merge_by if path not in self.merge_by)

    def inject_event(
        self, *, flow: Flow, event_type: str, properties: dict, source_id: str | None
    ) -> dict:
        event = injected_event_build(
            flow=flow,
            event_type=event_type,
            properties=properties,
            source_id=source_id,
            now=self.now,
        )
        if flow.profile is not None:
            event.profile_id = flow.profile.get("id")
        document = event_document(event)
        self.injected.append(document)
        return document
