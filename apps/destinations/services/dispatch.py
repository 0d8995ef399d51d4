"""Sending due deliveries: claim, check the condition, render, send, record (DESIGN §9).

Flow and failure model (the database is the source of truth; Celery messages are only triggers):

- Beat runs `deliveries_dispatch` every few seconds: it returns stale claims to the queue and
  enqueues one `destination_deliveries_send` run per destination with due rows.
- A run holds one of the destination's concurrency slots (a Redis lock, default 1 slot), so a
  destination that hangs occupies at most that many worker processes while the others go on.
  It processes a bounded batch of deliveries, then re-enqueues itself if more are due.
- Each delivery is claimed with `SELECT ... FOR UPDATE SKIP LOCKED`; in that same short
  transaction its condition is evaluated (false → `skipped`), its mapping rendered, its status
  set to `sending` with `claimed_at` (the lease) and its DeliveryAttempt row created. That commit
  happens before the network call; the result is recorded in a second transaction.
- A worker killed mid-send leaves the row `sending` with an attempt `in_flight`. When the lease
  (CDP_DELIVERY_LEASE_SECONDS, longer than any send may take) has expired, the sweep marks the
  attempt `lost` and requeues the delivery *keeping the attempt number*, so the resend carries
  the same idempotency key (HTTP header `Idempotency-Key: <delivery id>-<attempt>`, AMQP
  message_id, e-mail Message-ID) and a receiver that honours it drops the duplicate. Whether
  the lost send arrived cannot be known, so this is at-least-once with a dedup key; after
  CDP_DELIVERY_MAX_RECOVERIES lost workers the delivery is `failed` instead (a poison message).
- Retryable failures (network, 5xx, 429) go back to `pending` with an exponential, jittered
  backoff (or the remote's Retry-After) until CDP_DELIVERY_MAX_ATTEMPTS; others fail at once.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from redis.exceptions import LockError

from apps import notation
from apps.core.ids import new_id
from apps.destinations.models import Delivery, DeliveryAttempt, Destination, Resource
from apps.destinations.selectors import delivery_documents, destinations_with_due_deliveries
from apps.destinations.senders import SendResult, sender_for

log = logging.getLogger(__name__)

Status = Delivery.Status
Outcome = DeliveryAttempt.Outcome

# How long the "a run is queued" marker of a destination lives: if the message is lost
# (broker restart), beat enqueues a new run after this.
QUEUED_MARKER_SECONDS = 10


# ---------------------------------------------------------------------------------- helpers


def redact(text: str, credentials: Any) -> str:
    """Replace every secret string of `credentials` in `text`: error messages of client
    libraries may quote a URL or header, and they end up in the admin and in logs."""
    secrets: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)
        elif isinstance(value, str) and len(value) >= 4:
            secrets.append(value)

    collect(credentials)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "•••")
    return text


def retry_delay_seconds(*, attempt_in_round: int, retry_after: float | None) -> float:
    """Exponential backoff with jitter (half to full of base * 2^(n-1), capped), or the remote's
    Retry-After when it gave one. Jitter spreads the retries of a destination that came back."""
    cap = settings.CDP_DELIVERY_RETRY_MAX_MS / 1000
    if retry_after is not None:
        return min(retry_after, cap)
    base = settings.CDP_DELIVERY_RETRY_BASE_MS / 1000
    return min(cap, base * 2 ** max(0, attempt_in_round - 1)) * random.uniform(0.5, 1.0)


def render_payload(destination: Destination, data: dict) -> Any:
    """The destination's mapping over the documents; an empty mapping sends them whole.
    Missing references become null (a `key?` leaves the key out)."""
    if destination.mapping in ({}, [], "", None):
        return data
    return notation.render_template(destination.mapping, data, default=None)


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


def _delivery_requeue(
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


def _finish(delivery: Delivery, *, status: str, reason: str, now: datetime) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status,
        finished_at=now,
        last_error=reason,
        claim_token="",
        claimed_at=None,
        in_flight_attempt=None,
        updated=now,
    )


# ------------------------------------------------------------------------- claim and prepare


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
    settled without a send (condition false → skipped; condition or mapping error → failed);
    (True, claimed) when it is `sending` with its attempt committed and ready to go."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("destination__resource", "profile", "event")
            .filter(destination_id=destination_id, status=Status.PENDING, due_at__lte=now)
            .order_by("due_at")
            .first()
        )
        if delivery is None:
            return False, None
        destination = delivery.destination
        data = delivery_documents(delivery)
        if data is None:
            _finish(
                delivery, status=Status.SKIPPED, reason="The profile or event is gone.", now=now
            )
            return True, None
        if destination.condition.strip():
            try:
                passed = notation.evaluate(destination.condition, data)
            except notation.NotationError as error:
                _finish(delivery, status=Status.FAILED, reason=f"Condition error: {error}", now=now)
                return True, None
            if not passed:
                reason = f"Condition is false: {destination.condition}"
                _finish(delivery, status=Status.SKIPPED, reason=reason, now=now)
                return True, None
        try:
            payload = render_payload(destination, data)
        except notation.NotationError as error:
            _finish(delivery, status=Status.FAILED, reason=f"Mapping error: {error}", now=now)
            return True, None
        claimed = _attempt_start(
            delivery, destination=destination, data=data, payload=payload, now=now
        )
    return True, claimed


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


# ------------------------------------------------------------------------ send and record


def claimed_delivery_send(claimed: ClaimedDelivery) -> SendResult:
    """The network call, outside any transaction, then its record."""
    started = time.monotonic()
    try:
        result = sender_for(claimed.resource.type).send(
            payload=claimed.payload,
            changes=list(claimed.delivery.changed_fields),
            settings=claimed.destination.settings,
            credentials=claimed.resource.credentials,
            context={**claimed.data, "payload": claimed.payload},
            idempotency_key=claimed.idempotency_key,
        )
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
    attempt_result_record(claimed, result=result, duration_ms=duration_ms)
    return result


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
            _delivery_requeue(
                delivery=delivery,
                from_status=Status.SENDING,
                token=claimed.token,
                due_at=now + timedelta(seconds=wait),
                now=now,
                reason=f"{result.error}; attempt {delivery.attempts} failed, retrying.",
                in_flight_attempt=None,
            )
    return outcome


def delivery_process_next(*, destination_id: str) -> bool:
    """Claim, send and record the next due delivery of a destination; False when none is due."""
    found, claimed = delivery_claim_next(destination_id=destination_id)
    if claimed is not None:
        claimed_delivery_send(claimed)
    return found


# -------------------------------------------------------------------------- recovery


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
                _finish(
                    delivery, status=Status.FAILED, reason="The test send was interrupted.", now=now
                )
            elif delivery.recoveries >= settings.CDP_DELIVERY_MAX_RECOVERIES:
                reason = (
                    f"The worker was lost during {delivery.recoveries + 1} sends of this "
                    "delivery; not trying again automatically."
                )
                _finish(delivery, status=Status.FAILED, reason=reason, now=now)
            else:
                _delivery_requeue(
                    delivery=delivery,
                    from_status=Status.SENDING,
                    due_at=delivery.due_at,  # overdue: it keeps its place in the queue
                    now=now,
                    reason=f"The worker was lost while sending attempt "
                    f"{delivery.in_flight_attempt}; resending it with the same idempotency key.",
                    recoveries=delivery.recoveries + 1,
                )
    return len(stale)


# ------------------------------------------------------------------------- dispatching


def _queued_marker(destination_id: str) -> str:
    return f"destinations:run-queued:{destination_id}"


def destination_run_enqueue(*, destination_id: str) -> bool:
    """Enqueue a send run for a destination unless one is already waiting in the queue."""
    from apps.destinations.tasks import destination_deliveries_send

    if not cache.add(_queued_marker(destination_id), 1, timeout=QUEUED_MARKER_SECONDS):
        return False
    destination_deliveries_send.delay(destination_id)
    return True


def deliveries_dispatch(*, now: datetime | None = None) -> list[str]:
    """The beat job: recover stale claims, then start a send run for every destination that has
    due deliveries. Returns the ids of the destinations it started a run for."""
    now = now or timezone.now()
    deliveries_recover_stale(now=now)
    return [
        destination_id
        for destination_id in destinations_with_due_deliveries(now=now)
        if destination_run_enqueue(destination_id=destination_id)
    ]


@dataclass(frozen=True, slots=True)
class DestinationRun:
    processed: int
    more_due: bool
    had_slot: bool = True


def destination_deliveries_send(*, destination_id: str) -> DestinationRun:
    """Send a bounded batch of one destination's due deliveries, one at a time, while holding
    one of its concurrency slots. `more_due` tells the caller to enqueue another run."""
    cache.delete(_queued_marker(destination_id))
    lock = _slot_acquire(destination_id)
    if lock is None:
        return DestinationRun(processed=0, more_due=False, had_slot=False)
    processed = 0
    deadline = time.monotonic() + settings.CDP_DELIVERY_RUN_SECONDS
    try:
        while processed < settings.CDP_DELIVERY_RUN_MAX and time.monotonic() < deadline:
            if not delivery_process_next(destination_id=destination_id):
                return DestinationRun(processed=processed, more_due=False)
            processed += 1
            lock.reacquire()
        return DestinationRun(processed=processed, more_due=True)
    finally:
        with contextlib.suppress(LockError):  # expired meanwhile: nothing to release
            lock.release()


def _slot_acquire(destination_id: str):
    for slot in range(settings.CDP_DELIVERY_DESTINATION_CONCURRENCY):
        lock = cache.lock(
            f"destinations:sending:{destination_id}:{slot}",
            timeout=settings.CDP_DELIVERY_LEASE_SECONDS,
            blocking=False,
            thread_local=False,
        )
        if lock.acquire(blocking=False):
            return lock
    return None
