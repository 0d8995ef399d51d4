"""Consents on profiles: the `consent-given` event applied to a profile document, the history
of grants and revokes (ConsentChange rows), and the auto-revoke of expired consents.

The `consent-given` event is the contract with the consent bar:
`properties.consents = {"<consent type id>": true | false, ...}`. Its effect cannot be said
with mapping rules (it reads the consent types), so it is a profile step of its own that the
event processing runs right after the event type's mapping (`consents_give`).

History is recorded by comparing versions of `consents` (`ConsentHistory.note`): each writer
says who changed them — the visitor's event, a workflow, the auto-revoke job, an admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.profiles.consents import consent_entry_valid, consents_copy, consents_next_revoke
from apps.profiles.documents import profile_document
from apps.profiles.models import ConsentChange, Profile
from apps.profiles.selectors import consent_types_enabled
from apps.profiles.services.consent_history import ConsentHistory
from apps.profiles.services.writes import profile_save_changes

CONSENT_GIVEN = "consent-given"
# Profiles per auto-revoke batch (one transaction): each costs a row update and its
# `profile_changed` (segments, destination syncs); the task re-enqueues itself while more
# are due.
AUTO_REVOKE_BATCH = 500
AUTO_REVOKE_BY = "auto-revoke"

Via = ConsentChange.Via


def event_type_gives_consents(event_type: str) -> bool:
    return event_type == CONSENT_GIVEN


def consents_give(*, profile: dict, event: dict, at: datetime) -> list[str]:
    """Apply a `consent-given` event to the profile document (in place): each `true` of a
    known, enabled type grants it from `at` (until `at` + the type's auto-revoke days, or
    for good); each `false` removes it when the type is revokable (a non-revokable consent,
    once granted, stays). Returns readable notes on what was ignored, for the event."""
    given = (event.get("properties") or {}).get("consents")
    if not isinstance(given, dict):
        return [
            "properties.consents must be an object of consent type ids to true or false, e.g. "
            '{"marketing": true}; nothing was changed.'
        ]
    if not given:
        return []
    types = {item.pk: item for item in consent_types_enabled(ids=[str(key) for key in given])}
    consents = profile.get("consents")
    if not isinstance(consents, dict):
        consents = profile["consents"] = {}
    notes = []
    # In id order: the stored properties (JSONB) keep no order of their own.
    for consent_id, value in sorted(given.items()):
        consent_type = types.get(consent_id)
        if consent_type is None:
            notes.append(f"Consent type '{consent_id}' is unknown or disabled; ignored.")
        elif not isinstance(value, bool):
            notes.append(f"Consent '{consent_id}': {value!r} is not true or false; ignored.")
        elif value:
            days = consent_type.auto_revoke_days
            consents[consent_id] = {
                "grant": at.isoformat(),
                "revoke": (at + timedelta(days=days)).isoformat() if days else None,
            }
        elif consent_id in consents:
            if consent_type.revokable:
                del consents[consent_id]
            else:
                notes.append(f"Consent '{consent_id}' cannot be revoked; it stays granted.")
    return notes


@dataclass(frozen=True, slots=True)
class AutoRevoked:
    profiles: int
    consents: int
    more: bool


def consents_revoke_expired(
    *, now: datetime | None = None, batch_size: int = AUTO_REVOKE_BATCH
) -> AutoRevoked:
    """Revoke the expired consents (revoke time reached) of up to `batch_size` profiles, in
    one transaction: found through the partial index on `consents_next_revoke` (never a scan
    of all profiles), locked with SKIP LOCKED (a profile being written is taken next time),
    each saved with `profile_save_changes` (segments and destination syncs follow) and its
    history recorded. `more` says whether another batch is due."""
    now = now or timezone.now()
    revoked = 0
    with transaction.atomic():
        profiles = list(
            Profile.objects.select_for_update(skip_locked=True)
            .filter(consents_next_revoke__lte=now)
            .order_by("consents_next_revoke", "id")[: batch_size + 1]
        )
        for profile in profiles[:batch_size]:
            before = profile_document(profile)
            kept = {
                key: value
                for key, value in (before.get("consents") or {}).items()
                if consent_entry_valid(value, now)
            }
            after = {**before, "consents": kept}
            history = ConsentHistory()
            history.note(
                before=consents_copy(before),
                after=after,
                via=Via.AUTO_REVOKE,
                by=AUTO_REVOKE_BY,
                at=now,
            )
            revoked += len(history.rows)
            if not profile_save_changes(profile_id=profile.pk, before=before, after=after, now=now):
                # Nothing had expired: the column was stale (consents written by a path that
                # does not keep it). Set it right, or this profile would be taken every run.
                Profile.objects.filter(pk=profile.pk).update(
                    consents_next_revoke=consents_next_revoke(kept)
                )
            history.save(profile_id=profile.pk)
    return AutoRevoked(
        profiles=min(len(profiles), batch_size), consents=revoked, more=len(profiles) > batch_size
    )
