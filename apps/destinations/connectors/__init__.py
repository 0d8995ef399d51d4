"""The connectors' resource types: the vendors that workflow actions call (one module per vendor
family), some of which destination senders sync profiles to (apps.destinations.senders.vendors).
A new connector is a `ResourceType` in its module, listed here.

This package imports no sender: the senders import the connectors' clients, never the reverse
(apps.destinations.senders registers these types next to its own)."""

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

__all__ = ["CONNECTOR_TYPES", "ResourceType"]
