import pytest

from apps.workflows.actions import action_by_id
from apps.workflows.actions.base import ActionError
from tests.workflows.graphs import run_action


def profile(**fields):
    return {"id": "p1", "traits": {}, "stats": {}, "segments": [], **fields}


def test_copy_data_copies_paths_and_literals_to_writable_paths():
    results, flow = run_action(
        "copy_data",
        {
            "traits": {
                "set": {
                    "profile@traits.plan": "event@properties.plan",
                    "profile@aux.source": "newsletter",
                    "memory@plan": "event@properties.plan",
                    "payload@copied": "event@properties.tags",
                    "event@properties.seen": True,
                }
            }
        },
        payload={"orig": 1},
        event={"id": "e", "properties": {"plan": "pro", "tags": ["a"]}},
        profile=profile(),
    )

    assert results == [("payload", {"orig": 1, "copied": ["a"]})]
    assert flow.profile["traits"] == {"plan": "pro"}
    assert flow.profile["aux"] == {"source": "newsletter"}
    assert flow.memory == {"plan": "pro"}
    assert flow.event["properties"]["seen"] is True
    # a copy, not the same list
    results[0][1]["copied"].append("b")
    assert flow.event["properties"]["tags"] == ["a"]


def test_copy_data_does_not_change_the_incoming_payload_object():
    payload = {"a": 1}

    run_action("copy_data", {"traits": {"set": {"payload@b": "2"}}}, payload=payload)

    assert payload == {"a": 1}


def test_copy_data_missing_source_fails_unless_skipped():
    config = {"traits": {"set": {"profile@traits.x": "event@properties.nope"}}}
    with pytest.raises(ActionError, match="event@properties.nope is missing"):
        run_action("copy_data", config, profile=profile())

    _, flow = run_action("copy_data", {**config, "skip_missing": True}, profile=profile())
    assert flow.profile["traits"] == {}


def test_copy_data_to_profile_of_a_profileless_event_fails():
    with pytest.raises(
        ActionError, match="cannot write profile@traits.x: this event has no profile"
    ):
        run_action("copy_data", {"traits": {"set": {"profile@traits.x": "1"}}}, profile=None)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("session@x", "session@ is read-only"),
        ("plain text", "is not a dot path"),
        ("profile@...", "cannot replace the whole profile"),
    ],
)
def test_copy_data_rejects_unwritable_targets(target, message):
    errors = action_by_id("copy_data").config_errors({"traits": {"set": {target: "a"}}})

    assert len(errors) == 1 and message in errors[0]


def test_delete_data_removes_fields_and_skips_missing_ones():
    _, flow = run_action(
        "delete_data",
        {"delete": ["profile@traits.a", "profile@traits.nope.deeper", "event@properties.b"]},
        event={"id": "e", "properties": {"b": 1, "c": 2}},
        profile=profile(traits={"a": 1, "keep": 2}),
    )

    assert flow.profile["traits"] == {"keep": 2}
    assert flow.event["properties"] == {"c": 2}


def test_append_creates_lists_extends_and_keeps_unique():
    _, flow = run_action(
        "append_remove",
        {
            "append": {
                "profile@traits.tags": "event@properties.tag",
                "profile@traits.single": "new",
                "profile@traits.many": ["x", "y"],
                "profile@traits.set": "a",
            },
            "unique": True,
        },
        event={"id": "e", "properties": {"tag": "t1"}},
        profile=profile(traits={"single": "old", "many": ["x"], "set": ["a"]}),
    )

    assert flow.profile["traits"] == {
        "tags": ["t1"],
        "single": ["old", "new"],
        "many": ["x", "y"],
        "set": ["a"],
    }


def test_remove_drops_every_occurrence():
    _, flow = run_action(
        "append_remove",
        {"remove": {"profile@traits.tags": ["a", "c"], "profile@traits.none": "a"}},
        profile=profile(traits={"tags": ["a", "b", "a", "c"]}),
    )

    assert flow.profile["traits"] == {"tags": ["b"]}


def test_append_remove_needs_something_to_do():
    assert action_by_id("append_remove").config_errors({}) == [
        "set append or remove (target dot path -> value)"
    ]


def test_set_data_merges_an_object_template():
    _, flow = run_action(
        "set_data",
        {
            "target": "profile@data.contact",
            "template": {
                "email": {"main": "event@properties.email"},
                "city?": "event@properties.city",
            },
        },
        event={"id": "e", "properties": {"email": "a@b.c"}},
        profile=profile(data={"contact": {"phone": {"main": "1"}, "email": {"business": "x"}}}),
    )

    assert flow.profile["data"]["contact"] == {
        "phone": {"main": "1"},
        "email": {"business": "x", "main": "a@b.c"},
    }


def test_set_data_can_replace():
    _, flow = run_action(
        "set_data",
        {"target": "profile@traits", "template": {"plan": "pro"}, "merge": False},
        profile=profile(traits={"old": 1}),
    )

    assert flow.profile["traits"] == {"plan": "pro"}


def test_string_template_renders_and_writes_the_target():
    results, flow = run_action(
        "string_template",
        {"template": "Hi {{profile@data.pii.firstname}} {{profile@nope}}", "target": "memory@text"},
        profile=profile(data={"pii": {"firstname": "Ada"}}),
    )

    assert results == [("payload", {"template": "Hi Ada "})]
    assert flow.memory == {"text": "Hi Ada "}
