"""Resource types: those of the destination senders (webhook, RabbitMQ, SMTP) and those of the
connectors that workflow actions call (one module per vendor family). A new connector is a
`ResourceType` in its module, listed here."""

from __future__ import annotations

from apps.destinations.connectors import (
    analytics,
    crm,
    email_marketing,
    kafka,
    messaging,
    slack,
    sql,
)
from apps.destinations.connectors.types import ResourceType
from apps.destinations.senders import SENDERS

_SENDER_LABELS = {"webhook": "HTTP webhook", "rabbitmq": "RabbitMQ", "smtp": "E-mail (SMTP)"}

CONNECTOR_TYPES: tuple[ResourceType, ...] = (
    slack.SLACK_WEBHOOK,
    slack.SLACK_BOT,
    messaging.DISCORD,
    messaging.TELEGRAM,
    messaging.PUSHOVER,
    messaging.ZAPIER,
    messaging.TWILIO,
    email_marketing.SENDGRID,
    email_marketing.BREVO,
    email_marketing.HUBSPOT,
    email_marketing.MAILCHIMP,
    email_marketing.MANDRILL,
    crm.MAUTIC,
    crm.ACTIVECAMPAIGN,
    analytics.GA4,
    analytics.MATOMO,
    sql.POSTGRESQL,
    sql.MYSQL,
    kafka.KAFKA,
)

RESOURCE_TYPES: dict[str, ResourceType] = {
    **{
        key: ResourceType(key, _SENDER_LABELS[key], sender.credentials_schema)
        for key, sender in SENDERS.items()
    },
    **{kind.key: kind for kind in CONNECTOR_TYPES},
}
assert len(RESOURCE_TYPES) == len(SENDERS) + len(CONNECTOR_TYPES), "two types share a key"

RESOURCE_TYPE_CHOICES = [(kind.key, kind.label) for kind in RESOURCE_TYPES.values()]
