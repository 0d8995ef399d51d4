"""The history of a profile's consents: ConsentChange rows, found by comparing versions of
`Profile.consents` (each writer says who changed them), saved in one insert."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from apps.profiles.consents import consents_changes, consents_copy
from apps.profiles.models import ConsentChange, Profile


@dataclass
class ConsentHistory:
    """The grants and revokes seen while a profile document changes, saved in one insert."""

    rows: list[ConsentChange] = field(default_factory=list)

    def note(self, *, before: dict, after: dict | None, via: str, by: str, at: datetime) -> None:
        """Record what differs between `before` (a `consents_copy`) and the document's
        consents now. A grant is dated by its entry's grant time when it has one."""
        for delta in consents_changes(before, consents_copy(after)):
            self.rows.append(
                ConsentChange(
                    consent_type=delta.consent_type[:64],
                    action=ConsentChange.Action.GRANTED
                    if delta.granted
                    else ConsentChange.Action.REVOKED,
                    at=(delta.grant_at or at) if delta.granted else at,
                    via=via,
                    by=str(by)[:200],
                    revoke_at=delta.revoke_at,
                )
            )

    def save(self, *, profile_id: str) -> None:
        """Insert the rows for the profile (skipped when the profile is gone meanwhile)."""
        if not self.rows:
            return
        if not Profile.objects.filter(pk=profile_id).exists():
            return
        for row in self.rows:
            row.profile_id = profile_id
        ConsentChange.objects.bulk_create(self.rows)
        self.rows = []
