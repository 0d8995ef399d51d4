"""Profile and session resolution for one tracking request (DESIGN §4.2).

- The session wins: a stored session with a profile decides the profile.
- Otherwise the client's profile id is looked up by `id` or in any profile's `ids` (merged ids).
- An unknown profile id is never trusted (a fresh id is used) unless the source allows static
  profile ids, or the request comes from a body path the source names (/collect).
- A new session, or one idle for longer than the visit timeout, starts a visit.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from apps.core.ids import new_id
from apps.core.rows import insert_unless_exists
from apps.core.useragents import ClientAgent
from apps.profiles.erasure import profile_id_is_forgotten
from apps.profiles.models import Profile, Session, empty_profile_data
from apps.sources.models import EventSource
from apps.tracking import storage
from apps.tracking.enrichment import utm_from_context
from apps.tracking.payload import TrackRequest


@dataclass(slots=True)
class Identity:
    profile_id: str | None
    session_id: str | None
    profile_stored: bool
    session_stored: bool
    profile_created: bool = False
    session_created: bool = False
    visit_started: bool = False


def profile_id_resolve(*, profile_id: str) -> str | None:
    """The id of the profile that has this id as its own or merged into it (one indexed query,
    the id only: a returning visitor's profile row is read only if a visit must be counted)."""
    return (
        Profile.objects.filter(Q(pk=profile_id) | Q(ids__contains=[profile_id]))
        .order_by("-updated")
        .values_list("pk", flat=True)
        .first()
    )


def identity_resolve(
    *, track: TrackRequest, source: EventSource, agent: ClientAgent, now: datetime
) -> Identity:
    """Find or create the profile and session of a request. Runs inside the ingest transaction.

    A returning visitor costs one statement (the session touch); a new one a few inserts."""
    if track.profile_less:
        return Identity(None, None, profile_stored=False, session_stored=False)
    save_profile = track.save_profile and not source.transitional
    save_session = track.save_session and not source.transitional

    existing = None
    if track.session_id:
        existing = (
            storage.session_touch(
                session_id=track.session_id,
                now=now,
                context=track.context,
                utm=utm_from_context(track.context),
                properties=track.properties,
            )
            if save_session
            else storage.session_state(session_id=track.session_id)
        )

    profile = None  # an unsaved Profile when this request creates one
    if existing is not None and existing.profile_id:
        profile_id = existing.profile_id  # the session wins
    else:
        profile_id, profile = _profile_for_request(track=track, source=source, now=now)
    profile_is_new = profile is not None
    identity = Identity(
        profile_id=profile_id,
        session_id=track.session_id or new_id(),
        profile_stored=save_profile,
        session_stored=save_session,
        profile_created=profile_is_new,
    )

    if existing is None:
        identity.session_created = identity.visit_started = True
        if save_session:
            session = _session_build(identity, track, agent, now, profile_stored=save_profile)
            if not insert_unless_exists(session):
                # A concurrent first request stored this session first: its profile wins.
                winner = storage.session_touch(
                    session_id=session.pk, now=now, context={}, utm={}, properties={}
                )
                identity.session_created = identity.visit_started = False
                if winner.profile_id:
                    identity.profile_id = winner.profile_id
                    identity.profile_created = False
                elif save_profile:
                    storage.session_attach_profile(session_id=session.pk, profile_id=profile_id)
    else:
        timeout = timedelta(minutes=settings.CDP_VISIT_TIMEOUT_MINUTES)
        identity.visit_started = existing.updated < now - timeout
        if save_session and save_profile and existing.profile_id is None:
            storage.session_attach_profile(session_id=track.session_id, profile_id=profile_id)

    if save_profile:
        if identity.profile_created:
            _profile_insert(profile, now=now)
        elif identity.visit_started:
            _profile_visit(profile_id=identity.profile_id, now=now)
    return identity


def _profile_for_request(
    *, track: TrackRequest, source: EventSource, now: datetime
) -> tuple[str, Profile | None]:
    """The request's profile id, and the unsaved profile when the request creates one."""
    if track.profile_id:
        found = profile_id_resolve(profile_id=track.profile_id)
        if found is not None:
            return found, None
        trusted = source.static_profile_ids or track.trust_profile_id
        # An erased person's ids never resolve again, not even as a static id.
        if trusted and not profile_id_is_forgotten(track.profile_id):
            profile = _profile_new(track.profile_id, now)
            return profile.pk, profile
    profile = _profile_new(new_id(), now)
    return profile.pk, profile


def _profile_new(profile_id: str, now: datetime) -> Profile:
    iso = now.isoformat()
    return Profile(
        id=profile_id,
        created=now,
        updated=now,
        visit_count=0,
        metadata={
            "time": {
                "insert": iso,
                "create": iso,
                "update": iso,
                "visit": {"last": None, "current": None, "count": 0, "tz": None},
            },
            "fields": {},
        },
        data=empty_profile_data(),
    )


def _profile_insert(profile: Profile, *, now: datetime) -> None:
    _visit_rotate(profile, now)
    if not insert_unless_exists(profile):
        # A static profile id created by a concurrent request: count this visit on it.
        _profile_visit(profile_id=profile.pk, now=now)


def _profile_visit(*, profile_id: str, now: datetime) -> None:
    profile = (
        Profile.objects.select_for_update()
        .only("id", "metadata", "visit_count", "updated")
        .filter(pk=profile_id)
        .first()
    )
    if profile is None:
        return
    _visit_rotate(profile, now)
    profile.updated = now
    profile.save(update_fields=["metadata", "visit_count", "updated"])


def _visit_rotate(profile: Profile, now: datetime) -> None:
    time_block = profile.metadata.setdefault("time", {})
    visit = time_block.setdefault("visit", {"last": None, "current": None, "count": 0})
    visit["last"] = visit.get("current")
    visit["current"] = now.isoformat()
    visit["count"] = int(visit.get("count") or 0) + 1
    time_block["update"] = now.isoformat()
    profile.visit_count = visit["count"]


def _session_build(
    identity: Identity, track: TrackRequest, agent: ClientAgent, now: datetime, *, profile_stored
) -> Session:
    context = track.context
    return Session(
        id=identity.session_id,
        profile_id=identity.profile_id if profile_stored else None,
        created=now,
        updated=now,
        is_bot=agent.is_bot,
        metadata={
            "time": {"insert": now.isoformat(), "timestamp": now.timestamp()},
            "status": "started",
            "channel": context.get("channel") or "",
        },
        device={**agent.device, **_as_dict(context.get("device"))},
        os=agent.os,
        app={**agent.app, "language": _browser_language(context)},
        utm=utm_from_context(context),
        context=context,
        properties=track.properties,
    )


def _as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _browser_language(context: dict) -> str | None:
    # Tracardi's tracker sends context.browser.local.browser.language; others send it flat.
    browser = _as_dict(context.get("browser"))
    local_browser = _as_dict(_as_dict(browser.get("local")).get("browser"))
    return local_browser.get("language") or browser.get("language")
