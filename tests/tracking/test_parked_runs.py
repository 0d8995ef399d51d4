"""Parked branches in the database: park, resume when due, wake on an event, cancel, resume now,
merge and erasure while parked (in-process; the worker tests are in test_parked_worker.py)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.events.models import Event
from apps.profiles.models import Profile
from apps.profiles.services.erasure import erasure_proceed, profile_forget
from apps.profiles.services.merge import profiles_merge
from apps.tracking.processing import profile_events_process
from apps.tracking.resume import parked_runs_resume_due
from apps.workflows.models import ParkedRun, WorkflowRun
from apps.workflows.services.parking import parked_runs_cancel, parked_runs_due_now
from tests.workflows.factories import EventFactory, ProfileFactory, RuleFactory, WorkflowFactory
from tests.workflows.graphs import edge, graph, node

pytestmark = pytest.mark.django_db


def wait_workflow():
    """start -> note (memory) -> wait 1 hour -> copy (profile traits from memory and payload)."""
    nodes = [
        node("start", "start"),
        node("note", "copy_data", traits={"set": {"memory@basket": "event@properties.sku"}}),
        node("wait", "wait", name="Wait an hour", mode="for a time", amount=1, unit="hours"),
        node(
            "copy",
            "copy_data",
            traits={
                "set": {
                    "profile@traits.reminded": "memory@basket",
                    "profile@traits.event_type": "payload@type",
                }
            },
        ),
    ]
    edges = [edge("start", "note"), edge("note", "wait"), edge("wait", "copy")]
    workflow = WorkflowFactory(graph=graph(nodes, edges))
    RuleFactory(workflow=workflow, event_type="product-added-to-basket")
    return workflow


def wait_for_checkout_workflow():
    nodes = [
        node("start", "start"),
        node("wait", "wait_for_event", event_type="checkout", amount=1, unit="hours"),
        node("bought", "copy_data", traits={"set": {"profile@traits.outcome": "payload@type"}}),
        node("reminded", "copy_data", traits={"set": {"profile@traits.outcome": "`timeout`"}}),
    ]
    edges = [
        edge("start", "wait"),
        edge("wait", "bought", "event"),
        edge("wait", "reminded", "timeout"),
    ]
    workflow = WorkflowFactory(graph=graph(nodes, edges))
    RuleFactory(workflow=workflow, event_type="product-added-to-basket")
    return workflow


def basket_event(profile, **kwargs):
    return EventFactory(
        profile=profile, type="product-added-to-basket", properties={"sku": "SKU-1"}, **kwargs
    )


def park_one(workflow_factory=wait_workflow):
    workflow = workflow_factory()
    profile = ProfileFactory(traits={})
    event = basket_event(profile)
    before = timezone.now()
    profile_events_process(profile_id=profile.pk)
    return workflow, profile, event, before


def test_a_wait_parks_the_branch_with_its_flow_state_and_the_run_is_parked():
    workflow, profile, event, before = park_one()
    parked = ParkedRun.objects.get()
    assert (parked.workflow_id, parked.event_ref, parked.profile_id) == (
        workflow.pk,
        event.pk,
        profile.pk,
    )
    assert (parked.node_id, parked.node_name, parked.due_port, parked.waiting_for) == (
        "wait",
        "Wait an hour",
        "payload",
        "",
    )
    assert parked.status == ParkedRun.Status.PARKED
    assert before + timedelta(hours=1) <= parked.due_at <= timezone.now() + timedelta(hours=1)
    assert parked.state["memory"] == {"basket": "SKU-1"}
    assert parked.state["payload"]["id"] == event.pk
    assert parked.state["event"]["properties"] == {"sku": "SKU-1"}
    assert parked.state["session_id"] == event.session_id
    run = WorkflowRun.objects.get()
    assert run.status == WorkflowRun.Status.PARKED
    assert [entry["node"] for entry in run.log] == ["start", "note", "wait"]
    assert Event.objects.get(pk=event.pk).status == Event.Status.PROCESSED
    assert Profile.objects.get(pk=profile.pk).traits == {}


def test_the_job_resumes_a_due_branch_once_at_the_node_with_payload_and_memory():
    workflow, profile, event, _ = park_one()
    parked = ParkedRun.objects.get()
    assert parked_runs_resume_due(now=parked.due_at - timedelta(seconds=1)).claimed == 0

    result = parked_runs_resume_due(now=parked.due_at)
    assert (result.claimed, result.resumed, result.put_back) == (1, 1, 0)
    assert Profile.objects.get(pk=profile.pk).traits == {
        "reminded": "SKU-1",
        "event_type": "product-added-to-basket",
    }
    parked.refresh_from_db()
    assert (parked.status, parked.outcome) == (ParkedRun.Status.RESUMED, "payload")
    run = WorkflowRun.objects.get()
    assert run.status == WorkflowRun.Status.OK
    assert [(e["node"], e["port"]) for e in run.log] == [
        ("start", "payload"),
        ("note", "payload"),
        ("wait", None),
        ("wait", "payload"),
        ("copy", "payload"),
    ]
    # Nothing is left: a second job finds no work.
    assert parked_runs_resume_due(now=parked.due_at + timedelta(hours=1)).claimed == 0


def test_a_branch_resumes_on_the_profile_as_it_is_then():
    _, profile, _, _ = park_one()
    Profile.objects.filter(pk=profile.pk).update(traits={"vip": True})
    parked_runs_resume_due(now=ParkedRun.objects.get().due_at)
    assert Profile.objects.get(pk=profile.pk).traits == {
        "vip": True,
        "reminded": "SKU-1",
        "event_type": "product-added-to-basket",
    }


@pytest.mark.django_db(transaction=True)
def test_a_profile_busy_in_a_worker_is_put_back_for_the_next_tick(django_db_blocker):
    _, profile, _, _ = park_one()
    due = ParkedRun.objects.get().due_at
    holding, release = threading.Event(), threading.Event()

    def hold_profile_lock():
        with django_db_blocker.unblock():
            from apps.tracking.processing import profile_lock

            try:
                with transaction.atomic():
                    profile_lock(profile.pk)
                    holding.set()
                    release.wait(10)
            finally:
                connection.close()

    worker = threading.Thread(target=hold_profile_lock)
    worker.start()
    try:
        assert holding.wait(10)
        result = parked_runs_resume_due(now=due)
        assert (result.claimed, result.resumed, result.put_back) == (1, 0, 1)
        assert ParkedRun.objects.get().status == ParkedRun.Status.PARKED
    finally:
        release.set()
        worker.join()
    assert parked_runs_resume_due(now=due).resumed == 1


def test_wait_for_an_event_goes_on_from_the_event_port_when_it_arrives():
    workflow, profile, _, _ = park_one(wait_for_checkout_workflow)
    parked = ParkedRun.objects.get()
    assert (parked.waiting_for, parked.due_port) == ("checkout", "timeout")
    checkout = EventFactory(profile=profile, type="checkout", properties={"total": 10})
    profile_events_process(profile_id=profile.pk)

    assert Profile.objects.get(pk=profile.pk).traits == {"outcome": "checkout"}
    parked.refresh_from_db()
    assert (parked.status, parked.outcome) == (ParkedRun.Status.RESUMED, "event")
    run = WorkflowRun.objects.get(workflow=workflow)
    assert run.status == WorkflowRun.Status.OK
    ports = [(e["node"], e["port"]) for e in run.log]
    assert ports[-2:] == [("wait", "event"), ("bought", "payload")]
    assert Event.objects.get(pk=checkout.pk).status == Event.Status.PROCESSED
    # The timeout no longer comes.
    assert parked_runs_resume_due(now=parked.due_at + timedelta(seconds=1)).claimed == 0


def test_wait_for_an_event_takes_the_timeout_port_when_none_arrives():
    _, profile, _, _ = park_one(wait_for_checkout_workflow)
    parked = ParkedRun.objects.get()
    EventFactory(profile=profile, type="page-view")  # not the awaited type
    assert parked_runs_resume_due(now=parked.due_at).resumed == 1
    assert Profile.objects.get(pk=profile.pk).traits == {"outcome": "timeout"}
    parked.refresh_from_db()
    assert parked.outcome == "timeout"


def test_an_awaited_event_of_another_profile_wakes_nothing():
    _, profile, _, _ = park_one(wait_for_checkout_workflow)
    other = ProfileFactory(traits={})
    EventFactory(profile=other, type="checkout")
    profile_events_process(profile_id=other.pk)
    assert ParkedRun.objects.get().status == ParkedRun.Status.PARKED
    assert Profile.objects.get(pk=profile.pk).traits == {}


def test_an_awaited_event_is_stored_for_the_worker_although_no_rule_routes_it():
    from apps.tracking.routing import event_needs_processing

    assert event_needs_processing(source_id="web", event_type="checkout") is False
    wait_for_checkout_workflow()
    assert event_needs_processing(source_id="web", event_type="checkout") is True


@pytest.mark.django_db(transaction=True)
def test_two_jobs_at_once_resume_each_branch_exactly_once(django_db_blocker):
    workflow = wait_workflow()
    profiles = [ProfileFactory(traits={}) for _ in range(40)]
    for profile in profiles:
        basket_event(profile)
        profile_events_process(profile_id=profile.pk)
    assert ParkedRun.objects.filter(status="parked").count() == 40
    due = max(ParkedRun.objects.values_list("due_at", flat=True))
    counts: list[int] = []
    start = threading.Barrier(2)

    def job():
        with django_db_blocker.unblock():
            try:
                start.wait(10)
                total = 0
                while True:
                    result = parked_runs_resume_due(limit=5, now=due)
                    total += result.resumed
                    if result.claimed == 0:
                        break
                counts.append(total)
            finally:
                connection.close()

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 40
    assert ParkedRun.objects.filter(status="resumed").count() == 40
    runs = WorkflowRun.objects.filter(workflow=workflow)
    assert {run.status for run in runs} == {"ok"}
    # Each run got its resumed branch once: start, note, wait + wait, copy.
    assert {len(run.log) for run in runs} == {5}


def test_cancel_ends_the_branch_and_the_run_records_who():
    _, profile, _, _ = park_one()
    parked = ParkedRun.objects.get()
    assert parked_runs_cancel(ids=[parked.pk], by="ann") == 1
    assert parked_runs_cancel(ids=[parked.pk], by="ann") == 0
    parked.refresh_from_db()
    assert (parked.status, parked.outcome) == (ParkedRun.Status.CANCELLED, "cancelled by ann")
    run = WorkflowRun.objects.get()
    assert run.status == WorkflowRun.Status.OK
    assert run.log[-1]["messages"] == [{"level": "warning", "message": "cancelled by ann"}]
    assert parked_runs_resume_due(now=parked.due_at).claimed == 0
    assert Profile.objects.get(pk=profile.pk).traits == {}


def test_resume_now_makes_the_branch_due_for_the_next_tick():
    _, profile, _, _ = park_one()
    parked = ParkedRun.objects.get()
    now = timezone.now()
    assert parked_runs_due_now(ids=[parked.pk], now=now) == 1
    assert parked_runs_resume_due(now=now).resumed == 1
    assert Profile.objects.get(pk=profile.pk).traits["reminded"] == "SKU-1"


def test_a_merge_while_parked_resumes_the_branch_on_the_survivor():
    _, profile, _, _ = park_one()
    survivor = ProfileFactory(traits={"name": "Ann"})
    profiles_merge(profile_ids=[survivor.pk, profile.pk], reason="same person", actor="admin")
    parked = ParkedRun.objects.get()
    assert parked.profile_id == survivor.pk
    assert parked_runs_resume_due(now=parked.due_at).resumed == 1
    assert Profile.objects.get(pk=survivor.pk).traits == {
        "name": "Ann",
        "reminded": "SKU-1",
        "event_type": "product-added-to-basket",
    }


def test_an_erasure_while_parked_cancels_the_branch_by_deleting_it():
    _, profile, _, _ = park_one()
    due = ParkedRun.objects.get().due_at
    record = profile_forget(profile_id=profile.pk, actor="dpo")
    assert erasure_proceed(erasure_id=record.pk) is True
    assert ParkedRun.objects.count() == 0
    record.refresh_from_db()
    assert record.deleted["parked_runs"] == 1
    assert parked_runs_resume_due(now=due).claimed == 0


def test_a_branch_that_waits_twice_keeps_the_run_parked_until_the_end():
    nodes = [
        node("start", "start"),
        node("w1", "wait", mode="for a time", amount=1, unit="hours"),
        node("w2", "wait", mode="for a time", amount=1, unit="days"),
        node("done", "copy_data", traits={"set": {"profile@traits.done": "`yes`"}}),
    ]
    workflow = WorkflowFactory(
        graph=graph(nodes, [edge("start", "w1"), edge("w1", "w2"), edge("w2", "done")])
    )
    RuleFactory(workflow=workflow, event_type="product-added-to-basket")
    profile = ProfileFactory(traits={})
    basket_event(profile)
    profile_events_process(profile_id=profile.pk)
    first = ParkedRun.objects.get()
    parked_runs_resume_due(now=first.due_at)
    second = ParkedRun.objects.get(status="parked")
    assert second.node_id == "w2"
    assert second.due_at == first.due_at + timedelta(days=1)
    assert WorkflowRun.objects.get().status == WorkflowRun.Status.PARKED
    parked_runs_resume_due(now=second.due_at)
    run = WorkflowRun.objects.get()
    assert run.status == WorkflowRun.Status.OK
    assert [e["node"] for e in run.log] == ["start", "w1", "w1", "w2", "w2", "done"]
    assert Profile.objects.get(pk=profile.pk).traits == {"done": "yes"}


def test_a_resumed_branch_changes_segments_and_schedules_syncs_as_any_run():
    from apps.destinations.models import Delivery
    from apps.profiles.models import Segment
    from apps.profiles.services.segments import segment_save
    from tests.destinations.factories import DestinationFactory

    _, profile, _, _ = park_one()
    segment_save(
        segment=Segment(
            name="Reminded", condition='profile@traits.reminded == "SKU-1"', kind="live"
        )
    )
    destination = DestinationFactory()
    assert Delivery.objects.count() == 0
    parked_runs_resume_due(now=ParkedRun.objects.get().due_at)
    assert Profile.objects.get(pk=profile.pk).segments == ["reminded"]
    assert list(Delivery.objects.values_list("destination_id", "profile_id", "status")) == [
        (destination.pk, profile.pk, "pending")
    ]
