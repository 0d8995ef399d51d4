from celery import shared_task

from apps.core.heartbeats import heartbeat_record


@shared_task(name="core.heartbeat", ignore_result=True)
def heartbeat(queue: str) -> None:
    """Beat sends one to each worker queue: running it shows a worker consumes that queue."""
    heartbeat_record(f"queue:{queue}")
