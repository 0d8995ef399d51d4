"""Sending due deliveries: claim, check the condition, render, send, record (DESIGN §9).

Flow and failure model (the database is the source of truth; Celery messages are only triggers):

- Beat runs `deliveries_dispatch` every few seconds: it returns stale claims to the queue
  (recovery.py) and enqueues one `destination_deliveries_send` run per destination with due
  rows (the services say which; apps.destinations.tasks enqueues).
- Runs go to a Celery queue of their own (`destinations`), consumed by a worker of their own,
  so sends that hang never hold the processes that run workflows.
- A run holds one of the destination's concurrency slots (a Redis lock, default 1 slot), so a
  destination that hangs occupies at most that many worker processes while the others go on.
  A destination whose last send was slow (CDP_DELIVERY_SLOW_SEND_MS, a timeout included) must
  also hold one of the slow slots that all slow destinations share (CDP_DELIVERY_SLOW_SLOTS);
  without one its run ends and beat starts it again later, so however many destinations
  hang, the deliveries worker keeps processes for the healthy ones. A fast send ends the
  slowness. It processes a bounded batch of deliveries, then re-enqueues itself if more are due.
- A sender that takes batches (webhook with `batch_size`) gets up to that many claimed
  deliveries in one message; each keeps its own attempt, idempotency key, retries and record.
- Each delivery is claimed (claim.py) with `SELECT ... FOR UPDATE SKIP LOCKED`; in that same short
  transaction its condition is evaluated (false → `skipped`), its mapping rendered, its status
  set to `sending` with `claimed_at` (the lease) and its DeliveryAttempt row created. That commit
  happens before the network call; the result is recorded in a second transaction (send.py).
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
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from redis.exceptions import LockError

from apps.destinations.selectors import destinations_with_due_deliveries
from apps.destinations.senders import batch_size_of, sender_for
from apps.destinations.services.claim import delivery_claim_next
from apps.destinations.services.recovery import deliveries_recover_stale
from apps.destinations.services.send import claimed_batch_send, claimed_delivery_send

# How long the "a run is queued" marker of a destination lives: if the message is lost
# (broker restart), beat enqueues a new run after this.
QUEUED_MARKER_SECONDS = 10
# A destination stays slow this long after its last slow send unless a fast send ends it
# first: long enough that one that hangs is not let loose on every process between its sends.
SLOW_MARKER_SECONDS = 600


def _slow_marker(destination_id: str) -> str:
    return f"destinations:slow:{destination_id}"


def _queued_marker(destination_id: str) -> str:
    return f"destinations:run-queued:{destination_id}"


def destination_run_mark_queued(*, destination_id: str) -> bool:
    """Mark a send run of the destination as waiting in the queue; False when one already is
    (the caller then enqueues nothing)."""
    return cache.add(_queued_marker(destination_id), 1, timeout=QUEUED_MARKER_SECONDS)


def deliveries_dispatch(*, now: datetime | None = None) -> list[str]:
    """The beat job: recover stale claims, then mark a send run queued for every destination
    that has due deliveries and none waiting. Returns those destinations: the caller enqueues
    their runs."""
    now = now or timezone.now()
    deliveries_recover_stale(now=now)
    return [
        destination_id
        for destination_id in destinations_with_due_deliveries(now=now)
        if destination_run_mark_queued(destination_id=destination_id)
    ]


def delivery_process_next(*, destination_id: str) -> int:
    """Claim, send and record the next due delivery of a destination or, when its sender takes
    batches (webhook `batch_size`), up to a batch of them in one message. Returns how many
    deliveries were claimed (sent or settled without a send); 0 when none is due. The send's
    duration says whether the destination is slow."""
    found, claimed = delivery_claim_next(destination_id=destination_id)
    if not found:
        return 0
    handled = 1
    if claimed is None:
        return handled
    batch = [claimed]
    # Each claim commits on its own (the attempt is recorded before the network call); at most
    # `size` claims, so the first one's lease is never spent waiting for a batch to fill.
    size = batch_size_of(sender_for(claimed.resource.type), claimed.destination.settings)
    while handled < size:
        found, more = delivery_claim_next(destination_id=destination_id)
        if not found:
            break
        handled += 1
        if more is not None:
            batch.append(more)
    started = time.monotonic()
    if len(batch) == 1:
        claimed_delivery_send(claimed)
    else:
        claimed_batch_send(batch)
    if (time.monotonic() - started) * 1000 >= settings.CDP_DELIVERY_SLOW_SEND_MS:
        cache.set(_slow_marker(destination_id), 1, timeout=SLOW_MARKER_SECONDS)
    else:
        cache.delete(_slow_marker(destination_id))
    return handled


@dataclass(frozen=True, slots=True)
class DestinationRun:
    processed: int
    more_due: bool
    # False when the run sent nothing for want of a slot: one of the destination's own or,
    # for a slow destination, one of the shared slow slots.
    had_slot: bool = True


def destination_deliveries_send(*, destination_id: str) -> DestinationRun:
    """Send a bounded batch of one destination's due deliveries, one at a time, while holding
    one of its concurrency slots (and a slow slot while it is slow). `more_due` tells the
    caller to enqueue another run."""
    cache.delete(_queued_marker(destination_id))
    lock = _slot_acquire(
        f"destinations:sending:{destination_id}",
        count=settings.CDP_DELIVERY_DESTINATION_CONCURRENCY,
    )
    if lock is None:
        return DestinationRun(processed=0, more_due=False, had_slot=False)
    held = [lock]
    processed = 0
    deadline = time.monotonic() + settings.CDP_DELIVERY_RUN_SECONDS
    try:
        while processed < settings.CDP_DELIVERY_RUN_MAX and time.monotonic() < deadline:
            if len(held) == 1 and cache.get(_slow_marker(destination_id)):
                slow_slot = _slot_acquire(
                    "destinations:slow-slot", count=settings.CDP_DELIVERY_SLOW_SLOTS
                )
                if slow_slot is None:  # beat starts the run again in a few seconds
                    return DestinationRun(
                        processed=processed, more_due=False, had_slot=processed > 0
                    )
                held.append(slow_slot)
            handled = delivery_process_next(destination_id=destination_id)
            if not handled:
                return DestinationRun(processed=processed, more_due=False)
            processed += handled
            for slot in held:
                slot.reacquire()
        return DestinationRun(processed=processed, more_due=True)
    finally:
        for slot in held:
            with contextlib.suppress(LockError):  # expired meanwhile: nothing to release
                slot.release()


def _slot_acquire(prefix: str, *, count: int):
    """The first free one of `count` Redis locks `<prefix>:<n>`, leased like a claim (a killed
    run's slot comes back on its own), or None when all are held."""
    for slot in range(count):
        lock = cache.lock(
            f"{prefix}:{slot}",
            timeout=settings.CDP_DELIVERY_LEASE_SECONDS,
            blocking=False,
            thread_local=False,
        )
        if lock.acquire(blocking=False):
            return lock
    return None
