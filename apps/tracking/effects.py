"""The side effects of workflow nodes during event processing (the engine's FlowEffects).

An injected event is stored in the run's transaction, `collected` when it needs a worker (the
same answer as for a tracked event: tracking.routing), else `processed`; the collected ones are
returned to the processing, which hands them to the workers after its commit. Merge requests
wait for the processing, which merges after the event's workflows.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from apps.events.documents import event_document
from apps.events.models import Event
from apps.tracking.routing import event_needs_processing
from apps.workflows.services.effects import injected_event_build

if TYPE_CHECKING:
    from apps.workflows.engine import Flow


class StoredEffects:
    def __init__(self, *, now: datetime, profile_stored: bool) -> None:
        self.now = now
        self.profile_stored = profile_stored
        # Injected events stored `collected`: to hand off once the batch commits.
        self.collected: list[Event] = []
        self.merge_by: list[str] = []

    def profile_merge_request(self, *, flow: Flow, merge_by: list[str]) -> None:
        self.merge_by.extend(path for path in merge_by if path not in self.merge_by)

    def merge_requested(self) -> list[str]:
        """The fields asked for since the last call (and forget them)."""
        requested, self.merge_by = self.merge_by, []
        return requested

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
        if self.profile_stored and flow.profile is not None:
            event.profile_id = flow.profile["id"]
        needs_worker = event_needs_processing(source_id=event.source_id, event_type=event.type)
        event.status = Event.Status.COLLECTED if needs_worker else Event.Status.PROCESSED
        event.save(force_insert=True)
        if needs_worker:
            self.collected.append(event)
        return event_document(event)
