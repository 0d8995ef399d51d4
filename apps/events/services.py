"""Writes of the events app: event types with their mappings, reshapings and indexed
properties (the admin's event type page and the management API both save through these), the
mappings applied to stored events (re-validating quarantined events is apps.tracking.revalidate).
"""

import copy
from collections.abc import Iterable
from itertools import groupby

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.events.documents import event_document
from apps.events.models import Event, EventReshaping, EventType, EventTypeMapping, IndexedProperty
from apps.events.registry import (
    event_type_has_mapping,
    event_type_registry,
    mapping_apply,
)
from apps.events.selectors import event_type_caches_clear
from apps.profiles.consents import consents_copy
from apps.profiles.documents import profile_document, session_document
from apps.profiles.models import ConsentChange, Profile, Session
from apps.profiles.services.consent_history import ConsentHistory
from apps.profiles.services.consents import consents_give, event_type_gives_consents
from apps.profiles.services.writes import profile_save_changes


def event_type_save(*, event_type: EventType) -> EventType:
    """Validate (type spelling, JSON schema) and save; this process sees it at once, the
    others within CDP_EVENT_TYPE_CACHE_SECONDS."""
    event_type.full_clean()
    event_type.save()
    event_type_registry.cache_clear()
    # The events list's key-property columns follow the schema.
    event_type_caches_clear(event_type.type)
    return event_type


def event_type_mappings_replace(*, event_type: EventType, mappings: list[dict]) -> list:
    """Replace the mapping rows of a saved event type, in order (their positions follow the
    list). Every row is validated first (ValidationError naming the row and field); nothing
    is changed then."""
    rows = [
        EventTypeMapping(event_type=event_type, position=position, **fields)
        for position, fields in enumerate(mappings)
    ]
    errors = {}
    for index, row in enumerate(rows):
        try:
            row.full_clean(exclude=["event_type"])
        except ValidationError as error:
            # Dotted keys: the API names the row and field as a path (mappings, index, field).
            errors.update(
                {f"mappings.{index}.{key}": value for key, value in error.message_dict.items()}
            )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        event_type.mappings.all().delete()
        EventTypeMapping.objects.bulk_create(rows)
    event_type_registry.cache_clear()
    return rows


def event_type_delete(*, event_type: EventType) -> None:
    event_type.delete()
    event_type_registry.cache_clear()
    event_type_caches_clear(event_type.type)


def reshaping_save(*, reshaping: EventReshaping) -> EventReshaping:
    """Validate as the admin's form does (the condition and each template's references parse
    and read only the event and the session; ValidationError per field, nothing saved) and
    save; incoming events of the type are reshaped by it at once in this process, within
    CDP_EVENT_TYPE_CACHE_SECONDS in the others."""
    reshaping.full_clean()
    reshaping.save()
    event_type_registry.cache_clear()
    return reshaping


def reshaping_delete(*, reshaping: EventReshaping) -> None:
    reshaping.delete()
    event_type_registry.cache_clear()


def indexed_property_save(*, indexed: IndexedProperty) -> IndexedProperty:
    """Validate (a property path that parses, a plain trait name not indexed twice on the type:
    ValidationError per field, nothing saved) and save; it applies to events stored from now
    on, a re-index (apps.events.tasks.reindex_start) applies it to the stored ones."""
    indexed.full_clean(validate_constraints=False)
    taken = (
        IndexedProperty.objects.filter(event_type=indexed.event_type, trait=indexed.trait)
        .exclude(pk=indexed.pk)
        .first()
    )
    if taken is not None:
        raise ValidationError(
            {
                "trait": [
                    f"The trait {indexed.trait!r} is already indexed on this type (from "
                    f"properties.{taken.property}): pick another name or change that one."
                ]
            }
        )
    indexed.save()
    event_type_registry.cache_clear()
    return indexed


def indexed_property_delete(*, indexed: IndexedProperty) -> None:
    indexed.delete()
    event_type_registry.cache_clear()


def event_mappings_process(*, event_ids: Iterable[str]) -> None:
    """Apply the mappings of stored events to their profiles (re-applying mappings; tests): per
    profile, in event time order, one read under a row lock and one save. The consents of
    `consent-given` events are applied too, and their grants and revokes recorded."""
    events = list(
        Event.objects.filter(pk__in=list(event_ids), profile__isnull=False)
        .exclude(status=Event.Status.INVALID)
        .order_by("profile_id", "time", "inserted", "id")
    )
    for profile_id, group in groupby(events, key=lambda event: event.profile_id):
        profile_events = [
            event
            for event in group
            if event_type_has_mapping(event.type) or event_type_gives_consents(event.type)
        ]
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
            history = ConsentHistory()
            for event in profile_events:
                document = event_document(event)
                consents_before = consents_copy(after)
                mapping_apply(profile=after, event=document, session=sessions.get(event.session_id))
                if event_type_gives_consents(event.type):
                    consents_give(profile=after, event=document, at=event.time)
                history.note(
                    before=consents_before,
                    after=after,
                    via=ConsentChange.Via.EVENT,
                    by=event.pk,
                    at=event.time,
                )
            profile_save_changes(profile_id=profile_id, before=before, after=after)
            history.save(profile_id=profile_id)
