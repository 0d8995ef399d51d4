"""Answering rules with a real worker: what the request leaves, the worker finishes, once."""

import pytest

from apps.events.models import Event
from apps.profiles.models import Profile
from apps.tracking.tasks import process_profile_events
from apps.workflows.models import WorkflowRun
from tests.support.celery_worker import celery_worker, wait_for  # noqa: F401  (fixtures)
from tests.tracking.conftest import TrackClient, payload
from tests.workflows.factories import RuleFactory, WorkflowFactory
from tests.workflows.graphs import linear_graph
from tests.workflows.servers import RecordingServer

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _budget(settings):
    settings.CDP_ANSWER_BUDGET_MS = 100


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


def call(url: str) -> tuple:
    return ("remote_call", {"url": url, "method": "POST", "timeout": 10}, "response")


def workflow(name: str, *steps):
    return WorkflowFactory(name=name, graph=linear_graph(*steps))


def track(events, **rest) -> dict:
    response = TrackClient().track(payload(events=events, **rest))
    assert response.status_code == 200, response.content
    return response.json()


def processed(event_type: str) -> bool:
    return Event.objects.get(type=event_type).status != Event.Status.COLLECTED


def test_a_run_past_the_budget_runs_in_the_worker_and_the_event_ends_processed(
    celery_worker,  # noqa: F811
    rest_source,
    server,
):
    slow = server(delay=1.0)
    offer = workflow(
        "Slow offer",
        call(slow.url + "/offer"),
        ("copy_data", {"traits": {"set": {"profile@traits.offered": True}}}),
        ("create_response", {"key": "offer", "body": {"n": 1}}),
    )
    RuleFactory(name="Offer", workflow=offer, event_type="purchase", answers_in_request=True)

    body = track([{"type": "purchase"}], session="s1")

    assert body["warnings"] == [
        "Workflow 'Slow offer' did not answer within 100 ms; it will run in the background."
    ]
    wait_for(lambda: processed("purchase"), message="the worker to run the slow offer")
    event = Event.objects.get(type="purchase")
    assert event.status == Event.Status.PROCESSED
    runs = sorted(
        WorkflowRun.objects.filter(event=event).values_list("status", "in_request"),
        key=str,
    )
    assert runs == [("ok", False), ("timeout", True)]
    assert Profile.objects.get(pk=body["profile"]["id"]).traits == {"offered": True}
    # The call cut at the budget, then the worker's.
    assert [request["path"] for request in slow.requests] == ["/offer", "/offer"]


def test_a_workflow_run_in_the_request_is_not_run_again_by_the_worker(
    celery_worker,  # noqa: F811
    rest_source,
    server,
):
    remote = server()
    answering = workflow(
        "Offer", call(remote.url + "/answer"), ("create_response", {"key": "a", "body": {}})
    )
    background = workflow("Later", call(remote.url + "/later"))
    first = RuleFactory(
        name="A offer", workflow=answering, event_type="purchase", answers_in_request=True
    )
    second = RuleFactory(name="B later", workflow=background, event_type="purchase")

    body = track([{"type": "purchase"}], session="s1")

    assert (body["response"], body["warnings"]) == ({"a": {}}, [])
    wait_for(lambda: processed("purchase"), message="the worker to run the other workflow")
    # A duplicate message (a redelivery, the sweep) finds nothing left to do.
    process_profile_events.delay(body["profile"]["id"])
    celery_worker.wait_idle()
    event = Event.objects.get(type="purchase")
    assert event.status == Event.Status.PROCESSED
    runs = WorkflowRun.objects.filter(event=event).order_by("-in_request")
    assert [(run.workflow_id, run.status, run.in_request) for run in runs] == [
        (answering.pk, "ok", True),
        (background.pk, "ok", False),
    ]
    assert sorted(request["path"] for request in remote.requests) == ["/answer", "/later"]
    assert event.metadata["processed_by"] == {
        "rules": [first.pk, second.pk],
        "workflows": [answering.pk, background.pk],
    }


def test_a_workflow_that_failed_in_the_request_is_not_retried_and_marks_the_event(
    celery_worker,  # noqa: F811
    rest_source,
    server,
):
    remote = server()
    failing = workflow("Boom", ("throw_error", {"message": "no offer", "name": "Stop"}))
    background = workflow("Later", call(remote.url + "/later"))
    RuleFactory(name="A boom", workflow=failing, event_type="purchase", answers_in_request=True)
    RuleFactory(name="B later", workflow=background, event_type="purchase")

    body = track([{"type": "purchase"}], session="s1")

    assert body["warnings"] == ["Workflow 'Boom' failed: Node 'Stop' (n1): no offer"]
    wait_for(lambda: processed("purchase"), message="the worker to run the other workflow")
    celery_worker.wait_idle()
    event = Event.objects.get(type="purchase")
    assert (event.status, event.status_message) == (
        Event.Status.ERROR,
        "Node 'Stop' (n1): no offer",
    )
    runs = WorkflowRun.objects.filter(event=event).order_by("-in_request")
    assert [(run.workflow_id, run.status, run.in_request) for run in runs] == [
        (failing.pk, "error", True),
        (background.pk, "ok", False),
    ]
    assert [request["path"] for request in remote.requests] == ["/later"]


def test_non_answering_rules_run_in_the_worker_as_before(
    celery_worker,  # noqa: F811
    rest_source,
):
    later = workflow(
        "Later", ("copy_data", {"traits": {"set": {"profile@traits.plan": "event@type"}}})
    )
    RuleFactory(name="Later", workflow=later, event_type="purchase")

    body = track([{"type": "purchase"}], session="s1")

    assert (body["response"], body["ux"], body["warnings"]) == ({}, [], [])
    wait_for(lambda: processed("purchase"), message="the worker to run the workflow")
    run = WorkflowRun.objects.get()
    assert (run.workflow_id, run.status, run.in_request) == (later.pk, "ok", False)
    assert Profile.objects.get(pk=body["profile"]["id"]).traits == {"plan": "purchase"}
