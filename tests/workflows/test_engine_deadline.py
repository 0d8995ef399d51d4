"""The engine's deadline (runs in the /track request): checked before each node, and the
remote call's wait capped at the time left."""

import time

from apps.workflows.engine import workflow_execute
from apps.workflows.graph import graph_compile
from tests.workflows.graphs import linear_graph, make_flow
from tests.workflows.servers import RecordingServer


def compiled(*steps):
    return graph_compile(workflow_id="w1", name="Offer", version=1, graph=linear_graph(*steps))


def test_a_deadline_already_past_stops_the_run_before_its_first_node():
    flow = make_flow()

    outcome = workflow_execute(
        compiled(("create_response", {"key": "a", "body": {}})),
        flow,
        deadline=time.monotonic() - 0.001,
    )

    assert (outcome.status, outcome.log, outcome.error_node) == ("timeout", [], "start")
    assert outcome.error == "Node 'start' (start): stopped at the time budget (before it started)"
    assert flow.response == {}


def test_without_a_deadline_nothing_changes():
    flow = make_flow()

    outcome = workflow_execute(compiled(("create_response", {"key": "a", "body": {}})), flow)

    assert (outcome.status, flow.response, flow.deadline) == ("ok", {"a": {}}, None)
    assert flow.remaining(10) == 10


def test_a_remote_call_waits_at_most_the_time_left_and_the_run_is_a_timeout():
    slow = RecordingServer(delay=2.0).start()
    try:
        flow = make_flow()
        started = time.monotonic()
        outcome = workflow_execute(
            compiled(
                ("remote_call", {"url": slow.url, "method": "GET", "timeout": 10}, "response"),
                ("create_response", {"key": "a", "body": {}}),
            ),
            flow,
            deadline=started + 0.2,
        )
        elapsed = time.monotonic() - started
    finally:
        slow.stop()

    assert 0.2 <= elapsed < 1.5
    assert (outcome.status, outcome.error_node) == ("timeout", "n1")
    assert outcome.error == (
        "Node 'n1' (n1): stopped at the time budget (its answer came after the deadline)"
    )
    assert [entry["node"] for entry in outcome.log] == ["start", "n1"]
    assert flow.response == {}
