"""Issue 23: Write to memory, Read from memory and the Memory payload collector, against the
test Redis (keys of each test are its own) and against a Redis that refuses or freezes."""

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.conf import settings as django_settings

from apps.workflows.actions import action_by_id
from apps.workflows.engine import workflow_execute
from apps.workflows.graph import graph_compile
from apps.workflows.memory import KEY_PREFIX
from tests.tracking.redis_server import PrivateRedis, free_port
from tests.workflows.graphs import edge, graph, make_flow, node, run_action

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def key():
    """A key prefix no other test (or test run on this Redis) uses; its keys go afterwards."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(django_settings.CDP_MEMORY_REDIS_URL)
    for name in client.scan_iter(f"{KEY_PREFIX}*{prefix}*"):
        client.delete(name)


def test_written_values_are_read_back_by_later_runs_under_a_templated_key(key):
    event = {"id": "e1", "properties": {"order": {"id": "o-9", "total": 120.5}}}
    profile = {"id": "p1", "traits": {}}

    written, _ = run_action(
        "write_memory",
        {"key": key + "-{{profile@id}}", "value": "event@properties.order", "ttl": 60},
        payload={"x": 1},
        event=event,
        profile=profile,
    )
    found, flow = run_action(
        "read_memory",
        {"key": key + "-{{profile@id}}", "target": "profile@traits.last_order"},
        payload={"y": 2},
        profile={"id": "p1", "traits": {}},
    )
    missing, _ = run_action("read_memory", {"key": key + "-p2"}, payload={"y": 2})

    assert written == [("success", {"x": 1})]
    assert found == [("success", {"value": {"id": "o-9", "total": 120.5}})]
    assert flow.profile["traits"] == {"last_order": {"id": "o-9", "total": 120.5}}
    assert missing == [("not-exists", {"y": 2})]
    client = redis.Redis.from_url(django_settings.CDP_MEMORY_REDIS_URL)
    assert client.get(f"{KEY_PREFIX}{key}-p1") == b'{"id":"o-9","total":120.5}'
    assert 55 <= client.ttl(f"{KEY_PREFIX}{key}-p1") <= 60


def test_a_literal_value_and_a_second_write_that_replaces_the_first(key):
    run_action("write_memory", {"key": key, "value": "first", "ttl": 60})
    run_action("write_memory", {"key": key, "value": "`10`", "ttl": 60})

    assert run_action("read_memory", {"key": key})[0] == [("success", {"value": 10})]


def test_write_errors_go_to_the_error_port(key, settings):
    settings.CDP_MEMORY_MAX_VALUE_BYTES = 20

    empty_key, _ = run_action("write_memory", {"key": "{{event@nope}}", "value": "x"})
    no_value, _ = run_action("write_memory", {"key": key, "value": "event@properties.nope"})
    too_big, _ = run_action(
        "write_memory",
        {"key": key, "value": "event@properties.text"},
        event={"id": "e", "properties": {"text": "x" * 30}},
    )

    assert empty_key == [("error", {"message": "the key '{{event@nope}}' rendered empty"})]
    assert no_value == [("error", {"message": "there is no value at event@properties.nope"})]
    assert too_big == [
        (
            "error",
            {
                "message": "the value is 32 bytes of JSON; memory keeps at most 20 "
                "(CDP_MEMORY_MAX_VALUE_BYTES)"
            },
        )
    ]
    assert run_action("read_memory", {"key": key})[0] == [
        ("not-exists", {"id": "e1", "type": "page-view", "properties": {}})
    ]


@pytest.mark.parametrize(
    ("action_id", "config", "errors"),
    [
        (
            "write_memory",
            {"key": " ", "value": "x"},
            ["key: write the name the value is kept under"],
        ),
        ("write_memory", {"key": "k"}, ["'value' is a required property"]),
        (
            "write_memory",
            {"key": "k", "value": "x", "ttl": 0},
            ["ttl: 0 is less than the minimum of 1"],
        ),
        (
            "write_memory",
            {"key": "k", "value": "x", "ttl": 2592001},
            ["ttl: 2592001 is greater than the maximum of 2592000"],
        ),
        ("write_memory", {"key": "k", "value": "event@a..b"}, None),
        ("read_memory", {"key": "k", "target": "session@x"}, None),
        ("read_memory", {}, ["'key' is a required property"]),
        (
            "memory_collector",
            {"key": "k", "count": None, "span": None},
            ["count, span: set a count, a time span, or both"],
        ),
        ("memory_collector", {"key": "k", "count": 1}, ["count: 1 is less than the minimum of 2"]),
        (
            "memory_collector",
            {"key": "k", "count": 1001},
            ["count: 1001 is greater than the maximum of 1000"],
        ),
        ("memory_collector", {"key": "k", "span": 0}, ["span: 0 is less than the minimum of 1"]),
        ("memory_collector", {"key": "k"}, []),
        ("write_memory", {"key": "k-{{profile@id}}", "value": "payload@..."}, []),
    ],
)
def test_config_validation(action_id, config, errors):
    found = action_by_id(action_id).config_errors(config)

    if errors is None:  # a notation message: only that there is exactly one
        assert len(found) == 1 and found[0].split(":")[0] in ("value", "target")
    else:
        assert found == errors


def test_the_collector_releases_every_count_payloads_together_on_one_port(key):
    config = {"key": key + "-{{profile@id}}", "count": 3}
    results = [
        run_action("memory_collector", config, payload={"n": n}, profile={"id": "p1"})[0]
        for n in range(1, 8)
    ]
    other = run_action("memory_collector", config, payload={"n": 0}, profile={"id": "p2"})[0]

    assert results == [
        [],
        [],
        [("collected", {"key": key + "-p1", "items": [{"n": 1}, {"n": 2}, {"n": 3}]})],
        [],
        [],
        [("collected", {"key": key + "-p1", "items": [{"n": 4}, {"n": 5}, {"n": 6}]})],
        [],
    ]
    assert other == []


def test_the_collector_releases_after_its_time_span_with_the_payload_that_comes_after_it(key):
    config = {"key": key, "count": None, "span": 60, "value": "event@properties.sku"}

    def arrive(sku: str, seconds: int):
        event = {"id": sku, "properties": {"sku": sku}}
        return run_action(
            "memory_collector", config, event=event, now=NOW + timedelta(seconds=seconds)
        )[0]

    assert arrive("a", 0) == []
    assert arrive("b", 30) == []
    assert arrive("c", 59) == []
    assert arrive("d", 61) == [("collected", {"key": key, "items": ["a", "b", "c", "d"]})]
    # The next collection starts with the next value.
    assert arrive("e", 200) == []
    assert arrive("f", 259) == []
    assert arrive("g", 260) == [("collected", {"key": key, "items": ["e", "f", "g"]})]


def test_in_a_workflow_the_runs_before_the_release_end_at_the_collector(key):
    compiled = graph_compile(
        workflow_id="w1",
        name="Batch",
        version=1,
        graph=graph(
            [
                node("start", "start"),
                node("collect", "memory_collector", key=key, count=2, value="event@id"),
                node("log", "log_message", message="batch"),
            ],
            [edge("start", "collect"), edge("collect", "log", "collected")],
        ),
    )
    first = workflow_execute(compiled, make_flow(event={"id": "e1", "properties": {}}))
    second = workflow_execute(compiled, make_flow(event={"id": "e2", "properties": {}}))

    assert [(entry["node"], entry["port"]) for entry in first.log] == [
        ("start", "payload"),
        ("collect", None),
    ]
    assert first.log[1]["messages"] == [
        {"level": "info", "message": f"collected under {key!r}, not released yet"}
    ]
    assert [(entry["node"], entry["port"]) for entry in second.log] == [
        ("start", "payload"),
        ("collect", "collected"),
        ("log", "payload"),
    ]
    assert (first.status, second.status) == ("ok", "ok")


def _unreachable_answers() -> list:
    return [
        run_action("write_memory", {"key": "k", "value": "x"})[0],
        run_action("read_memory", {"key": "k"})[0],
        run_action("memory_collector", {"key": "k", "count": 2})[0],
    ]


def test_a_redis_that_refuses_connections_answers_on_the_error_ports(settings):
    settings.CDP_MEMORY_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens
    started = time.monotonic()

    answers = _unreachable_answers()

    assert time.monotonic() - started < 3
    assert [[port for port, _ in answer] for answer in answers] == [["error"]] * 3
    for answer in answers:
        message = answer[0][1]["message"]
        assert message.startswith("Redis did not answer (ConnectionError: ")
        assert "Connection refused" in message


def test_a_frozen_redis_fails_each_node_after_its_timeout_and_the_run_goes_on(settings):
    server = PrivateRedis().start()
    try:
        settings.CDP_MEMORY_REDIS_URL = server.url
        assert run_action("write_memory", {"key": "k", "value": "x"})[0] == [
            ("success", {"id": "e1", "type": "page-view", "properties": {}})
        ]
        server.freeze()
        compiled = graph_compile(
            workflow_id="w1",
            name="Remember",
            version=1,
            graph=graph(
                [
                    node("start", "start"),
                    node("read", "read_memory", key="k"),
                    node("log", "log_message", message="memory is down"),
                ],
                [edge("start", "read"), edge("read", "log", "error")],
            ),
        )
        started = time.monotonic()
        outcome = workflow_execute(compiled, make_flow(), keep_payloads=True)
        waited = time.monotonic() - started
    finally:
        server.kill()

    assert 0.9 <= waited < 3  # the client's 1 s socket timeout, no retries
    assert outcome.status == "ok"
    assert [(entry["node"], entry["port"]) for entry in outcome.log] == [
        ("start", "payload"),
        ("read", "error"),
        ("log", "payload"),
    ]
    assert outcome.log[1]["output"] == {
        "error": {"message": "Redis did not answer (TimeoutError: Timeout reading from socket)"}
    }
