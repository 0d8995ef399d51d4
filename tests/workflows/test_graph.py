"""Graph validation on save: messages name the node by its name and id."""

import pytest
from django.core.exceptions import ValidationError

from apps.workflows.graph import graph_problems
from apps.workflows.services.workflows import workflow_create
from tests.workflows.graphs import edge, graph, node


def messages(value):
    return [str(problem) for problem in graph_problems(value)]


def test_a_valid_graph_has_no_problems():
    value = graph(
        [node("s", "start"), node("i", "if", condition="event@properties.a > 1"), node("e", "end")],
        [edge("s", "i"), edge("i", "e", "true"), edge("i", "e", "false")],
    )

    assert messages(value) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([], ['The graph must be an object {"nodes": [...], "edges": [...]}']),
        ({"nodes": {}, "edges": []}, ['"nodes" and "edges" must be lists']),
        ({"nodes": [], "edges": []}, ["The workflow needs one start node; it has none"]),
    ],
)
def test_shape_problems(value, expected):
    assert messages(value) == expected


def test_two_start_nodes():
    value = graph([node("a", "start", name="First"), node("b", "start", name="Second")], [])

    assert messages(value) == [
        "The workflow needs exactly one start node; it has 'First' (id a), 'Second' (id b)"
    ]


def test_config_errors_name_the_node_and_field():
    value = graph(
        [
            node("s", "start"),
            node("n7", "if", name="Is pro?", condition="event@properties.plan =="),
            node("n8", "remote_call", name="Call CRM", url="ftp://x", timeout=0),
            node("n9", "copy_data", name="Copy", traits={"set": {"session@x": "a"}}),
        ],
        [edge("s", "n7"), edge("n7", "n8", "true"), edge("n8", "n9", "response")],
    )

    assert messages(value) == [
        "Node 'Is pro?' (id n7): If: condition: Unexpected end of the condition at column 25; "
        "expected a value (number, string, field reference, function call)",
        "Node 'Call CRM' (id n8): Remote HTTP call: timeout: 0 is less than or equal to the "
        "minimum of 0",
        "Node 'Copy' (id n9): Copy data: traits.set['session@x']: session@ is read-only in "
        "workflows; write to one of event@, memory@, payload@, profile@",
    ]


def test_unknown_action_and_missing_spec():
    broken = node("x", "end", name="Mystery")
    broken["data"]["spec"]["className"] = "NoSuchAction"
    no_spec = {"id": "y", "data": {"metadata": {"name": "Bare"}}}
    value = {"nodes": [node("s", "start"), broken, no_spec, {"data": {}}], "edges": []}

    assert messages(value) == [
        "Node 'Mystery' (id x): unknown action apps.workflows.actions.flow.NoSuchAction; see the "
        "action catalogue for the available ones",
        "Node 'Bare' (id y): data.spec is missing (it names the action: className and module)",
        "Node #4 has no string id",
    ]


def test_duplicate_node_ids():
    value = graph([node("s", "start"), node("s", "end", name="Again")], [])

    assert messages(value) == ["Node 'Again' (id s): another node has the same id"]


def test_edges_must_join_existing_ports_of_existing_nodes():
    value = graph(
        [node("s", "start"), node("i", "if", name="Check", condition="event@type == 'x'")],
        [
            edge("s", "ghost"),
            edge("s", "i", "yes"),
            edge("s", "i", "payload", "side"),
            {"id": "e4", "source": "i", "sourceHandle": "true", "target": "s", "targetHandle": "x"},
        ],
    )

    assert messages(value) == [
        "Edge 's:payload->ghost:payload' points at node 'ghost', which does not exist",
        "Node 's' (id s): Edge 's:yes->i:payload' leaves from port 'yes', which this node does "
        "not have (output ports: payload)",
        "Node 'Check' (id i): Edge 's:payload->i:side' arrives at port 'side', which this node "
        "does not have (input ports: payload)",
        "Node 's' (id s): Edge 'e4' arrives at port 'x', which this node does not have (input "
        "ports: none)",
    ]


def test_cycles_are_rejected_with_the_path():
    value = graph(
        [
            node("s", "start"),
            node("a", "log_message", name="A", message="a"),
            node("b", "log_message", name="B", message="b"),
        ],
        [edge("s", "a"), edge("a", "b"), edge("b", "a")],
    )

    assert messages(value) == ["The graph has a cycle: 'A' (a) -> 'B' (b) -> 'A' (a)"]


def test_tracardi_module_paths_resolve_to_our_actions():
    start = node("s", "start")
    start["data"]["spec"]["module"] = "tracardi.process_engine.action.v1.flow.start.start_action"
    check = node("i", "if", condition="event@type == 'x'")
    check["data"]["spec"]["module"] = "tracardi.process_engine.action.v1.if_action"

    assert messages(graph([start, check], [edge("s", "i")])) == []


@pytest.mark.django_db
def test_workflow_create_raises_a_validation_error_per_problem():
    value = graph([node("s", "start"), node("i", "if", name="Check", condition="")], [])

    with pytest.raises(ValidationError) as error:
        workflow_create(name="Broken", graph=value)

    assert error.value.message_dict == {
        "graph": [
            "Node 'Check' (id i): If: condition: '' should be non-empty",
        ]
    }
