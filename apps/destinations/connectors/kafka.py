"""Kafka (confluent-kafka, librdkafka): publish one message and wait for the broker's
acknowledgement (acks=all), within the node's timeout.

A producer is made per call: librdkafka starts threads per producer, which a Celery prefork
child must not inherit, and a workflow node publishes one message. Security: PLAINTEXT, SSL,
or SASL (PLAIN / SCRAM) with a user and password."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from confluent_kafka import KafkaException, Producer

from apps.destinations.connectors.http import VendorAnswer, VendorError
from apps.destinations.connectors.types import ResourceType, credentials_schema, secret
from apps.destinations.redaction import redact

FLUSH_MARGIN_SECONDS = 2.0


def _config(credentials: Mapping[str, Any], timeout: float) -> dict:
    config = {
        "bootstrap.servers": credentials["bootstrap_servers"],
        "security.protocol": credentials.get("security_protocol", "PLAINTEXT"),
        "acks": "all",
        "message.timeout.ms": max(1, int(timeout * 1000)),
        "socket.timeout.ms": max(10, int(timeout * 1000)),
        "log_level": 3,
    }
    if config["security.protocol"].startswith("SASL"):
        config.update(
            {
                "sasl.mechanism": credentials.get("sasl_mechanism", "PLAIN"),
                "sasl.username": credentials.get("username", ""),
                "sasl.password": credentials.get("password", ""),
            }
        )
    return config


def kafka_publish(
    credentials: Mapping[str, Any],
    *,
    topic: str,
    key: str | None,
    value: Any,
    headers: Mapping[str, str],
    timeout: float,
) -> VendorAnswer:
    reports: list[tuple[Any, Any]] = []
    try:
        producer = Producer(_config(credentials, timeout))
        producer.produce(
            topic,
            json.dumps(value, default=str).encode(),
            key=key.encode() if key else None,
            headers=[(name, text.encode()) for name, text in headers.items()],
            on_delivery=lambda error, message: reports.append((error, message)),
        )
        # librdkafka fails the message itself at message.timeout.ms; flushing a little longer
        # lets its delivery report (with the reason) arrive on a busy machine.
        left = producer.flush(timeout + FLUSH_MARGIN_SECONDS)
    except (KafkaException, BufferError, ValueError) as error:
        raise VendorError(redact(f"Kafka: {error}", credentials)) from None
    if left or not reports:
        raise VendorError(f"Kafka did not acknowledge the message within {timeout:g} s")
    error, message = reports[0]
    if error is not None:
        raise VendorError(redact(f"Kafka: {error.str()}", credentials))
    return VendorAnswer(
        0, {"topic": message.topic(), "partition": message.partition(), "offset": message.offset()}
    )


def _check(credentials: Mapping[str, Any]) -> str:
    try:
        metadata = Producer(_config(credentials, 5)).list_topics(timeout=5)
    except KafkaException as error:
        raise VendorError(redact(f"Kafka: {error}", credentials)) from None
    return f"Kafka answered: {len(metadata.brokers)} broker(s), {len(metadata.topics)} topic(s)"


KAFKA = ResourceType(
    "kafka",
    "Kafka",
    credentials_schema(
        ["bootstrap_servers"],
        bootstrap_servers={
            "type": "string",
            "minLength": 1,
            "title": "Bootstrap servers",
            "description": "host:port, several separated by commas.",
        },
        security_protocol={
            "enum": ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"],
            "title": "Security protocol",
            "description": "Default PLAINTEXT.",
        },
        sasl_mechanism={
            "enum": ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"],
            "title": "SASL mechanism",
            "description": "With SASL protocols; default PLAIN.",
        },
        username={"type": "string", "title": "SASL user", "description": ""},
        password=secret("SASL password"),
    ),
    check=_check,
)
