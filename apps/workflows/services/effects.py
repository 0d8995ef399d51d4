"""Side effects of workflow nodes that touch the database (the engine's FlowEffects)."""

from __future__ import annotations

from datetime import datetime

import orjson
from django.db import transaction

from apps.core.ids import new_id
from apps.core.text import normalise_event_type
from apps.events.models import Event
from apps.sources.selectors import event_source_get_cached
from apps.workflows.actions.base import ActionError
from apps.workflows.documents import event_document

# An injected event may be routed to a workflow that injects again; stop runaway chains.
MAX_INJECT_DEPTH = 5


def _injection(flow, event_type: str, source_id: str | None) -> tuple[str, str, int]:
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
    return normalise_event_type(event_type), source_id, depth


def _event(flow, event_type: str, properties: dict, source_id: str, depth: int, now) -> Event:
    from apps.workflows.routing import event_is_routed

    routed = event_is_routed(source_id=source_id, event_type=event_type)
    return Event(
        id=new_id(),
        type=event_type,
        source_id=source_id,
        time=now,
        inserted=now,
        status=Event.Status.COLLECTED if routed else Event.Status.PROCESSED,
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


class StoredEffects:
    """Injected events are stored in the run's transaction and enqueued after it commits;
    merge requests wait for the processor, which merges after the event's workflows."""

    def __init__(self, *, now: datetime, profile_stored: bool) -> None:
        self.now = now
        self.profile_stored = profile_stored
        self.injected_event_ids: list[str] = []
        self.merge_by: list[str] = []

    def profile_merge_request(self, *, flow, merge_by: list[str]) -> None:
        self.merge_by.extend(path for path in merge_by if path not in self.merge_by)

    def merge_requested(self) -> list[str]:
        """The fields asked for since the last call (and forget them)."""
        requested, self.merge_by = self.merge_by, []
        return requested

    def inject_event(
        self, *, flow, event_type: str, properties: dict, source_id: str | None
    ) -> dict:
        event_type, source_id, depth = _injection(flow, event_type, source_id)
        event = _event(flow, event_type, properties, source_id, depth, self.now)
        if self.profile_stored and flow.profile is not None:
            event.profile_id = flow.profile["id"]
        if flow.session is not None:
            event.session_id = flow.session["id"]  # loaded from the database: it exists
        event.save(force_insert=True)
        self.injected_event_ids.append(event.pk)
        if event.status == Event.Status.COLLECTED:
            from apps.workflows.routing import events_enqueue

            event_id, profile_id = event.pk, event.profile_id
            transaction.on_commit(
                lambda: events_enqueue(event_ids=[event_id], profile_id=profile_id)
            )
        return event_document(event)


class DryRunEffects:
    """Test runs: report what would be injected or merged, store nothing."""

    def __init__(self, *, now: datetime) -> None:
        self.now = now
        self.injected: list[dict] = []
        self.merge_by: list[str] = []

    def profile_merge_request(self, *, flow, merge_by: list[str]) -> None:
        self.merge_by.extend(path for path in merge_by if path not in self.merge_by)

    def inject_event(
        self, *, flow, event_type: str, properties: dict, source_id: str | None
    ) -> dict:
        event_type, source_id, depth = _injection(flow, event_type, source_id)
        event = _event(flow, event_type, properties, source_id, depth, self.now)
        if flow.profile is not None:
            event.profile_id = flow.profile.get("id")
        if flow.session is not None:
            event.session_id = flow.session.get("id")
        document = event_document(event)
        self.injected.append(document)
        return document
