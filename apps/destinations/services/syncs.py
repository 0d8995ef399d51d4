"""Scheduled syncs (DESIGN §13): "every night at 02:00, send every profile of segment VIP".

A sync run goes through the same deliveries as a profile change, so the dispatcher sends them
with its retries and records their attempts:

- Members: profiles of the audience segment (through the GIN index on `segments`, keyset
  pagination by id) that pass the destination's condition get a pending delivery, due now, via
  `sync_deliveries_schedule` (the profile-change upsert's index: one already pending is reused,
  never doubled). The run stamps each one in DestinationSyncMember.
- Removals: members the run did not stamp left the audience since the last run (left the
  segment, stopped passing the condition, deleted or merged away). With a removal mapping each
  gets a removal delivery; the member row goes either way.
- Each batch (CDP_DESTINATION_SYNC_BATCH_SIZE ids) is one short transaction that holds the run
  row (SKIP LOCKED: a second worker on the same run does nothing) and saves where it is, so a
  sync of hundreds of thousands of members never holds long locks nor a list of every id, and
  one whose batch message is lost or whose worker dies is resumed by beat (`sync_runs_resume`),
  or after CDP_DESTINATION_SYNC_STALE_SECONDS without progress marked failed.
- At most one run per destination queues at a time (a partial unique index on running runs).

No sender takes batches (webhook, RabbitMQ and SMTP send one message per delivery), so a sync
is sent one delivery at a time by the normal send runs.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from apps import notation
from apps.destinations.models import (
    Delivery,
    Destination,
    DestinationSyncMember,
    DestinationSyncRun,
)
from apps.destinations.services.scheduling import sync_deliveries_schedule
from apps.destinations.validation import crontab_fields
from apps.events.history import StoredEventHistory
from apps.profiles.documents import profile_document
from apps.profiles.models import Profile

log = logging.getLogger(__name__)

Run = DestinationSyncRun
SYNC_TASK = "destinations.destination_sync_scheduled"
# A scheduled sync whose beat message waited this long in the queue is dropped: the next tick
# syncs the audience anyway.
SYNC_EXPIRE_SECONDS = 3600


# --- the schedule -------------------------------------------------------------------------


def sync_schedule_name(destination_id: str) -> str:
    return f"Destination sync {destination_id}"


def destination_sync_schedule_drop(*, destination_id: str) -> int:
    """Delete the destination's beat entry (the destination is deleted); returns how many."""
    deleted, _ = PeriodicTask.objects.filter(name=sync_schedule_name(destination_id)).delete()
    return deleted


def destination_sync_schedule_apply(*, destination: Destination) -> PeriodicTask | None:
    """Create, update or delete the destination's beat entry so it matches its schedule fields
    (enabled with the destination). Call after every save of a destination."""
    # By its link, or by its name if the link was lost (the name is unique).
    task = (
        PeriodicTask.objects.filter(pk=destination.sync_periodic_task_id).first()
        if destination.sync_periodic_task_id
        else None
    ) or PeriodicTask.objects.filter(name=sync_schedule_name(destination.pk)).first()
    wanted = (
        destination.kind == Destination.Kind.PROFILE
        and destination.sync_every
        and destination.sync_segment_id
    )
    if not wanted:
        if task is not None:
            task.delete()
        if destination.sync_periodic_task_id:
            destination.sync_periodic_task = None
            Destination.objects.filter(pk=destination.pk).update(sync_periodic_task=None)
        return None
    schedule: dict = {"interval": None, "crontab": None, "solar": None, "clocked": None}
    Every = Destination.SyncEvery
    if destination.sync_every == Every.HOURS:
        schedule["interval"] = _shared_schedule(
            IntervalSchedule, every=destination.sync_interval_hours, period=IntervalSchedule.HOURS
        )
    else:
        if destination.sync_every == Every.DAY:
            at = destination.sync_time
            fields = crontab_fields(f"{at.minute} {at.hour} * * *")
        else:
            fields = crontab_fields(destination.sync_crontab)
        schedule["crontab"] = _shared_schedule(
            CrontabSchedule, **fields, timezone=settings.CELERY_TIMEZONE
        )
    values = {
        "name": sync_schedule_name(destination.pk),
        "task": SYNC_TASK,
        "args": json.dumps([destination.pk]),
        "kwargs": "{}",
        "enabled": destination.enabled,
        "expire_seconds": SYNC_EXPIRE_SECONDS,
        "description": f"Scheduled sync of the destination {destination.name!r}. Set on the "
        "destination's page in the admin; changes made here are overwritten there.",
        **schedule,
    }
    if task is None:
        task = PeriodicTask(**values)
    else:
        for name, value in values.items():
            setattr(task, name, value)
    task.save()
    if destination.sync_periodic_task_id != task.pk:
        destination.sync_periodic_task = task
        Destination.objects.filter(pk=destination.pk).update(sync_periodic_task=task)
    return task


def _shared_schedule(model, **fields):
    """Schedule rows are shared between entries, and django-celery-beat does not make them
    unique (its admin can add the same one twice): take the first that matches."""
    return model.objects.filter(**fields).order_by("pk").first() or model.objects.create(**fields)


# --- a run --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyncStart:
    """`run` is the run to carry on (None: nothing to do); `message` says what happened."""

    run: DestinationSyncRun | None
    message: str


def destination_sync_start(
    *, destination_id: str, trigger: str, requested_by: str = "", now: datetime | None = None
) -> SyncStart:
    """Open a sync run of the destination's audience. A disabled destination (or one with no
    audience) records a skipped run and queues nothing; while another run of the destination
    is queueing, nothing starts. The caller then steps the run (`destination_sync_step`)."""
    now = now or timezone.now()
    destination = (
        Destination.objects.select_related("sync_segment").filter(pk=destination_id).first()
    )
    if destination is None:
        # Its beat entry outlived it (deleted outside the admin and services): drop the entry.
        destination_sync_schedule_drop(destination_id=destination_id)
        return SyncStart(run=None, message=f"There is no destination {destination_id!r}.")
    reason = ""
    if not destination.enabled:
        reason = "The destination is disabled: nothing was queued."
    elif destination.kind != Destination.Kind.PROFILE:
        reason = "Only profile destinations have scheduled syncs: nothing was queued."
    elif destination.sync_segment is None:
        reason = "The destination has no audience segment: nothing was queued."
    if reason:
        Run.objects.create(
            destination=destination,
            trigger=trigger,
            requested_by=requested_by,
            status=Run.Status.SKIPPED,
            phase=Run.Phase.DONE,
            started=now,
            updated=now,
            finished=now,
            message=reason,
        )
        return SyncStart(run=None, message=reason)
    stale = now - timedelta(seconds=settings.CDP_DESTINATION_SYNC_STALE_SECONDS)
    with transaction.atomic():
        # A run that stopped moving (its worker died, its message was lost) gives way. The new
        # run starts over: queueing a member again reuses its pending delivery.
        Run.objects.filter(
            destination=destination, status=Run.Status.RUNNING, updated__lt=stale
        ).update(
            status=Run.Status.FAILED,
            finished=now,
            message="Interrupted: no progress for "
            f"{settings.CDP_DESTINATION_SYNC_STALE_SECONDS} s; a new sync started over.",
        )
        try:
            with transaction.atomic():
                run = Run.objects.create(
                    destination=destination,
                    trigger=trigger,
                    requested_by=requested_by,
                    segment_slug=destination.sync_segment.slug,
                    started=now,
                    updated=now,
                )
        except IntegrityError:
            running = Run.objects.filter(destination=destination, status=Run.Status.RUNNING).first()
            since = f" (started {running.started:%Y-%m-%d %H:%M:%S})" if running else ""
            return SyncStart(
                run=None,
                message=f"A sync of this destination is already running{since}: "
                "nothing more was queued.",
            )
    return SyncStart(
        run=run, message=f"Sync of the segment {destination.sync_segment.name!r} started."
    )


def destination_sync_step(
    *, run_id: str, batch_size: int | None = None, now: datetime | None = None
) -> bool:
    """Queue one batch of a running sync run; True while more is left (the caller steps it
    again). A run held by another worker, or over, is left alone (False)."""
    batch_size = batch_size or settings.CDP_DESTINATION_SYNC_BATCH_SIZE
    now = now or timezone.now()
    with transaction.atomic():
        run = (
            Run.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("destination")
            .filter(pk=run_id, status=Run.Status.RUNNING)
            .first()
        )
        if run is None:
            return False
        destination = run.destination
        if not destination.enabled:
            run.status = Run.Status.FAILED
            run.finished = now
            run.message = "Stopped: the destination was disabled during the sync."
        elif run.phase == Run.Phase.MEMBERS:
            _members_batch(run, destination, batch_size=batch_size, now=now)
        else:
            _removals_batch(run, destination, batch_size=batch_size, now=now)
        run.updated = now
        run.save()
    return run.status == Run.Status.RUNNING


def sync_runs_resume(*, now: datetime | None = None) -> list[str]:
    """The beat sweep: running runs that made no progress for CDP_DESTINATION_SYNC_RESUME_SECONDS
    (their next batch's message was lost, or its worker died) are returned for the caller to
    step again (safe: a batch holds the run row, a duplicate message does nothing); those stuck
    for CDP_DESTINATION_SYNC_STALE_SECONDS (every batch fails) are marked failed instead."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.CDP_DESTINATION_SYNC_STALE_SECONDS)
    Run.objects.filter(status=Run.Status.RUNNING, updated__lt=stale).update(
        status=Run.Status.FAILED,
        finished=now,
        message=f"Interrupted: no progress for {settings.CDP_DESTINATION_SYNC_STALE_SECONDS} s.",
    )
    quiet = now - timedelta(seconds=settings.CDP_DESTINATION_SYNC_RESUME_SECONDS)
    return list(
        Run.objects.filter(status=Run.Status.RUNNING, updated__lt=quiet).values_list(
            "pk", flat=True
        )
    )


def destination_sync_run(*, destination_id: str, trigger: str, requested_by: str = "") -> SyncStart:
    """Start and finish a sync in this process (a management command, tests); the tasks step
    each batch in a task of its own instead."""
    started = destination_sync_start(
        destination_id=destination_id, trigger=trigger, requested_by=requested_by
    )
    if started.run is not None:
        while destination_sync_step(run_id=started.run.pk):
            pass
        started.run.refresh_from_db()
    return started


def _members_batch(
    run: DestinationSyncRun, destination: Destination, *, batch_size: int, now: datetime
) -> None:
    members = Profile.objects.filter(
        segments__contains=[run.segment_slug], pk__gt=run.cursor
    ).order_by("pk")
    condition = destination.condition.strip()
    if condition:
        profiles = list(members[:batch_size])
        seen = [profile.pk for profile in profiles]
        passing = [profile.pk for profile in profiles if _passes(condition, profile)]
    else:
        seen = passing = list(members.values_list("pk", flat=True)[:batch_size])
    inserted, pending = sync_deliveries_schedule(
        destination_id=destination.pk, run_id=run.pk, profile_ids=passing, now=now
    )
    DestinationSyncMember.objects.bulk_create(
        [
            DestinationSyncMember(destination=destination, profile_id=pk, run_id=run.pk)
            for pk in passing
        ],
        update_conflicts=True,
        unique_fields=["destination", "profile_id"],
        update_fields=["run_id"],
    )
    run.members_queued += inserted
    run.already_pending += pending
    run.skipped_by_condition += len(seen) - len(passing)
    if len(seen) < batch_size:
        run.phase, run.cursor = Run.Phase.REMOVALS, ""
    else:
        run.cursor = seen[-1]


def _passes(condition: str, profile: Profile) -> bool:
    try:
        history = StoredEventHistory(profile.pk)
        return bool(
            notation.evaluate(condition, {"profile": profile_document(profile)}, history=history)
        )
    except notation.NotationError:
        # As at send time, a condition that cannot be evaluated on this profile does not send.
        return False


def _removals_batch(
    run: DestinationSyncRun, destination: Destination, *, batch_size: int, now: datetime
) -> None:
    # A page of the member rows (bounded whatever the share of leavers); those this run did not
    # stamp left the audience.
    page = list(
        DestinationSyncMember.objects.filter(destination=destination, profile_id__gt=run.cursor)
        .order_by("profile_id")
        .values_list("pk", "profile_id", "run_id")[:batch_size]
    )
    left = [(pk, profile_id) for pk, profile_id, seen_by in page if seen_by != run.pk]
    if left:
        left_ids = [profile_id for _, profile_id in left]
        if _has_mapping(destination.removal_mapping):
            existing = set(Profile.objects.filter(pk__in=left_ids).values_list("pk", flat=True))
            inserted, pending = sync_deliveries_schedule(
                destination_id=destination.pk,
                run_id=run.pk,
                profile_ids=[profile_id for profile_id in left_ids if profile_id in existing],
                removal=True,
                now=now,
            )
            gone = [
                _gone_profile_removal(destination, run, profile_id, now)
                for profile_id in left_ids
                if profile_id not in existing
            ]
            Delivery.objects.bulk_create(gone)
            run.removals_queued += inserted + pending + len(gone)
        else:
            run.left_not_sent += len(left)
        DestinationSyncMember.objects.filter(pk__in=[pk for pk, _ in left]).delete()
    if len(page) < batch_size:
        run.phase, run.cursor = Run.Phase.DONE, ""
        run.status = Run.Status.QUEUED
        run.finished = now
    else:
        run.cursor = page[-1][1]


def _gone_profile_removal(
    destination: Destination, run: DestinationSyncRun, profile_id: str, now: datetime
) -> Delivery:
    """A removal for a profile that was deleted or merged away: no profile row to point at,
    so the claim renders the removal mapping over {"profile": {"id": removed_profile_id}}."""
    return Delivery(
        destination=destination,
        is_removal=True,
        removed_profile_id=profile_id,
        sync_run=run,
        due_at=now,
        first_change_at=now,
        latest_due_at=now,
        created=now,
        updated=now,
    )


def _has_mapping(mapping: object) -> bool:
    return mapping not in ({}, [], "", None)
