"""Flow control: start, end, if, condition set, log message, throw error."""

from __future__ import annotations

from typing import Any

from apps import notation
from apps.workflows.actions.base import Action, ActionError, ConfigError, Result, compiled_condition


class StartAction(Action):
    id = "start"
    name = "Start"
    group = "Flow"
    description = "Starts the workflow; sends the event on its payload port."
    docs = (
        "Every workflow has exactly one start node. It receives the event that a rule routed "
        "here and sends it, as a Tracardi event object (id, type, properties, context, "
        "metadata, source, session, profile), on the payload port.\n\n"
        "Optional config `event_types`: a list of event types; when set, other events end "
        "the run here without running any other node."
    )
    inputs = ()
    outputs = ("payload",)
    config_schema = {
        "type": "object",
        "properties": {
            "event_types": {
                "type": "array",
                "items": {"type": "string", "title": "Event type"},
                "default": [],
                "title": "Only these event types",
                "description": "Event types that may run this workflow (e.g. purchase); "
                "empty: every event a rule routes here.",
            },
        },
    }

    def setup(self) -> None:
        self.event_types = frozenset(self.config["event_types"])

    def run(self, payload: Any, flow) -> Result | None:
        if self.event_types and flow.event.get("type") not in self.event_types:
            return None
        return Result("payload", payload)


class EndAction(Action):
    id = "end"
    name = "End"
    group = "Flow"
    description = "Ends a branch of the workflow."
    docs = "Marks the end of a branch. It has no output; a branch also ends without it."
    outputs = ()
    config_schema = {"type": "object", "properties": {}}

    def run(self, payload: Any, flow) -> None:
        return None


class IfAction(Action):
    id = "if"
    name = "If"
    group = "Flow"
    description = "Sends the payload to the true or the false port by a condition."
    docs = (
        "Evaluates `condition` (logic notation, e.g. "
        '`event@properties.plan == "pro" AND profile@stats.visits > 3`) and sends the '
        "unchanged payload to the `true` port when it holds, to `false` otherwise. A missing "
        "field makes comparisons false rather than failing."
    )
    outputs = ("true", "false")
    config_schema = {
        "type": "object",
        "required": ["condition"],
        "properties": {
            "condition": {
                "type": "string",
                "minLength": 1,
                "title": "Condition",
                "description": 'When it holds the payload goes to "true", else to "false"; '
                'e.g. event@properties.plan == "pro".',
                "x-notation": "condition",
            }
        },
    }

    def setup(self) -> None:
        self.condition = compiled_condition(self.config["condition"], field="condition")

    def run(self, payload: Any, flow) -> Result:
        holds = self.condition.evaluate(flow.data(payload), history=flow.history)
        return Result("true" if holds else "false", payload)


class ConditionSetAction(Action):
    id = "condition_set"
    name = "Condition set"
    group = "Flow"
    description = "Evaluates several named conditions and returns an object of booleans."
    docs = (
        "`conditions` maps a name to a condition; the output payload is "
        '`{"<name>": true|false, ...}`. Use it to compute flags once and test them later.'
    )
    config_schema = {
        "type": "object",
        "required": ["conditions"],
        "properties": {
            "conditions": {
                "type": "object",
                "minProperties": 1,
                "title": "Conditions",
                "description": "A name for each condition; the output holds true or false "
                "under each name.",
                "x-key-title": "Name",
                "additionalProperties": {
                    "type": "string",
                    "minLength": 1,
                    "title": "Condition",
                    "description": "e.g. profile@stats.visits > 3",
                    "x-notation": "condition",
                },
            }
        },
    }

    def setup(self) -> None:
        self.conditions = {
            name: compiled_condition(text, field=f"conditions.{name}")
            for name, text in self.config["conditions"].items()
        }

    def run(self, payload: Any, flow) -> Result:
        data = flow.data(payload)
        return Result(
            "payload",
            {name: c.evaluate(data, history=flow.history) for name, c in self.conditions.items()},
        )


class LogMessageAction(Action):
    id = "log_message"
    name = "Log message"
    group = "Flow"
    description = "Writes a message to the run log and passes the payload on."
    docs = (
        "`message` is a string template (`Visitor {{profile@id}} bought "
        "{{event@properties.sku}}`); `type` is info, warning or error. The message shows on "
        "this node in the run log."
    )
    config_schema = {
        "type": "object",
        "required": ["message"],
        "properties": {
            "type": {
                "enum": ["info", "warning", "error"],
                "default": "info",
                "title": "Level",
                "description": "How the message is marked in the run log.",
            },
            "message": {
                "type": "string",
                "minLength": 1,
                "title": "Message",
                "description": "Text with {{source@path}} placeholders, e.g. "
                "Bought {{event@properties.sku}}.",
                "x-notation": "template",
            },
        },
    }

    def run(self, payload: Any, flow) -> Result:
        text = notation.render_string(self.config["message"], flow.data(payload), default=None)
        flow.log(self.config["type"], text)
        return Result("payload", payload)


class ThrowErrorAction(Action):
    id = "throw_error"
    name = "Throw error"
    group = "Flow"
    description = "Stops the run with an error message."
    docs = (
        "Stops the whole run; the run is recorded with status error and `message` (a string "
        "template). Use it after an If to reject data you cannot handle."
    )
    outputs = ()
    config_schema = {
        "type": "object",
        "required": ["message"],
        "properties": {
            "message": {
                "type": "string",
                "minLength": 1,
                "title": "Error message",
                "description": "Recorded on the run; may hold {{source@path}} placeholders.",
                "x-notation": "template",
            }
        },
    }

    def setup(self) -> None:
        if not self.config["message"].strip():
            raise ConfigError("message: write the error message")

    def run(self, payload: Any, flow) -> None:
        data = flow.data(payload)
        raise ActionError(notation.render_string(self.config["message"], data, default=None))
