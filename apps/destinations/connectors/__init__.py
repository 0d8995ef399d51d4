"""Resource types: those of the destination senders (webhook, RabbitMQ, SMTP) and those of the
connectors that workflow actions call (one module per vendor family). A new connector is a
`ResourceType` in its module, listed here."""

from __future__ import annotations

from apps.destinations.connectors import (
    analytics,
    crm,
    email_marketing,
    kafka,
    meaningcloud,
    messaging,
    slack,
    sql,
)
from apps.destinations.connectors.types import ResourceType
from apps.destinations.senders import RESOURCE_TYPES, resource_type_choices

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
    meaningcloud.MEANINGCLOUD,
)

# One registry of resource types (apps.destinations.senders): the senders' built-in types, the
# connectors' (added here, once, when this package is imported: models.py imports it) and the
# plugins' (loaded at start; they cannot take a key of these).
_clash = set(RESOURCE_TYPES) & {kind.key for kind in CONNECTOR_TYPES}
assert not _clash, f"connector types {_clash} clash with the senders' types"
RESOURCE_TYPES.update({kind.key: kind for kind in CONNECTOR_TYPES})

__all__ = ["CONNECTOR_TYPES", "RESOURCE_TYPES", "ResourceType", "resource_type_choices"]
