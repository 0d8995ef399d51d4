"""Periodic and background work on profiles (thin: ids in, a service call, safe to repeat)."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q

from apps.profiles.models import ErasureRecord, ImportJob, Segment
from apps.profiles.services.consents import consents_revoke_expired
from apps.profiles.services.erasure import (
    STALLED_AFTER,
    erasure_proceed,
    erasures_stalled,
    profile_forget,
)
from apps.profiles.services.imports import jobs as import_jobs
from apps.profiles.services.segments import (
    segment_evaluation_begin,
    segment_evaluation_fail,
    segment_sweep_batch,
)

log = logging.getLogger(__name__)

SWEEP_KEY = "profiles:segment-sweep:{}"


@shared_task(name="profiles.segments_refresh_scheduled")
def segments_refresh_scheduled() -> int:
    """Beat: start an evaluation of each enabled scheduled or time-dependent segment (whose
    condition reads the events over time) that has none running."""
    started = 0
    segments = Segment.objects.filter(
        Q(kind=Segment.Kind.SCHEDULED) | Q(time_dependent=True), enabled=True
    )
    for segment in segments:
        # A sweep marks itself for one schedule interval; a sweep whose worker died is
        # restarted once the mark expires.
        if cache.add(
            SWEEP_KEY.format(segment.pk), 1, timeout=settings.CDP_SEGMENT_SCHEDULE_SECONDS
        ):
            run = segment_evaluation_begin(segment=segment)
            segment_sweep.delay(segment.pk, "", run)
            started += 1
    return started


@shared_task(name="profiles.segment_sweep", acks_late=True)
def segment_sweep(segment_id: str, after_id: str, run_id: str = "") -> None:
    """One batch of a segment's evaluation; enqueues the next batch while more is left. An
    error that is not the database's passing trouble is recorded on the segment."""
    try:
        next_after = segment_sweep_batch(
            segment_id=segment_id,
            after_id=after_id,
            batch_size=settings.CDP_SEGMENT_BATCH_SIZE,
            run_id=run_id,
        )
    except (OperationalError, InterfaceError):
        raise
    except Exception as error:
        segment_evaluation_fail(
            segment_id=segment_id, run_id=run_id, error=f"{type(error).__name__}: {error}"
        )
        raise
    if next_after is None:
        cache.delete(SWEEP_KEY.format(segment_id))
        return
    segment_sweep.delay(segment_id, next_after, run_id)


def segment_evaluation_enqueue(*, segment_id: str, run_id: str) -> None:
    """Once the current transaction commits, enqueue the evaluation `segment_save` began. A
    broker that is down is logged: the segment shows the evaluation as running, and "Evaluate
    now" (or, for scheduled segments, the beat) starts it again."""
    transaction.on_commit(lambda: _sweep_enqueue(segment_id, run_id))


def segment_evaluate_now(*, segment: Segment) -> str:
    """Begin a new evaluation of `segment` over all profiles (superseding a running one) and
    enqueue it once committed. Returns the run id."""
    run = segment_evaluation_begin(segment=segment)
    transaction.on_commit(lambda: _sweep_enqueue(segment.pk, run))
    return run


def _sweep_enqueue(segment_id: str, run: str) -> None:
    try:
        segment_sweep.delay(segment_id, "", run)
    except Exception:
        log.exception("Evaluation %s of segment %s not enqueued.", run, segment_id)


# A run works about RUN_SECONDS, then one batch and, at the end, the final pass; the limits
# only cut a run that hangs (its open batch rolls back; the sweep resumes the erasure).
@shared_task(name="profiles.erasure_run", acks_late=True, soft_time_limit=240, time_limit=300)
def erasure_run(erasure_id: str) -> None:
    """One run of an erasure (about a minute of batches); enqueues the next while rows are
    left. A killed run's message is redelivered (acks_late), a lost one found by the sweep."""
    if not erasure_proceed(erasure_id=erasure_id):
        erasure_enqueue(erasure_id)


@shared_task(name="profiles.erasures_resume")
def erasures_resume() -> int:
    """Beat: enqueue a run for every erasure whose job stopped writing."""
    stalled = erasures_stalled()
    for erasure_id in stalled:
        erasure_enqueue(erasure_id)
    return len(stalled)


@shared_task(name="profiles.consents_auto_revoke", acks_late=True)
def consents_auto_revoke() -> int:
    """Beat (and itself while more are due): revoke the expired consents of one batch of
    profiles. Safe to run twice or side by side: each batch takes the rows no other holds."""
    revoked = consents_revoke_expired()
    if revoked.more:
        consents_auto_revoke.delay()
    return revoked.consents


def erasure_enqueue(erasure_id: str) -> None:
    """Enqueue a run; a broker that is down only delays the erasure (the record is committed
    and the sweep starts it), it never fails the caller."""
    try:
        erasure_run.delay(erasure_id)
    except Exception:
        log.exception(
            "Erasure %s not enqueued; the sweep resumes it within %s.", erasure_id, STALLED_AFTER
        )


def profile_erasure_start(*, profile_id: str, actor: str) -> ErasureRecord:
    """Start forgetting a person (services.erasure.profile_forget) and enqueue its job once the
    record is committed. Raises ProfileNotFound."""
    record = profile_forget(profile_id=profile_id, actor=actor)
    transaction.on_commit(lambda: erasure_enqueue(record.pk))
    return record


# Acknowledged on receipt (not acks_late): a half-done import must not run a second time (its
# rows without an id would create profiles again); a job whose worker died is marked failed by
# import_jobs_fail_stalled instead.
@shared_task(name="profiles.import_job_run", acks_late=False)
def import_job_run(job_id: str) -> None:
    """Run an import started from the admin (services.imports.jobs)."""
    import_jobs.import_job_run(job_id=job_id)


@shared_task(name="profiles.import_jobs_fail_stalled")
def import_jobs_fail_stalled() -> int:
    """Beat: mark failed the imports whose worker stopped writing progress."""
    return len(import_jobs.import_jobs_fail_stalled())


def import_job_enqueue(job_id: str) -> None:
    try:
        import_job_run.delay(job_id)
    except Exception as error:
        log.exception("Import %s not enqueued", job_id)
        import_jobs.import_job_fail(
            job_id=job_id,
            error=f"The import could not be handed to a worker ({error}); upload the file "
            "again when the task broker is back.",
        )


def import_job_start(*, job_id: str, actor: str) -> ImportJob:
    """Start a draft import (services.imports.jobs.import_job_start) and enqueue its run once
    that is committed. Raises ImportJobError."""
    job = import_jobs.import_job_start(job_id=job_id, actor=actor)
    transaction.on_commit(lambda: import_job_enqueue(job.pk))
    return job
