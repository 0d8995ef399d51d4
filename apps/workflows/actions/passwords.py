"""Generate a password (Tracardi's password_generator_action), from the `secrets` module."""

from __future__ import annotations

import secrets
import string
from typing import Any

from apps.workflows.actions.base import (
    TARGET_PROPERTY,
    Action,
    ConfigError,
    Result,
    optional_target,
)

SPECIAL_CHARACTERS = "!#$%&*+-=?@^_"
_ALPHABET = string.ascii_letters + string.digits + SPECIAL_CHARACTERS


def _count(title: str, description: str, default: int) -> dict:
    return {
        "type": "integer",
        "minimum": 0,
        "maximum": 128,
        "default": default,
        "title": title,
        "description": description,
    }


class PasswordGeneratorAction(Action):
    id = "generate_password"
    name = "Generate password"
    group = "Identifiers"
    description = "Makes a random password of a length between two bounds."
    docs = (
        "`min_length`, `max_length`: the length is picked at random between them; "
        "`uppercase`, `lowercase`, `special_characters`: at least this many of each "
        f"(special: `{SPECIAL_CHARACTERS}`). Output on `password`: "
        '`{"password": "<password>"}`; with `target` set it is also written there.'
    )
    outputs = ("password",)
    config_schema = {
        "type": "object",
        "properties": {
            "min_length": _count("Shortest", "The fewest characters.", 8) | {"minimum": 4},
            "max_length": _count("Longest", "The most characters.", 13) | {"minimum": 4},
            "uppercase": _count("Upper-case letters", "At least this many.", 2),
            "lowercase": _count("Lower-case letters", "At least this many.", 4),
            "special_characters": _count("Special characters", "At least this many.", 2),
            "target": TARGET_PROPERTY,
        },
    }

    def setup(self) -> None:
        optional_target(self.config)
        config = self.config
        if config["min_length"] > config["max_length"]:
            raise ConfigError(
                f"min_length: {config['min_length']} is longer than max_length "
                f"{config['max_length']}"
            )
        required = config["uppercase"] + config["lowercase"] + config["special_characters"]
        if required > config["max_length"]:
            raise ConfigError(
                f"max_length: {config['max_length']} characters cannot hold the {required} "
                "required upper-case, lower-case and special characters"
            )

    def run(self, payload: Any, flow) -> Result:
        config = self.config
        required = config["uppercase"] + config["lowercase"] + config["special_characters"]
        shortest = max(config["min_length"], required)
        length = secrets.choice(range(shortest, config["max_length"] + 1))
        characters = [
            *(secrets.choice(string.ascii_uppercase) for _ in range(config["uppercase"])),
            *(secrets.choice(string.ascii_lowercase) for _ in range(config["lowercase"])),
            *(secrets.choice(SPECIAL_CHARACTERS) for _ in range(config["special_characters"])),
        ]
        characters += [secrets.choice(_ALPHABET) for _ in range(length - len(characters))]
        secrets.SystemRandom().shuffle(characters)
        password = "".join(characters)
        if config["target"]:
            self.deliver(password, payload, flow)
        return Result("password", {"password": password})
