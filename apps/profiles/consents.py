"""Reading `Profile.consents` documents (pure functions, no queries): whether a consent is
valid, when the next one expires, and what changed between two versions.

An entry is {"grant": iso time, "revoke": iso time or null} (models.ConsentEntry). Entries
written before grant times were kept have only "revoke"; they read as granted at an unknown
time. Times without a zone are UTC, as everywhere in the CDP; a date alone is its start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime


def consent_time(value: Any) -> datetime | None:
    """An entry's ISO time as an aware datetime; None for null, empty or unreadable text."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        try:
            moment = parse_datetime(value.strip())
            if moment is None and (day := parse_date(value.strip())) is not None:
                # A date alone: its start (as PostgreSQL casts it, see profiles migration 0010).
                moment = datetime.combine(day, time.min)
        except ValueError:
            return None
        if moment is None:
            return None
    else:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def consent_entry_valid(entry: Any, now: datetime) -> bool:
    """Granted and not revoked: an entry whose revoke time is empty or still to come. An
    unreadable revoke time counts as revoked (a consent is never assumed)."""
    if not isinstance(entry, dict):
        return False
    revoke = entry.get("revoke")
    if revoke in (None, ""):
        return True
    moment = consent_time(revoke)
    return moment is not None and moment > now


def consent_valid(profile: dict | None, consent_type: str, now: datetime) -> bool:
    """Whether the profile document holds a valid consent of this type."""
    consents = (profile or {}).get("consents")
    if not isinstance(consents, dict):
        return False
    return consent_entry_valid(consents.get(consent_type), now)


def consents_next_revoke(consents: Any) -> datetime | None:
    """The earliest readable revoke time among the entries (what the auto-revoke job waits
    for), or None."""
    if not isinstance(consents, dict):
        return None
    times = [
        moment
        for entry in consents.values()
        if isinstance(entry, dict) and (moment := consent_time(entry.get("revoke"))) is not None
    ]
    return min(times, default=None)


def consents_copy(profile: dict | None) -> dict:
    """A copy of the profile document's consents deep enough to compare with later (writers
    replace or change entries in place)."""
    consents = (profile or {}).get("consents")
    if not isinstance(consents, dict):
        return {}
    return {
        key: dict(value) if isinstance(value, dict) else value for key, value in consents.items()
    }


@dataclass(frozen=True, slots=True)
class ConsentDelta:
    consent_type: str
    granted: bool
    # A grant: its grant time and revoke time, as read from the entry.
    grant_at: datetime | None = None
    revoke_at: datetime | None = None


def consents_changes(before: dict, after: dict) -> list[ConsentDelta]:
    """What changed between two versions of `consents`, by type id: a new or renewed entry
    (its grant or revoke time changed) is a grant, a removed one a revoke."""
    deltas = []
    for consent_type in sorted(before.keys() | after.keys()):
        old, new = before.get(consent_type), after.get(consent_type)
        if new is None and old is not None:
            deltas.append(ConsentDelta(consent_type, granted=False))
        elif new is not None and new != old:
            entry = new if isinstance(new, dict) else {}
            deltas.append(
                ConsentDelta(
                    consent_type,
                    granted=True,
                    grant_at=consent_time(entry.get("grant")),
                    revoke_at=consent_time(entry.get("revoke")),
                )
            )
    return deltas
