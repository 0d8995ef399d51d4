"""Replaying stored events through the workflows that route them now (admin action)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from apps.events.models import Event
from apps.workflows.services.processing import events_run, profile_lock

# Events per replay task: a task holds one profile's lock at a time, so this bounds its time.
REPLAY_CHUNK = 200
# The admin replays at most this many events per click (select fewer or filter first).
REPLAY_MAX = 10_000


def events_replay_enqueue(*, event_ids: Iterable[str]) -> int:
    """Queue stored events for replay after the current transaction commits; returns the
    number queued (at most REPLAY_MAX)."""
    from apps.workflows.tasks import replay_events

    ids = list(event_ids)[:REPLAY_MAX]
    for start in range(0, len(ids), REPLAY_CHUNK):
        chunk = ids[start : start + REPLAY_CHUNK]
        transaction.on_commit(lambda chunk=chunk: replay_events.delay(chunk))
    return len(ids)


def events_replay(*, event_ids: Iterable[str]) -> int:
    """Run stored events through the workflows their rules route them to now; the runs are
    recorded with replay=True and may repeat earlier ones. The events keep their status.
    Events still waiting (`collected`) are skipped: they are about to run anyway."""
    ids = list(event_ids)
    by_profile: dict[str | None, list[str]] = {}
    for event_id, profile_id in (
        Event.objects.filter(pk__in=ids)
        .exclude(status=Event.Status.COLLECTED)
        .values_list("id", "profile_id")
    ):
        by_profile.setdefault(profile_id, []).append(event_id)
    replayed = 0
    for profile_id, group in by_profile.items():
        with transaction.atomic():
            if profile_id:
                profile_lock(profile_id)
            events = list(Event.objects.filter(pk__in=group).order_by("time", "inserted", "id"))
            events_run(events, profile_id=profile_id, stored=True, replay=True)
            replayed += len(events)
    return replayed
