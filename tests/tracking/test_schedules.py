"""Scheduled workflows (issue 18 item 2), in this process: the audience walked in batches, one
recorded run per profile, the run's counts, no second run while one is going."""

from datetime import UTC, datetime, time, timedelta

import pytest

from apps.profiles.models import Profile, Segment
from apps.tracking.schedules import (
    schedule_runs_resume,
    scheduled_event_id,
    workflow_schedule_run_here,
    workflow_schedule_start,
    workflow_schedule_step,
)
from apps.workflows.models import WorkflowRun, WorkflowSchedule, WorkflowScheduleRun
from apps.workflows.services.schedules import schedule_next_run, workflow_schedule_save
from tests.profiles.factories import SegmentFactory
from tests.workflows.factories import ProfileFactory, WorkflowFactory
from tests.workflows.graphs import linear_graph

pytestmark = pytest.mark.django_db

MARK_WORKFLOW = linear_graph(
    (
        "copy_data",
        {"traits": {"set": {"profile@traits.scheduled": "event@properties.schedule.name"}}},
    )
)


def schedule_for(workflow, **fields) -> WorkflowSchedule:
    values = {"name": "Monday re-score", "every": "day", "at_time": time(8, 0), **fields}
    return workflow_schedule_save(schedule=WorkflowSchedule(workflow=workflow, **values))


def steps_until_done(run_id: str, batch_size: int) -> list[bool]:
    more = []
    while True:
        step = workflow_schedule_step(run_id=run_id, batch_size=batch_size)
        more.append(step.more)
        if not step.more:
            return more


def recorded_runs():
    return list(
        WorkflowRun.objects.order_by("profile_id").values_list(
            "profile_id", "event_type", "event_id", "event_ref", "status"
        )
    )


def test_a_schedule_over_a_segment_of_five_runs_five_runs_in_three_batches():
    vip = SegmentFactory(name="VIP", kind=Segment.Kind.SCHEDULED)
    for index in range(5):
        ProfileFactory(id=f"m{index}", segments=["vip"])
    ProfileFactory(id="outsider", segments=["newsletter"])
    workflow = WorkflowFactory(graph=MARK_WORKFLOW)
    schedule = schedule_for(workflow, audience="segment", segment=vip)

    started = workflow_schedule_start(schedule_id=schedule.pk)
    run = started.run
    assert started.message == "Run of 'Monday re-score' started."
    assert steps_until_done(run.pk, batch_size=2) == [True, True, False]

    run.refresh_from_db()
    assert (run.status, run.batches, run.profiles, run.runs_ok, run.runs_failed) == (
        "done",
        3,
        5,
        5,
        0,
    )
    assert run.finished is not None
    assert recorded_runs() == [
        (f"m{index}", "scheduled-run", None, scheduled_event_id(run.pk, f"m{index}"), "ok")
        for index in range(5)
    ]
    traits = dict(Profile.objects.values_list("pk", "traits"))
    assert traits == {
        **{f"m{index}": {"scheduled": "Monday re-score"} for index in range(5)},
        "outsider": {},
    }


def test_a_condition_audience_runs_for_the_matching_profiles_only():
    plans = {"a": "pro", "b": "free", "c": "pro", "d": "pro", "e": None}
    for pid, plan in plans.items():
        ProfileFactory(id=pid, traits={"plan": plan} if plan else {})
    workflow = WorkflowFactory(graph=MARK_WORKFLOW)
    schedule = schedule_for(
        workflow, audience="condition", condition='profile@traits.plan == "pro"'
    )

    run = workflow_schedule_start(schedule_id=schedule.pk).run
    assert steps_until_done(run.pk, batch_size=2) == [True, True, False]

    run.refresh_from_db()
    assert (run.status, run.batches, run.profiles, run.runs_ok) == ("done", 3, 3, 3)
    assert [row[0] for row in recorded_runs()] == ["a", "c", "d"]


def test_a_tick_while_a_run_is_going_starts_no_second_run_and_a_duplicate_step_does_nothing():
    vip = SegmentFactory(name="VIP", kind=Segment.Kind.SCHEDULED)
    for index in range(3):
        ProfileFactory(id=f"m{index}", segments=["vip"])
    schedule = schedule_for(WorkflowFactory(graph=MARK_WORKFLOW), audience="segment", segment=vip)

    first = workflow_schedule_start(schedule_id=schedule.pk)
    assert workflow_schedule_step(run_id=first.run.pk, batch_size=2).more is True
    second = workflow_schedule_start(schedule_id=schedule.pk)

    assert second.run is None
    assert second.message.startswith("A run of this schedule is still going (started ")
    assert second.message.endswith("): no other was started.")
    assert steps_until_done(first.run.pk, batch_size=2) == [False]
    # A message for the finished run (redelivered) finds nothing to do.
    assert workflow_schedule_step(run_id=first.run.pk, batch_size=2).more is False
    assert WorkflowScheduleRun.objects.count() == 1
    assert [row[0] for row in recorded_runs()] == ["m0", "m1", "m2"]


def test_a_disabled_workflow_records_a_skipped_run_and_runs_nothing():
    vip = SegmentFactory(name="VIP", kind=Segment.Kind.SCHEDULED)
    ProfileFactory(id="m0", segments=["vip"])
    workflow = WorkflowFactory(name="Re-score", graph=MARK_WORKFLOW, enabled=False)
    schedule = schedule_for(workflow, audience="segment", segment=vip)

    started = workflow_schedule_run_here(schedule_id=schedule.pk)

    assert started.run is None
    assert list(WorkflowScheduleRun.objects.values_list("status", "message")) == [
        ("skipped", "The workflow 'Re-score' is disabled: nothing ran.")
    ]
    assert WorkflowRun.objects.count() == 0


def test_the_beat_entry_follows_the_form_fields():
    vip = SegmentFactory(name="VIP", kind=Segment.Kind.SCHEDULED)
    schedule = schedule_for(
        WorkflowFactory(), audience="segment", segment=vip, every="crontab", crontab="0 8 * * 1"
    )
    task = schedule.periodic_task
    assert (task.task, task.args, task.enabled, task.interval) == (
        "tracking.workflow_schedule_fire",
        f'["{schedule.pk}"]',
        True,
        None,
    )
    cron = task.crontab
    assert (cron.minute, cron.hour, cron.day_of_month, cron.month_of_year, cron.day_of_week) == (
        "0",
        "8",
        "*",
        "*",
        "1",
    )

    schedule.every, schedule.interval, schedule.enabled = "minutes", 30, False
    workflow_schedule_save(schedule=schedule)
    task.refresh_from_db()
    assert (task.crontab, task.interval.every, task.interval.period, task.enabled) == (
        None,
        30,
        "minutes",
        False,
    )


def test_the_next_run_is_the_first_schedule_time_after_now():
    vip = SegmentFactory(name="VIP", kind=Segment.Kind.SCHEDULED)
    daily = schedule_for(WorkflowFactory(), audience="segment", segment=vip)
    mondays = schedule_for(
        WorkflowFactory(), audience="segment", segment=vip, every="crontab", crontab="30 7 * * 1"
    )
    # Tuesday 1 December 2026, 09:00 UTC.
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    assert schedule_next_run(daily, now=now) == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    assert schedule_next_run(mondays, now=now) == datetime(2026, 12, 7, 7, 30, tzinfo=UTC)


def test_the_sweep_steps_quiet_runs_again_and_fails_stuck_ones(settings):
    settings.CDP_WORKFLOW_SCHEDULE_RESUME_SECONDS = 60
    settings.CDP_WORKFLOW_SCHEDULE_STALE_SECONDS = 600
    vip = SegmentFactory(name="VIP", kind=Segment.Kind.SCHEDULED)
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    runs = {}
    for name, quiet_seconds in (("busy", 10), ("quiet", 120), ("stuck", 900)):
        schedule = schedule_for(WorkflowFactory(), name=name, audience="segment", segment=vip)
        at = now - timedelta(seconds=quiet_seconds)
        runs[name] = WorkflowScheduleRun.objects.create(schedule=schedule, started=at, updated=at)

    assert schedule_runs_resume(now=now) == [runs["quiet"].pk]
    assert dict(WorkflowScheduleRun.objects.values_list("schedule__name", "status")) == {
        "busy": "running",
        "quiet": "running",
        "stuck": "failed",
    }
    assert WorkflowScheduleRun.objects.get(pk=runs["stuck"].pk).message == (
        "Interrupted: no progress for 600 s."
    )
