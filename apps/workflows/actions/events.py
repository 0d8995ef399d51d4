"""Events: inject a new event for the profile."""

from __future__ import annotations

from typing import Any

from apps import notation
from apps.workflows.actions.base import Action, ActionError, ConfigError, Result


class InjectEventAction(Action):
    id = "inject_event"
    name = "Inject event"
    group = "Events"
    description = "Stores a new event for the profile (and session) of the current event."
    docs = (
        "`type`: the new event's type (a string template; stored lower case with spaces as "
        "`-`). `properties`: an object template for its properties, e.g. "
        '`{"order": "event@properties.order_id"}`. `source_id`: the event source to file it '
        "under; empty means the source of the current event. The event is stored with the "
        "current profile and session and, when a rule routes it, processed by workflows after "
        "this run commits. The output payload is the new event. In a test run nothing is "
        "stored."
    )
    config_schema = {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {
                "type": "string",
                "minLength": 1,
                "title": "Event type",
                "description": "The new event's type; may hold {{source@path}} placeholders.",
                "x-notation": "template",
            },
            "properties": {
                "type": "object",
                "default": {},
                "title": "Properties",
                "description": "An object template: text leaves are dot paths or literals, "
                'e.g. {"sku": "event@properties.sku"}.',
                "x-form": "object-template",
            },
            "source_id": {
                "examples": ["3f0c2a9e-8d1b-4c55-9a0e-5b7d2e4f6a10"],
                "type": ["string", "null"],
                "default": None,
                "title": "Event source id",
                "description": "Empty: the source of the event that runs the workflow.",
            },
        },
    }

    def setup(self) -> None:
        if not self.config["type"].strip():
            raise ConfigError("type: write the event type")

    def run(self, payload: Any, flow) -> Result:
        if flow.effects is None:
            raise ActionError("events cannot be injected here")
        data = flow.data(payload)
        event_type = notation.render_string(self.config["type"], data, default="").strip()
        if not event_type:
            raise ActionError(f"event type {self.config['type']!r} rendered empty")
        properties = notation.render_template(self.config["properties"], data)
        injected = flow.effects.inject_event(
            flow=flow,
            event_type=event_type,
            properties=properties,
            source_id=self.config["source_id"] or None,
        )
        return Result("payload", injected)
