"""Each sender against a real local server: HTTP (scripted), RabbitMQ (this machine), SMTP."""

import base64
import email
import json
import time
import uuid
from email import policy

import pytest
from kombu import Connection, Exchange, Queue

from apps.destinations.senders import sender_for
from apps.destinations.senders.webhook import flatten_query, retry_after_seconds
from tests.destinations.servers import RecordingSmtpHandler, Reply, free_port, start_smtp_server

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


def webhook_send(url, *, payload=None, changes=(), credentials=None, **settings):
    return sender_for("webhook").send(
        payload=payload if payload is not None else {"email": "ada@example.com"},
        changes=list(changes),
        settings={"url": url, "timeout": 2, **settings},
        credentials=credentials or {},
        context={},
        idempotency_key="delivery-1-1",
    )


def test_webhook_posts_data_and_changes_as_json_with_headers(http_server):
    server = http_server([Reply(200, body='{"accepted": true}')])

    result = webhook_send(
        server.url,
        payload={"email": "ada@example.com", "plan": None},
        changes=["traits.plan"],
        headers={"X-Source": "cdp"},
        credentials={
            "headers": {"X-Api-Key": "s3cret-key"},
            "basic_auth": {"username": "user", "password": "pass"},
        },
    )

    assert result.ok is True
    assert result.status_code == 200
    assert result.response_excerpt == '{"accepted": true}'
    [request] = server.requests
    assert request.method == "POST"
    assert request.path == "/hook"
    assert request.json() == {
        "data": {"email": "ada@example.com", "plan": None},
        "changes": ["traits.plan"],
    }
    assert request.headers["content-type"] == "application/json"
    assert request.headers["idempotency-key"] == "delivery-1-1"
    assert request.headers["x-source"] == "cdp"
    assert request.headers["x-api-key"] == "s3cret-key"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"user:pass").decode()


def test_webhook_get_flattens_the_body_into_query_parameters(http_server):
    server = http_server([200])

    result = webhook_send(
        server.url,
        method="GET",
        payload={
            "email": "ada@example.com",
            "address": {"city": "Paris"},
            "tags": ["a", "b"],
            "vip": True,
            "phone": None,
        },
        changes=["traits.plan", "data.pii"],
    )

    assert result.ok is True
    [request] = server.requests
    assert request.method == "GET"
    assert request.body == b""
    assert request.query == [
        ("data.email", "ada@example.com"),
        ("data.address.city", "Paris"),
        ("data.tags", "a"),
        ("data.tags", "b"),
        ("data.vip", "true"),
        ("data.phone", ""),
        ("changes", "traits.plan"),
        ("changes", "data.pii"),
    ]


def test_flatten_query_of_scalars_and_empty_containers():
    assert flatten_query({"a": {}, "b": [], "c": 1.5}) == [("c", "1.5")]


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (503, True), (429, True), (400, False), (404, False)]
)
def test_webhook_classifies_http_failures(http_server, status, retryable):
    server = http_server([Reply(status, body="nope")])

    result = webhook_send(server.url)

    assert result.ok is False
    assert result.status_code == status
    assert result.retryable is retryable
    assert result.response_excerpt == "nope"
    assert result.error.startswith(f"HTTP {status}")


def test_webhook_reports_retry_after_on_429(http_server):
    server = http_server([Reply(429, headers={"Retry-After": "7"})])

    result = webhook_send(server.url)

    assert (result.retryable, result.retry_after) == (True, 7.0)


def test_retry_after_accepts_seconds_and_http_dates():
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert retry_after_seconds("Fri, 01 Jan 2100 00:00:00 GMT") > 365 * 24 * 3600
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_webhook_timeout_and_refused_connection_are_retryable(http_server):
    hanging = http_server([Reply(200, delay=2)])

    timed_out = webhook_send(hanging.url, timeout=0.3)
    refused = webhook_send(f"http://127.0.0.1:{free_port()}/hook")

    assert (timed_out.ok, timed_out.retryable) == (False, True)
    assert timed_out.error == "Timed out waiting for the webhook"
    assert (refused.ok, refused.retryable) == (False, True)
    assert refused.error.startswith("Network error:")


def test_webhook_does_not_follow_redirects(http_server):
    server = http_server([Reply(302, headers={"Location": "http://127.0.0.1:9/elsewhere"})])

    result = webhook_send(server.url)

    assert (result.ok, result.status_code, result.retryable) == (False, 302, False)
    assert len(server.requests) == 1


@pytest.fixture
def amqp_queue():
    name = f"cdp-test-{uuid.uuid4().hex[:10]}"
    with Connection(AMQP_URL) as connection:
        queue = Queue(name, exchange=Exchange(""), routing_key=name, auto_delete=False)
        queue(connection.channel()).declare()
        yield connection, name
        queue(connection.channel()).delete()


def read_one(connection, queue_name, timeout=5.0):
    """Poll the queue with basic.get (no consumer) until one message is there."""
    queue = Queue(queue_name, exchange=Exchange(""), routing_key=queue_name)(connection.channel())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = queue.get(no_ack=True)
        if message is not None:
            return message
        time.sleep(0.02)
    raise AssertionError(f"no message in {queue_name} after {timeout}s")


def test_rabbitmq_publishes_a_persistent_json_message(amqp_queue):
    connection, queue_name = amqp_queue

    result = sender_for("rabbitmq").send(
        payload={"email": "ada@example.com"},
        changes=["traits.plan"],
        settings={"routing_key": queue_name, "timeout": 5},
        credentials={"url": AMQP_URL},
        context={},
        idempotency_key="delivery-7-2",
    )

    assert result.ok is True, result.error
    message = read_one(connection, queue_name)
    assert json.loads(message.body) == {
        "data": {"email": "ada@example.com"},
        "changes": ["traits.plan"],
    }
    assert message.content_type == "application/json"
    assert message.properties["message_id"] == "delivery-7-2"
    assert message.properties["delivery_mode"] == 2
    assert message.headers["idempotency-key"] == "delivery-7-2"


def test_rabbitmq_publishes_to_a_named_exchange_with_its_routing_key(amqp_queue):
    connection, queue_name = amqp_queue
    exchange_name = f"cdp-test-x-{uuid.uuid4().hex[:8]}"
    exchange = Exchange(exchange_name, type="topic", durable=False, auto_delete=True)
    exchange(connection.channel()).declare()
    connection.channel().queue_bind(queue_name, exchange_name, routing_key="profiles.#")

    result = sender_for("rabbitmq").send(
        payload={"id": "p1"},
        changes=[],
        settings={"exchange": exchange_name, "routing_key": "profiles.changed"},
        credentials={"url": AMQP_URL},
        context={},
        idempotency_key="k-1",
    )

    assert result.ok is True, result.error
    body = json.loads(read_one(connection, queue_name).body)
    assert body == {"data": {"id": "p1"}, "changes": []}


def test_rabbitmq_declares_the_exchange_when_asked():
    exchange_name = f"cdp-test-x-{uuid.uuid4().hex[:8]}"
    settings = {
        "exchange": exchange_name,
        "exchange_type": "fanout",
        "durable": False,
        "declare_exchange": True,
        "routing_key": "",
    }

    result = sender_for("rabbitmq").send(
        payload={},
        changes=[],
        settings=settings,
        credentials={"url": AMQP_URL},
        context={},
        idempotency_key="k-1",
    )

    assert result.ok is True, result.error
    with Connection(AMQP_URL) as connection:
        channel = connection.channel()
        # A passive declare raises NOT_FOUND unless the sender created the exchange.
        channel.exchange_declare(exchange_name, "fanout", passive=True)
        channel.exchange_delete(exchange_name)


def test_rabbitmq_missing_exchange_fails_without_retry():
    result = sender_for("rabbitmq").send(
        payload={},
        changes=[],
        settings={"exchange": f"missing-{uuid.uuid4().hex}", "routing_key": "x"},
        credentials={"url": AMQP_URL},
        context={},
        idempotency_key="k-1",
    )

    assert (result.ok, result.retryable, result.status_code) == (False, False, 404)
    assert "NOT_FOUND" in result.error


def test_rabbitmq_unreachable_broker_is_retryable():
    result = sender_for("rabbitmq").send(
        payload={},
        changes=[],
        settings={"routing_key": "x", "timeout": 1},
        credentials={"url": f"amqp://guest:guest@127.0.0.1:{free_port()}//"},
        context={},
        idempotency_key="k-1",
    )

    assert (result.ok, result.retryable) == (False, True)
    assert result.error.startswith("RabbitMQ unreachable")


SMTP_SETTINGS = {
    "from": "CDP <cdp@example.com>",
    "to": "{{profile@data.contact.email.main}}",
    "subject": "Hello {{profile@data.pii.firstname}}",
    "body": "Your plan is {{payload@plan}}.",
    "timeout": 5,
}
SMTP_CONTEXT = {
    "profile": {"data": {"pii": {"firstname": "Ada"}, "contact": {"email": {"main": "ada@x.org"}}}},
    "payload": {"plan": "pro"},
}


def test_smtp_sends_the_rendered_templates(smtp_server):
    controller, handler = smtp_server

    result = sender_for("smtp").send(
        payload={"plan": "pro"},
        changes=[],
        settings=SMTP_SETTINGS,
        credentials={"host": "127.0.0.1", "port": controller.port},
        context=SMTP_CONTEXT,
        idempotency_key="delivery-3-1",
    )

    assert result.ok is True, result.error
    assert result.status_code == 250
    [envelope] = handler.messages
    assert envelope.mail_from == "cdp@example.com"
    assert envelope.rcpt_tos == ["ada@x.org"]
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert message["Subject"] == "Hello Ada"
    assert message["To"] == "ada@x.org"
    assert message["Message-ID"] == "<delivery-3-1@example.com>"
    assert message.get_content().strip() == "Your plan is pro."


@pytest.mark.parametrize(
    ("reply", "retryable"), [("550 No such user", False), ("451 Try again later", True)]
)
def test_smtp_rejections_are_classified_by_code(reply, retryable):
    handler = RecordingSmtpHandler(reject_with=reply)
    controller = start_smtp_server(handler)
    try:
        result = sender_for("smtp").send(
            payload={"plan": "pro"},
            changes=[],
            settings=SMTP_SETTINGS,
            credentials={"host": "127.0.0.1", "port": controller.port},
            context=SMTP_CONTEXT,
            idempotency_key="k",
        )
    finally:
        controller.stop()

    assert (result.ok, result.status_code, result.retryable) == (False, int(reply[:3]), retryable)


def test_smtp_unreachable_server_is_retryable_and_empty_recipient_is_not():
    unreachable = sender_for("smtp").send(
        payload={},
        changes=[],
        settings={**SMTP_SETTINGS, "timeout": 1},
        credentials={"host": "127.0.0.1", "port": free_port()},
        context=SMTP_CONTEXT,
        idempotency_key="k",
    )
    no_recipient = sender_for("smtp").send(
        payload={},
        changes=[],
        settings={**SMTP_SETTINGS, "to": "{{profile@data.contact.email.other}}"},
        credentials={"host": "127.0.0.1", "port": free_port()},
        context=SMTP_CONTEXT,
        idempotency_key="k",
    )

    assert (unreachable.ok, unreachable.retryable) == (False, True)
    assert (no_recipient.ok, no_recipient.retryable) == (False, False)
    assert no_recipient.error.startswith("Cannot build the e-mail:")
