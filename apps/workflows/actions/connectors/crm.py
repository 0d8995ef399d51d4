"""Mautic (add contact, segment membership, points) and ActiveCampaign (contact sync)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.destinations.connectors import crm
from apps.destinations.connectors.http import VendorCall, VendorError
from apps.workflows.actions.base import ConfigError
from apps.workflows.actions.connectors.base import (
    ConnectorAction,
    connector_schema,
    required,
    template_property,
)
from apps.workflows.actions.connectors.chat import PORTS_DOC
from apps.workflows.actions.connectors.email import rendered_object

FIELDS = {
    "type": "object",
    "default": {},
    "title": "Contact fields",
    "description": "Field aliases (email, firstname, lastname, phone…) and dot paths or values.",
    "x-form": "object-template",
}
CONTACT_ID = template_property(
    "Contact id",
    "Mautic's contact id, e.g. {{payload@content.contact.id}} after “Mautic: add contact”.",
)


def _number_text(action: ConnectorAction, key: str, data: dict) -> str:
    value = action.required_text(key, data)
    if not value.isdigit():
        raise VendorError(f"{key}: {value!r} is not a Mautic id; nothing was sent")
    return value


class MauticAddContactAction(ConnectorAction):
    id = "mautic_add_contact"
    name = "Mautic: add contact"
    description = "Creates a Mautic contact, or updates the one with the same e-mail."
    docs = (
        "`fields`: an object template of Mautic field aliases; `response` holds the contact "
        "(its id at content.contact.id) for the segment and points nodes." + PORTS_DOC
    )
    resource_types = ("mautic",)
    vendor = "Mautic"
    config_schema = connector_schema(resource_types, ["fields"], fields=FIELDS)

    def setup(self) -> None:
        if not self.config["fields"]:
            raise ConfigError("fields: give at least the e-mail, e.g. email: profile@…")

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        return crm.mautic_call(
            credentials, "POST", "/api/contacts/new", rendered_object(self.config, "fields", data)
        )


class MauticSegmentAction(ConnectorAction):
    id = "mautic_segment"
    name = "Mautic: add to or remove from segment"
    description = "Adds a Mautic contact to a segment, or removes it."
    docs = "`contact_id`, `segment_id` (Mautic's ids), `remove`." + PORTS_DOC
    resource_types = ("mautic",)
    vendor = "Mautic"
    config_schema = connector_schema(
        resource_types,
        ["contact_id", "segment_id"],
        contact_id=CONTACT_ID,
        segment_id={
            "type": "integer",
            "minimum": 1,
            "title": "Segment id",
            "description": "The id in Mautic's segment list.",
        },
        remove={
            "type": "boolean",
            "default": False,
            "title": "Remove from the segment",
            "description": "Off: add.",
        },
    )

    def setup(self) -> None:
        required(self.config, "contact_id")

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        contact = _number_text(self, "contact_id", data)
        verb = "remove" if self.config["remove"] else "add"
        path = f"/api/segments/{self.config['segment_id']}/contact/{contact}/{verb}"
        return crm.mautic_call(credentials, "POST", path)


class MauticPointsAction(ConnectorAction):
    id = "mautic_points"
    name = "Mautic: add or subtract points"
    description = "Changes the points of a Mautic contact."
    docs = "`contact_id`, `points` (a positive whole number), `subtract`." + PORTS_DOC
    resource_types = ("mautic",)
    vendor = "Mautic"
    config_schema = connector_schema(
        resource_types,
        ["contact_id", "points"],
        contact_id=CONTACT_ID,
        points={"type": "integer", "minimum": 1, "title": "Points", "description": "e.g. 10"},
        subtract={
            "type": "boolean",
            "default": False,
            "title": "Subtract",
            "description": "Off: add the points.",
        },
    )

    def setup(self) -> None:
        required(self.config, "contact_id")

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        contact = _number_text(self, "contact_id", data)
        sign = "minus" if self.config["subtract"] else "plus"
        path = f"/api/contacts/{contact}/points/{sign}/{self.config['points']}"
        return crm.mautic_call(credentials, "POST", path)


class ActiveCampaignSyncContactAction(ConnectorAction):
    id = "activecampaign_sync_contact"
    name = "ActiveCampaign: add or update contact"
    description = "Creates an ActiveCampaign contact, or updates the one with the same e-mail."
    docs = "`email` and `fields` (an object template of firstName, lastName, phone…)." + PORTS_DOC
    resource_types = ("activecampaign",)
    vendor = "ActiveCampaign"
    config_schema = connector_schema(
        resource_types,
        ["email"],
        email=template_property("E-mail", "e.g. {{profile@data.contact.email.main}}"),
        fields=FIELDS | {"description": "firstName, lastName, phone… and dot paths or values."},
    )

    def setup(self) -> None:
        required(self.config, "email")

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        contact = {
            "email": self.required_text("email", data),
            **rendered_object(self.config, "fields", data),
        }
        return crm.activecampaign_call(
            credentials, "POST", "/api/3/contact/sync", {"contact": contact}
        )
