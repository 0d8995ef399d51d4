"""Settling a delivery outside the happy path: finish it (skipped, failed), or put it back to
`pending`. Used by the claim, the record of a send, the recovery sweep and the admin's retry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction

from apps.destinations.models import Delivery

Status = Delivery.Status


# Folding a requeued delivery into the pending row that a newer change created meanwhile.
_MERGE_INTO_PENDING = """
UPDATE destinations_delivery AS d SET
    changed_fields = ARRAY(
        SELECT f FROM unnest(%(fields)s::varchar(300)[] || d.changed_fields)
            WITH ORDINALITY AS t(f, n)
        GROUP BY f ORDER BY min(n)
    ),
    first_change_at = LEAST(d.first_change_at, %(first_change_at)s),
    due_at = GREATEST(d.due_at, %(due_at)s),
    updated = %(now)s
WHERE d.destination_id = %(destination_id)s AND d.profile_id = %(profile_id)s
  AND d.status = 'pending' AND d.event_id IS NULL
RETURNING d.id
"""


def delivery_requeue(
    *,
    delivery: Delivery,
    from_status: str,
    due_at: datetime,
    now: datetime,
    reason: str,
    token: str | None = None,
    **changes: Any,
) -> str:
    """Put a delivery back to `pending`. For a profile delivery, a newer change may already
    wait in the one pending row of (destination, profile) (the unique index refuses a second);
    that row will send the current profile anyway, so this one is folded into it and marked
    skipped. Returns "requeued", "merged" or "gone" (no longer in `from_status`)."""
    filters: dict[str, Any] = {"pk": delivery.pk, "status": from_status}
    if token is not None:
        filters["claim_token"] = token
    values = {
        "status": Status.PENDING,
        "due_at": due_at,
        "claim_token": "",
        "claimed_at": None,
        "finished_at": None,
        "last_error": reason,
        "updated": now,
        **changes,
    }
    for _ in range(3):
        try:
            with transaction.atomic():
                updated = Delivery.objects.filter(**filters).update(**values)
            return "requeued" if updated else "gone"
        except IntegrityError:
            pass
        with connection.cursor() as cursor:
            cursor.execute(
                _MERGE_INTO_PENDING,
                {
                    "fields": list(delivery.changed_fields),
                    "first_change_at": delivery.first_change_at,
                    "due_at": due_at,
                    "now": now,
                    "destination_id": delivery.destination_id,
                    "profile_id": delivery.profile_id,
                },
            )
            row = cursor.fetchone()
        if row is None:
            continue  # the newer row was claimed in between: try the plain requeue again
        updated = Delivery.objects.filter(**filters).update(
            status=Status.SKIPPED,
            finished_at=now,
            in_flight_attempt=None,
            claim_token="",
            claimed_at=None,
            last_error=f"{reason} Superseded by the newer pending delivery {row[0]}, which "
            "sends the current profile.",
            updated=now,
        )
        return "merged" if updated else "gone"
    raise RuntimeError(f"Could not requeue delivery {delivery.pk}: its pending slot kept changing")


def delivery_finish(delivery: Delivery, *, status: str, reason: str, now: datetime) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status,
        finished_at=now,
        last_error=reason,
        claim_token="",
        claimed_at=None,
        in_flight_attempt=None,
        updated=now,
    )
