"""Scheduled workflows with a real worker (and beat): celery beat fires the schedule's
django-celery-beat entry next to the heartbeat scheduler's code entries, the worker walks the
audience batch after batch; a second tick while a run is held starts no parallel run."""

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.core.heartbeats import BEAT, heartbeat_ages
from apps.profiles.models import Profile, Segment
from apps.tracking.tasks import workflow_schedule_fire
from apps.workflows.models import WorkflowRun, WorkflowSchedule, WorkflowScheduleRun
from apps.workflows.services.schedules import workflow_schedule_save
from tests.destinations.test_worker import celery_beat  # noqa: F401  (a fixture)
from tests.profiles.factories import SegmentFactory
from tests.support.celery_worker import (  # noqa: F401  (fixtures)
    celery_worker_factory,
    purge_broker_queue,
    wait_for,
)
from tests.workflows.factories import ProfileFactory, WorkflowFactory
from tests.workflows.graphs import linear_graph
from tests.workflows.servers import RecordingServer

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WORKER_ENV = {"CDP_WORKFLOW_SCHEDULE_BATCH_SIZE": "3"}


@pytest.fixture(autouse=True)
def _clean_broker():
    purge_broker_queue()
    yield
    purge_broker_queue()


def vip_schedule(graph, members: int) -> WorkflowSchedule:
    vip = SegmentFactory(name="VIP", kind=Segment.Kind.SCHEDULED)
    for index in range(members):
        ProfileFactory(id=f"m{index}", segments=["vip"])
    ProfileFactory(id="outsider", segments=[])
    return workflow_schedule_save(
        schedule=WorkflowSchedule(
            name="Every Monday",
            workflow=WorkflowFactory(graph=graph),
            every="crontab",
            crontab="0 8 * * 1",
            audience="segment",
            segment=vip,
        )
    )


def schedule_runs():
    return list(
        WorkflowScheduleRun.objects.order_by("started").values_list(
            "status", "profiles", "runs_ok", "runs_failed"
        )
    )


def test_beat_fires_the_schedule_and_the_worker_runs_each_member_once(
    celery_worker_factory,  # noqa: F811
    celery_beat,  # noqa: F811
):
    graph = linear_graph(
        (
            "copy_data",
            {"traits": {"set": {"profile@traits.scheduled": "event@properties.schedule.name"}}},
        )
    )
    schedule = vip_schedule(graph, members=7)
    # Beat runs the entry about now, once (instead of next Monday at 08:00).
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    task.interval, _ = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    task.crontab, task.one_off, task.total_run_count, task.last_run_at = None, True, 0, None
    task.save()
    celery_worker_factory(extra_env=WORKER_ENV)
    celery_beat()

    wait_for(lambda: schedule_runs() == [("done", 7, 7, 0)], timeout=90, message="the run")

    assert sorted(WorkflowRun.objects.values_list("profile_id", "event_type", "status")) == [
        (f"m{index}", "scheduled-run", "ok") for index in range(7)
    ]
    assert dict(Profile.objects.values_list("pk", "traits")) == {
        **{f"m{index}": {"scheduled": "Every Monday"} for index in range(7)},
        "outsider": {},
    }
    # The heartbeat scheduler kept recording beat's ticks next to the database entry.
    assert heartbeat_ages([BEAT])[BEAT] < 60


def test_a_second_tick_while_a_run_is_held_starts_no_parallel_run(
    celery_worker_factory,  # noqa: F811
):
    remote = RecordingServer(hold_first=True).start()
    try:
        call = {"url": remote.url, "timeout": 20, "body": {"profile": "profile@id"}}
        schedule = vip_schedule(linear_graph(("remote_call", call)), members=4)
        worker = celery_worker_factory(extra_env=WORKER_ENV, concurrency=2)

        workflow_schedule_fire.delay(schedule.pk)
        assert remote.first_arrived.wait(30), "the first profile's call never started"
        workflow_schedule_fire.delay(schedule.pk)
        wait_for(lambda: worker.log().count("no other was started") == 1, timeout=30)
        # The first batch is still open (its transaction holds the run): one run, nothing yet.
        assert schedule_runs() == [("running", 0, 0, 0)]
        remote.release()

        wait_for(lambda: schedule_runs() == [("done", 4, 4, 0)], timeout=60, message="the run")
        worker.wait_idle()
        assert sorted(request["json"]["profile"] for request in remote.requests) == [
            "m0",
            "m1",
            "m2",
            "m3",
        ]
        assert WorkflowRun.objects.count() == 4
    finally:
        remote.stop()
