"""Remote HTTP call against a real local HTTP server."""

import uuid

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured

from apps.workflows.actions import action_by_id
from apps.workflows.actions.http import remote_call_idempotency_key
from apps.workflows.engine import workflow_execute
from apps.workflows.graph import graph_compile
from apps.workflows.urlguard import GuardedAdapter
from cdp.env import env_networks
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
        ({"url": "http://x", "timeout": None}, "timeout: None is not of type 'number'"),
        ({"url": "http://x", "timeout": 61}, "timeout: 61 is greater than the maximum of 60"),
        ({"url": "ftp://x", "timeout": 1}, "url: 'ftp://x' is not an http(s) URL"),
        ({"url": "http://x", "timeout": 1, "method": "TRACE"}, "method: 'TRACE' is not one of"),
    ],
)
def test_config_is_checked(config, message):
    assert action_by_id("remote_call").config_errors(config)[0].startswith(message)


def test_the_timeout_defaults_to_ten_seconds():
    assert action_by_id("remote_call").with_defaults({"url": "http://x"})["timeout"] == 10


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


# -- where a templated URL may go (apps.workflows.urlguard) --------------------------------

REFUSED = (
    "AddressRefused: {host!r} resolves to {address}, a non-public address; templated URLs may "
    "reach it only if CDP_WORKFLOW_HTTP_ALLOWED_NETWORKS lists it"
)


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("10.0.0.1", "10.0.0.1"),
        ("192.168.1.20", "192.168.1.20"),
        ("169.254.169.254", "169.254.169.254"),
        ("0.0.0.0", "0.0.0.0"),
        ("[fd00::1]", "fd00::1"),
    ],
)
def test_a_templated_url_to_a_private_address_is_refused(settings, host, address):
    settings.CDP_WORKFLOW_HTTP_ALLOWED_NETWORKS = []

    results, _ = run_action(
        "remote_call",
        {"url": "http://{{event@properties.host}}/admin", "timeout": 5},
        event={"id": "e", "properties": {"host": host}},
    )

    hostname = host.strip("[]")
    assert results == [
        (
            "error",
            {
                "status": None,
                "content": None,
                "headers": {},
                "error": REFUSED.format(host=hostname, address=address),
            },
        )
    ]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
def test_the_local_test_server_is_not_reached_without_the_allow_list(server, settings, host):
    remote = server()
    port = remote.server.server_address[1]
    settings.CDP_WORKFLOW_HTTP_ALLOWED_NETWORKS = []

    results, _ = run_action(
        "remote_call", {"url": f"http://{host}:{port}/{{{{event@id}}}}", "timeout": 5}
    )

    assert results[0][0] == "error"
    assert results[0][1]["error"].startswith("AddressRefused: ")
    assert "a non-public address" in results[0][1]["error"]
    assert remote.requests == []


def test_an_allow_listed_network_is_reached(server, settings):
    remote = server()
    settings.CDP_WORKFLOW_HTTP_ALLOWED_NETWORKS = ["127.0.0.0/8"]

    results, _ = run_action("remote_call", {"url": remote.url + "/{{event@id}}", "timeout": 5})

    assert results[0][0] == "response"
    assert [request["path"] for request in remote.requests] == ["/e1"]


def test_a_url_written_out_in_full_goes_where_it_says(server, settings):
    remote = server()
    settings.CDP_WORKFLOW_HTTP_ALLOWED_NETWORKS = []

    results, _ = run_action("remote_call", {"url": remote.url + "/hook", "timeout": 5})

    assert results[0][0] == "response"
    assert [request["path"] for request in remote.requests] == ["/hook"]


def test_the_connection_checks_the_address_it_reached(server, settings):
    # What a name that resolves to a public address first and to 127.0.0.1 on the second
    # lookup (DNS rebinding) meets: the connection itself refuses the address it reached.
    remote = server()
    settings.CDP_WORKFLOW_HTTP_ALLOWED_NETWORKS = []
    session = requests.Session()
    session.mount("http://", GuardedAdapter())

    with pytest.raises(requests.ConnectionError, match="127.0.0.1, a non-public address"):
        session.get(remote.url, timeout=5)

    assert remote.requests == []


def test_an_allow_list_that_is_not_networks_stops_the_start(monkeypatch):
    monkeypatch.setenv("CDP_WORKFLOW_HTTP_ALLOWED_NETWORKS", "10.0.0.0/8, intranet")

    with pytest.raises(ImproperlyConfigured) as stopped:
        env_networks("CDP_WORKFLOW_HTTP_ALLOWED_NETWORKS")

    assert str(stopped.value) == (
        "CDP_WORKFLOW_HTTP_ALLOWED_NETWORKS: 'intranet' is not a network; "
        "write e.g. 10.0.0.0/8 or 127.0.0.1/32."
    )
