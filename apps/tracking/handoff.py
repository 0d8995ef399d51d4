"""The hand-off from the request side to the workers (DESIGN §6): every message to the event
processing tasks is sent from here, once the current transaction commits (at once outside
one), so a worker never looks for rows that are not committed yet or were rolled back.

Ingestion hands over the routed events of a request (`events_enqueue`), or their copies when
they were not stored (`unsaved_events_enqueue`); re-validation the events it released; the
events admin the events to replay. The tasks enqueue the follow-ups of their own runs.
"""

from collections.abc import Iterable, Sequence

from django.db import transaction

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


def events_enqueue(*, event_ids: Sequence[str], profile_id: str | None) -> None:
    """Stored events waiting for a worker, all of one profile (or without a profile).

    A profile's task processes all its collected events, so the ids only matter for
    profile-less events."""
    if not event_ids:
        return
    if profile_id:
        transaction.on_commit(lambda: process_profile_events.delay(profile_id))
    else:
        ids = list(event_ids)
        transaction.on_commit(lambda: process_events.delay(ids))


def unsaved_events_enqueue(*, events: Sequence[dict], profile_id: str | None) -> None:
    """Routed events that were not stored (ephemeral source or saveEvents=false): workflows
    still run on them, from the message's copy of the event."""
    if not events:
        return
    copies = list(events)
    transaction.on_commit(lambda: process_unsaved_events.delay(copies, profile_id))


def events_replay_enqueue(*, event_ids: Iterable[str]) -> int:
    """Queue stored events for replay; returns the number queued (at most REPLAY_MAX)."""
    ids = list(event_ids)[:REPLAY_MAX]
    for start in range(0, len(ids), REPLAY_CHUNK):
        chunk = ids[start : start + REPLAY_CHUNK]
        transaction.on_commit(lambda chunk=chunk: replay_events.delay(chunk))
    return len(ids)
