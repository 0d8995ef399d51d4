"""Engine semantics (DESIGN §8): start node, port routing, one run per incoming value, None
ends a branch, an error stops the run and is recorded with the node and message."""

from itertools import count

from apps.workflows.actions.base import Action, ActionError, Result
from apps.workflows.engine import MAX_NODE_RUNS, CompiledNode, CompiledWorkflow, workflow_execute
from apps.workflows.graph import graph_compile
from tests.workflows.graphs import edge, graph, make_flow, node


def compile_graph(nodes, edges):
    return graph_compile(workflow_id="w1", name="Test", version=1, graph=graph(nodes, edges))


def ran(outcome):
    return [(entry["node"], entry["in_port"], entry["port"]) for entry in outcome.log]


def profile():
    return {"id": "p1", "traits": {}, "stats": {}, "segments": []}


def test_start_sends_the_event_and_a_result_travels_along_its_port_only():
    workflow = compile_graph(
        [
            node("start", "start"),
            node("check", "if", condition='event@properties.plan == "pro"'),
            node("yes", "add_segment", segment="pro"),
            node("no", "add_segment", segment="free"),
        ],
        [edge("start", "check"), edge("check", "yes", "true"), edge("check", "no", "false")],
    )
    flow = make_flow(
        event={"id": "e", "type": "t", "properties": {"plan": "pro"}}, profile=profile()
    )

    outcome = workflow_execute(workflow, flow)

    assert outcome.status == "ok"
    assert ran(outcome) == [
        ("start", None, "payload"),
        ("check", "payload", "true"),
        ("yes", "payload", "payload"),
    ]
    assert flow.profile["segments"] == ["pro"]


def test_a_node_reached_by_two_branches_runs_once_per_value():
    workflow = compile_graph(
        [
            node("start", "start"),
            node("a", "log_message", message="a"),
            node("b", "log_message", message="b"),
            node("count", "increment_counter", field="profile@stats.hits"),
        ],
        [
            edge("start", "a"),
            edge("start", "b"),
            edge("a", "count"),
            edge("b", "count"),
        ],
    )
    flow = make_flow(profile=profile())

    outcome = workflow_execute(workflow, flow)

    assert [entry["node"] for entry in outcome.log] == ["start", "a", "b", "count", "count"]
    assert flow.profile["stats"]["hits"] == 2


def test_none_ends_a_branch_and_other_branches_go_on():
    workflow = compile_graph(
        [
            node("start", "start", event_types=["page-view"]),
            node("stop", "end"),
            node("other", "add_segment", segment="seen"),
        ],
        [edge("start", "stop"), edge("start", "other")],
    )
    flow = make_flow(profile=profile())

    outcome = workflow_execute(workflow, flow)

    assert ran(outcome) == [
        ("start", None, "payload"),
        ("stop", "payload", None),
        ("other", "payload", "payload"),
    ]
    assert flow.profile["segments"] == ["seen"]


def test_start_filters_event_types_by_ending_the_run():
    workflow = compile_graph(
        [node("start", "start", event_types=["purchase"]), node("seg", "add_segment", segment="x")],
        [edge("start", "seg")],
    )
    flow = make_flow(profile=profile())

    outcome = workflow_execute(workflow, flow)

    assert outcome.status == "ok"
    assert ran(outcome) == [("start", None, None)]
    assert flow.profile["segments"] == []


def test_an_error_stops_the_run_and_names_the_node():
    workflow = compile_graph(
        [
            node("start", "start"),
            node(
                "fail", "throw_error", name="Reject", message="bad plan {{event@properties.plan}}"
            ),
            node("later", "add_segment", segment="never"),
            node("sibling", "add_segment", segment="sibling"),
        ],
        [edge("start", "fail"), edge("start", "sibling"), edge("sibling", "later")],
    )
    flow = make_flow(event={"id": "e", "type": "t", "properties": {"plan": "x"}}, profile=profile())

    outcome = workflow_execute(workflow, flow)

    assert outcome.status == "error"
    assert outcome.error == "Node 'Reject' (fail): bad plan x"
    assert outcome.error_node == "fail"
    # Breadth-first: the sibling branch's first node ran before the error, nothing after it.
    assert [(e["node"], e["error"]) for e in outcome.log] == [
        ("start", None),
        ("fail", "bad plan x"),
    ]
    assert flow.profile["segments"] == []


class _Boom(Action):
    id = "boom"
    name = "Boom"
    group = "Test"
    description = "raises a bug"

    def run(self, payload, flow):
        return {}["missing"]


class _WrongPort(Action):
    id = "wrong_port"
    name = "Wrong port"
    group = "Test"
    description = "answers on a port it does not declare"

    def run(self, payload, flow):
        return Result("elsewhere", payload)


class _Fan(Action):
    id = "fan"
    name = "Fan"
    group = "Test"
    description = "sends the payload on both ports"
    outputs = ("left", "right")

    def run(self, payload, flow):
        return [Result("left", payload), Result("right", None)]


def _two_node_workflow(action: Action) -> CompiledWorkflow:
    start = graph_compile(
        workflow_id="w", name="W", version=1, graph=graph([node("start", "start")], [])
    )
    return CompiledWorkflow(
        id="w",
        name="W",
        version=1,
        start="start",
        nodes={**start.nodes, "x": CompiledNode(id="x", name="X", action=action, debug=False)},
        edges={("start", "payload"): [("x", "payload")]},
    )


def test_an_unexpected_exception_in_an_action_is_recorded_not_raised():
    outcome = workflow_execute(_two_node_workflow(_Boom()), make_flow())

    assert outcome.status == "error"
    assert outcome.error == "Node 'X' (x): KeyError: 'missing'"
    assert outcome.log[-1]["error"] == "KeyError: 'missing'"


def test_an_answer_on_an_undeclared_port_is_an_error():
    outcome = workflow_execute(_two_node_workflow(_WrongPort()), make_flow())

    assert outcome.error == (
        "Node 'X' (x): action wrong_port answered on port 'elsewhere', which it does not have "
        "(ports: payload)"
    )


def test_a_none_value_on_one_of_several_ports_is_not_delivered():
    outcome = workflow_execute(_two_node_workflow(_Fan()), make_flow())

    assert outcome.log[-1]["port"] == "left"


def test_payloads_are_logged_for_debug_nodes_and_test_runs_only():
    nodes = [node("start", "start"), node("seg", "add_segment", debug=True, segment="s")]
    workflow = compile_graph(nodes, [edge("start", "seg")])
    event = {"id": "e", "type": "t", "properties": {"a": 1}}

    stored = workflow_execute(workflow, make_flow(event=event, profile=profile()))
    tested = workflow_execute(
        workflow, make_flow(event=event, profile=profile()), keep_payloads=True
    )

    assert "input" not in stored.log[0]
    assert stored.log[1]["input"] == event
    assert stored.log[1]["output"] == {"payload": event}
    assert tested.log[0]["input"] == event
    assert tested.log[0]["output"] == {"payload": event}


def test_durations_come_from_the_clock():
    ticks = count(start=0.0, step=0.5)
    workflow = compile_graph([node("start", "start")], [])

    outcome = workflow_execute(workflow, make_flow(), clock=lambda: next(ticks))

    assert outcome.log[0]["duration_ms"] == 500.0
    assert outcome.duration_ms == 1500.0


def test_a_graph_that_fans_out_without_end_is_stopped():
    # 11 layers of two nodes, each feeding both nodes of the next layer: 2**11 runs.
    nodes = [node("start", "start")]
    edges = []
    previous = ["start"]
    for layer in range(11):
        current = [f"l{layer}a", f"l{layer}b"]
        nodes += [node(name, "log_message", message="x") for name in current]
        edges += [edge(a, b) for a in previous for b in current]
        previous = current
    workflow = compile_graph(nodes, edges)

    outcome = workflow_execute(workflow, make_flow())

    assert outcome.status == "error"
    assert f"stopped after {MAX_NODE_RUNS} node runs" in outcome.error
    assert len(outcome.log) == MAX_NODE_RUNS


def test_messages_from_log_nodes_are_kept_on_the_node():
    workflow = compile_graph(
        [
            node("start", "start"),
            node("log", "log_message", type="warning", message="hi {{event@id}}"),
        ],
        [edge("start", "log")],
    )

    outcome = workflow_execute(workflow, make_flow())

    assert outcome.log[1]["messages"] == [{"level": "warning", "message": "hi e1"}]


def test_action_error_from_notation_is_recorded():
    workflow = compile_graph(
        [
            node("start", "start"),
            node(
                "copy", "copy_data", traits={"set": {"profile@traits.x": "event@properties.nope"}}
            ),
        ],
        [edge("start", "copy")],
    )

    outcome = workflow_execute(workflow, make_flow(profile=profile()))

    assert outcome.error == (
        "Node 'copy' (copy): cannot copy event@properties.nope to profile@traits.x: "
        "event@properties.nope is missing"
    )


def test_action_error_message_is_kept_verbatim():
    class Raises(_Boom):
        def run(self, payload, flow):
            raise ActionError("plain")

    outcome = workflow_execute(_two_node_workflow(Raises()), make_flow())

    assert outcome.log[-1]["error"] == "plain"
