"""Kafka publish against librdkafka's own mock cluster (no Kafka broker runs on this machine):
a holder producer starts the mock cluster in the test, and the action and a consumer reach it
over the network at the address it reports."""

import json
import time

import pytest
from confluent_kafka import Consumer, Producer

from apps.destinations.services import resource_connection_test
from apps.workflows.actions.connectors.base import idempotency_key
from tests.workflows.connectors import resource, run
from tests.workflows.graphs import make_flow

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def mock_cluster():
    holder = Producer({"test.mock.num.brokers": 1, "log_level": 3})
    [broker] = holder.list_topics(timeout=10).brokers.values()
    yield f"{broker.host}:{broker.port}"
    holder.flush(1)


def _read_one(address: str, topic: str):
    consumer = Consumer(
        {"bootstrap.servers": address, "group.id": "t", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic])
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and not message.error():
                return message
    finally:
        consumer.close()
    raise AssertionError(f"no message on {topic}")


def test_kafka_publishes_the_rendered_message_with_key_and_idempotency_header(mock_cluster):
    broker = resource("kafka", {"bootstrap_servers": mock_cluster})

    results, _ = run(
        "kafka_publish",
        {
            "resource": broker.pk,
            "topic": "purchases",
            "key": "{{profile@id}}",
            "body": {"email": "profile@data.contact.email.main", "total": "event@properties.total"},
        },
    )

    [(port, answer)] = results
    assert port == "response"
    assert answer["content"]["topic"] == "purchases"
    assert answer["content"]["offset"] == 0
    message = _read_one(mock_cluster, "purchases")
    assert json.loads(message.value()) == {"email": "Ada@Example.com", "total": 42}
    assert message.key() == b"p1"
    assert message.headers() == [
        ("idempotency-key", idempotency_key(make_flow(event={"id": "e1"})).encode())
    ]
    assert message.partition() == answer["content"]["partition"]


def test_kafka_unreachable_broker_goes_to_error_within_the_timeout():
    broker = resource("kafka", {"bootstrap_servers": "127.0.0.1:1"})

    started = time.monotonic()
    results, _ = run("kafka_publish", {"resource": broker.pk, "topic": "t", "timeout": 1})

    assert results[0][0] == "error"
    assert results[0][1]["error"] == "Kafka: Local: Message timed out"
    assert time.monotonic() - started < 10


def test_kafka_connection_check(mock_cluster):
    outcome = resource_connection_test(
        resource=resource("kafka", {"bootstrap_servers": mock_cluster})
    )

    assert outcome.ok
    assert outcome.message.startswith("Production credentials: Kafka answered: 1 broker(s), ")
