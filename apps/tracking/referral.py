"""Cross-domain hand-off: a visitor who follows a link between a company's own domains stays
one person (Tracardi's `__tr_pid` / `__tr_src`).

The tracker on the first site adds `__tr_pid=<profile id>&__tr_src=<source id>` to links to
the configured domains (`settings.trackExternalLinks`); the tracker on the second site sends
them as `context.tracardi.pass.{profile, source}`. The server then adopts the referred profile
for the request, or, when the visitor already has a profile on the second site, merges that
one into the referred one (as Tracardi does).

The same safety as the identity rules (apps.profiles.services.identity), since the values come
from a URL anybody can write:
- the referred source must exist and be enabled;
- the referred profile must already exist and be named by a server-issued id (its own or one
  merged into it): a static id a client chose does not resolve here, and an unknown id is
  never created;
- anything refused is ignored (the request goes on as if there were no hand-off) and said
  back in the answer's `warnings`.

A request without `context.tracardi.pass` costs nothing here (no query).
"""

from dataclasses import dataclass

from apps.profiles.selectors import profile_id_resolve
from apps.profiles.services.merge import MergeError, profiles_merge
from apps.profiles.services.sessions import session_state
from apps.sources.selectors import event_source_get_cached

MERGE_REASON = "cross-domain hand-off (__tr_pid)"


@dataclass(frozen=True, slots=True)
class Referral:
    profile_id: str | None  # the profile id the request goes on with
    warning: str | None = None


def referral_from_context(context: dict) -> tuple[str | None, str | None]:
    """(referred profile id, referred source id) from `context.tracardi.pass`, trimmed."""
    tracardi = context.get("tracardi")
    handed = tracardi.get("pass") if isinstance(tracardi, dict) else None
    if not isinstance(handed, dict):
        return None, None
    return _text(handed.get("profile")), _text(handed.get("source"))


def _text(value) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip()[:64] or None


def referred_profile_adopt(
    *, context: dict, profile_id: str | None, session_id: str | None
) -> Referral:
    """The profile id the request should use after a hand-off in `context` (the request's own
    `profile_id` when there is none, or when it is refused). Runs inside the ingest
    transaction: a merge it makes commits or rolls back with the request."""
    referred_id, source_id = referral_from_context(context)
    if referred_id is None or referred_id == profile_id:
        return Referral(profile_id)
    if source_id is None:
        return Referral(profile_id, _ignored(referred_id, "it names no source (__tr_src)"))
    source = event_source_get_cached(source_id=source_id)
    if source is None:
        return Referral(profile_id, _ignored(referred_id, f"the source {source_id} is unknown"))
    if not source.enabled:
        return Referral(profile_id, _ignored(referred_id, f"the source {source_id} is disabled"))
    referred = profile_id_resolve(profile_id=referred_id, static=False)
    if referred is None:
        return Referral(profile_id, _ignored(referred_id, "no such profile"))
    current = _current_profile(profile_id=profile_id, session_id=session_id)
    if current is not None and current != referred.id:
        try:
            profiles_merge(profile_ids=[referred.id, current], reason=MERGE_REASON, actor="tracker")
        except MergeError as error:
            return Referral(profile_id, _ignored(referred_id, str(error)))
    return Referral(referred.id)


def _current_profile(*, profile_id: str | None, session_id: str | None) -> str | None:
    """The stored profile this visitor has on this site: its session's (the session wins),
    else the one its profile id names (server-issued ids only)."""
    if session_id:
        state = session_state(session_id=session_id)
        if state is not None and state.profile_id:
            return state.profile_id
    if profile_id:
        found = profile_id_resolve(profile_id=profile_id, static=False)
        if found is not None:
            return found.id
    return None


def _ignored(referred_id: str, reason: str) -> str:
    return f"context.tracardi.pass: the referred profile {referred_id} was ignored: {reason}."
