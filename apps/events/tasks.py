"""Background work on events (thin: ids in, a service call): imports started from the admin,
re-indexes of an event type's stored events."""

import logging

from celery import shared_task
from django.db import transaction

from apps.events import import_jobs
from apps.events.indexing import events_reindex, reindex_job_create
from apps.events.models import EventImportJob, EventReindexJob
from apps.events.partitions import partitions_ensure as partitions_create_ahead
from apps.profiles.services.imports import jobs

log = logging.getLogger(__name__)


# Acknowledged on receipt, as profile imports are (apps.profiles.tasks.import_job_run): a job
# runs once; one whose worker died is marked failed by import_jobs_fail_stalled.
@shared_task(name="events.import_job_run", acks_late=False)
def import_job_run(job_id: str) -> None:
    """Run an event import started from the admin (import_jobs.py)."""
    import_jobs.event_import_job_run(job_id=job_id)


@shared_task(name="events.import_jobs_fail_stalled")
def import_jobs_fail_stalled() -> int:
    """Beat: mark failed the event imports whose worker stopped writing progress."""
    return len(jobs.import_jobs_fail_stalled(model=EventImportJob))


@shared_task(name="events.partitions_ensure")
def partitions_ensure() -> list[str]:
    """Beat, daily: create the events table's partitions of this month and the months ahead
    that are missing (idempotent); the names of those created."""
    created = partitions_create_ahead()
    if created:
        log.info("Event partitions created: %s", ", ".join(created))
    return created


def import_job_enqueue(job_id: str) -> None:
    try:
        import_job_run.delay(job_id)
    except Exception as error:
        log.exception("Event import %s not enqueued", job_id)
        jobs.import_job_fail(
            job_id=job_id,
            error=f"The import could not be handed to a worker ({error}); upload the file "
            "again when the task broker is back.",
            model=EventImportJob,
        )


def import_job_start(*, job_id: str, actor: str) -> EventImportJob:
    """Start a draft event import and enqueue its run once that is committed. Raises
    ImportJobError."""
    job = import_jobs.event_import_job_start(job_id=job_id, actor=actor)
    transaction.on_commit(lambda: import_job_enqueue(job.pk))
    return job


@shared_task(name="events.reindex")
def reindex_run(job_id: str) -> None:
    """Apply an event type's indexed properties to its stored events (indexing.py)."""
    events_reindex(job_id)


def reindex_start(*, event_type, actor: str) -> EventReindexJob:
    """Queue a re-index of the type's stored events and enqueue it once committed."""
    job = reindex_job_create(event_type=event_type, requested_by=actor)
    transaction.on_commit(lambda: _reindex_enqueue(job.pk))
    return job


def _reindex_enqueue(job_id: str) -> None:
    try:
        reindex_run.delay(job_id)
    except Exception as error:
        log.exception("Re-index %s not enqueued", job_id)
        EventReindexJob.objects.filter(pk=job_id).update(
            status=EventReindexJob.Status.FAILED,
            error=f"The re-index could not be handed to a worker ({error}); start it again "
            "when the task broker is back.",
        )
