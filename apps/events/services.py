"""Writes of the events app: event types and their mappings, and the quarantine of events that
broke their type's schema."""

from collections.abc import Iterable

from django.db import transaction

from apps.events.mapping import event_type_has_mapping
from apps.events.models import Event, EventType
from apps.events.selectors import event_type_cache_clear
from apps.events.validation import event_validation_error
from apps.workflows import routing


def event_type_save(*, event_type: EventType) -> EventType:
    """Validate (type spelling, JSON schema) and save; this process sees it at once, the
    others within CDP_EVENT_TYPE_CACHE_SECONDS."""
    event_type.full_clean()
    event_type.save()
    event_type_cache_clear()
    return event_type


def events_revalidate(*, event_ids: Iterable[str]) -> tuple[int, int]:
    """Check quarantined events again (after their type's schema was fixed).

    Valid ones become `collected` when a rule routes them or their type maps data into the
    profile (and are handed to the workflows on commit, grouped per profile), else `processed`.
    The others stay `invalid` with the current message. Returns (valid, still invalid)."""
    # The schema may have been fixed a moment ago in another process: read it fresh.
    event_type_cache_clear()
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
            routed = routing.event_is_routed(
                source_id=event.source_id, event_type=event.type
            ) or event_type_has_mapping(event.type)
            event.status = Event.Status.COLLECTED if routed else Event.Status.PROCESSED
            event.status_message = ""
            valid.append(event)
        Event.objects.bulk_update([*valid, *still_invalid], ["status", "status_message"])
        by_profile: dict[str | None, list[str]] = {}
        for event in valid:
            if event.status == Event.Status.COLLECTED:
                by_profile.setdefault(event.profile_id, []).append(event.pk)
        for profile_id, ids in by_profile.items():
            transaction.on_commit(
                lambda ids=ids, profile_id=profile_id: routing.events_enqueue(
                    event_ids=ids, profile_id=profile_id
                )
            )
    return len(valid), len(still_invalid)
