"""Celery tasks: ids in, a service call, safe to run twice (see processing.py).

Workers ack late and requeue a message whose worker died (settings), so a task may run
again after a crash; the services make that harmless. Database errors (a lock wait that
timed out, a restarting PostgreSQL) retry with backoff; the beat sweep is the last resort.

The services commit before they return, and return the collected events they leave for the
workers (`Processed`): a task enqueues those itself. The task names keep their `workflows.`
prefix (where these tasks used to live) so messages in flight and the beat schedule still
route to them.
"""

import time

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from apps.tracking.batches import profiles_events_process
from apps.tracking.processing import (
    Processed,
    collected_events_requeue,
    profileless_events_process,
    unsaved_events_process,
)
from apps.tracking.replay import events_replay
from apps.tracking.resume import parked_runs_resume_due
from apps.tracking.retention import purge_proceed, retention_purge_start
from apps.tracking.schedules import (
    schedule_runs_resume,
    workflow_schedule_start,
    workflow_schedule_step,
)
from apps.tracking.trends import daily_metrics_refresh
from apps.tracking.visits import SESSIONS_PER_BATCH, visits_end

RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 1,
    "retry_backoff_max": 60,
    "max_retries": 10,
}
# Profile-less events per process_events message (a sweep may find thousands).
PROFILELESS_CHUNK = 100


def _follow_ups_enqueue(processed: Processed) -> None:
    for profile_id in processed.profile_ids:
        process_profile_events.delay(profile_id)
    ids = processed.event_ids
    for start in range(0, len(ids), PROFILELESS_CHUNK):
        process_events.delay(ids[start : start + PROFILELESS_CHUNK])


@shared_task(name="workflows.process_profile_events", **RETRY)
def process_profile_events(profile_id: str) -> None:
    # With the waiting events of other profiles when messages queue up (tracking.batches).
    _follow_ups_enqueue(profiles_events_process(profile_id=profile_id))


@shared_task(name="workflows.process_events", **RETRY)
def process_events(event_ids: list[str]) -> None:
    _follow_ups_enqueue(profileless_events_process(event_ids=event_ids))


@shared_task(name="workflows.process_unsaved_events", **RETRY)
def process_unsaved_events(events: list[dict], profile_id: str | None) -> None:
    _follow_ups_enqueue(unsaved_events_process(events=events, profile_id=profile_id))


@shared_task(name="workflows.replay_events", **RETRY)
def replay_events(event_ids: list[str]) -> None:
    _follow_ups_enqueue(events_replay(event_ids=event_ids))


@shared_task(name="workflows.requeue_collected_events")
def requeue_collected_events() -> None:
    _follow_ups_enqueue(collected_events_requeue())


@shared_task(name="tracking.retention_purge", **RETRY)
def retention_purge(record_id: str | None = None) -> None:
    """The nightly retention purge (beat, settings CELERY_BEAT_SCHEDULE): starts the purge
    (or goes on with one left running), works for CDP_PURGE_RUN_SECONDS, then hands the rest
    to a fresh message, so that no run outlives the broker's visibility timeout."""
    if record_id is None:
        record = retention_purge_start()
        if record is None:
            return
        record_id = record.pk
    if not purge_proceed(record_id=record_id, seconds=settings.CDP_PURGE_RUN_SECONDS):
        retention_purge.delay(record_id)


@shared_task(
    name="tracking.daily_metrics_refresh", ignore_result=True, soft_time_limit=240, time_limit=300
)
def daily_metrics_refresh_task() -> None:
    """Beat, every ten minutes: the figures behind the admin's trend charts."""
    daily_metrics_refresh()


# A run ends visits for at most this long, then leaves the rest to the next beat tick.
VISITS_END_RUN_SECONDS = 45


@shared_task(name="tracking.visits_end", **RETRY)
def visits_end_task() -> int:
    """Close the visits idle for the visit timeout (tracking.visits), batch after batch, and
    hand the routed `visit-ended` events to the workers. Returns how many visits ended."""
    deadline = time.monotonic() + VISITS_END_RUN_SECONDS
    total = 0
    while True:
        ended = visits_end()
        total += len(ended)
        by_profile = {visit.profile_id for visit in ended if visit.routed and visit.profile_id}
        for profile_id in by_profile:
            process_profile_events.delay(profile_id)
        profileless = [v.event_id for v in ended if v.routed and not v.profile_id]
        if profileless:
            process_events.delay(profileless)
        if len(ended) < SESSIONS_PER_BATCH or time.monotonic() > deadline:
            return total


# Scheduled workflows (tracking.schedules). Each schedule's beat entry (a django-celery-beat
# PeriodicTask kept in step with its admin form) calls `workflow_schedule_fire`; each batch of
# the run is a `workflow_schedule_step` of its own, which enqueues the next.
@shared_task(name="tracking.workflow_schedule_fire", **RETRY)
def workflow_schedule_fire(schedule_id: str) -> str:
    """Open a run of the schedule and step its first batch. Returns what happened (a tick
    while a run is still going starts nothing and says so)."""
    started = workflow_schedule_start(schedule_id=schedule_id)
    if started.run is not None:
        workflow_schedule_step_task.delay(started.run.pk)
    return started.message


# A batch is one transaction over CDP_WORKFLOW_SCHEDULE_BATCH_SIZE profiles' runs.
@shared_task(name="tracking.workflow_schedule_step", soft_time_limit=240, time_limit=300, **RETRY)
def workflow_schedule_step_task(run_id: str) -> None:
    step = workflow_schedule_step(run_id=run_id)
    _follow_ups_enqueue(step.follow_up)
    if step.more:
        workflow_schedule_step_task.delay(run_id)


@shared_task(name="tracking.workflow_schedule_runs_resume", soft_time_limit=30, time_limit=40)
def workflow_schedule_runs_resume() -> list[str]:
    """Beat, every minute: step again the runs whose next batch never came."""
    resumed = schedule_runs_resume()
    for run_id in resumed:
        workflow_schedule_step_task.delay(run_id)
    return resumed


@shared_task(name="workflows.resume_parked_runs", **RETRY)
def resume_parked_runs() -> int:
    """Beat, every few seconds: resume the parked branches that are due (tracking.resume),
    batch after batch for at most CDP_WORKFLOW_RESUME_RUN_SECONDS, then leave the rest to the
    next tick; enqueue what the branches left for the workers. Returns how many resumed."""
    deadline = time.monotonic() + settings.CDP_WORKFLOW_RESUME_RUN_SECONDS
    total = 0
    while True:
        batch = parked_runs_resume_due()
        total += batch.resumed
        _follow_ups_enqueue(batch.follow_up)
        full = batch.claimed >= settings.CDP_WORKFLOW_RESUME_BATCH_SIZE
        if not full or time.monotonic() > deadline:
            return total
