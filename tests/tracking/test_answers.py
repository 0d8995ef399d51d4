"""Rules that answer in the /track request (apps.tracking.answers): runs, merge, budget, errors.

The answering runs share the ingest's transaction and hand off at its commit, so these tests
use committed transactions (`transaction=True`). The worker's side is in
test_answers_worker.py.
"""

import json
import threading
import time

import pytest
from django.db import connection, transaction

from apps.events.models import Event
from apps.profiles.models import Profile, Segment
from apps.profiles.services.segments import segment_save
from apps.tracking.processing import profile_lock
from apps.workflows.models import WorkflowRun
from tests.sources.factories import EventSourceFactory
from tests.tracking.conftest import payload
from tests.workflows.factories import RuleFactory, WorkflowFactory
from tests.workflows.graphs import linear_graph
from tests.workflows.servers import RecordingServer

pytestmark = pytest.mark.django_db(transaction=True)

ANSWER_KEYS = ["task", "ux", "response", "events", "profile", "session", "errors", "warnings"]


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


def answering_rule(name: str, *steps, event_type: str = "purchase", workflow_name=None):
    workflow = WorkflowFactory(name=workflow_name or name, graph=linear_graph(*steps))
    return RuleFactory(name=name, workflow=workflow, event_type=event_type, answers_in_request=True)


def respond(key: str, body: dict) -> tuple:
    return ("create_response", {"key": key, "body": body})


def track(api, events, **rest):
    response = api.track(payload(events=events, **rest))
    assert response.status_code == 200, response.content
    return response.json()


def test_a_rule_that_answers_runs_its_workflow_in_the_request(api, rest_source):
    rule = answering_rule(
        "Offer",
        respond("discount", {"code": "event@properties.coupon", "percent": 10}),
        ("end", {}),
    )

    body = track(api, [{"type": "purchase", "properties": {"coupon": "SPRING"}}], session="s1")

    assert list(body) == ANSWER_KEYS
    assert body["response"] == {"discount": {"code": "SPRING", "percent": 10}}
    assert (body["ux"], body["warnings"], body["errors"]) == ([], [], [])
    event = Event.objects.get(type="purchase")
    run = WorkflowRun.objects.get()
    assert (run.workflow_id, run.event_id, run.status, run.in_request, run.rule_ids) == (
        rule.workflow_id,
        event.pk,
        "ok",
        True,
        [rule.pk],
    )
    assert run.profile_id == body["profile"]["id"]
    assert [entry["action"] for entry in run.log] == ["start", "create_response", "end"]
    assert event.status == Event.Status.PROCESSED
    assert event.metadata["processed_by"] == {
        "rules": [rule.pk],
        "workflows": [rule.workflow_id],
    }


def test_answering_workflows_change_the_profile_through_the_save_path(api, rest_source):
    answering_rule(
        "Remember",
        ("copy_data", {"traits": {"set": {"profile@traits.plan": "event@properties.plan"}}}),
        respond("plan", {"is": "profile@traits.plan"}),
    )

    body = track(api, [{"type": "purchase", "properties": {"plan": "pro"}}], session="s1")

    assert body["response"] == {"plan": {"is": "pro"}}
    profile = Profile.objects.get(pk=body["profile"]["id"])
    assert profile.traits == {"plan": "pro"}
    assert "traits.plan" in profile.metadata["fields"]


def test_a_profile_change_in_the_request_updates_live_segments_at_once(api, rest_source):
    segment_save(segment=Segment(name="Pro", condition='profile@traits.plan == "pro"', kind="live"))
    answering_rule(
        "Remember",
        ("copy_data", {"traits": {"set": {"profile@traits.plan": "event@properties.plan"}}}),
        respond("segments", {"now": "profile@segments"}),
    )

    body = track(api, [{"type": "purchase", "properties": {"plan": "pro"}}], session="s1")

    # Segmentation follows the save, after the workflow answered: the answer cannot see it,
    # the stored profile has it when the request ends.
    assert body["response"] == {"segments": {"now": []}}
    assert Profile.objects.get(pk=body["profile"]["id"]).segments == ["pro"]


def test_two_answering_workflows_merge_their_responses_the_later_keys_winning(api, rest_source):
    # Rules run in name order: "A first" then "B second".
    answering_rule(
        "B second",
        respond("offer", {"banner": "b", "size": {"h": 2}}),
        respond("second", {"n": 2}),
    )
    answering_rule(
        "A first",
        respond("offer", {"banner": "a", "colour": "red", "size": {"w": 1, "h": 1}}),
        respond("first", {"n": 1}),
    )

    body = track(api, [{"type": "purchase"}], session="s1")

    assert body["response"] == {
        "offer": {"banner": "b", "colour": "red", "size": {"w": 1, "h": 2}},
        "first": {"n": 1},
        "second": {"n": 2},
    }
    assert body["warnings"] == []
    assert WorkflowRun.objects.filter(in_request=True, status="ok").count() == 2


@pytest.mark.parametrize("types", [["purchase", "view"], ["view", "purchase"]])
def test_responses_follow_the_order_of_the_events_in_the_request(api, rest_source, types):
    answering_rule("Views", respond("last", {"type": "event@type"}), event_type="view")
    answering_rule("Buys", respond("last", {"type": "event@type"}), event_type="purchase")

    body = track(api, [{"type": kind} for kind in types], session="s1")

    assert body["response"] == {"last": {"type": types[-1]}}


def test_without_answering_rules_the_answer_keeps_its_shape_and_nothing_runs(api, rest_source):
    RuleFactory(name="Later", event_type="purchase", workflow=WorkflowFactory())

    body = track(api, [{"type": "purchase"}], session="s1")

    assert list(body) == ANSWER_KEYS
    assert {key: body[key] for key in ("ux", "response", "events", "errors", "warnings")} == {
        "ux": [],
        "response": {},
        "events": [],
        "errors": [],
        "warnings": [],
    }
    assert Event.objects.get(type="purchase").status == Event.Status.COLLECTED
    assert not WorkflowRun.objects.exists()


def test_a_workflow_routed_also_by_a_non_answering_rule_leaves_the_event_to_the_worker(
    api, rest_source
):
    answering = answering_rule("Offer", respond("offer", {"n": 1}))
    background = RuleFactory(name="Later", event_type="purchase", workflow=WorkflowFactory())

    body = track(api, [{"type": "purchase"}], session="s1")

    assert body["response"] == {"offer": {"n": 1}}
    run = WorkflowRun.objects.get()
    assert (run.workflow_id, run.in_request, run.status) == (answering.workflow_id, True, "ok")
    assert background.workflow_id != run.workflow_id
    assert Event.objects.get(type="purchase").status == Event.Status.COLLECTED


def test_a_workflow_that_fails_answers_200_with_a_warning(api, rest_source):
    answering_rule("Boom", ("throw_error", {"message": "no offer today", "name": "Stop"}))

    body = track(api, [{"type": "purchase"}], session="s1")

    assert (body["response"], body["ux"]) == ({}, [])
    assert body["warnings"] == ["Workflow 'Boom' failed: Node 'Stop' (n1): no offer today"]
    run = WorkflowRun.objects.get()
    assert (run.status, run.in_request, run.error) == (
        "error",
        True,
        "Node 'Stop' (n1): no offer today",
    )
    event = Event.objects.get(type="purchase")
    assert (event.status, event.status_message) == (
        Event.Status.ERROR,
        "Node 'Stop' (n1): no offer today",
    )


def test_a_database_error_in_the_request_answers_200_with_a_warning(api, rest_source):
    # The injected event's type comes from the event and is longer than the column: the
    # database refuses the row, a real error the engine does not catch (it is not the node's).
    answering_rule(
        "Inject",
        ("inject_event", {"type": "{{event@properties.kind}}", "properties": {}}),
        respond("offer", {"n": 1}),
    )

    body = track(api, [{"type": "purchase", "properties": {"kind": "k" * 150}}], session="s1")

    assert (body["response"], body["ux"]) == ({}, [])
    assert body["warnings"] == [
        "Workflow 'Inject' could not run in the request; it will run in the background."
    ]
    assert not WorkflowRun.objects.exists()
    assert Event.objects.get(type="purchase").status == Event.Status.COLLECTED
    assert Event.objects.count() == 4  # purchase + profile-created, session-opened, visit-started


def test_a_run_past_the_budget_is_stopped_recorded_and_left_to_the_worker(api, rest_source, server):
    slow = server(delay=2.0)
    answering_rule(
        "Slow offer",
        (
            "remote_call",
            {"url": slow.url + "/offer", "method": "GET", "timeout": 10},
            "response",
        ),
        ("copy_data", {"traits": {"set": {"profile@traits.offered": True}}}),
        respond("offer", {"n": 1}),
    )

    started = time.monotonic()
    body = track(api, [{"type": "purchase"}], session="s1")
    elapsed = time.monotonic() - started

    # About the budget: far from the remote's 2 s (generous bounds: the machine is busy).
    assert 0.1 <= elapsed < 1.5
    assert (body["response"], body["ux"]) == ({}, [])
    assert body["warnings"] == [
        "Workflow 'Slow offer' did not answer within 100 ms; it will run in the background."
    ]
    run = WorkflowRun.objects.get()
    assert (run.status, run.in_request) == ("timeout", True)
    assert run.error.startswith("Node 'n1' (n1): stopped at the time budget (")
    assert [entry["action"] for entry in run.log] == ["start", "remote_call"]
    assert Event.objects.get(type="purchase").status == Event.Status.COLLECTED
    assert Profile.objects.get(pk=body["profile"]["id"]).traits == {}


def test_a_timeout_undoes_the_runs_that_finished_before_it_in_the_request(api, rest_source, server):
    slow = server(delay=2.0)
    answering_rule(
        "A fast",
        ("copy_data", {"traits": {"set": {"profile@traits.fast": True}}}),
        respond("fast", {"n": 1}),
        workflow_name="Fast",
    )
    answering_rule(
        "B slow",
        ("remote_call", {"url": slow.url, "method": "GET", "timeout": 10}, "response"),
        workflow_name="Slow",
    )

    body = track(api, [{"type": "purchase"}], session="s1")

    assert (body["response"], body["ux"]) == ({}, [])
    assert body["warnings"] == [
        "Workflow 'Fast' did not answer within 100 ms; it will run in the background.",
        "Workflow 'Slow' did not answer within 100 ms; it will run in the background.",
    ]
    run = WorkflowRun.objects.get()
    assert (run.workflow.name, run.status, run.in_request) == ("Slow", "timeout", True)
    assert Profile.objects.get(pk=body["profile"]["id"]).traits == {}
    assert Event.objects.get(type="purchase").status == Event.Status.COLLECTED


def test_a_profile_held_by_a_worker_past_the_budget_is_a_timeout_too(api, rest_source):
    first = track(api, [{"type": "page-view"}], session="s1")
    profile_id = first["profile"]["id"]
    answering_rule("Offer", respond("offer", {"n": 1}))
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with transaction.atomic():
            profile_lock(profile_id)
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        body = track(api, [{"type": "purchase"}], session="s1", profile=profile_id)
    finally:
        release.set()
        holder.join()

    assert body["response"] == {}
    assert body["warnings"] == [
        "Workflow 'Offer' did not answer within 100 ms; it will run in the background."
    ]
    run = WorkflowRun.objects.get()
    assert (run.status, run.in_request, run.error) == (
        "timeout",
        True,
        "Stopped at the time budget: the profile was busy in another task.",
    )
    assert Event.objects.get(type="purchase").status == Event.Status.COLLECTED


def test_earlier_events_of_the_profile_waiting_for_a_worker_go_first(api, rest_source):
    RuleFactory(name="Later", event_type="page-view", workflow=WorkflowFactory())
    first = track(api, [{"type": "page-view"}], session="s1")
    answering_rule("Offer", respond("offer", {"n": 1}))

    body = track(api, [{"type": "purchase"}], session="s1", profile=first["profile"]["id"])

    assert body["response"] == {}
    assert body["warnings"] == [
        "Workflow 'Offer' did not answer: earlier events of this profile are still being "
        "processed; it will run in the background, after them."
    ]
    assert not WorkflowRun.objects.exists()
    assert set(
        Event.objects.filter(type__in=["page-view", "purchase"]).values_list("status", flat=True)
    ) == {Event.Status.COLLECTED}


def test_a_disabled_answering_rule_does_not_answer(api, rest_source):
    rule = answering_rule("Offer", respond("offer", {"n": 1}))
    rule.enabled = False
    rule.save()

    body = track(api, [{"type": "purchase"}], session="s1")

    assert body["response"] == {}
    assert Event.objects.get(type="purchase").status == Event.Status.PROCESSED


def test_an_answering_rule_of_another_source_does_not_answer(api, rest_source):
    rule = answering_rule("Offer", respond("offer", {"n": 1}))
    rule.source = EventSourceFactory()
    rule.save()

    body = track(api, [{"type": "purchase"}], session="s1")

    assert (body["response"], body["warnings"]) == ({}, [])
    assert not WorkflowRun.objects.exists()


def test_the_answer_is_json_the_tracker_reads(api, rest_source):
    answering_rule("Offer", respond("offer", {"text": "10% off", "n": 1.5}))

    raw = api.track(payload(events=[{"type": "purchase"}], session="s1")).content

    assert json.loads(raw)["response"] == {"offer": {"text": "10% off", "n": 1.5}}


def test_the_budget_ends_with_the_answering_step_and_does_not_reach_the_commit(api, rest_source):
    # The commit runs the deferred foreign-key checks: a statement_timeout or lock_timeout
    # left at what remained of the budget could cancel it and lose the events. Inside an
    # outer transaction the ingest is a savepoint, so the settings it leaves can be read.
    answering_rule("Offer", respond("offer", {"n": 1}))
    timeouts = "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')"
    with connection.cursor() as cursor:
        cursor.execute(timeouts)
        session_defaults = cursor.fetchone()

    with transaction.atomic():
        body = track(api, [{"type": "purchase"}], session="s1")
        with connection.cursor() as cursor:
            cursor.execute(timeouts)
            after = cursor.fetchone()

    assert body["response"] == {"offer": {"n": 1}}
    assert after == session_defaults
    assert session_defaults != ("100ms", "100ms")


def test_a_failed_answering_step_keeps_the_request_s_events_and_profile_changes(api, rest_source):
    # The answering step is a savepoint of the ingest: its failure undoes its own writes only.
    # The copy_data node's change is undone with it; the session, the profile (with the page
    # view the request counted) and all of the request's events are stored.
    answering_rule(
        "Inject",
        ("copy_data", {"traits": {"set": {"profile@traits.plan": "pro"}}}),
        ("inject_event", {"type": "{{event@properties.kind}}", "properties": {}}),
    )

    body = track(
        api,
        [{"type": "page-view"}, {"type": "purchase", "properties": {"kind": "k" * 150}}],
        session="s1",
    )

    assert body["warnings"] == [
        "Workflow 'Inject' could not run in the request; it will run in the background."
    ]
    profile = Profile.objects.get(pk=body["profile"]["id"])
    assert (profile.traits, profile.stats["views"]) == ({}, 1)
    assert sorted(Event.objects.values_list("type", "status")) == [
        ("page-view", Event.Status.PROCESSED),
        ("profile-created", Event.Status.PROCESSED),
        ("purchase", Event.Status.COLLECTED),
        ("session-opened", Event.Status.PROCESSED),
        ("visit-started", Event.Status.PROCESSED),
    ]
    assert not WorkflowRun.objects.exists()


def test_a_profile_less_request_answers_too(api, rest_source):
    answering_rule("Offer", respond("offer", {"type": "event@type"}))

    response = api.track(payload(events=[{"type": "purchase"}]), query="?profile_less=true")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["response"], body["warnings"]) == ({"offer": {"type": "purchase"}}, [])
    event = Event.objects.get(type="purchase")
    assert (event.status, event.profile_id) == (Event.Status.PROCESSED, None)
    run = WorkflowRun.objects.get()
    assert (run.event_id, run.status, run.in_request, run.profile_id) == (
        event.pk,
        "ok",
        True,
        None,
    )
