import jsonschema
import pytest

from apps.workflows.actions import ACTIONS, action_by_id, action_class_for
from apps.workflows.actions.base import ActionError
from tests.workflows.graphs import run_action


@pytest.mark.parametrize("action", ACTIONS, ids=lambda action: action.id)
def test_every_action_is_documented_with_a_valid_schema(action):
    jsonschema.Draft202012Validator.check_schema(action.config_schema)
    assert action.name and action.description and action.group
    assert len(action.docs) > 40
    assert action_class_for(action.spec()) is action
    assert action.spec()["outputs"] == list(action.outputs)


def test_start_passes_the_event_on():
    event = {"id": "e", "type": "page-view", "properties": {}}

    assert run_action("start", {}, event=event)[0] == [("payload", event)]
    assert run_action("start", {"event_types": ["purchase"]}, event=event)[0] == []


def test_end_ends():
    assert run_action("end", {})[0] == []


@pytest.mark.parametrize(
    ("condition", "port"),
    [
        ('event@properties.plan == "pro" AND profile@stats.visits > 2', "true"),
        ('event@properties.plan == "free"', "false"),
        ("event@properties.missing > 1", "false"),
        ("payload@x EXISTS", "true"),
    ],
)
def test_if_routes_the_unchanged_payload_by_the_condition(condition, port):
    payload = {"x": 1}
    results, _ = run_action(
        "if",
        {"condition": condition},
        payload=payload,
        event={"id": "e", "properties": {"plan": "pro"}},
        profile={"id": "p", "stats": {"visits": 3}},
    )

    assert results == [(port, payload)]


def test_condition_set_returns_named_flags():
    results, _ = run_action(
        "condition_set",
        {"conditions": {"pro": 'event@properties.plan == "pro"', "big": "event@properties.n > 9"}},
        event={"id": "e", "properties": {"plan": "pro", "n": 3}},
    )

    assert results == [("payload", {"pro": True, "big": False})]


def test_log_message_renders_and_records_it():
    results, flow = run_action(
        "log_message",
        {"type": "error", "message": "{{event@type}} from {{profile@id}}, {{event@nope}}!"},
        payload="p",
        profile={"id": "p1"},
    )

    assert results == [("payload", "p")]
    assert flow.messages == [{"level": "error", "message": "page-view from p1, !"}]


def test_throw_error_raises_the_rendered_message():
    with pytest.raises(ActionError, match="^stop at page-view$"):
        run_action("throw_error", {"message": "stop at {{event@type}}"})


def test_config_errors_for_bad_conditions():
    assert action_by_id("if").config_errors({"condition": "a ==== b"})[0].startswith("condition: ")
    assert (
        action_by_id("condition_set")
        .config_errors({"conditions": {"x": "("}})[0]
        .startswith("conditions.x: ")
    )
