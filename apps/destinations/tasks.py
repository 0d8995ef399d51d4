"""Thin Celery tasks: ids in, a service call. Both are safe to run twice: the database claims
(SKIP LOCKED, claim tokens) decide what is sent, the messages only trigger the work. The only
module of the app that enqueues."""

import logging

from celery import shared_task
from django.db import transaction

from apps.destinations import services
from apps.destinations.models import DestinationSyncRun

log = logging.getLogger(__name__)

# A run sends at most CDP_DELIVERY_RUN_SECONDS worth of deliveries, each bounded by its sender
# timeout (30 s at most); the hard limit stays below the claim lease so a killed run's
# in-flight delivery is never recovered while the send could still be going on.
RUN_SOFT_TIME_LIMIT = 75
RUN_TIME_LIMIT = 90


# The beat job only runs a few indexed queries; a tick that takes longer is cut short and the
# next one carries on.
@shared_task(
    name="destinations.deliveries_dispatch", ignore_result=True, soft_time_limit=30, time_limit=40
)
def deliveries_dispatch() -> list[str]:
    """Returns the destinations it started a run for."""
    started = services.deliveries_dispatch()
    for destination_id in started:
        destination_deliveries_send.delay(destination_id)
    return started


@shared_task(
    name="destinations.destination_deliveries_send",
    ignore_result=True,
    soft_time_limit=RUN_SOFT_TIME_LIMIT,
    time_limit=RUN_TIME_LIMIT,
)
def destination_deliveries_send(destination_id: str) -> None:
    run = services.destination_deliveries_send(destination_id=destination_id)
    if run.more_due and services.destination_run_mark_queued(destination_id=destination_id):
        destination_deliveries_send.delay(destination_id)


# Scheduled syncs (services.syncs). The beat entry of each destination (a django-celery-beat
# PeriodicTask, kept in step with the destination's form) calls `destination_sync_scheduled`;
# each batch of the run is a `destination_sync_step` of its own, which enqueues the next one.
@shared_task(name="destinations.destination_sync_scheduled", ignore_result=True)
def destination_sync_scheduled(destination_id: str) -> str:
    """The beat entry point: start a sync run of the destination's audience. Returns what
    happened (a disabled destination does nothing and says so)."""
    started = services.destination_sync_start(
        destination_id=destination_id, trigger=DestinationSyncRun.Trigger.SCHEDULE
    )
    if started.run is None:
        log.info("Sync of destination %s: %s", destination_id, started.message)
    else:
        destination_sync_step.delay(started.run.pk)
    return started.message


# A batch is one short transaction over CDP_DESTINATION_SYNC_BATCH_SIZE profiles.
@shared_task(
    name="destinations.destination_sync_step",
    ignore_result=True,
    soft_time_limit=120,
    time_limit=150,
)
def destination_sync_step(run_id: str) -> None:
    if services.destination_sync_step(run_id=run_id):
        destination_sync_step.delay(run_id)


# The beat sweep of sync runs whose next batch never came (CELERY_BEAT_SCHEDULE).
@shared_task(
    name="destinations.sync_runs_resume", ignore_result=True, soft_time_limit=30, time_limit=40
)
def sync_runs_resume() -> list[str]:
    resumed = services.sync_runs_resume()
    for run_id in resumed:
        destination_sync_step.delay(run_id)
    return resumed


def destination_sync_request(*, destination_id: str, requested_by: str) -> services.SyncStart:
    """'Send now' from the admin: the same run as the schedule's, its first batch enqueued once
    the run is committed."""
    started = services.destination_sync_start(
        destination_id=destination_id,
        trigger=DestinationSyncRun.Trigger.SEND_NOW,
        requested_by=requested_by,
    )
    if started.run is not None:
        run_id = started.run.pk
        transaction.on_commit(lambda: destination_sync_step.delay(run_id))
    return started
