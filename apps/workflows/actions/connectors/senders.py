"""Actions over the destination senders: "send e-mail" (SMTP) and "publish to RabbitMQ" use the
senders' own code (apps.destinations.senders), with the node's resource."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from apps import notation
from apps.destinations.connectors.http import VendorAnswer, VendorError
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
            "description": "Empty: the default exchange.",
        },
        routing_key={
            "type": "string",
            "minLength": 1,
            "title": "Routing key",
            "description": "With the default exchange: the queue's name.",
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
