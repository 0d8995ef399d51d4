"""The Create response action, and the test run showing what a workflow answers."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from apps import notation
from apps.workflows.actions import action_by_id
from apps.workflows.engine import workflow_execute
from apps.workflows.graph import graph_compile
from apps.workflows.services.answers import RequestAnswer
from apps.workflows.services.drafts import workflow_draft_save
from apps.workflows.services.test_run import workflow_test_run
from tests.workflows.factories import WorkflowFactory
from tests.workflows.graphs import linear_graph, make_flow, run_action

COUPON = {"code": "profile@traits.coupon", "percent": 10, "plan?": "event@properties.plan"}


def test_it_writes_the_rendered_body_under_a_nested_key_and_passes_the_payload_on():
    profile = {"id": "p1", "traits": {"coupon": "SPRING"}}
    event = {"id": "e1", "type": "page-view", "properties": {"plan": "pro"}}

    results, flow = run_action(
        "create_response",
        {"key": "offer.banner", "body": COUPON},
        profile=profile,
        event=event,
    )

    assert results == [("payload", event)]
    assert flow.response == {"offer": {"banner": {"code": "SPRING", "percent": 10, "plan": "pro"}}}
    assert flow.ux == []


def test_an_optional_key_whose_value_is_missing_is_left_out():
    results, flow = run_action(
        "create_response",
        {"key": "discount", "body": COUPON},
        profile={"id": "p1", "traits": {"coupon": "X1"}},
    )

    assert flow.response == {"discount": {"code": "X1", "percent": 10}}


def test_two_nodes_fill_one_response_and_the_rendered_object_is_a_copy():
    profile = {"id": "p1", "traits": {"coupon": {"code": "A"}}}
    flow = make_flow(profile=profile)
    first = action_by_id("create_response")({"key": "offer.a", "body": {"c": "profile@traits"}})
    second = action_by_id("create_response")({"key": "offer.b", "body": {"n": 2}})

    first.run(flow.event, flow)
    second.run(flow.event, flow)
    profile["traits"]["coupon"]["code"] = "changed later"

    assert flow.response == {"offer": {"a": {"c": {"coupon": {"code": "A"}}}, "b": {"n": 2}}}


def test_a_missing_required_value_fails_the_node():
    action = action_by_id("create_response")({"key": "discount", "body": COUPON})
    flow = make_flow(profile={"id": "p1", "traits": {}})

    with pytest.raises(notation.NotationError):
        action.run(flow.event, flow)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"key": "offer..banner", "body": {}},
            "key: 'offer..banner' is not a dot-separated key; write e.g. discount or offer.banner",
        ),
        ({"key": "", "body": {}}, "key: '' should be non-empty"),
        ({"body": {}}, "'key' is a required property"),
        ({"key": "x", "body": []}, "body: [] is not of type 'object'"),
    ],
)
def test_configs_that_cannot_work_are_refused_with_a_message(config, message):
    assert action_by_id("create_response").config_errors(config) == [message]


def test_a_three_node_workflow_answers_through_the_engine():
    compiled = graph_compile(
        workflow_id="w1",
        name="Offer",
        version=1,
        graph=linear_graph(
            ("create_response", {"key": "discount", "body": {"percent": 10}}), ("end", {})
        ),
    )
    flow = make_flow()

    outcome = workflow_execute(compiled, flow)

    assert outcome.status == "ok"
    assert [entry["action"] for entry in outcome.log] == ["start", "create_response", "end"]
    assert flow.response == {"discount": {"percent": 10}}


def test_the_request_answer_merges_responses_later_keys_winning_and_appends_ux_in_order():
    answer = RequestAnswer()
    first = {"offer": {"banner": "a", "colour": "red"}, "x": 1}
    answer.add(response=first, ux=[{"tag": "div", "props": {"id": "a"}, "content": "A"}])
    answer.add(
        response={"offer": {"banner": "b"}, "y": 2},
        ux=[{"tag": "div", "props": {"id": "b"}, "content": "B"}],
    )
    first["offer"]["colour"] = "changed after"

    assert answer.response == {"offer": {"banner": "b", "colour": "red"}, "x": 1, "y": 2}
    assert [item["content"] for item in answer.ux] == ["A", "B"]
    assert answer.warnings == []


@pytest.mark.django_db
def test_the_test_run_shows_the_response_the_workflow_would_give(client):
    user = get_user_model().objects.create_superuser(username="ann")
    client.force_login(user)
    workflow = WorkflowFactory()
    draft = linear_graph(
        ("create_response", {"key": "offer", "body": {"plan": "event@properties.plan"}}),
    )
    workflow_draft_save(workflow=workflow, graph=draft, revision=1, user=user)

    result = workflow_test_run(
        workflow=workflow, sample={"type": "x", "properties": {"plan": "pro"}}
    )
    response = client.post(
        reverse("admin:workflows_workflow_editor_test_run", args=[workflow.pk]),
        json.dumps({"sample": {"type": "x", "properties": {"plan": "pro"}}}),
        content_type="application/json",
    )

    assert (result.outcome.status, result.response, result.ux) == (
        "ok",
        {"offer": {"plan": "pro"}},
        [],
    )
    assert response.status_code == 200
    assert (response.json()["response"], response.json()["ux"]) == ({"offer": {"plan": "pro"}}, [])
