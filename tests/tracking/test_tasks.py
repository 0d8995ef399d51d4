"""The Celery path with real workers: hand-off, crashes, duplicates and ordering (DESIGN §6)."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.events.models import Event
from apps.profiles.models import Profile
from apps.sources.services import event_source_create
from apps.tracking.handoff import events_enqueue, unsaved_events_enqueue
from apps.tracking.tasks import process_profile_events, requeue_collected_events
from apps.workflows.models import WorkflowRun
from apps.workflows.services.workflows import workflow_create
from tests.events.factories import legacy_event_time_set
from tests.support.celery_worker import (  # noqa: F401  (fixtures)
    celery_worker,
    celery_worker_factory,
    wait_for,
)
from tests.workflows.factories import (
    EventFactory,
    ProfileFactory,
    RuleFactory,
    SessionFactory,
    WorkflowFactory,
)
from tests.workflows.graphs import edge, graph, linear_graph, node
from tests.workflows.servers import RecordingServer

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server():
    servers = []

    def start(**kwargs) -> RecordingServer:
        started = RecordingServer(**kwargs).start()
        servers.append(started)
        return started

    yield start
    for started in servers:
        started.stop()


def call_and_count_workflow(url: str, name: str = "Call and count"):
    """start -> remote call (POSTs the event id) -> increment profile@stats.counters.calls ->
    append the event id to profile@traits.seen."""
    return workflow_create(
        name=name,
        graph=linear_graph(
            (
                "remote_call",
                {"url": url, "timeout": 10, "body": {"event": "event@id"}, "method": "POST"},
                "response",
            ),
            ("increment_counter", {"field": "profile@stats.counters.calls"}),
            ("append_remove", {"append": {"profile@traits.seen": "event@id"}}),
        ),
    )


def test_an_event_posted_to_track_ends_with_the_profile_changed(celery_worker):  # noqa: F811
    source = event_source_create(name="Web", source_id="wf-web")
    workflow = workflow_create(
        name="Plan",
        graph=graph(
            [
                node("start", "start"),
                node("pro", "if", name="Is pro?", condition='event@properties.plan == "pro"'),
                node(
                    "copy",
                    "copy_data",
                    name="Keep plan",
                    traits={"set": {"profile@traits.plan": "event@properties.plan"}},
                ),
            ],
            [edge("start", "pro"), edge("pro", "copy", "true")],
        ),
    )
    rule = RuleFactory(workflow=workflow, event_type="purchase", source=source)

    response = Client().post(
        "/track",
        data=json.dumps(
            {
                "source": {"id": "wf-web"},
                "session": {"id": "wf-session"},
                "events": [{"type": "Purchase", "properties": {"plan": "pro"}}],
            }
        ),
        content_type="application/json",
    )

    assert response.status_code == 200
    profile_id = response.json()["profile"]["id"]
    wait_for(
        lambda: Event.objects.get(type="purchase").status == Event.Status.PROCESSED,
        message="the purchase event to be processed",
    )
    assert Profile.objects.get(pk=profile_id).traits == {"plan": "pro"}
    event = Event.objects.get(type="purchase")
    assert event.metadata["processed_by"] == {"rules": [rule.id], "workflows": [workflow.id]}
    run = WorkflowRun.objects.get()
    assert (run.event_id, run.profile_id, run.status) == (event.id, profile_id, "ok")
    assert [(entry["node"], entry["port"]) for entry in run.log] == [
        ("start", "payload"),
        ("pro", "true"),
        ("copy", "payload"),
    ]
    # The system events of a first visit are not routed: stored processed, no task.
    assert set(Event.objects.exclude(type="purchase").values_list("status", flat=True)) == {
        "processed"
    }


def test_a_worker_killed_mid_run_leaves_the_event_to_a_new_worker_exactly_once(
    celery_worker_factory,  # noqa: F811
    server,
):
    slow = server(hold_first=True)
    RuleFactory(workflow=call_and_count_workflow(slow.url))
    event = EventFactory(inserted=timezone.now() - timedelta(seconds=5))
    # Its own queue, so that this worker (not another test's) takes the task.
    doomed = celery_worker_factory(queues=("kill-test",))

    process_profile_events.apply_async(args=[event.profile_id], queue="kill-test")
    assert slow.first_arrived.wait(20), "the remote call node never started"
    doomed.kill()

    event.refresh_from_db()
    assert event.status == Event.Status.COLLECTED
    assert WorkflowRun.objects.count() == 0
    # The message died with its worker (Redis restores it only after the visibility
    # timeout); the beat sweep, run by a new worker, hands the still-collected event on.
    fresh = celery_worker_factory(
        queues=("celery", "kill-test"), extra_env={"CDP_WORKFLOW_REQUEUE_AFTER_SECONDS": "1"}
    )
    requeue_collected_events.apply_async(queue="kill-test")

    wait_for(
        lambda: Event.objects.get(pk=event.pk).status == Event.Status.PROCESSED,
        message="the event to be processed after the crash",
    )
    fresh.wait_idle()
    run = WorkflowRun.objects.get()
    assert (run.event_id, run.status) == (event.id, "ok")
    profile = Profile.objects.get(pk=event.profile_id)
    assert profile.stats == {"counters": {"calls": 1}}
    assert profile.traits == {"seen": [event.id]}
    # The remote side saw the killed attempt and the real one: at-least-once outside the
    # database, exactly once inside it.
    assert [request["json"] for request in slow.requests] == [{"event": event.id}] * 2


def test_a_killed_pool_process_gives_its_message_back_and_it_runs_once(
    celery_worker_factory,  # noqa: F811
    server,
):
    slow = server(hold_first=True)
    RuleFactory(workflow=call_and_count_workflow(slow.url))
    event = EventFactory()
    worker = celery_worker_factory(queues=("pool-kill-test",))
    pool_before = set(worker.pool_pids())

    process_profile_events.apply_async(args=[event.profile_id], queue="pool-kill-test")
    assert slow.first_arrived.wait(20), "the remote call node never started"
    worker.kill_pool_processes()

    # acks_late + task_reject_on_worker_lost: the same worker gets the message back.
    wait_for(
        lambda: Event.objects.get(pk=event.pk).status == Event.Status.PROCESSED,
        message="the redelivered message to be processed",
    )
    worker.wait_idle()
    assert worker.is_running()
    assert not pool_before & set(worker.pool_pids())
    assert WorkflowRun.objects.count() == 1
    assert Profile.objects.get(pk=event.profile_id).stats == {"counters": {"calls": 1}}
    assert len(slow.requests) == 2


def test_a_duplicated_message_processes_the_event_once(celery_worker, server):  # noqa: F811
    slow = server(delay=0.3)
    RuleFactory(workflow=call_and_count_workflow(slow.url))
    event = EventFactory()

    for _ in range(2):
        process_profile_events.delay(event.profile_id)
    events_enqueue(event_ids=[event.id], profile_id=event.profile_id)

    wait_for(lambda: Event.objects.get(pk=event.pk).status == Event.Status.PROCESSED)
    celery_worker.wait_idle()
    assert WorkflowRun.objects.count() == 1
    assert Profile.objects.get(pk=event.profile_id).stats == {"counters": {"calls": 1}}
    assert len(slow.requests) == 1


def test_events_of_one_profile_run_in_event_order_and_never_overlap(
    celery_worker,  # noqa: F811
    server,
):
    slow = server(delay=0.15)
    RuleFactory(workflow=call_and_count_workflow(slow.url))
    profile = ProfileFactory()
    session = SessionFactory(profile=profile)
    base = timezone.now() - timedelta(minutes=1)

    def store(index: int) -> Event:
        return EventFactory(
            id=f"ev-{index}",
            profile=profile,
            session=session,
            time=base + timedelta(seconds=index),
        )

    # First wave stored out of order and announced newest first, one message each.
    first_wave = [store(index) for index in (2, 0, 1)]
    for event in reversed(first_wave):
        events_enqueue(event_ids=[event.id], profile_id=profile.id)
    wait_for(lambda: len(slow.requests) >= 1, message="the first run to start")
    # Second wave arrives while the first is running (a second worker process is free).
    for event in [store(index) for index in (4, 3)]:
        events_enqueue(event_ids=[event.id], profile_id=profile.id)

    wait_for(
        lambda: not Event.objects.filter(status=Event.Status.COLLECTED).exists(),
        message="all events to be processed",
    )
    celery_worker.wait_idle()
    expected = [f"ev-{index}" for index in range(5)]
    assert [request["json"]["event"] for request in slow.requests] == expected
    assert slow.max_in_flight == 1
    assert Profile.objects.get(pk=profile.id).traits == {"seen": expected}
    runs = list(WorkflowRun.objects.order_by("started"))
    assert [run.event_ref for run in runs] == expected
    for earlier, later in zip(runs, runs[1:], strict=False):
        assert later.started >= earlier.started + timedelta(milliseconds=earlier.duration_ms)


def test_unsaved_events_run_from_the_message(celery_worker):  # noqa: F811
    RuleFactory(
        workflow=workflow_create(
            name="Tag",
            graph=linear_graph(("add_segment", {"segment": "{{event@properties.tier}}"})),
        )
    )
    profile = ProfileFactory()
    message = {
        "id": "unsaved-1",
        "type": "page-view",
        "source_id": "ephemeral",
        "profile_id": profile.id,
        "session_id": None,
        "time": timezone.now().isoformat(),
        "properties": {"tier": "gold"},
        "context": {},
        "metadata": {},
        "request": {},
        "tags": {"values": [], "count": 0},
        "traits": {},
    }

    unsaved_events_enqueue(events=[message], profile_id=profile.id)
    unsaved_events_enqueue(events=[message], profile_id=profile.id)

    wait_for(lambda: Profile.objects.get(pk=profile.id).segments == ["gold"])
    celery_worker.wait_idle()
    run = WorkflowRun.objects.get()
    assert (run.event_id, run.event_ref, run.status) == (None, "unsaved-1", "ok")


def test_the_sweep_hands_a_profile_with_an_unreadable_event_to_a_worker_that_gets_past_it(
    celery_worker,  # noqa: F811
):
    """An event whose time PostgreSQL stores but Python cannot read (year 1 BC in UTC) failed
    its profile's batch on every try, so the profile's later events stayed `collected`."""
    RuleFactory(
        workflow=WorkflowFactory(
            graph=linear_graph(("append_remove", {"append": {"profile@traits.seen": "event@id"}}))
        ),
        event_type="page-view",
    )
    old = timezone.now() - timedelta(minutes=10)
    profile = ProfileFactory()
    poison = EventFactory(profile=profile, session=None, time=old, inserted=old)
    later = EventFactory(
        profile=profile, session=None, time=old + timedelta(seconds=1), inserted=old
    )
    legacy_event_time_set(poison, "0001-01-01 00:00:00+14")

    requeue_collected_events.delay()

    wait_for(
        lambda: not Event.objects.filter(status=Event.Status.COLLECTED).exists(),
        message="both events out of `collected`",
    )
    assert dict(Event.objects.values_list("id", "status")) == {
        poison.id: "error",
        later.id: "processed",
    }
    assert Profile.objects.get(pk=profile.pk).traits == {"seen": [later.id]}
