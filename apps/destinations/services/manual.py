"""What people do from the admin: retry failed deliveries, send a test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps import notation
from apps.core.ids import new_id
from apps.destinations.models import Delivery, DeliveryAttempt, Destination
from apps.destinations.selectors import delivery_documents
from apps.destinations.senders import SendResult
from apps.destinations.services.claim import ClaimedDelivery, render_payload
from apps.destinations.services.send import claimed_delivery_send
from apps.destinations.services.transitions import delivery_requeue
from apps.events.history import documents_history


@dataclass(frozen=True, slots=True)
class RetrySummary:
    requeued: int
    merged: int
    not_failed: int


def deliveries_retry(*, delivery_ids: list[str]) -> RetrySummary:
    """Send failed deliveries again now, with a fresh attempt budget. Attempt numbers keep
    growing, so the idempotency keys of the new attempts are new. A profile delivery whose
    (destination, profile) already has a newer pending sync is folded into it."""
    now = timezone.now()
    requeued = merged = 0
    with transaction.atomic():
        failed = list(
            Delivery.objects.select_for_update()
            .filter(pk__in=delivery_ids, status=Delivery.Status.FAILED, is_test=False)
            .order_by("created")
        )
        for delivery in failed:
            outcome = delivery_requeue(
                delivery=delivery,
                from_status=Delivery.Status.FAILED,
                due_at=now,
                now=now,
                reason=f"Retry requested after: {delivery.last_error}",
                round_start_attempts=delivery.attempts,
                in_flight_attempt=None,
            )
            requeued += outcome == "requeued"
            merged += outcome == "merged"
    return RetrySummary(
        requeued=requeued, merged=merged, not_failed=len(set(delivery_ids)) - len(failed)
    )


class TestSendError(ValueError):
    """The test cannot be made (unknown profile or event); the message says why."""


@dataclass(frozen=True, slots=True)
class TestSendOutcome:
    delivery: Delivery
    condition_passed: bool | None  # None: the destination has no condition
    condition_error: str
    payload: Any
    result: SendResult | None


def destination_test_send(
    *, destination: Destination, profile_id: str = "", event_id: str = ""
) -> TestSendOutcome:
    """A real send of the destination's mapping for a chosen profile (or event), recorded as a
    test delivery (`is_test`, one attempt; never retried, not counted in the health line). The
    condition is evaluated and reported but does not stop the test send."""
    profile_id, event_id = profile_id.strip(), event_id.strip()
    now = timezone.now()
    delivery = Delivery(
        destination=destination,
        is_test=True,
        status=Delivery.Status.SENDING,
        due_at=now,
        first_change_at=now,
        latest_due_at=now,
        created=now,
        updated=now,
    )
    if destination.kind == Destination.Kind.EVENT:
        if not event_id:
            raise TestSendError("Choose an event: this destination sends events.")
        delivery.event_id = event_id
    else:
        if not profile_id:
            raise TestSendError("Choose a profile to send.")
        delivery.profile_id = profile_id
    data = delivery_documents(delivery)
    if data is None:
        what = f"event {event_id!r}" if event_id else f"profile {profile_id!r}"
        raise TestSendError(f"There is no {what}.")
    if destination.kind == Destination.Kind.EVENT:
        delivery.profile_id = (data.get("profile") or {}).get("id")
    condition_passed, condition_error = None, ""
    if destination.condition.strip():
        try:
            condition_passed = notation.evaluate(
                destination.condition, data, history=documents_history(data)
            )
        except notation.NotationError as error:
            condition_error = str(error)
    try:
        payload = render_payload(destination, data)
    except notation.NotationError as error:
        raise TestSendError(f"The mapping cannot be rendered: {error}") from error
    token = new_id()
    with transaction.atomic():
        delivery.status = Delivery.Status.SENDING
        delivery.attempts = delivery.in_flight_attempt = 1
        delivery.claim_token = token
        delivery.claimed_at = now
        delivery.payload = payload
        delivery.save(force_insert=True)
        attempt = DeliveryAttempt.objects.create(
            delivery=delivery, destination=destination, number=1, is_test=True, started=now
        )
    claimed = ClaimedDelivery(
        delivery=delivery,
        destination=destination,
        resource=destination.resource,
        attempt=attempt,
        token=token,
        data=data,
        payload=payload,
    )
    result = claimed_delivery_send(claimed)
    delivery.refresh_from_db()
    return TestSendOutcome(
        delivery=delivery,
        condition_passed=condition_passed,
        condition_error=condition_error,
        payload=payload,
        result=result,
    )
