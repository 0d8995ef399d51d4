"""Interests: numbers per topic on the profile (`profile.interests`), raised and lowered."""

from __future__ import annotations

from typing import Any

from apps.workflows.actions.base import Action, ActionError, ConfigError, Result, readable_reference


class _InterestAction(Action):
    group = "Interests"
    config_schema = {
        "type": "object",
        "required": ["interest"],
        "properties": {
            "interest": {
                "type": "string",
                "minLength": 1,
                "title": "Interest",
                "description": "The interest's name (e.g. sport), or a dot path to it.",
                "x-notation": "value",
            },
            "value": {
                "type": ["number", "string"],
                "default": 1,
                "title": "Value",
                "description": "A number, or a dot path to one.",
                "x-notation": "value",
            },
        },
    }

    def setup(self) -> None:
        readable_reference(self.config["interest"], field="interest")
        readable_reference(self.config["value"], field="value")
        if "." in self.config["interest"] and "@" not in self.config["interest"]:
            raise ConfigError("interest: a name without dots (it is a key of profile.interests)")

    def interest_name(self, payload: Any, flow) -> str:
        name = flow.read(self.config["interest"], payload)
        if not isinstance(name, str) or not name.strip():
            raise ActionError(f"interest name must be a non-empty text, got {name!r}")
        return name.strip()

    def amount(self, payload: Any, flow) -> float | int:
        value = flow.read(self.config["value"], payload)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ActionError(f"interest value must be a number, got {value!r}")
        return value

    def change(self, payload: Any, flow, sign: int) -> Result:
        profile = flow.require_profile(self.name)
        name = self.interest_name(payload, flow)
        interests = profile.setdefault("interests", {})
        current = interests.get(name, 0)
        if isinstance(current, bool) or not isinstance(current, int | float):
            current = 0
        interests[name] = current + sign * self.amount(payload, flow)
        return Result("payload", payload)


class IncreaseInterestAction(_InterestAction):
    id = "increase_interest"
    name = "Increase interest"
    description = "Adds to the profile's interest in a topic."
    docs = (
        "`interest`: the topic (a name, or a dot path such as event@properties.category); "
        "`value`: how much to add (default 1; a number or a dot path). A missing interest "
        "starts at 0."
    )

    def run(self, payload: Any, flow) -> Result:
        return self.change(payload, flow, +1)


class DecreaseInterestAction(_InterestAction):
    id = "decrease_interest"
    name = "Decrease interest"
    description = "Subtracts from the profile's interest in a topic."
    docs = "`interest` and `value` as for Increase interest; the value is subtracted."

    def run(self, payload: Any, flow) -> Result:
        return self.change(payload, flow, -1)


class ResetInterestAction(_InterestAction):
    id = "reset_interest"
    name = "Reset interest"
    description = "Sets the profile's interest in a topic back to zero."
    docs = "`interest`: the topic; its value becomes 0 (`value` is ignored)."

    def run(self, payload: Any, flow) -> Result:
        profile = flow.require_profile(self.name)
        profile.setdefault("interests", {})[self.interest_name(payload, flow)] = 0
        return Result("payload", payload)
