"""Senders by resource type. A new kind of destination is one module with a class that follows
`base.Sender`, registered here."""

from apps.destinations.senders.base import (
    BatchItem,
    BatchSender,
    Sender,
    SendResult,
    batch_idempotency_key,
    batch_size_of,
)
from apps.destinations.senders.rabbitmq import RabbitMQSender
from apps.destinations.senders.smtp import SmtpSender
from apps.destinations.senders.webhook import WebhookSender

SENDERS: dict[str, Sender] = {
    "webhook": WebhookSender(),
    "rabbitmq": RabbitMQSender(),
    "smtp": SmtpSender(),
}


def sender_for(resource_type: str) -> Sender:
    return SENDERS[resource_type]


__all__ = [
    "SENDERS",
    "BatchItem",
    "BatchSender",
    "SendResult",
    "Sender",
    "batch_idempotency_key",
    "batch_size_of",
    "sender_for",
]
