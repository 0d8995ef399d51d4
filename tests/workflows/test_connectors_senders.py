"""The SMTP "send e-mail" and RabbitMQ "publish" actions, over the destination senders, against
a real SMTP server (aiosmtpd) and this machine's RabbitMQ."""

import json
import uuid

import pytest
from kombu import Connection, Exchange, Queue

from apps.workflows.actions.connectors.base import idempotency_key
from tests.destinations.servers import RecordingSmtpHandler, start_smtp_server
from tests.workflows.connectors import resource, run
from tests.workflows.graphs import make_flow

pytestmark = pytest.mark.django_db
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
KEY = idempotency_key(make_flow(event={"id": "e1"}))


@pytest.fixture
def smtp():
    handler = RecordingSmtpHandler()
    controller = start_smtp_server(handler)
    yield controller, handler
    controller.stop()


def test_smtp_sends_the_rendered_mail(smtp):
    controller, handler = smtp
    mail = resource("smtp", {"host": "127.0.0.1", "port": controller.port})

    results, _ = run(
        "smtp_send_email",
        {
            "resource": mail.pk,
            "from": "shop@example.com",
            "to": "{{profile@data.contact.email.main}}",
            "subject": "Thanks {{profile@data.pii.firstname}}",
            "message": "You paid {{event@properties.total}}",
        },
    )

    assert results == [
        (
            "response",
            {"status": 250, "content": "Accepted for Ada@Example.com", "error": None},
        )
    ]
    [envelope] = handler.messages
    assert envelope.mail_from == "shop@example.com"
    assert envelope.rcpt_tos == ["Ada@Example.com"]
    text = envelope.content.decode()
    assert "Subject: Thanks Ada" in text
    assert f"Message-ID: <{KEY}@example.com>" in text
    assert "You paid 42" in text


def test_smtp_refusal_goes_to_error():
    handler = RecordingSmtpHandler(reject_with="550 Mailbox unavailable")
    controller = start_smtp_server(handler)
    try:
        mail = resource("smtp", {"host": "127.0.0.1", "port": controller.port})
        results, _ = run(
            "smtp_send_email",
            {"resource": mail.pk, "from": "a@b.c", "to": "d@e.f", "subject": "s", "message": "m"},
        )
    finally:
        controller.stop()

    assert results == [
        (
            "error",
            {
                "status": 550,
                "content": None,
                "error": "SMTP: SMTP 550: b'Mailbox unavailable'",
            },
        )
    ]


@pytest.fixture
def queue_name():
    name = f"cdp-conn-{uuid.uuid4().hex[:10]}"
    with Connection(AMQP_URL) as connection:
        queue = Queue(name, exchange=Exchange(""), routing_key=name, auto_delete=False)
        queue(connection.channel()).declare()
        yield name
        queue(connection.channel()).delete()


def test_rabbitmq_publishes_the_rendered_message(queue_name):
    broker = resource("rabbitmq", {"url": AMQP_URL})

    results, _ = run(
        "rabbitmq_publish",
        {
            "resource": broker.pk,
            "routing_key": queue_name,
            "body": {"email": "profile@data.contact.email.main", "total": "event@properties.total"},
        },
    )

    assert results == [
        (
            "response",
            {
                "status": 0,
                "content": f"Published to exchange '' with routing key {queue_name!r} "
                "(confirmed by the broker)",
                "error": None,
            },
        )
    ]
    with Connection(AMQP_URL) as connection:
        queue = Queue(queue_name, exchange=Exchange(""), routing_key=queue_name)
        message = queue(connection.channel()).get(no_ack=True)
    assert json.loads(message.body) == {
        "data": {"email": "Ada@Example.com", "total": 42},
        "changes": [],
    }
    assert message.properties["message_id"] == KEY


def test_rabbitmq_unknown_exchange_goes_to_error():
    broker = resource("rabbitmq", {"url": AMQP_URL})

    results, _ = run(
        "rabbitmq_publish",
        {"resource": broker.pk, "exchange": "no-such-exchange-x", "routing_key": "k"},
    )

    [(port, answer)] = results
    assert port == "error"
    assert answer["status"] == 404
    assert answer["error"].startswith("RabbitMQ: RabbitMQ refused the message:")
    assert "guest:guest" not in answer["error"]
