"""The hand-off from the request side to the workers (DESIGN §6): every message to the event
processing tasks is sent from here, once the current transaction commits (at once outside
one), so a worker never looks for rows that are not committed yet or were rolled back.

Ingestion hands over the routed events of a request (`events_enqueue`), or their copies when
they were not stored (`unsaved_events_enqueue`); re-validation the events it released; the
events admin the events to replay. The tasks enqueue the follow-ups of their own runs.

The database is the source of truth and the requeue sweep the recovery path, so a message
that cannot be sent is logged, not raised: a broker that is down or frozen never turns a
committed request into a 5xx, nor holds it. Messages go through this module's own broker
connections, bounded by CDP_HANDOFF_TIMEOUT_MS (connect, each socket read and write, the
wait for a pooled connection) and never retried (Celery would retry a publish for seconds).
After a failure the process does not try again for CDP_HANDOFF_PAUSE_SECONDS: with a frozen
broker every attempt costs the full timeout, and three sync web workers spending it on every
request stall /track (seen: p99 7 s at 250 events/s in bench/faults.py). Messages of unsaved
events (ephemeral sources) have no row for the sweep to find: those sent while the broker is
down or paused are lost, as their events were never stored.
The workers' own connections keep Celery's settings: a worker can wait for its broker.
"""

import logging
import os
import time
from collections.abc import Iterable, Sequence

from celery import Task
from django.conf import settings
from django.db import transaction
from kombu.connection import ConnectionPool
from kombu.exceptions import KombuError

from apps.tracking.processing import Processed
from apps.tracking.tasks import (
    process_events,
    process_profile_events,
    process_unsaved_events,
    replay_events,
)

# Events per replay task: a task holds one profile's lock at a time, so this bounds its time.
REPLAY_CHUNK = 200
# The admin replays at most this many events per click (select fewer or filter first).
REPLAY_MAX = 10_000
# Broker connections per process for the hand-off (a gunicorn worker's threads share them).
HANDOFF_POOL_LIMIT = 10

logger = logging.getLogger(__name__)
# Per process and broker URL: a process forked after the first use builds its own pool.
_pools: dict[tuple[int, str], ConnectionPool] = {}
# Per broker URL: time.monotonic() before which this process does not try it (after a failure).
_paused_until: dict[str, float] = {}


def _connection_pool() -> ConnectionPool:
    url = settings.CELERY_BROKER_URL
    key = (os.getpid(), url)
    pool = _pools.get(key)
    if pool is None:
        seconds = settings.CDP_HANDOFF_TIMEOUT_MS / 1000
        connection = process_events.app.connection_for_write(
            url,
            connect_timeout=seconds,
            transport_options={
                **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
                # Redis's names, then RabbitMQ's (py-amqp); each transport ignores the other's.
                "socket_timeout": seconds,
                "socket_connect_timeout": seconds,
                "read_timeout": seconds,
                "write_timeout": seconds,
                # Connect once: no retry loop inside the request.
                "max_retries": 0,
            },
        )
        pool = _pools[key] = connection.Pool(limit=HANDOFF_POOL_LIMIT)
    return pool


def _publish(task: Task, *args) -> None:
    """Send one message, within the hand-off's time bound; a failure is logged and left to
    the sweep (the events are committed and `collected`), and pauses the hand-off."""
    url = settings.CELERY_BROKER_URL
    if time.monotonic() < _paused_until.get(url, 0.0):
        logger.info(
            "Hand-off of %s skipped (the broker failed just now), left to the sweep", task.name
        )
        return
    pool = _connection_pool()
    broker = pool.connection
    try:
        with pool.acquire(block=True, timeout=settings.CDP_HANDOFF_TIMEOUT_MS / 1000) as conn:
            task.apply_async(args, connection=conn, retry=False)
    except (KombuError, *broker.connection_errors, *broker.channel_errors) as exc:
        _paused_until[url] = time.monotonic() + settings.CDP_HANDOFF_PAUSE_SECONDS
        logger.warning(
            "Hand-off of %s failed, left to the requeue sweep; no hand-off for %d s: %r",
            task.name,
            settings.CDP_HANDOFF_PAUSE_SECONDS,
            exc,
        )


def events_enqueue(*, event_ids: Sequence[str], profile_id: str | None) -> None:
    """Stored events waiting for a worker, all of one profile (or without a profile).

    A profile's task processes all its collected events, so the ids only matter for
    profile-less events."""
    if not event_ids:
        return
    if profile_id:
        transaction.on_commit(lambda: _publish(process_profile_events, profile_id))
    else:
        ids = list(event_ids)
        transaction.on_commit(lambda: _publish(process_events, ids))


def processed_enqueue(processed: Processed) -> None:
    """The collected events a service run in the request leaves for the workers (injected
    events, a merge survivor's): the answering workflows of /track (answers.py)."""
    for profile_id in processed.profile_ids:
        transaction.on_commit(lambda p=profile_id: _publish(process_profile_events, p))
    ids = list(processed.event_ids)
    if ids:
        transaction.on_commit(lambda: _publish(process_events, ids))


def unsaved_events_enqueue(*, events: Sequence[dict], profile_id: str | None) -> None:
    """Routed events that were not stored (ephemeral source or saveEvents=false): workflows
    still run on them, from the message's copy of the event."""
    if not events:
        return
    copies = list(events)
    transaction.on_commit(lambda: _publish(process_unsaved_events, copies, profile_id))


def events_replay_enqueue(*, event_ids: Iterable[str]) -> int:
    """Queue stored events for replay; returns the number queued (at most REPLAY_MAX)."""
    ids = list(event_ids)[:REPLAY_MAX]
    for start in range(0, len(ids), REPLAY_CHUNK):
        chunk = ids[start : start + REPLAY_CHUNK]
        transaction.on_commit(lambda chunk=chunk: _publish(replay_events, chunk))
    return len(ids)
