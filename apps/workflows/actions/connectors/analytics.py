"""Analytics connectors: a GA4 Measurement Protocol event, a Matomo tracked event."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from apps import notation
from apps.destinations.connectors import analytics
from apps.destinations.connectors.http import VendorCall, VendorError
from apps.workflows.actions.base import ConfigError
from apps.workflows.actions.connectors.base import (
    ConnectorAction,
    connector_schema,
    required,
    template_property,
)
from apps.workflows.actions.connectors.chat import PORTS_DOC

PARAMS = {
    "type": "object",
    "default": {},
    "title": "Parameters",
    "description": "Event parameters: names and dot paths or values.",
    "x-form": "object-template",
}


class Ga4EventAction(ConnectorAction):
    id = "ga4_send_event"
    name = "Google Analytics 4: send event"
    description = "Sends an event to GA4 through the Measurement Protocol."
    docs = (
        "`client_id` (the profile id by default), optional `user_id`, the event `event_name` "
        "(letters, digits, underscores) and `params` (an object template). GA4 answers 204 "
        "even to an event it drops: `validate` sends it to the validation server instead, "
        "whose findings go to `error` (nothing is recorded then)." + PORTS_DOC
    )
    resource_types = ("ga4",)
    vendor = "GA4"
    config_schema = connector_schema(
        resource_types,
        ["event_name"],
        client_id=template_property("Client id", "Default {{profile@id}}.")
        | {"default": "{{profile@id}}"},
        user_id=template_property("User id", "Optional, e.g. your CRM id of the person."),
        event_name={
            "type": "string",
            "pattern": "^[A-Za-z][A-Za-z0-9_]{0,39}$",
            "title": "Event name",
            "description": "e.g. purchase; letters, digits and _ (GA4's rule).",
        },
        params=PARAMS,
        validate={
            "type": "boolean",
            "default": False,
            "title": "Validate only",
            "description": "Ask GA4's validation server; nothing is recorded.",
        },
    )

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        event = {"name": self.config["event_name"]}
        params = notation.render_template(self.config["params"], data)
        if params:
            event["params"] = params
        body: dict[str, Any] = {"client_id": self.required_text("client_id", data)}
        if user_id := self.text("user_id", data).strip():
            body["user_id"] = user_id
        body["events"] = [event]
        return analytics.ga4_call(credentials, body, validate=self.config["validate"])


def visitor_id(profile_id: str) -> str:
    """Matomo's _id: 16 hexadecimal characters, stable per profile."""
    return hashlib.sha256(profile_id.encode()).hexdigest()[:16]


class MatomoEventAction(ConnectorAction):
    id = "matomo_track_event"
    name = "Matomo: track event"
    description = "Records an event (category, action, name, value) for the profile in Matomo."
    docs = (
        "`category` and `action` are required by Matomo; `name`, `value` (a number) and `url` "
        "are optional. The visitor is the profile: _id is derived from its id and uid is "
        "its id." + PORTS_DOC
    )
    resource_types = ("matomo",)
    vendor = "Matomo"
    config_schema = connector_schema(
        resource_types,
        ["category", "action"],
        category=template_property("Category", "e.g. Shop"),
        action=template_property("Action", "e.g. {{event@type}}"),
        name=template_property("Name", "Optional."),
        value={
            "type": ["number", "string", "null"],
            "default": None,
            "title": "Value",
            "description": "Optional: a number or a dot path to one.",
            "x-notation": "value",
        },
        url=template_property("Page URL", "Optional; default the event's page URL."),
    )

    def setup(self) -> None:
        required(self.config, "category", "action")
        if isinstance(self.config["value"], str) and "@" not in self.config["value"]:
            raise ConfigError("value: write a number or a dot path such as event@properties.x")

    def request(self, credentials: Mapping[str, Any], data: dict) -> VendorCall:
        profile_id = str((data.get("profile") or {}).get("id") or "")
        if not profile_id:
            raise VendorError("Matomo needs a visitor: this event has no profile")
        fields = {
            "_id": visitor_id(profile_id),
            "uid": profile_id,
            "e_c": self.required_text("category", data),
            "e_a": self.required_text("action", data),
        }
        if name := self.text("name", data).strip():
            fields["e_n"] = name
        if self.config["value"] is not None:
            value = notation.resolve(self.config["value"], data)
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise VendorError(f"value: {value!r} is not a number; nothing was sent")
            fields["e_v"] = str(value)
        url = self.text("url", data).strip() or self._page_url(data)
        if url:
            fields["url"] = url
        return analytics.matomo_track_call(credentials, fields)

    @staticmethod
    def _page_url(data: dict) -> str:
        page = ((data.get("event") or {}).get("context") or {}).get("page") or {}
        return str(page.get("url") or "")
