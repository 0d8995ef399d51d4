"""The ingestion pipeline (DESIGN §6): one short transaction per request, workflows after commit.

1. the request is already parsed and validated (payload.py) and its source authenticated;
2. resolve profile and session (identity.py);
3. write the events with one multi-row INSERT ... ON CONFLICT (id) DO NOTHING, so a client
   retry that repeats an event id stores it once;
4. commit, then hand the routed events to the workflows (apps.workflows.routing).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.ids import new_id
from apps.destinations.services import event_deliveries_schedule_on_commit
from apps.events.mapping import event_type_has_mapping
from apps.events.models import Event
from apps.events.validation import event_validation_error
from apps.profiles.identification import event_type_identifies
from apps.sources.models import EventSource
from apps.tracking.enrichment import client_agent
from apps.tracking.identity import Identity, identity_resolve
from apps.tracking.payload import TrackRequest, server_event
from apps.workflows import routing

SYSTEM_PROFILE_CREATED = "profile-created"
SYSTEM_SESSION_OPENED = "session-opened"
SYSTEM_VISIT_STARTED = "visit-started"


@dataclass(frozen=True, slots=True)
class ClientInfo:
    ip: str | None
    user_agent: str
    headers: dict


def track_ingest(*, track: TrackRequest, source: EventSource, client: ClientInfo) -> dict | None:
    """Store a tracking request and answer in Tracardi's response shape (None: no events)."""
    if not track.events:
        return None
    now = timezone.now()
    agent = client_agent(client.user_agent)
    store_events = track.save_events and not source.transitional
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                identity = identity_resolve(track=track, source=source, agent=agent, now=now)
                rows = _event_rows(track, source, client, identity, is_bot=agent.is_bot, now=now)
                if store_events:
                    Event.objects.bulk_create(rows, ignore_conflicts=True)
                    event_deliveries_schedule_on_commit(events=rows, source_id=source.pk)
                _hand_off_on_commit(rows, stored=store_events, profile_id=identity.profile_id)
            break
        except IntegrityError:
            # A merge committed between our profile lookup and our commit and deleted the
            # profile we resolved (foreign keys are checked at commit). Resolving again finds
            # the survivor through its `ids`.
            if attempt == 2:
                raise
    return {
        "task": new_id(),
        "ux": [],
        "response": {},
        "events": [],
        "profile": {"id": identity.profile_id} if identity.profile_id else None,
        "session": {"id": identity.session_id} if identity.session_id else None,
        "errors": [],
        "warnings": [],
    }


def _event_rows(
    track: TrackRequest,
    source: EventSource,
    client: ClientInfo,
    identity: Identity,
    *,
    is_bot: bool,
    now: datetime,
) -> list[Event]:
    request_block = {**track.request, "headers": client.headers, "ip": client.ip}
    profile_id = identity.profile_id if identity.profile_stored else None
    session_id = identity.session_id if identity.session_stored else None
    base_metadata = {
        "ip": client.ip,
        "channel": source.channel,
        "profile_less": identity.profile_id is None,
        # Kept even when the profile itself is not stored (saveProfile=false).
        "profile_id": identity.profile_id,
    }
    events = list(track.events)
    client_types = [event.type for event in track.events]
    if identity.profile_created:
        events.append(server_event(SYSTEM_PROFILE_CREATED, {}))
    if identity.session_created:
        events.append(server_event(SYSTEM_SESSION_OPENED, {}))
    if identity.visit_started:
        events.append(server_event(SYSTEM_VISIT_STARTED, {"trigger-event-types": client_types}))
    rows = []
    for event in events:
        created = event.time or now
        invalid = event_validation_error(event_type=event.type, properties=event.properties)
        if invalid:
            status = Event.Status.INVALID
        elif _needs_processing(source_id=source.pk, event_type=event.type):
            status = Event.Status.COLLECTED
        else:
            status = Event.Status.PROCESSED
        rows.append(
            Event(
                id=event.id or new_id(),
                type=event.type,
                source_id=source.pk,
                profile_id=profile_id,
                session_id=session_id,
                time=created,
                inserted=now,
                status=status,
                status_message=invalid or "",
                is_bot=is_bot,
                properties=event.properties,
                context=event.context,
                traits=event.traits,
                metadata={
                    **base_metadata,
                    "time": {"insert": now.isoformat(), "create": created.isoformat()},
                },
                request=request_block,
                tags={"values": event.tags, "count": len(event.tags)},
            )
        )
    return rows


def _needs_processing(*, source_id: str, event_type: str) -> bool:
    """Whether a worker must see the event: a rule routes it to a workflow, its type maps
    properties onto the profile, or an identification point listens to it (all cached)."""
    return (
        routing.event_is_routed(source_id=source_id, event_type=event_type)
        or event_type_has_mapping(event_type)
        or event_type_identifies(event_type)
    )


def _hand_off_on_commit(rows: list[Event], *, stored: bool, profile_id: str | None) -> None:
    routed = [row for row in rows if row.status == Event.Status.COLLECTED]
    if not routed:
        return
    if stored:
        event_ids = [row.pk for row in routed]
        transaction.on_commit(
            lambda: routing.events_enqueue(event_ids=event_ids, profile_id=profile_id)
        )
    else:
        copies = [event_as_message(row) for row in routed]
        transaction.on_commit(
            lambda: routing.unsaved_events_enqueue(events=copies, profile_id=profile_id)
        )


def event_as_message(row: Event) -> dict:
    """An event as plain JSON for a task message (used when the event is not stored)."""
    return {
        "id": row.pk,
        "type": row.type,
        "source_id": row.source_id,
        "profile_id": row.metadata.get("profile_id"),
        "session_id": row.session_id,
        "time": row.time.isoformat(),
        "properties": row.properties,
        "context": row.context,
        "traits": row.traits,
        "metadata": row.metadata,
        "request": row.request,
        "tags": row.tags,
    }
