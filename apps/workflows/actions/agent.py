"""Client agent: device, OS and browser from a User-Agent text (user-agents library)."""

from __future__ import annotations

import copy
from typing import Any

from apps.core.useragents import client_agent
from apps.workflows.actions.base import (
    TARGET_PROPERTY,
    Action,
    ActionError,
    Result,
    optional_target,
    readable_reference,
)


def describe_user_agent(text: str) -> dict:
    # The same cached parse the ingestion pipeline uses for sessions, in this action's shape.
    agent = client_agent(text)
    return {
        "string": text,
        "bot": agent.is_bot,
        "device": {
            "type": agent.device["type"],
            "family": agent.device["name"],
            "brand": agent.device["brand"],
            "model": agent.device["model"],
            "touch": agent.device["touch"],
        },
        "os": dict(agent.os),
        "client": {"type": "browser", "name": agent.app["name"], "version": agent.app["version"]},
    }


class DetectClientAgentAction(Action):
    id = "detect_client_agent"
    name = "Detect client agent"
    group = "Devices"
    description = "Reads device type, OS and browser from a User-Agent text."
    docs = (
        "`agent`: a dot path to the User-Agent text (default "
        "`event@request.headers.user-agent`, the header the tracker's request carried). "
        'Output: `{"string", "bot", "device": {"type": mobile|tablet|pc|bot|other, "family", '
        '"brand", "model", "touch"}, "os": {"name", "version"}, "client": {"type", "name", '
        '"version"}}`.'
    )
    config_schema = {
        "type": "object",
        "properties": {
            "agent": {
                "type": "string",
                "default": "event@request.headers.user-agent",
                "title": "User agent",
                "description": "A dot path to the User-Agent text, or the text.",
                "x-notation": "value",
            },
            "target": TARGET_PROPERTY,
        },
    }

    def setup(self) -> None:
        readable_reference(self.config["agent"], field="agent")
        optional_target(self.config)

    def run(self, payload: Any, flow) -> Result:
        text = flow.read(self.config["agent"], payload)
        if not isinstance(text, str) or not text:
            raise ActionError(f"agent: {self.config['agent']} is not a User-Agent text")
        # A copy: the cached answer must not change when a later node edits the payload.
        return self.deliver(copy.deepcopy(describe_user_agent(text[:2000])), payload, flow)
