"""Identifiers: generate a UUID."""

from __future__ import annotations

import uuid
from typing import Any

from apps.workflows.actions.base import TARGET_PROPERTY, Action, Result, optional_target


class GenerateUuidAction(Action):
    id = "generate_uuid"
    name = "Generate UUID"
    group = "Identifiers"
    description = "Makes a random UUID (version 4)."
    docs = "Output: the UUID as text; with `target` set it is also written there."
    config_schema = {"type": "object", "properties": {"target": TARGET_PROPERTY}}

    def setup(self) -> None:
        optional_target(self.config)

    def run(self, payload: Any, flow) -> Result:
        return self.deliver(str(uuid.uuid4()), payload, flow)
