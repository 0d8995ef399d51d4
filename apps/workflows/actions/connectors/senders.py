"""Message actions: "send e-mail" (SMTP) and "publish to RabbitMQ" use the destination senders'
own code (apps.destinations.senders) with the node's resource; "publish to Kafka" uses
confluent-kafka (apps.destinations.connectors.kafka)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from apps import notation
from apps.destinations.connectors.http import VendorAnswer, VendorError
from apps.destinations.connectors.kafka import kafka_publish
from apps.destinations.redaction import redact
from apps.destinations.senders import SendResult, sender_for
from apps.workflows.actions.connectors.base import (
    ConnectorAction,
    connector_schema,
    idempotency_key,
    required,
)
from apps.workflows.actions.connectors.chat import PORTS_DOC
from apps.workflows.actions.connectors.email import EMAIL_FIELDS

if TYPE_CHECKING:
    from apps.workflows.engine import Flow


def _answer(result: SendResult, credentials: Mapping[str, Any], vendor: str) -> VendorAnswer:
    if not result.ok:
        raise VendorError(
            redact(f"{vendor}: {result.error}", credentials), status=result.status_code
        )
    return VendorAnswer(result.status_code or 0, result.response_excerpt)


class SmtpSendEmailAction(ConnectorAction):
    id = "smtp_send_email"
    name = "E-mail: send (SMTP)"
    description = "Sends one e-mail through the SMTP server of an e-mail resource."
    docs = (
        "`to`, `subject` and `message` are string templates over profile@, event@ and "
        "payload@; `html` sends the message as HTML. The Message-ID is stable per event, "
        "workflow and node, so a mail system drops a repeat." + PORTS_DOC
    )
    resource_types = ("smtp",)
    vendor = "SMTP"
    config_schema = connector_schema(
        resource_types, ["from", "to", "subject", "message"], **EMAIL_FIELDS
    )

    def setup(self) -> None:
        required(self.config, "from", "to", "subject", "message")

    def perform(self, credentials: Mapping[str, Any], data: dict, flow: Flow) -> VendorAnswer:
        settings = {
            "from": self.config["from"],
            "to": self.config["to"],
            "subject": self.config["subject"],
            "body": self.config["message"],
            "html": self.config["html"],
            "timeout": flow.remaining(self.config["timeout"]),
        }
        result = sender_for("smtp").send(
            payload=data["payload"],
            changes=(),
            settings=settings,
            credentials=credentials,
            context=data,
            idempotency_key=idempotency_key(flow),
        )
        return _answer(result, credentials, "SMTP")


class RabbitMqPublishAction(ConnectorAction):
    id = "rabbitmq_publish"
    name = "RabbitMQ: publish"
    description = "Publishes a persistent JSON message to a RabbitMQ exchange."
    docs = (
        'The message is the destinations\' envelope, {"data": <body>, "changes": []}, '
        "where `body` is an object template (empty: the payload). `exchange` (empty: the "
        "default exchange, where the routing key names the queue), `routing_key`. The broker "
        "confirms the message before `response`." + PORTS_DOC
    )
    resource_types = ("rabbitmq",)
    vendor = "RabbitMQ"
    config_schema = connector_schema(
        resource_types,
        ["routing_key"],
        exchange={
            "type": "string",
            "default": "",
            "title": "Exchange",
            "description": "Empty: the default exchange; else its name, e.g. crm-events.",
        },
        routing_key={
            "type": "string",
            "minLength": 1,
            "title": "Routing key",
            "description": "With the default exchange: the queue's name, e.g. profile.updated.",
        },
        body={
            "type": ["object", "null"],
            "default": None,
            "title": "Message",
            "description": "An object template; empty: the payload.",
            "x-form": "object-template",
        },
    )

    def perform(self, credentials: Mapping[str, Any], data: dict, flow: Flow) -> VendorAnswer:
        body = self.config["body"]
        message = data["payload"] if body is None else notation.render_template(body, data)
        result = sender_for("rabbitmq").send(
            payload=message,
            changes=(),
            settings={
                "exchange": self.config["exchange"],
                "routing_key": self.config["routing_key"],
                "timeout": flow.remaining(self.config["timeout"]),
            },
            credentials=credentials,
            context=data,
            idempotency_key=idempotency_key(flow),
        )
        return _answer(result, credentials, "RabbitMQ")


class KafkaPublishAction(ConnectorAction):
    id = "kafka_publish"
    name = "Kafka: publish"
    description = "Publishes a JSON message to a Kafka topic and waits for the acknowledgement."
    docs = (
        "`topic`, optional `key` (a string template: messages with one key keep their order), "
        "`body` (an object template; empty: the payload). The message carries an "
        "`idempotency-key` header, stable per event, workflow and node. `response` holds the "
        "topic, partition and offset the broker gave it." + PORTS_DOC
    )
    resource_types = ("kafka",)
    vendor = "Kafka"
    config_schema = connector_schema(
        resource_types,
        ["topic"],
        topic={
            "type": "string",
            "pattern": "^[A-Za-z0-9._-]{1,249}$",
            "title": "Topic",
            "description": "Letters, digits, . _ and - (Kafka's rule), e.g. cdp.purchases.",
        },
        key={
            "type": ["string", "null"],
            "default": None,
            "title": "Key",
            "description": "Optional, e.g. {{profile@id}}.",
            "x-notation": "template",
        },
        body={
            "type": ["object", "null"],
            "default": None,
            "title": "Message",
            "description": "An object template; empty: the payload.",
            "x-form": "object-template",
        },
    )

    def perform(self, credentials: Mapping[str, Any], data: dict, flow: Flow) -> VendorAnswer:
        body = self.config["body"]
        message = data["payload"] if body is None else notation.render_template(body, data)
        key = self.text("key", data) or None
        return kafka_publish(
            credentials,
            topic=self.config["topic"],
            key=key,
            value=message,
            headers={"idempotency-key": idempotency_key(flow)},
            timeout=flow.remaining(self.config["timeout"]),
        )
