"""Counters: a number at a dot path, incremented or decremented."""

from __future__ import annotations

from typing import Any

from apps import notation
from apps.workflows.actions.base import (
    Action,
    ActionError,
    Result,
    lookup,
    readable_reference,
    writable_reference,
)


class _CounterAction(Action):
    group = "Counters"
    amount_key: str

    def setup(self) -> None:
        self.field = writable_reference(self.config["field"], field="field")
        readable_reference(self.config[self.amount_key], field=self.amount_key)

    def change(self, payload: Any, flow, sign: int) -> Result:
        data = flow.writable_data(payload, [self.field])
        step = flow.read(self.config[self.amount_key], payload)
        if isinstance(step, bool) or not isinstance(step, int | float):
            raise ActionError(f"{self.amount_key} must be a number, got {step!r}")
        current = lookup(self.field, data)
        if current is None or current is notation.MISSING:
            current = 0
        if isinstance(current, bool) or not isinstance(current, int | float):
            raise ActionError(f"{self.field} holds {current!r}, which is not a number")
        flow.assign(self.field, current + sign * step, data)
        return Result("payload", data["payload"])


class IncrementCounterAction(_CounterAction):
    id = "increment_counter"
    name = "Increment counter"
    description = "Adds to a number at a dot path (a missing field counts as 0)."
    docs = (
        "`field`: where the counter lives, e.g. `profile@stats.counters.purchases`; "
        "`increment`: how much to add (default 1; a number or a dot path)."
    )
    amount_key = "increment"
    config_schema = {
        "type": "object",
        "required": ["field"],
        "properties": {
            "field": {
                "type": "string",
                "title": "Counter",
                "description": "Where the counter lives, e.g. profile@stats.counters.purchases.",
                "x-notation": "writable_path",
            },
            "increment": {
                "type": ["number", "string"],
                "default": 1,
                "title": "Increment",
                "description": "How much to add: a number, or a dot path to one.",
                "x-notation": "value",
            },
        },
    }

    def run(self, payload: Any, flow) -> Result:
        return self.change(payload, flow, +1)


class DecrementCounterAction(_CounterAction):
    id = "decrement_counter"
    name = "Decrement counter"
    description = "Subtracts from a number at a dot path (a missing field counts as 0)."
    docs = "`field`: the counter's dot path; `decrement`: how much to subtract (default 1)."
    amount_key = "decrement"
    config_schema = {
        "type": "object",
        "required": ["field"],
        "properties": {
            "field": {
                "type": "string",
                "title": "Counter",
                "description": "Where the counter lives, e.g. profile@stats.counters.purchases.",
                "x-notation": "writable_path",
            },
            "decrement": {
                "type": ["number", "string"],
                "default": 1,
                "title": "Decrement",
                "description": "How much to subtract: a number, or a dot path to one.",
                "x-notation": "value",
            },
        },
    }

    def run(self, payload: Any, flow) -> Result:
        return self.change(payload, flow, -1)
