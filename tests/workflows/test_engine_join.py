"""The Join node: the engine holds the values that reach it until no value is left on the way
to it, then runs it once on {edge name or id: value} (issue 19; Tracardi's join)."""

from apps.workflows.engine import workflow_execute
from tests.workflows.graphs import edge, make_flow, node
from tests.workflows.test_engine import compile_graph, ran


def named(source, target, name, source_port="payload"):
    value = edge(source, target, source_port)
    value["data"] = {"name": name}
    return value


def test_join_waits_for_the_longer_branch_and_runs_once():
    workflow = compile_graph(
        [
            node("start", "start"),
            node("short", "generate_uuid"),
            node("long1", "string_properties", string="event@properties.name"),
            node("long2", "cut_out_data", trait="payload@upper"),
            node("join", "join"),
            node("after", "log_message", message="joined"),
        ],
        [
            edge("start", "short"),
            edge("start", "long1"),
            edge("long1", "long2"),
            named("short", "join", "id"),
            named("long2", "join", "name", "trait"),
            edge("join", "after"),
        ],
    )
    flow = make_flow(event={"id": "e", "type": "t", "properties": {"name": "Jo"}})

    outcome = workflow_execute(workflow, flow, keep_payloads=True)

    assert outcome.status == "ok"
    assert ran(outcome) == [
        ("start", None, "payload"),
        ("short", "payload", "payload"),
        ("long1", "payload", "payload"),
        ("long2", "payload", "trait"),
        ("join", "payload", "payload"),
        ("after", "payload", "payload"),
    ]
    joined = outcome.log[4]["output"]["payload"]
    assert sorted(joined) == ["id", "name"]
    assert joined["name"] == "JO"


def test_unnamed_edges_key_by_edge_id_and_list_join_and_an_ended_branch():
    workflow = compile_graph(
        [
            node("start", "start"),
            node("a", "data_to_json", to_json="event@properties.a"),
            node("gate", "if", condition="event@properties.go == true"),
            node("b", "data_to_json", to_json="event@properties.b"),
            node("join", "join"),
            node("as_list", "join", type="list"),
        ],
        [
            edge("start", "a"),
            edge("start", "gate"),
            edge("gate", "b", "true"),
            edge("a", "join"),
            edge("b", "join"),
            edge("a", "as_list"),
            edge("b", "as_list"),
        ],
    )

    both = make_flow(event={"id": "e", "type": "t", "properties": {"a": 1, "b": 2, "go": True}})
    outcome = workflow_execute(workflow, both, keep_payloads=True)
    outputs = {entry["node"]: entry.get("output") for entry in outcome.log}
    assert outputs["join"] == {
        "payload": {
            "a:payload->join:payload": {"json": "1"},
            "b:payload->join:payload": {"json": "2"},
        }
    }
    assert outputs["as_list"] == {"payload": [{"json": "1"}, {"json": "2"}]}

    one = make_flow(event={"id": "e", "type": "t", "properties": {"a": 1, "b": 2, "go": False}})
    outcome = workflow_execute(workflow, one, keep_payloads=True)
    outputs = {entry["node"]: entry.get("output") for entry in outcome.log}
    assert outputs["join"] == {"payload": {"a:payload->join:payload": {"json": "1"}}}
    assert [entry["node"] for entry in outcome.log].count("join") == 1


def test_a_join_after_another_join_waits_for_it():
    workflow = compile_graph(
        [
            node("start", "start"),
            node("a", "generate_uuid"),
            node("b", "generate_uuid"),
            node("first", "join", type="list"),
            node("second", "join", type="list"),
        ],
        [
            edge("start", "a"),
            edge("start", "b"),
            edge("a", "first"),
            edge("b", "first"),
            edge("first", "second"),
            edge("a", "second"),
        ],
    )

    outcome = workflow_execute(workflow, make_flow(), keep_payloads=True)

    assert [entry["node"] for entry in outcome.log] == ["start", "a", "b", "first", "second"]
    second = outcome.log[-1]["output"]["payload"]
    assert len(second) == 2
    assert isinstance(second[0], str)  # a's uuid, which arrived first
    assert isinstance(second[1], list) and len(second[1]) == 2


def test_join_reshape_strict_stops_on_a_missing_path():
    workflow = compile_graph(
        [
            node("start", "start"),
            node("join", "join", reshape={"x": "payload@nothing.here"}, default=False),
        ],
        [edge("start", "join")],
    )

    outcome = workflow_execute(workflow, make_flow())

    assert outcome.status == "error"
    assert outcome.error_node == "join"
