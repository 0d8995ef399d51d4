"""Say hello: greets the person a dot path names, or goes out on `anonymous` without one."""

from __future__ import annotations

from typing import Any

from apps import notation
from apps.workflows.actions.base import (
    TARGET_PROPERTY,
    Action,
    ConfigError,
    Result,
    lookup,
    optional_target,
    readable_reference,
)


class GreetingAction(Action):
    # The id is stored in graphs: prefix it with the package's name so it never clashes.
    id = "hello_greeting"
    name = "Say hello"
    group = "Hello plugin"
    description = "Makes a greeting for the person a dot path names."
    docs = (
        "`name` is a dot path (or a literal) of the person's name, e.g. "
        "`profile@data.pii.firstname`; `greeting` is the word before it.\n\n"
        "Output `greeted`: the text `<greeting>, <name>!` (also written to `target` when set). "
        "Output `anonymous`: the incoming payload, when the name is missing or empty."
    )
    outputs = ("greeted", "anonymous")
    config_schema = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {
                "type": "string",
                "title": "Name",
                "description": "A dot path, e.g. profile@data.pii.firstname, or a literal.",
                "x-notation": "value",
            },
            "greeting": {
                "type": "string",
                "title": "Greeting",
                "default": "Hello",
                "minLength": 1,
                "maxLength": 40,
            },
            "target": TARGET_PROPERTY,
        },
        "additionalProperties": False,
    }

    def setup(self) -> None:
        readable_reference(self.config["name"], field="name")
        if not self.config["greeting"].strip():
            raise ConfigError("greeting: write a word, e.g. Hello")
        optional_target(self.config)

    def run(self, payload: Any, flow) -> Result:
        name = lookup(self.config["name"], flow.data(payload))
        if name is notation.MISSING or not isinstance(name, str) or not name.strip():
            return Result("anonymous", payload)
        greeting = f"{self.config['greeting'].strip()}, {name.strip()}!"
        return self.deliver(greeting, payload, flow, port="greeted")
