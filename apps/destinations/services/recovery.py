"""Returning deliveries whose worker was lost mid-send to the queue (the lease expired)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.destinations.models import Delivery, DeliveryAttempt
from apps.destinations.services.transitions import delivery_finish, delivery_requeue

Status = Delivery.Status
Outcome = DeliveryAttempt.Outcome


def deliveries_recover_stale(*, now: datetime | None = None, limit: int = 200) -> int:
    """Return deliveries whose worker was lost mid-send (lease expired) to the queue, keeping
    their attempt number so that the resend carries the same idempotency key."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.CDP_DELIVERY_LEASE_SECONDS)
    with transaction.atomic():
        stale = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=Status.SENDING, claimed_at__lt=cutoff)
            .order_by("claimed_at")[:limit]
        )
        if not stale:
            return 0
        DeliveryAttempt.objects.filter(
            delivery__in=[delivery.pk for delivery in stale], outcome=Outcome.IN_FLIGHT
        ).update(
            outcome=Outcome.LOST,
            error="The worker was lost during this send; whether it arrived is unknown.",
        )
        for delivery in stale:
            if delivery.is_test:
                delivery_finish(
                    delivery, status=Status.FAILED, reason="The test send was interrupted.", now=now
                )
            elif delivery.recoveries >= settings.CDP_DELIVERY_MAX_RECOVERIES:
                reason = (
                    f"The worker was lost during {delivery.recoveries + 1} sends of this "
                    "delivery; not trying again automatically."
                )
                delivery_finish(delivery, status=Status.FAILED, reason=reason, now=now)
            else:
                delivery_requeue(
                    delivery=delivery,
                    from_status=Status.SENDING,
                    due_at=delivery.due_at,  # overdue: it keeps its place in the queue
                    now=now,
                    reason=f"The worker was lost while sending attempt "
                    f"{delivery.in_flight_attempt}; resending it with the same idempotency key.",
                    recoveries=delivery.recoveries + 1,
                )
    return len(stale)
