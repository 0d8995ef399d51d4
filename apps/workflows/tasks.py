"""Celery tasks: ids in, a service call, safe to run twice (see services/processing.py).

Workers ack late and requeue a message whose worker died (settings), so a task may run
again after a crash; the services make that harmless. Database errors (a lock wait that
timed out, a restarting PostgreSQL) retry with backoff; the beat sweep is the last resort.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from apps.workflows.services.processing import (
    collected_events_requeue,
    profile_events_process,
    profileless_events_process,
    unsaved_events_process,
)
from apps.workflows.services.replay import events_replay

RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 1,
    "retry_backoff_max": 60,
    "max_retries": 10,
}


@shared_task(name="workflows.process_profile_events", **RETRY)
def process_profile_events(profile_id: str) -> None:
    if profile_events_process(profile_id=profile_id):
        process_profile_events.delay(profile_id)  # more than one batch was waiting


@shared_task(name="workflows.process_events", **RETRY)
def process_events(event_ids: list[str]) -> None:
    for profile_id in profileless_events_process(event_ids=event_ids):
        process_profile_events.delay(profile_id)


@shared_task(name="workflows.process_unsaved_events", **RETRY)
def process_unsaved_events(events: list[dict], profile_id: str | None) -> None:
    unsaved_events_process(events=events, profile_id=profile_id)


@shared_task(name="workflows.replay_events", **RETRY)
def replay_events(event_ids: list[str]) -> None:
    events_replay(event_ids=event_ids)


@shared_task(name="workflows.requeue_collected_events")
def requeue_collected_events() -> None:
    collected_events_requeue()
