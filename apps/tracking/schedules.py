"""Scheduled workflow runs (issue 18 item 2): the worker side of a WorkflowSchedule.

Beat fires the schedule's django-celery-beat entry (apps.workflows.services.schedules keeps it
in step with the admin form); the task opens a WorkflowScheduleRun (`workflow_schedule_start`)
and steps it batch after batch (`workflow_schedule_step`), each batch a task of its own that
enqueues the next, so a run over a million profiles holds no worker, lock or id list for long:

- The audience is walked by keyset pagination on the profile id, CDP_WORKFLOW_SCHEDULE_BATCH_SIZE
  ids per batch: the members of the segment (GIN index on `segments`), or every profile with
  the condition evaluated on each (as the segment evaluation sweep does).
- Each profile of the batch runs the schedule's workflow, deployed version, under the profile's
  advisory lock (the lock event processing takes: a profile's events and its scheduled run
  never interleave), its changes saved like an event's run, with the segment and destination
  follow-ups of any profile change.
- There is no triggering event: the flow's event is an unsaved `scheduled-run` system event of
  the internal source, {"schedule": {"id", "name"}, "run": run id}, whose id is derived from
  the schedule run and the profile. The WorkflowRun (event_type `scheduled-run`, no stored
  event, event_ref that id) is in the run history like any other, and the once-per-event
  constraint on (event_ref, workflow) makes a batch that runs twice (a redelivered message)
  skip the profiles it already ran.
- The batch is one transaction holding the run row FOR UPDATE SKIP LOCKED: a duplicate message
  for the same run does nothing. One run per schedule at a time (a partial unique index): a
  beat tick while a run still walks the audience starts nothing and says so.
- A run whose next batch never came (lost message, dead worker) is stepped again by the beat
  sweep after CDP_WORKFLOW_SCHEDULE_RESUME_SECONDS, and marked failed after
  CDP_WORKFLOW_SCHEDULE_STALE_SECONDS without progress (a new firing may then start over;
  profiles already run by it are skipped only within the same run).

Events the nodes inject are left for the workers (`Processed`), which the task enqueues.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import orjson
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.rows import rows_fetch
from apps.events.documents import event_document
from apps.events.models import Event
from apps.profiles.documents import DOCUMENT_FIELDS, profile_document
from apps.profiles.models import Profile
from apps.profiles.services.writes import profile_save_changes
from apps.sources.services import internal_source_ensure
from apps.tracking.effects import StoredEffects
from apps.tracking.processing import Processed, profile_lock
from apps.tracking.system_events import SCHEDULED_RUN
from apps.workflows.engine import CompiledWorkflow, Flow, workflow_execute
from apps.workflows.graph import GraphInvalid
from apps.workflows.models import WorkflowRun, WorkflowSchedule, WorkflowScheduleRun
from apps.workflows.selectors import workflow_compiled
from apps.workflows.services.runs import workflow_runs_insert
from apps.workflows.services.schedules import audience_condition_holds, workflow_schedule_drop

logger = logging.getLogger(__name__)

Run = WorkflowScheduleRun
_RUN_EVENT_IDS = uuid.UUID("5d0c7e1a-92b4-4f3e-8a6d-1b7f0c2e9a44")


def scheduled_event_id(run_id: str, profile_id: str) -> str:
    """The id of the `scheduled-run` event of one profile in one schedule run."""
    return str(uuid.uuid5(_RUN_EVENT_IDS, f"{run_id}:{profile_id}"))


@dataclass(frozen=True, slots=True)
class ScheduleStart:
    """`run` is the run to step (None: nothing to do); `message` says what happened."""

    run: WorkflowScheduleRun | None
    message: str


@dataclass
class ScheduleStep:
    more: bool = False
    follow_up: Processed = field(default_factory=Processed)


def workflow_schedule_start(*, schedule_id: str, now: datetime | None = None) -> ScheduleStart:
    """Open a run of the schedule. A disabled schedule, a disabled or never deployed workflow
    records a skipped run; while another run of the schedule is going, nothing starts."""
    now = now or timezone.now()
    schedule = WorkflowSchedule.objects.select_related("workflow").filter(pk=schedule_id).first()
    if schedule is None:
        # Its beat entry outlived it (deleted outside the admin): drop the entry.
        workflow_schedule_drop(schedule_id=schedule_id)
        return ScheduleStart(None, f"There is no workflow schedule {schedule_id!r}.")
    workflow = schedule.workflow
    reason = ""
    if not schedule.enabled:
        reason = "The schedule is disabled: nothing ran."
    elif not workflow.enabled:
        reason = f"The workflow {workflow.name!r} is disabled: nothing ran."
    elif workflow.deployed_at is None:
        reason = f"The workflow {workflow.name!r} was never deployed: nothing ran."
    if reason:
        Run.objects.create(
            schedule=schedule,
            status=Run.Status.SKIPPED,
            started=now,
            updated=now,
            finished=now,
            message=reason,
        )
        return ScheduleStart(None, reason)
    stale = now - timedelta(seconds=settings.CDP_WORKFLOW_SCHEDULE_STALE_SECONDS)
    with transaction.atomic():
        Run.objects.filter(schedule=schedule, status=Run.Status.RUNNING, updated__lt=stale).update(
            status=Run.Status.FAILED,
            finished=now,
            message=f"Interrupted: no progress for {settings.CDP_WORKFLOW_SCHEDULE_STALE_SECONDS}"
            " s; a new run started over.",
        )
        try:
            with transaction.atomic():
                run = Run.objects.create(schedule=schedule, started=now, updated=now)
        except IntegrityError:
            running = Run.objects.filter(schedule=schedule, status=Run.Status.RUNNING).first()
            since = f" (started {running.started:%Y-%m-%d %H:%M:%S})" if running else ""
            return ScheduleStart(
                None, f"A run of this schedule is still going{since}: no other was started."
            )
    return ScheduleStart(run, f"Run of {schedule.name!r} started.")


def workflow_schedule_step(
    *, run_id: str, batch_size: int | None = None, now: datetime | None = None
) -> ScheduleStep:
    """Run the workflow for the next batch of the audience; `more` while some is left. A run
    held by another worker, or over, is left alone."""
    batch_size = batch_size or settings.CDP_WORKFLOW_SCHEDULE_BATCH_SIZE
    now = now or timezone.now()
    step = ScheduleStep()
    with transaction.atomic():
        run = (
            Run.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("schedule", "schedule__workflow", "schedule__segment")
            .filter(pk=run_id, status=Run.Status.RUNNING)
            .first()
        )
        if run is None:
            return step
        schedule = run.schedule
        workflow = schedule.workflow
        compiled = workflow_compiled(workflow_id=workflow.pk, version=workflow.version)
        problem = ""
        if not (schedule.enabled and workflow.enabled):
            problem = "Stopped: the schedule or its workflow was disabled during the run."
        elif isinstance(compiled, GraphInvalid):
            problem = f"The workflow cannot run: {compiled or 'it was deleted'}"
        elif schedule.audience == WorkflowSchedule.Audience.SEGMENT and schedule.segment is None:
            problem = "The schedule has no segment."
        if problem:
            run.status, run.finished, run.message = Run.Status.FAILED, now, problem
        else:
            _batch_run(run, schedule, compiled, batch_size=batch_size, now=now, step=step)
        run.updated = now
        run.save()
    step.more = run.status == Run.Status.RUNNING
    return step


def _audience_batch(
    schedule: WorkflowSchedule, cursor: str, batch_size: int
) -> tuple[list[str], str | None]:
    """The audience's profile ids in the next page after `cursor`, and the last id the page
    went past (None: the audience is walked to its end)."""
    if schedule.audience == WorkflowSchedule.Audience.SEGMENT:
        ids = list(
            Profile.objects.filter(segments__contains=[schedule.segment.slug], pk__gt=cursor)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        return ids, (ids[-1] if len(ids) == batch_size else None)
    page = list(
        Profile.objects.filter(pk__gt=cursor)
        .order_by("pk")
        .only("pk", *DOCUMENT_FIELDS)[:batch_size]
    )
    matched = [
        profile.pk
        for profile in page
        if audience_condition_holds(schedule.condition, profile_document(profile))
    ]
    return matched, (page[-1].pk if len(page) == batch_size else None)


def _batch_run(
    run: WorkflowScheduleRun,
    schedule: WorkflowSchedule,
    compiled: CompiledWorkflow,
    *,
    batch_size: int,
    now: datetime,
    step: ScheduleStep,
) -> None:
    profile_ids, next_cursor = _audience_batch(schedule, run.cursor, batch_size)
    refs = {profile_id: scheduled_event_id(run.pk, profile_id) for profile_id in profile_ids}
    done = set(
        WorkflowRun.objects.filter(
            workflow_id=compiled.id, event_ref__in=list(refs.values()), replay=False
        ).values_list("event_ref", flat=True)
    )
    source_id = internal_source_ensure()
    runs = []
    for profile_id in profile_ids:
        if refs[profile_id] in done:
            continue
        workflow_run = _profile_run(
            run, schedule, compiled, profile_id, refs[profile_id], source_id, now, step
        )
        if workflow_run is not None:
            runs.append(workflow_run)
    workflow_runs_insert(runs)
    run.batches += 1
    run.profiles += len(profile_ids)
    run.runs_ok += sum(1 for item in runs if item.status == WorkflowRun.Status.OK)
    run.runs_failed += sum(1 for item in runs if item.status != WorkflowRun.Status.OK)
    if next_cursor is None:
        run.status, run.finished, run.cursor = Run.Status.DONE, now, ""
    else:
        run.cursor = next_cursor


def _profile_run(
    run: WorkflowScheduleRun,
    schedule: WorkflowSchedule,
    compiled: CompiledWorkflow,
    profile_id: str,
    event_id: str,
    source_id: str,
    now: datetime,
    step: ScheduleStep,
) -> WorkflowRun | None:
    profile_lock(profile_id)
    rows = rows_fetch(Profile, "id = %s", [profile_id])
    if not rows:
        return None  # merged away or erased since the page was read
    before = profile_document(rows[0])
    profile = orjson.loads(orjson.dumps(before))
    event = Event(
        id=event_id,
        type=SCHEDULED_RUN,
        source_id=source_id,
        profile_id=profile_id,
        time=now,
        inserted=now,
        status=Event.Status.PROCESSED,
        properties={"schedule": {"id": schedule.pk, "name": schedule.name}, "run": run.pk},
        metadata={},
        context={},
        traits={},
        request={},
        tags={"values": [], "count": 0},
    )
    effects = StoredEffects(now=now, profile_stored=True)
    flow = Flow(
        event=event_document(event),
        profile=profile,
        session=None,
        workflow={"id": compiled.id, "name": compiled.name, "version": compiled.version},
        now=now,
        effects=effects,
    )
    started = timezone.now()
    outcome = workflow_execute(compiled, flow)
    if effects.merge_requested():
        logger.warning("Scheduled run %s: merges are not run for scheduled runs", run.pk)
    profile_save_changes(profile_id=profile_id, before=before, after=profile, now=now)
    for injected in effects.collected:
        if injected.profile_id:
            step.follow_up.profile_add(injected.profile_id)
        else:
            step.follow_up.event_ids.append(injected.pk)
    return WorkflowRun(
        workflow_id=compiled.id,
        workflow_version=compiled.version,
        event_id=None,
        event_ref=event_id,
        event_type=SCHEDULED_RUN,
        profile_id=profile_id,
        rule_ids=[],
        replay=False,
        in_request=False,
        status=outcome.status,
        error=outcome.error,
        error_node=outcome.error_node,
        started=started,
        duration_ms=outcome.duration_ms,
        log=outcome.log,
    )


def schedule_runs_resume(*, now: datetime | None = None) -> list[str]:
    """The beat sweep: running runs without progress for CDP_WORKFLOW_SCHEDULE_RESUME_SECONDS
    are returned to be stepped again (a duplicate step does nothing); those stuck for
    CDP_WORKFLOW_SCHEDULE_STALE_SECONDS are marked failed."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.CDP_WORKFLOW_SCHEDULE_STALE_SECONDS)
    Run.objects.filter(status=Run.Status.RUNNING, updated__lt=stale).update(
        status=Run.Status.FAILED,
        finished=now,
        message=f"Interrupted: no progress for {settings.CDP_WORKFLOW_SCHEDULE_STALE_SECONDS} s.",
    )
    quiet = now - timedelta(seconds=settings.CDP_WORKFLOW_SCHEDULE_RESUME_SECONDS)
    return list(
        Run.objects.filter(status=Run.Status.RUNNING, updated__lt=quiet).values_list(
            "pk", flat=True
        )
    )


def workflow_schedule_run_here(*, schedule_id: str, batch_size: int | None = None) -> ScheduleStart:
    """Start and finish a run in this process (tests, a shell); the tasks step each batch in a
    message of its own instead. Follow-ups are left to the requeue sweep."""
    started = workflow_schedule_start(schedule_id=schedule_id)
    if started.run is not None:
        while workflow_schedule_step(run_id=started.run.pk, batch_size=batch_size).more:
            pass
        started.run.refresh_from_db()
    return started
