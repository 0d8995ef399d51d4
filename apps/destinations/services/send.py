"""Sending a claimed delivery (the network call, outside any transaction) and recording the
attempt's outcome: sent, failed, or back to `pending` after a backoff."""

from __future__ import annotations

import logging
import random
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.destinations.models import Delivery, DeliveryAttempt
from apps.destinations.redaction import redact
from apps.destinations.senders import (
    BatchItem,
    SendResult,
    batch_idempotency_key,
    sender_for,
)
from apps.destinations.services.claim import ClaimedDelivery
from apps.destinations.services.transitions import delivery_requeue

log = logging.getLogger(__name__)

Status = Delivery.Status
Outcome = DeliveryAttempt.Outcome


def retry_delay_seconds(*, attempt_in_round: int, retry_after: float | None) -> float:
    """Exponential backoff with jitter (half to full of base * 2^(n-1), capped), or the remote's
    Retry-After when it gave one. Jitter spreads the retries of a destination that came back."""
    cap = settings.CDP_DELIVERY_RETRY_MAX_MS / 1000
    if retry_after is not None:
        return min(retry_after, cap)
    base = settings.CDP_DELIVERY_RETRY_BASE_MS / 1000
    return min(cap, base * 2 ** max(0, attempt_in_round - 1)) * random.uniform(0.5, 1.0)


def claimed_delivery_send(claimed: ClaimedDelivery) -> SendResult:
    """The network call, outside any transaction, then its record."""
    sender = sender_for(claimed.resource.type)
    result, duration_ms = _guarded_call(
        claimed,
        lambda: sender.send(
            payload=claimed.payload,
            changes=list(claimed.delivery.changed_fields),
            settings=claimed.destination.settings,
            credentials=claimed.resource.credentials,
            context={**claimed.data, "payload": claimed.payload},
            idempotency_key=claimed.idempotency_key,
        ),
    )
    attempt_result_record(claimed, result=result, duration_ms=duration_ms)
    return result


def claimed_batch_send(batch: Sequence[ClaimedDelivery]) -> SendResult:
    """Several claimed deliveries of one destination in one message (a sender that takes
    batches), outside any transaction; the outcome is recorded on each one's attempt."""
    first = batch[0]
    sender = sender_for(first.resource.type)
    keys = [claimed.idempotency_key for claimed in batch]
    result, duration_ms = _guarded_call(
        first,
        lambda: sender.send_batch(
            items=[
                BatchItem(
                    payload=claimed.payload,
                    changes=list(claimed.delivery.changed_fields),
                    idempotency_key=claimed.idempotency_key,
                )
                for claimed in batch
            ],
            settings=first.destination.settings,
            credentials=first.resource.credentials,
            idempotency_key=batch_idempotency_key(keys),
        ),
    )
    for claimed in batch:
        attempt_result_record(claimed, result=result, duration_ms=duration_ms)
    return result


def _guarded_call(
    claimed: ClaimedDelivery, call: Callable[[], SendResult]
) -> tuple[SendResult, int]:
    """Run the sender's call: its result with secrets redacted, and its duration in ms."""
    started = time.monotonic()
    try:
        result = call()
    except SoftTimeLimitExceeded:
        result = SendResult(ok=False, error="The send exceeded the task time limit", retryable=True)
    except Exception as error:
        # A sender bug must still settle the delivery (recorded, not retried) rather than leave
        # it `sending`. The log gets the frames but not the exception's text, which could quote
        # a secret; the recorded error is redacted below.
        log.error(
            "Sender %s raised %s in delivery %s:\n%s",
            claimed.resource.type,
            type(error).__name__,
            claimed.delivery.pk,
            "".join(traceback.format_tb(error.__traceback__)),
        )
        result = SendResult(ok=False, error=f"Sender error: {type(error).__name__}: {error}")
    duration_ms = round((time.monotonic() - started) * 1000)
    credentials = claimed.resource.credentials
    result = SendResult(
        ok=result.ok,
        status_code=result.status_code,
        response_excerpt=redact(result.response_excerpt, credentials),
        error=redact(result.error, credentials),
        retryable=result.retryable,
        retry_after=result.retry_after,
    )
    return result, duration_ms


def attempt_result_record(
    claimed: ClaimedDelivery, *, result: SendResult, duration_ms: int, now: datetime | None = None
) -> str:
    """Record one attempt's outcome and move the delivery on. Only the holder of the claim
    (token) moves the delivery; returns the attempt outcome."""
    now = now or timezone.now()
    delivery = claimed.delivery
    in_round = delivery.attempts - delivery.round_start_attempts
    if result.ok:
        outcome = Outcome.SENT
    elif delivery.is_test or not result.retryable or in_round >= settings.CDP_DELIVERY_MAX_ATTEMPTS:
        outcome = Outcome.FAILED
    else:
        outcome = Outcome.RETRY
    with transaction.atomic():
        DeliveryAttempt.objects.filter(pk=claimed.attempt.pk).update(
            duration_ms=duration_ms,
            outcome=outcome,
            status_code=result.status_code,
            error=result.error,
            response_excerpt=result.response_excerpt,
        )
        mine = {"pk": delivery.pk, "status": Status.SENDING, "claim_token": claimed.token}
        if outcome == Outcome.SENT:
            Delivery.objects.filter(**mine).update(
                status=Status.SENT,
                finished_at=now,
                last_error="",
                claim_token="",
                claimed_at=None,
                in_flight_attempt=None,
                updated=now,
            )
        elif outcome == Outcome.FAILED:
            reason = result.error
            if result.retryable and not delivery.is_test:
                reason = f"{result.error} (gave up after {in_round} attempts)"
            Delivery.objects.filter(**mine).update(
                status=Status.FAILED,
                finished_at=now,
                last_error=reason,
                claim_token="",
                claimed_at=None,
                in_flight_attempt=None,
                updated=now,
            )
        else:
            wait = retry_delay_seconds(attempt_in_round=in_round, retry_after=result.retry_after)
            delivery_requeue(
                delivery=delivery,
                from_status=Status.SENDING,
                token=claimed.token,
                due_at=now + timedelta(seconds=wait),
                now=now,
                reason=f"{result.error}; attempt {delivery.attempts} failed, retrying.",
                in_flight_attempt=None,
            )
    return outcome
