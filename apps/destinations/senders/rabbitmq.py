"""RabbitMQ publisher (kombu): one persistent JSON message per delivery, with publisher confirms
so that "sent" means the broker took it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from kombu import Connection, Exchange, Producer
from kombu.exceptions import OperationalError

from apps.destinations.senders.base import SendResult

MAX_TIMEOUT_SECONDS = 30
DEFAULT_TIMEOUT_SECONDS = 10


class RabbitMQSender:
    """Publishes `{"data": <the mapping>, "changes": [...]}` as a persistent JSON message to
    an exchange with a routing key; the message id is the idempotency key."""

    settings_schema: ClassVar[dict] = {
        "type": "object",
        "required": ["routing_key"],
        "properties": {
            "exchange": {
                "type": "string",
                "default": "",
                "description": "Empty: the default exchange.",
                "examples": ["cdp"],
            },
            "exchange_type": {
                "enum": ["direct", "topic", "fanout", "headers"],
                "default": "direct",
                "description": "The exchange's type, used when it is declared.",
            },
            "declare_exchange": {
                "type": "boolean",
                "default": False,
                "description": "Declare the exchange before publishing (when it is named).",
            },
            "durable": {
                "type": "boolean",
                "default": True,
                "description": "A declared exchange survives a broker restart.",
            },
            "routing_key": {
                "type": "string",
                "description": "The routing key of each message.",
                "examples": ["cdp.profiles"],
            },
            "timeout": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_TIMEOUT_SECONDS,
                "default": DEFAULT_TIMEOUT_SECONDS,
                "description": f"Seconds to wait for the broker (at most {MAX_TIMEOUT_SECONDS}).",
            },
        },
        "additionalProperties": False,
    }
    credentials_schema: ClassVar[dict] = {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {
                "type": "string",
                "pattern": "^amqps?://",
                "description": "The broker's AMQP URL with its user and password.",
                "examples": ["amqp://user:password@rabbitmq.example.com:5672/"],
            }
        },
        "additionalProperties": False,
    }

    def send(
        self,
        *,
        payload: Any,
        changes: Sequence[str],
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        context: Mapping[str, Any],
        idempotency_key: str,
    ) -> SendResult:
        timeout = settings.get("timeout", DEFAULT_TIMEOUT_SECONDS)
        exchange_name = settings.get("exchange", "")
        routing_key = settings["routing_key"]
        body = json.dumps({"data": payload, "changes": list(changes)})
        connection = Connection(
            credentials["url"],
            connect_timeout=timeout,
            transport_options={"confirm_publish": True},
        )
        try:
            with connection:
                connection.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
                channel = connection.channel()
                exchange = Exchange(
                    exchange_name,
                    type=settings.get("exchange_type", "direct"),
                    durable=settings.get("durable", True),
                    channel=channel,
                )
                if settings.get("declare_exchange") and exchange_name:
                    exchange.declare()
                Producer(channel, exchange=exchange, auto_declare=False).publish(
                    body,
                    routing_key=routing_key,
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=idempotency_key,
                    headers={"idempotency-key": idempotency_key},
                    retry=False,
                    timeout=timeout,
                )
        except (TimeoutError, OperationalError, *connection.recoverable_connection_errors) as e:
            return SendResult(ok=False, error=f"RabbitMQ unreachable: {e}", retryable=True)
        except (*connection.connection_errors, *connection.channel_errors) as error:
            code = getattr(error, "reply_code", None) or getattr(error, "code", None)
            return SendResult(
                ok=False,
                status_code=code if isinstance(code, int) else None,
                error=f"RabbitMQ refused the message: {error}",
                retryable=isinstance(error, connection.recoverable_channel_errors),
            )
        except OSError as error:
            return SendResult(ok=False, error=f"Network error: {error}", retryable=True)
        return SendResult(
            ok=True,
            response_excerpt=f"Published to exchange {exchange_name!r} with routing key "
            f"{routing_key!r} (confirmed by the broker)",
        )
