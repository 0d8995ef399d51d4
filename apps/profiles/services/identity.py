"""Profile and session resolution for one tracking request (DESIGN §4.2).

- The session wins: a stored session with a profile decides the profile.
- Otherwise the client's profile id is looked up by `id` or in any profile's `ids` (merged ids).
- An unknown profile id is never trusted (a fresh id is used) unless the caller trusts it (the
  source allows static profile ids, or /collect took it from a body path the source names).
- The bearer model: a server-issued profile id is an unguessable UUID that only its client was
  given, so holding it is the credential. An id a client chose (a static id, a CRM number) is
  no secret: the profile records it in `static_ids`, and only trusted requests resolve it.
  Elsewhere it is an unknown id, and the stranger gets a fresh profile (README "Profile ids").
- A new session, or one idle for longer than the visit timeout, starts a visit.
- A new session is located from the request's IP (apps.profiles.geo): its `device.geo`, and
  its profile's `data.devices.last.geo` (Tracardi's fields); a returning one costs no lookup.

The caller (apps.tracking) passes what it parsed from the request as plain values.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings

from apps.core.ids import new_id
from apps.core.rows import insert_unless_exists
from apps.profiles.documents import profile_new
from apps.profiles.geo import session_geo
from apps.profiles.models import Profile, Session
from apps.profiles.selectors import profile_id_is_forgotten, profile_id_resolve
from apps.profiles.services.sessions import (
    profile_views_add,
    session_attach_profile,
    session_state,
    session_touch,
)


@dataclass(slots=True)
class Identity:
    profile_id: str | None
    session_id: str | None
    profile_stored: bool
    session_stored: bool
    profile_created: bool = False
    session_created: bool = False
    visit_started: bool = False
    # The id to answer with when the profile's own id is static and the request is not trusted:
    # the server-issued id the client sent (merged into the profile), which it can send again.
    answer_profile_id: str | None = None

    @property
    def client_profile_id(self) -> str | None:
        """The profile id the client should keep (Tracardi's `profile.id` in the answer)."""
        return self.answer_profile_id or self.profile_id


@dataclass(frozen=True, slots=True)
class _Visit:
    """What a request says about its session: merged into a stored one, or the new one."""

    context: dict
    utm: dict
    properties: dict
    device: dict
    os: dict
    app: dict
    is_bot: bool
    ip: str | None = None
    geo: dict | None = None


def identity_resolve(
    *,
    session_id: str | None,
    profile_id: str | None,
    profile_less: bool,
    save_profile: bool,
    save_session: bool,
    trust_profile_id: bool,
    now: datetime,
    context: dict,
    utm: dict,
    properties: dict,
    device: dict,
    os: dict,
    app: dict,
    is_bot: bool,
    page_views: int = 0,
    ip: str | None = None,
) -> Identity:
    """Find or create the profile and session of a request. Runs inside the ingest transaction.

    `save_profile` / `save_session`: whether they are stored at all; `trust_profile_id`: the
    client may name a profile by a static id, and an unknown `profile_id` becomes the new
    profile's (static) id (else static ids do not resolve, and a fresh id is used); `device`, `os`,
    `app`, `is_bot`: the parsed user agent, for a new session; `page_views`: the request's
    page-view events, added to the profile's `stats.views` (Tracardi's counter; `stats.visits`
    follows the visit count); `ip`: the client's, located when the session is new.

    A returning visitor costs one statement (the session touch, which also counts the page
    views); a new one a few inserts."""
    if not save_profile:
        page_views = 0
    if profile_less:
        return Identity(None, None, profile_stored=False, session_stored=False)
    visit = _Visit(context, utm, properties, device, os, app, is_bot, ip=ip)

    existing = None
    if session_id:
        existing = (
            session_touch(
                session_id=session_id,
                now=now,
                context=context,
                utm=utm,
                properties=properties,
                page_views=page_views,
            )
            if save_session
            else session_state(session_id=session_id)
        )

    profile = None  # an unsaved Profile when this request creates one
    answer_id = None
    if existing is not None and existing.profile_id:
        resolved_id = existing.profile_id  # the session wins
    else:
        resolved_id, profile, answer_id = _profile_for_request(
            profile_id=profile_id, trusted=trust_profile_id, now=now
        )
    identity = Identity(
        profile_id=resolved_id,
        session_id=session_id or new_id(),
        profile_stored=save_profile,
        session_stored=save_session,
        profile_created=profile is not None,
        answer_profile_id=answer_id,
    )

    views_counted = existing is not None and existing.views_counted
    if existing is None:
        identity.session_created = identity.visit_started = True
        if save_session or save_profile:
            visit = replace(visit, geo=session_geo(ip))
        if save_session:
            session = _session_build(identity, visit, now, profile_stored=save_profile)
            if not insert_unless_exists(session):
                # A concurrent first request stored this session first: its profile wins.
                winner = session_touch(
                    session_id=session.pk,
                    now=now,
                    context={},
                    utm={},
                    properties={},
                    page_views=page_views,
                )
                views_counted = winner.views_counted
                identity.session_created = identity.visit_started = False
                if winner.profile_id:
                    identity.profile_id = winner.profile_id
                    identity.profile_created = False
                    visit = replace(visit, geo=None)  # the winner located its session
                    identity.answer_profile_id = None
                elif save_profile:
                    session_attach_profile(session_id=session.pk, profile_id=resolved_id)
    else:
        timeout = timedelta(minutes=settings.CDP_VISIT_TIMEOUT_MINUTES)
        identity.visit_started = existing.updated < now - timeout
        if save_session and save_profile and existing.profile_id is None:
            session_attach_profile(session_id=session_id, profile_id=resolved_id)

    if save_profile:
        views = 0 if views_counted else page_views
        tz = time_zone_from_context(context)
        if identity.profile_created:
            _last_geo_set(profile.data, visit.geo)
            _profile_insert(profile, now=now, page_views=views, tz=tz, geo=visit.geo)
        elif identity.visit_started:
            _profile_visit(
                profile_id=identity.profile_id, now=now, page_views=views, tz=tz, geo=visit.geo
            )
        elif views:
            profile_views_add(profile_id=identity.profile_id, page_views=views)
    return identity


def _profile_for_request(
    *, profile_id: str | None, trusted: bool, now: datetime
) -> tuple[str, Profile | None, str | None]:
    """The request's profile id, the unsaved profile when the request creates one, and the id
    to answer with when it differs (see Identity.answer_profile_id)."""
    if profile_id:
        found = profile_id_resolve(profile_id=profile_id, static=trusted)
        if found is not None:
            # Untrusted, the id sent resolved, so it is a server-issued one merged into a
            # profile whose own id is static: the client keeps the id it can send again.
            answer_id = profile_id if found.own_id_static and not trusted else None
            return found.id, None, answer_id
        # An erased person's ids never resolve again, not even as a static id.
        if trusted and not profile_id_is_forgotten(profile_id):
            profile = profile_new(profile_id=profile_id, now=now)
            profile.static_ids = [profile_id]
            return profile.pk, profile, None
    profile = profile_new(profile_id=new_id(), now=now)
    return profile.pk, profile, None


def time_zone_from_context(context: dict) -> str | None:
    """The browser's time zone name (Tracardi's tracker sends context.time.tz)."""
    time_block = context.get("time")
    tz = time_block.get("tz") if isinstance(time_block, dict) else None
    return tz[:64] if isinstance(tz, str) and tz.strip() else None


def _profile_insert(
    profile: Profile, *, now: datetime, page_views: int, tz: str | None, geo: dict | None = None
) -> None:
    _visit_rotate(profile, now, page_views=page_views, tz=tz)
    if not insert_unless_exists(profile):
        # A static profile id created by a concurrent request: count this visit on it.
        _profile_visit(profile_id=profile.pk, now=now, page_views=page_views, tz=tz, geo=geo)


def _profile_visit(
    *, profile_id: str, now: datetime, page_views: int, tz: str | None, geo: dict | None = None
) -> None:
    fields = ["metadata", "visit_count", "stats", "updated"]
    if geo is not None:
        fields.append("data")  # read only when it changes: it can be the largest column
    profile = Profile.objects.select_for_update().only("id", *fields).filter(pk=profile_id).first()
    if profile is None:
        return
    _visit_rotate(profile, now, page_views=page_views, tz=tz)
    if geo is not None:
        profile.data = profile.data if isinstance(profile.data, dict) else {}
        _last_geo_set(profile.data, geo)
    profile.updated = now
    profile.save(update_fields=fields)


def _last_geo_set(data: dict, geo: dict | None) -> None:
    """Tracardi's profile.data.devices.last.geo: where the newest session was located."""
    if geo is None:
        return
    devices = data.get("devices") if isinstance(data.get("devices"), dict) else {}
    last = devices.get("last") if isinstance(devices.get("last"), dict) else {}
    data["devices"] = {**devices, "last": {**last, "geo": geo}}


def _visit_rotate(profile: Profile, now: datetime, *, page_views: int, tz: str | None) -> None:
    """Count a visit (metadata.time.visit, `visit_count` and Tracardi's `stats.visits`, which
    always equals it) and the request's page views (`stats.views`); the visit's time zone is
    the browser's, as Tracardi's `visit.tz`."""
    time_block = profile.metadata.setdefault("time", {})
    visit = time_block.setdefault("visit", {"last": None, "current": None, "count": 0})
    if tz:
        visit["tz"] = tz
    visit["last"] = visit.get("current")
    visit["current"] = now.isoformat()
    visit["count"] = int(visit.get("count") or 0) + 1
    time_block["update"] = now.isoformat()
    profile.visit_count = visit["count"]
    stats = profile.stats if isinstance(profile.stats, dict) else {}
    stats["visits"] = profile.visit_count
    views = stats.get("views")
    if page_views or not _is_number(views):
        stats["views"] = (views if _is_number(views) else 0) + page_views
    profile.stats = stats


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _session_build(identity: Identity, visit: _Visit, now: datetime, *, profile_stored) -> Session:
    context = visit.context
    return Session(
        id=identity.session_id,
        profile_id=identity.profile_id if profile_stored else None,
        created=now,
        updated=now,
        is_bot=visit.is_bot,
        metadata={
            "time": {
                "insert": now.isoformat(),
                "timestamp": now.timestamp(),
                "tz": time_zone_from_context(context),
            },
            "status": "started",
            "channel": context.get("channel") or "",
        },
        device={**visit.device, **_as_dict(context.get("device")), **_device_geo(visit)},
        os=visit.os,
        app={**visit.app, "language": _browser_language(context)},
        utm=visit.utm,
        context=context,
        properties=visit.properties,
    )


def _device_geo(visit: _Visit) -> dict:
    """Tracardi's session.device.ip and .geo, when the IP was located."""
    return {"ip": visit.ip, "geo": visit.geo} if visit.geo is not None else {}


def _as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _browser_language(context: dict) -> str | None:
    # Tracardi's tracker sends context.browser.local.browser.language; others send it flat.
    browser = _as_dict(context.get("browser"))
    local_browser = _as_dict(_as_dict(browser.get("local")).get("browser"))
    return local_browser.get("language") or browser.get("language")
