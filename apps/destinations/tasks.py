"""Thin Celery tasks: ids in, a service call. Both are safe to run twice: the database claims
(SKIP LOCKED, claim tokens) decide what is sent, the messages only trigger the work. The only
module of the app that enqueues."""

from celery import shared_task

from apps.destinations import services

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
