"""Remote HTTP call against a real local HTTP server."""

import pytest

from apps.workflows.actions import action_by_id
from tests.workflows.graphs import run_action
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
