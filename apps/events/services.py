"""Writes of the events app: event types and their mappings, the mappings applied to stored
events, and the quarantine of events that broke their type's schema."""

import copy
from collections.abc import Iterable
from itertools import groupby

from django.db import transaction

from apps.events.models import Event, EventType
from apps.events.registry import (
    event_type_has_mapping,
    event_type_registry,
    event_validation_error,
    mapping_apply,
)
from apps.events.selectors import event_document
from apps.profiles.documents import profile_document, session_document
from apps.profiles.models import Profile, Session
from apps.profiles.services.writes import profile_save_changes
from apps.workflows import routing


def event_type_save(*, event_type: EventType) -> EventType:
    """Validate (type spelling, JSON schema) and save; this process sees it at once, the
    others within CDP_EVENT_TYPE_CACHE_SECONDS."""
    event_type.full_clean()
    event_type.save()
    event_type_registry.cache_clear()
    return event_type


def event_mappings_process(*, event_ids: Iterable[str]) -> None:
    """Apply the mappings of stored events to their profiles (re-applying mappings; tests): per
    profile, in event time order, one read under a row lock and one save."""
    events = list(
        Event.objects.filter(pk__in=list(event_ids), profile__isnull=False)
        .exclude(status=Event.Status.INVALID)
        .order_by("profile_id", "time", "inserted", "id")
    )
    for profile_id, group in groupby(events, key=lambda event: event.profile_id):
        profile_events = [event for event in group if event_type_has_mapping(event.type)]
        if not profile_events:
            continue
        with transaction.atomic():
            profile = Profile.objects.select_for_update().filter(pk=profile_id).first()
            if profile is None:
                continue
            session_ids = {event.session_id for event in profile_events if event.session_id}
            sessions = {
                session.pk: session_document(session)
                for session in Session.objects.filter(pk__in=session_ids)
            }
            before = profile_document(profile)
            after = copy.deepcopy(before)
            for event in profile_events:
                mapping_apply(
                    profile=after,
                    event=event_document(event),
                    session=sessions.get(event.session_id),
                )
            profile_save_changes(profile_id=profile_id, before=before, after=after)


def events_revalidate(*, event_ids: Iterable[str]) -> tuple[int, int]:
    """Check quarantined events again (after their type's schema was fixed).

    Valid ones become `collected` when a rule routes them or their type maps data into the
    profile (and are handed to the workflows on commit, grouped per profile), else `processed`.
    The others stay `invalid` with the current message. Returns (valid, still invalid)."""
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
