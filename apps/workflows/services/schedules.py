"""Scheduled workflows (issue 18 item 2): "every Monday at 08:00, run 'Re-score' for every
profile of the VIP segment".

A WorkflowSchedule holds what the marketer set in the admin (a form, no JSON); this module
validates it, keeps its django-celery-beat entry in step (`workflow_schedule_apply`: the
project's beat scheduler, apps.core.beat, is django-celery-beat's database scheduler, so an
entry saved here is picked up by a running beat within its sync interval, next to the code
entries of CELERY_BEAT_SCHEDULE), and answers the profile page's "upcoming scheduled work".
The runs themselves walk the audience in apps.tracking.schedules (they need the event
processing's profile lock and effects).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.schedules import crontab
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from apps import notation
from apps.destinations.validation import crontab_fields
from apps.profiles.documents import profile_document
from apps.profiles.models import Profile
from apps.workflows.models import WorkflowSchedule

# The beat entry's task (apps.tracking.tasks; named, not imported: tracking is above).
SCHEDULE_TASK = "tracking.workflow_schedule_fire"
# A firing whose message waited this long in the queue is dropped: the next one runs anyway.
SCHEDULE_EXPIRE_SECONDS = 3600
Every = WorkflowSchedule.Every
Audience = WorkflowSchedule.Audience


def schedule_entry_name(schedule_id: str) -> str:
    return f"Workflow schedule {schedule_id}"


def workflow_schedule_apply(*, schedule: WorkflowSchedule) -> PeriodicTask:
    """Create or update the schedule's beat entry so it matches its fields (enabled with the
    schedule). Call after every save of a schedule."""
    task = (
        PeriodicTask.objects.filter(pk=schedule.periodic_task_id).first()
        if schedule.periodic_task_id
        else None
    ) or PeriodicTask.objects.filter(name=schedule_entry_name(schedule.pk)).first()
    timing: dict = {"interval": None, "crontab": None, "solar": None, "clocked": None}
    if schedule.every in (Every.MINUTES, Every.HOURS):
        period = (
            IntervalSchedule.MINUTES if schedule.every == Every.MINUTES else IntervalSchedule.HOURS
        )
        timing["interval"] = _shared(IntervalSchedule, every=schedule.interval, period=period)
    else:
        if schedule.every == Every.DAY:
            at = schedule.at_time
            fields = crontab_fields(f"{at.minute} {at.hour} * * *")
        else:
            fields = crontab_fields(schedule.crontab)
        timing["crontab"] = _shared(CrontabSchedule, **fields, timezone=settings.CELERY_TIMEZONE)
    values = {
        "name": schedule_entry_name(schedule.pk),
        "task": SCHEDULE_TASK,
        "args": json.dumps([schedule.pk]),
        "kwargs": "{}",
        "enabled": schedule.enabled,
        "expire_seconds": SCHEDULE_EXPIRE_SECONDS,
        "description": f"Runs the workflow schedule {schedule.name!r}. Set on the schedule's "
        "page in the admin; changes made here are overwritten there.",
        **timing,
    }
    if task is None:
        task = PeriodicTask(**values)
    else:
        for name, value in values.items():
            setattr(task, name, value)
    task.save()
    if schedule.periodic_task_id != task.pk:
        schedule.periodic_task = task
        WorkflowSchedule.objects.filter(pk=schedule.pk).update(periodic_task=task)
    return task


def workflow_schedule_save(*, schedule: WorkflowSchedule) -> WorkflowSchedule:
    """Validate, save and put the beat entry in step."""
    schedule.full_clean()
    schedule.save()
    workflow_schedule_apply(schedule=schedule)
    return schedule


def workflow_schedule_drop(*, schedule_id: str) -> int:
    """Delete the schedule's beat entry (the schedule is deleted); returns how many."""
    deleted, _ = PeriodicTask.objects.filter(name=schedule_entry_name(schedule_id)).delete()
    return deleted


def _shared(model, **fields):
    """Schedule rows are shared between entries and django-celery-beat does not make them
    unique: take the first that matches."""
    return model.objects.filter(**fields).order_by("pk").first() or model.objects.create(**fields)


def schedule_next_run(
    schedule: WorkflowSchedule, *, now: datetime | None = None
) -> datetime | None:
    """When beat fires the schedule next, after `now` (None: disabled, or no beat entry)."""
    task = schedule.periodic_task
    if task is None or not task.enabled or not schedule.enabled:
        return None
    now = now or timezone.now()
    timing = task.schedule
    if isinstance(timing, crontab):
        # The first crontab time after `now`, in the schedule's time zone.
        start, delta, _ = timing.remaining_delta(now)
        return start + delta
    # An interval counts from the last run (beat's first run comes one interval after it
    # loaded the entry); a run that is overdue happens at the next tick.
    return max((task.last_run_at or now) + timing.run_every, now)


def audience_includes(schedule: WorkflowSchedule, profile: Profile) -> bool:
    """Whether the profile is in the schedule's audience now."""
    if schedule.audience == Audience.SEGMENT:
        return schedule.segment is not None and schedule.segment.slug in profile.segments
    return audience_condition_holds(schedule.condition, profile_document(profile))


def audience_condition_holds(condition: str, document: dict) -> bool:
    try:
        return bool(notation.evaluate(condition, {"profile": document}))
    except notation.NotationError:
        # A condition that cannot be evaluated on this profile does not hold (as segments).
        return False


@dataclass(frozen=True, slots=True)
class UpcomingWork:
    schedule: WorkflowSchedule
    next_run: datetime | None


def profile_upcoming_schedules(
    *, profile: Profile, now: datetime | None = None
) -> list[UpcomingWork]:
    """The enabled schedules whose audience holds the profile, soonest first."""
    schedules = WorkflowSchedule.objects.filter(
        enabled=True, workflow__enabled=True
    ).select_related(
        "workflow", "segment", "periodic_task", "periodic_task__crontab", "periodic_task__interval"
    )
    found = [
        UpcomingWork(schedule, schedule_next_run(schedule, now=now))
        for schedule in schedules
        if audience_includes(schedule, profile)
    ]
    far = timezone.now() + timedelta(days=36500)
    return sorted(found, key=lambda item: (item.next_run or far, item.schedule.name))
