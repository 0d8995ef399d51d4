"""Remote HTTP call against a real local HTTP server."""

import uuid

import pytest

from apps.workflows.actions import action_by_id
from apps.workflows.actions.http import remote_call_idempotency_key
from apps.workflows.engine import workflow_execute
from apps.workflows.graph import graph_compile
from tests.workflows.graphs import edge, graph, make_flow, node, run_action
from tests.workflows.servers import RecordingServer


@pytest.fixture
def server():
    servers = []

    def start(**kwargs):
        started = RecordingServer(**kwargs).start()
        servers.append(started)
        return started

    yield start
    for started in servers:
        started.stop()


def test_post_renders_url_headers_and_body_and_answers_on_response(server):
    remote = server(body={"score": 7})
    results, _ = run_action(
        "remote_call",
        {
            "method": "POST",
            "url": remote.url + "/users/{{profile@id}}",
            "headers": {"X-Plan": "{{event@properties.plan}}"},
            "body": {"email": "profile@data.contact.email.main", "fixed": 1},
            "timeout": 5,
        },
        event={"id": "e", "properties": {"plan": "pro"}},
        profile={"id": "p1", "data": {"contact": {"email": {"main": "a@b.c"}}}},
    )

    [(port, answer)] = results
    assert port == "response"
    assert answer["status"] == 200
    assert answer["content"] == {"score": 7}
    assert answer["error"] is None
    assert answer["headers"]["Content-Type"] == "application/json"
    [request] = remote.requests
    assert (request["method"], request["path"]) == ("POST", "/users/p1")
    assert request["headers"]["X-Plan"] == "pro"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["json"] == {"email": "a@b.c", "fixed": 1}


def test_get_sends_no_body(server):
    remote = server()

    results, _ = run_action("remote_call", {"method": "GET", "url": remote.url, "timeout": 5})

    assert results[0][0] == "response"
    assert remote.requests[0]["method"] == "GET"
    assert remote.requests[0]["json"] is None


def test_an_error_status_goes_to_the_error_port(server):
    remote = server(status=503, body={"detail": "down"})

    results, _ = run_action("remote_call", {"url": remote.url, "timeout": 5})

    assert results == [
        (
            "error",
            {
                "status": 503,
                "content": {"detail": "down"},
                "headers": results[0][1]["headers"],
                "error": None,
            },
        )
    ]


def test_a_timeout_goes_to_the_error_port(server):
    remote = server(delay=1.0)

    results, _ = run_action("remote_call", {"url": remote.url, "timeout": 0.2})

    [(port, answer)] = results
    assert port == "error"
    assert answer["status"] is None
    assert answer["error"].startswith("ReadTimeout")


def test_a_refused_connection_goes_to_the_error_port(server):
    remote = server()
    url = remote.url
    remote.stop()

    results, _ = run_action("remote_call", {"url": url, "timeout": 1})

    assert results[0][0] == "error"
    assert results[0][1]["error"].startswith("ConnectionError")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"url": "http://x"}, "'timeout' is a required property"),
        ({"url": "http://x", "timeout": 61}, "timeout: 61 is greater than the maximum of 60"),
        ({"url": "ftp://x", "timeout": 1}, "url: 'ftp://x' is not an http(s) URL"),
        ({"url": "http://x", "timeout": 1, "method": "TRACE"}, "method: 'TRACE' is not one of"),
    ],
)
def test_config_is_checked(config, message):
    assert action_by_id("remote_call").config_errors(config)[0].startswith(message)


def _two_calls_and_a_join(url: str) -> dict:
    """start -> call-a -> call-b, and start -> call-b: call-b runs twice per event."""
    call = {"url": url, "timeout": 5, "body": {"event": "event@id"}}
    return graph(
        [
            node("start", "start"),
            node("call-a", "remote_call", **call),
            node("call-b", "remote_call", **call),
        ],
        [edge("start", "call-a"), edge("call-a", "call-b", "response"), edge("start", "call-b")],
    )


def test_each_call_has_an_idempotency_key_stable_per_event_workflow_node_and_visit(server):
    remote = server()
    workflow = graph_compile(
        workflow_id="wf-1", name="Calls", version=1, graph=_two_calls_and_a_join(remote.url)
    )

    for event_id in ("ev-1", "ev-1", "ev-2"):  # ev-1 again: a redelivery or a replay
        event = {"id": event_id, "type": "purchase", "properties": {}}
        flow = make_flow(event=event)
        flow.workflow = {"id": "wf-1", "name": "Calls", "version": 1}
        assert workflow_execute(workflow, flow).ok

    keys = [request["headers"]["Idempotency-Key"] for request in remote.requests]
    expected = {
        (event_id, node_id, visit): remote_call_idempotency_key(
            event_id=event_id, workflow_id="wf-1", node_id=node_id, visit=visit
        )
        for event_id in ("ev-1", "ev-2")
        for node_id, visit in (("call-a", 1), ("call-b", 1), ("call-b", 2))
    }
    # Breadth first: call-a and call-b (from start), then call-b again (from call-a).
    assert keys == [
        expected["ev-1", "call-a", 1],
        expected["ev-1", "call-b", 1],
        expected["ev-1", "call-b", 2],
    ] * 2 + [
        expected["ev-2", "call-a", 1],
        expected["ev-2", "call-b", 1],
        expected["ev-2", "call-b", 2],
    ]
    assert len(set(expected.values())) == 6
    assert expected["ev-1", "call-a", 1] == str(
        uuid.uuid5(uuid.UUID("1f6b1c52-3f55-4b86-9a39-4c1d4b8e0f21"), "ev-1\x1fwf-1\x1fcall-a")
    )


def test_a_key_in_the_node_headers_replaces_the_generated_one(server):
    remote = server()

    run_action(
        "remote_call",
        {"url": remote.url, "timeout": 5, "headers": {"idempotency-key": "order-{{event@id}}"}},
        event={"id": "e-7", "properties": {}},
    )

    [request] = remote.requests
    assert request["headers"]["idempotency-key"] == "order-e-7"
    assert [name for name in request["headers"] if name.lower() == "idempotency-key"] == [
        "idempotency-key"
    ]
