"""Releasing quarantined events once their type's schema is fixed (admin action)."""

from collections.abc import Iterable

from django.db import transaction

from apps.events.models import Event
from apps.events.registry import event_type_registry, event_validation_error
from apps.tracking.handoff import events_enqueue
from apps.tracking.routing import event_needs_processing


def events_revalidate(*, event_ids: Iterable[str]) -> tuple[int, int]:
    """Check quarantined events again (after their type's schema was fixed).

    Valid ones become `collected` when they need a worker (as at ingestion: tracking.routing)
    and are handed to the workers on commit, grouped per profile; else `processed`. The
    others stay `invalid` with the current message. Returns (valid, still invalid)."""
    # The schema may have been fixed a moment ago in another process: read it fresh.
    event_type_registry.cache_clear()
    valid: list[Event] = []
    still_invalid: list[Event] = []
    with transaction.atomic():
        events = list(
            Event.objects.select_for_update()
            .filter(pk__in=list(event_ids), status=Event.Status.INVALID)
            .order_by("time", "inserted", "id")
        )
        for event in events:
            message = event_validation_error(event_type=event.type, properties=event.properties)
            if message:
                event.status_message = message
                still_invalid.append(event)
                continue
            needs_worker = event_needs_processing(source_id=event.source_id, event_type=event.type)
            event.status = Event.Status.COLLECTED if needs_worker else Event.Status.PROCESSED
            event.status_message = ""
            valid.append(event)
        Event.objects.bulk_update([*valid, *still_invalid], ["status", "status_message"])
        by_profile: dict[str | None, list[str]] = {}
        for event in valid:
            if event.status == Event.Status.COLLECTED:
                by_profile.setdefault(event.profile_id, []).append(event.pk)
        for profile_id, ids in by_profile.items():
            events_enqueue(event_ids=ids, profile_id=profile_id)
    return len(valid), len(still_invalid)
