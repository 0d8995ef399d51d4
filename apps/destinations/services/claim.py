"""Claiming the next due delivery of a destination and preparing its send, in one short
transaction (see apps.destinations.services.dispatch for the flow)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps import notation
from apps.core.ids import new_id
from apps.destinations.models import Delivery, DeliveryAttempt, Destination, Resource
from apps.destinations.selectors import delivery_documents
from apps.destinations.services.transitions import delivery_finish
from apps.events.history import documents_history
from apps.profiles.consents import consent_valid

Status = Delivery.Status
Outcome = DeliveryAttempt.Outcome


def render_payload(destination: Destination, data: dict) -> Any:
    """The destination's mapping over the documents; an empty mapping sends them whole.
    Missing references become null (a `key?` leaves the key out)."""
    if destination.mapping in ({}, [], "", None):
        return data
    return notation.render_template(destination.mapping, data, default=None)


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    delivery: Delivery
    destination: Destination
    resource: Resource
    attempt: DeliveryAttempt
    token: str
    data: dict
    payload: Any

    @property
    def idempotency_key(self) -> str:
        return f"{self.delivery.pk}-{self.attempt.number}"


def delivery_claim_next(
    *, destination_id: str, now: datetime | None = None
) -> tuple[bool, ClaimedDelivery | None]:
    """Claim the most overdue pending delivery of a destination and prepare it, in one short
    transaction. Returns (False, None) when nothing is due; (True, None) when the delivery was
    settled without a send (the profile lacks the destination's required consent, or the
    condition is false → skipped; condition or mapping error → failed);
    (True, claimed) when it is `sending` with its attempt committed and ready to go."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related(
                "destination__resource", "destination__sync_segment", "profile", "event"
            )
            .filter(destination_id=destination_id, status=Status.PENDING, due_at__lte=now)
            .order_by("due_at")
            .first()
        )
        if delivery is None:
            return False, None
        destination = delivery.destination
        if delivery.erasure_id:
            # A deletion request (services.erasure_forwarding): its payload was set when it was
            # recorded; no condition or mapping, they read the profile that is gone.
            claimed = _attempt_start(
                delivery,
                destination=destination,
                data={"erasure": delivery.payload},
                payload=delivery.payload,
                now=now,
            )
            return True, claimed
        data = delivery_documents(delivery)
        if delivery.is_removal and not _back_in_audience(destination, data):
            return True, _removal_claim(delivery, destination=destination, data=data, now=now)
        if data is None:
            delivery_finish(
                delivery, status=Status.SKIPPED, reason="The profile or event is gone.", now=now
            )
            return True, None
        consent = destination.required_consent_id
        if consent and not consent_valid(data.get("profile"), consent, now):
            # Decided at send time, not when the change was scheduled: a consent revoked
            # during the debounce delay still stops the send.
            delivery_finish(
                delivery, status=Status.SKIPPED, reason=f"No consent '{consent}'", now=now
            )
            return True, None
        if destination.condition.strip():
            try:
                passed = notation.evaluate(
                    destination.condition, data, history=documents_history(data)
                )
            except notation.NotationError as error:
                delivery_finish(
                    delivery, status=Status.FAILED, reason=f"Condition error: {error}", now=now
                )
                return True, None
            if not passed:
                reason = f"Condition is false: {destination.condition}"
                delivery_finish(delivery, status=Status.SKIPPED, reason=reason, now=now)
                return True, None
        try:
            payload = render_payload(destination, data)
        except notation.NotationError as error:
            delivery_finish(
                delivery, status=Status.FAILED, reason=f"Mapping error: {error}", now=now
            )
            return True, None
        claimed = _attempt_start(
            delivery, destination=destination, data=data, payload=payload, now=now
        )
    return True, claimed


def _back_in_audience(destination: Destination, data: dict | None) -> bool:
    """A profile whose removal was queued but who is in the audience again (the segment, and
    the condition holds) is sent as a member, not as removed."""
    segment = destination.sync_segment
    if data is None or segment is None:
        return False
    if segment.slug not in (data["profile"].get("segments") or []):
        return False
    if not destination.condition.strip():
        return True
    try:
        return bool(notation.evaluate(destination.condition, data, history=documents_history(data)))
    except notation.NotationError:
        return False


def _removal_claim(
    delivery: Delivery, *, destination: Destination, data: dict | None, now: datetime
) -> ClaimedDelivery | None:
    """A profile that left the audience of a scheduled sync: the removal mapping over the
    profile, or over its id alone when it is gone. No condition: it chose who was a member."""
    if destination.removal_mapping in ({}, [], "", None):
        reason = "Removals are not sent: the destination has no removal mapping."
        delivery_finish(delivery, status=Status.SKIPPED, reason=reason, now=now)
        return None
    if data is None:
        data = {"profile": {"id": delivery.removed_profile_id or delivery.profile_id}}
    try:
        payload = notation.render_template(destination.removal_mapping, data, default=None)
    except notation.NotationError as error:
        reason = f"Removal mapping error: {error}"
        delivery_finish(delivery, status=Status.FAILED, reason=reason, now=now)
        return None
    return _attempt_start(delivery, destination=destination, data=data, payload=payload, now=now)


def _attempt_start(
    delivery: Delivery, *, destination: Destination, data: dict, payload: Any, now: datetime
) -> ClaimedDelivery:
    # A delivery whose previous send was lost keeps that attempt's number (same idempotency key).
    number = delivery.in_flight_attempt or delivery.attempts + 1
    token = new_id()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.SENDING,
        claimed_at=now,
        claim_token=token,
        attempts=number,
        in_flight_attempt=number,
        payload=payload,
        updated=now,
    )
    attempt = DeliveryAttempt.objects.create(
        delivery=delivery,
        destination=destination,
        number=number,
        is_test=delivery.is_test,
        started=now,
        outcome=Outcome.IN_FLIGHT,
    )
    delivery.attempts = number
    delivery.in_flight_attempt = number
    return ClaimedDelivery(
        delivery=delivery,
        destination=destination,
        resource=destination.resource,
        attempt=attempt,
        token=token,
        data=data,
        payload=payload,
    )
