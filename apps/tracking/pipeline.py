"""The ingestion pipeline (DESIGN §6): one short transaction per request, workflows after commit.

1. the request is already parsed and validated (payload.py) and its source authenticated;
2. resolve profile and session (apps.profiles.services.identity);
3. write the events with one multi-row INSERT, whose id claim (apps.events.partitions) skips
   an id already stored in any partition, so a client retry that repeats an event id stores
   it once;
4. when rules that answer in the request route some of the stored events, run those
   workflows now, in a savepoint of the same transaction, within the time budget, and put
   their `response` and `ux` into the answer (answers.py): one commit for both, and a worker
   cannot take the events before their answering runs are recorded;
5. commit, then hand the events that need a worker to the workers (handoff.py).
"""

from dataclasses import dataclass, replace
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.exceptions import AccessDenied
from apps.core.ids import new_id
from apps.core.useragents import client_agent
from apps.destinations.services import (
    event_deliveries_schedule,
    event_destinations_matching,
)
from apps.events.bulk import events_insert
from apps.events.models import Event
from apps.events.registry import (
    event_reshaped,
    event_traits,
    event_type_tags,
    event_validation_error,
)
from apps.events.reshaping import session_context_merge
from apps.profiles.services.identity import Identity, identity_resolve
from apps.sources.models import EventSource
from apps.tracking import system_events
from apps.tracking.answers import AnsweringEvents, answering_events, request_answers_run
from apps.tracking.enrichment import utm_from_context
from apps.tracking.handoff import events_enqueue, unsaved_events_enqueue
from apps.tracking.payload import IncomingEvent, TrackRequest, server_event
from apps.tracking.referral import Referral, referred_profile_adopt
from apps.tracking.returning import ReturningVisit, returning_visit_store
from apps.tracking.routing import event_needs_processing
from apps.workflows.services.answers import RequestAnswer

# Counted in the profile's stats.views (Tracardi's page view counter).
PAGE_VIEW = "page-view"


@dataclass(frozen=True, slots=True)
class ClientInfo:
    ip: str | None
    user_agent: str
    headers: dict


def track_ingest(*, track: TrackRequest, source: EventSource, client: ClientInfo) -> dict | None:
    """Store a tracking request and answer in Tracardi's response shape (None: no events).

    An ephemeral (`transitional`) source stores the profile but neither the session nor the
    events, as Tracardi's does."""
    agent = client_agent(client.user_agent)
    if agent.is_bot and settings.CDP_DISALLOW_BOT_TRAFFIC:
        raise AccessDenied("Traffic from bot is not allowed.")
    if not track.events:
        return None
    now = timezone.now()
    store_events = track.save_events and not source.transitional
    request_block = {**track.request, "headers": client.headers, "ip": client.ip}
    page_views = sum(1 for event in track.events if event.type == PAGE_VIEW)
    incoming, session_context = _reshape(track, source_id=source.pk)
    answer = RequestAnswer()
    hands_off = track.save_profile and not track.profile_less
    if store_events and hands_off and track.save_session and not track.context.get("tracardi"):
        done = _returning_visit_ingest(
            track,
            incoming,
            source=source,
            client=client,
            now=now,
            is_bot=agent.is_bot,
            page_views=page_views,
            session_context=session_context,
            request_block=request_block,
        )
        if done is not None:
            return _answer(done, RequestAnswer(), referral_warning=None)
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                referral = Referral(track.profile_id)
                if hands_off and track.context.get("tracardi"):
                    referral = referred_profile_adopt(
                        context=track.context,
                        profile_id=track.profile_id,
                        session_id=track.session_id,
                    )
                identity = identity_resolve(
                    session_id=track.session_id,
                    profile_id=referral.profile_id,
                    profile_less=track.profile_less,
                    save_profile=track.save_profile,
                    save_session=track.save_session and not source.transitional,
                    trust_profile_id=source.static_profile_ids or track.trust_profile_id,
                    now=now,
                    context=session_context,
                    utm=utm_from_context(track.context),
                    properties=track.properties,
                    device=agent.device,
                    os=agent.os,
                    app=agent.app,
                    is_bot=agent.is_bot,
                    page_views=page_views,
                    ip=client.ip,
                )
                events = _event_documents(incoming, source, client, identity, now=now)
                if store_events:
                    events_insert(
                        events=events,
                        source_id=source.pk,
                        profile_id=identity.profile_id if identity.profile_stored else None,
                        session_id=identity.session_id if identity.session_stored else None,
                        inserted=now,
                        is_bot=agent.is_bot,
                        request=request_block,
                    )
                    event_deliveries_schedule(
                        event_ids=[event["id"] for event in events],
                        event_types={event["type"] for event in events},
                        source_id=source.pk,
                    )
                answering = _hand_off(
                    events,
                    stored=store_events,
                    identity=identity,
                    source_id=source.pk,
                    request=request_block,
                )
                # Last in the transaction: it takes the profile's lock, held until commit.
                answer = request_answers_run(events=answering) if answering else RequestAnswer()
            break
        except IntegrityError:
            # A merge committed between our profile lookup and our commit and deleted the
            # profile we resolved (foreign keys are checked at commit). Resolving again finds
            # the survivor through its `ids`.
            if attempt == 2:
                raise
    return _answer(identity, answer, referral_warning=referral.warning)


def _answer(identity: Identity, answer: RequestAnswer, *, referral_warning: str | None) -> dict:
    warnings: list[str] = [referral_warning] if referral_warning else []
    warnings.extend(answer.warnings)
    return {
        "task": new_id(),
        "ux": answer.ux,
        "response": answer.response,
        "events": [],
        # The shape stays without a profile or session: Tracardi's clients read profile.id.
        "profile": {"id": identity.client_profile_id if identity.profile_id else None},
        "session": {"id": identity.session_id},
        "errors": [],
        "warnings": warnings,
    }


def _returning_visit_ingest(
    track: TrackRequest,
    incoming: list[IncomingEvent],
    *,
    source: EventSource,
    client: ClientInfo,
    now: datetime,
    is_bot: bool,
    page_views: int,
    session_context: dict,
    request_block: dict,
) -> Identity | None:
    """Store a returning visitor's request in one statement (returning.py) when nothing in it
    needs the transaction: no event answered in the request or sent to an event destination.
    None when it does not apply: nothing was written."""
    if not (track.session_id and track.profile_id):
        return None
    identity = Identity(
        profile_id=track.profile_id,
        session_id=track.session_id,
        profile_stored=True,
        session_stored=True,
    )
    events = _event_documents(incoming, source, client, identity, now=now)
    if event_destinations_matching(
        source_id=source.pk, event_types={event["type"] for event in events}
    ) or answering_events(events, source_id=source.pk):
        return None
    visit = ReturningVisit(
        session_id=track.session_id,
        profile_id=track.profile_id,
        context=session_context,
        utm=utm_from_context(track.context),
        properties=track.properties,
        page_views=page_views,
    )
    if not returning_visit_store(
        visit, events=events, source_id=source.pk, now=now, is_bot=is_bot, request=request_block
    ):
        return None
    # Outside a transaction: the workers' messages go now, after the statement committed.
    _hand_off(events, stored=True, identity=identity, source_id=source.pk, request=request_block)
    return identity


def _reshape(track: TrackRequest, *, source_id: str) -> tuple[list[IncomingEvent], dict]:
    """The request's events after their types' reshapings (apps.events.reshaping), and the
    session context with what the reshapings add to it. A reshaping that could not run is
    said in the request's warnings."""
    events = []
    session_updates = []
    for event in track.events:
        reshaped = event_reshaped(
            event_type=event.type,
            source_id=source_id,
            properties=event.properties,
            context=event.context,
            traits=event.traits,
            session_context=track.context,
        )
        if reshaped is None or not reshaped.applied:
            events.append(event)
            if reshaped is not None and reshaped.warning:
                track.warnings.append(reshaped.warning)
            continue
        events.append(replace(event, properties=reshaped.properties, context=reshaped.context))
        session_updates.append(reshaped.session_context)
    return events, session_context_merge(track.context, session_updates)


def _event_documents(
    incoming: list[IncomingEvent],
    source: EventSource,
    client: ClientInfo,
    identity: Identity,
    *,
    now: datetime,
) -> list[dict]:
    """The request's events, then its system events, as the per-event columns of a row."""
    base_metadata = {
        "ip": client.ip,
        "channel": source.channel,
        "profile_less": identity.profile_id is None,
        # Kept even when the profile itself is not stored (saveProfile=false).
        "profile_id": identity.profile_id,
    }
    events = list(incoming)
    client_types = [event.type for event in incoming]
    if identity.profile_created:
        events.append(server_event(system_events.PROFILE_CREATED, {}))
    if identity.session_created:
        events.append(server_event(system_events.SESSION_OPENED, {}))
    if identity.visit_started:
        events.append(
            server_event(system_events.VISIT_STARTED, {"trigger-event-types": client_types})
        )
    inserted = now.isoformat()
    documents = []
    for event in events:
        created = (event.time or now).isoformat()
        invalid = event_validation_error(event_type=event.type, properties=event.properties)
        if invalid:
            status = Event.Status.INVALID
        elif event_needs_processing(source_id=source.pk, event_type=event.type):
            status = Event.Status.COLLECTED
        else:
            status = Event.Status.PROCESSED
        insert = event.inserted.isoformat() if event.inserted else inserted
        tags = _event_tags(event.tags, event_type_tags(event.type))
        documents.append(
            {
                "id": event.id or new_id(),
                "type": event.type,
                "time": created,
                "status": status.value,
                "status_message": invalid or "",
                "properties": event.properties,
                "context": event.context,
                "traits": event_traits(
                    event_type=event.type, properties=event.properties, traits=event.traits
                ),
                "metadata": {
                    **(event.metadata or {}),
                    **base_metadata,
                    "time": {"insert": insert, "create": created},
                },
                "tags": {"values": tags, "count": len(tags)},
                "hit": _hit(event.context),
            }
        )
    return documents


def _event_tags(own: list[str], of_type: tuple[str, ...]) -> list[str]:
    """The client's tags, then those of the event type it lacks."""
    if not of_type:
        return own
    return [*own, *(tag for tag in of_type if tag not in own)]


def _hit(context: dict) -> dict:
    """Tracardi's `hit` of an event: the page's title (as `name`), URL and referring host."""
    page = context.get("page")
    if not isinstance(page, dict):
        return {}
    referer = page.get("referer")
    hit = {
        "name": page.get("title"),
        "url": page.get("url"),
        "referer": referer.get("host") if isinstance(referer, dict) else None,
    }
    return {key: value for key, value in hit.items() if value is not None}


def _hand_off(
    events: list[dict], *, stored: bool, identity: Identity, source_id: str, request: dict
) -> AnsweringEvents | None:
    """Enqueue the routed events for the workers at commit; when rules that answer in the
    request route some of them, nothing is enqueued and they are returned instead: the
    answering runs come first and hand off what they leave (answers.py). Events that were
    not stored always go to the workers."""
    routed = [event for event in events if event["status"] == Event.Status.COLLECTED]
    if not routed:
        return None
    profile_id = identity.profile_id
    if stored:
        answering = answering_events(routed, source_id=source_id)
        if answering:
            return AnsweringEvents(
                routed=routed,
                answering=answering,
                source_id=source_id,
                profile_id=profile_id if identity.profile_stored else None,
                session_id=identity.session_id if identity.session_stored else None,
            )
        events_enqueue(event_ids=[event["id"] for event in routed], profile_id=profile_id)
        return None
    # Not stored (ephemeral source, saveEvents=false): the message carries the whole event.
    copies = [
        {
            **event,
            "source_id": source_id,
            "profile_id": profile_id,
            "session_id": identity.session_id if identity.session_stored else None,
            "request": request,
        }
        for event in routed
    ]
    unsaved_events_enqueue(events=copies, profile_id=profile_id)
    return None
