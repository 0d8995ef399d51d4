"""Validation: is a text an e-mail, URL, phone number... (Tracardi's data validator), does it
match a regular expression, does data fit a JSON schema, which patterns does a text contain.

The named checks keep Tracardi's names and patterns (strings.string_validator), so a flow
validates the same data the same way after an import; only `date` is simpler than Tracardi's
(day, month and year with `/`, `-` or `.`, without its leap-year arithmetic). Contains pattern
returns every occurrence it finds, for one pattern as for all (Tracardi's single-pattern mode
returns the whole text when it starts with a match).
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema

from apps.workflows.actions.base import Action, ConfigError, Result
from apps.workflows.actions.reading import (
    check_references,
    read,
    read_or_missing,
    read_text,
    text_property,
    value_property,
)
from apps.workflows.actions.text import MAX_REGEX_INPUT

# Tracardi's patterns (re.match: anchored at the start only, unless the pattern says more).
PATTERNS = {
    "email": r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Z|a-z]{2,}\b",
    "url": r"^https?:\/\/\w+(\.\w+)*(:[0-9]+)?(\/.*)?$",
    "ipv4": r"^((25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}"
    r"(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)$",
    "date": r"^(0?[1-9]|[12][0-9]|3[01])[\/\-.](0?[1-9]|1[0-2])[\/\-.](\d{2}|\d{4})$",
    "time": r"^([0-1]?[0-9]|2[0-3]):[0-5][0-9](:?)([0-5]?[0-9]?)$",
    "int": r"^[0-9]+$",
    "float": r"^[+-]?([0-9]{1,})[.,]([0-9]{1,})$",
    "number_phone": r"\(?\+[0-9]{1,3}\)? ?-?[0-9]{1,3} ?-?[0-9]{3,5} ?-?[0-9]{4}( ?-?[0-9]{3})?"
    r" ?(\w{1,10}\s?\d{1,6})?",
}
_COMPILED = {name: re.compile(pattern) for name, pattern in PATTERNS.items()}


def ean13_valid(code: str) -> bool:
    """An EAN-13 barcode number: 13 digits whose last is the check digit of the others."""
    if not re.fullmatch(r"\d{13}", code):
        return False
    digits = [int(digit) for digit in code]
    weighted = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:12]))
    return (10 - weighted % 10) % 10 == digits[12]


class StringValidatorAction(Action):
    id = "string_validator"
    name = "Data validator"
    group = "Validation"
    description = "Routes by whether a text is an e-mail, URL, phone number, date, number..."
    docs = (
        "`data`: a dot path to the text; `validator`: email, url (http/https), ipv4, date "
        "(day/month/year with / - or .), time (hh:mm[:ss]), int, float (with . or ,), "
        "number_phone (international, starting with +) or ean (an EAN-13 barcode with a "
        "correct check digit). The payload goes to `valid` or `invalid`; a value that is not "
        "a text is invalid."
    )
    outputs = ("valid", "invalid")
    config_schema = {
        "type": "object",
        "required": ["data", "validator"],
        "properties": {
            "data": value_property("Text", "A dot path to the text, e.g. event@properties.email."),
            "validator": {
                "enum": [*PATTERNS, "ean"],
                "title": "Check that it is",
                "description": "The kind of text it must be.",
            },
        },
    }

    def setup(self) -> None:
        check_references(self.config, "data")

    def run(self, payload: Any, flow) -> Result:
        value = read_or_missing(self, "data", payload, flow)
        kind = self.config["validator"]
        if not isinstance(value, str):
            valid = False
        elif kind == "ean":
            valid = ean13_valid(value)
        else:
            valid = _COMPILED[kind].match(value[:MAX_REGEX_INPUT]) is not None
        return Result("valid" if valid else "invalid", payload)


class RegexValidatorAction(Action):
    id = "regex_validator"
    name = "Regex validator"
    group = "Validation"
    description = "Routes by whether a text matches a regular expression."
    docs = (
        "`data`: a dot path to the text; `validation_regex`: a Python regular expression "
        "(matched from the start of the text, as Tracardi does; end it with `$` to match the "
        "whole text). The payload goes to `valid` or `invalid`."
    )
    outputs = ("valid", "invalid")
    config_schema = {
        "type": "object",
        "required": ["data", "validation_regex"],
        "properties": {
            "data": value_property("Text", "A dot path to the text."),
            "validation_regex": text_property(
                "Regular expression", "e.g. ^[A-Z]{2}\\d{4}$", minLength=1
            ),
        },
    }

    def setup(self) -> None:
        check_references(self.config, "data")
        try:
            self.pattern = re.compile(self.config["validation_regex"])
        except re.error as exc:
            raise ConfigError(f"validation_regex: not a valid regular expression ({exc})") from exc

    def run(self, payload: Any, flow) -> Result:
        value = read_or_missing(self, "data", payload, flow)
        valid = isinstance(value, str) and self.pattern.match(value[:MAX_REGEX_INPUT]) is not None
        return Result("valid" if valid else "invalid", payload)


class JsonSchemaValidatorAction(Action):
    id = "json_schema_validator"
    name = "JSON schema validator"
    group = "Validation"
    description = "Routes by whether data fits a JSON schema; lists what does not."
    docs = (
        "`data`: a dot path to the data, e.g. `event@properties`; `schema`: a JSON schema "
        '(draft 2020-12), e.g. `{"type": "object", "required": ["email"]}`. The payload goes '
        'to `valid`; otherwise `{"payload": <the payload>, "errors": ["<path>: <reason>", '
        "...]}` goes to `invalid`."
    )
    outputs = ("valid", "invalid")
    config_schema = {
        "type": "object",
        "required": ["data", "schema"],
        "properties": {
            "data": value_property("Data", "A dot path to the data, e.g. event@properties."),
            "schema": text_property(
                "JSON schema",
                'The schema the data must fit, e.g. {"type": "object", "required": ["email"]}.',
                minLength=2,
            ),
        },
    }

    def setup(self) -> None:
        check_references(self.config, "data")
        try:
            schema = json.loads(self.config["schema"])
            jsonschema.Draft202012Validator.check_schema(schema)
        except ValueError as exc:
            raise ConfigError(f"schema: not JSON ({exc})") from exc
        except jsonschema.SchemaError as exc:
            raise ConfigError(f"schema: not a valid JSON schema ({exc.message})") from exc
        self.validator = jsonschema.Draft202012Validator(schema)

    def run(self, payload: Any, flow) -> Result:
        value = read(self, "data", payload, flow)
        errors = sorted(self.validator.iter_errors(value), key=lambda error: list(error.path))
        if not errors:
            return Result("valid", payload)
        messages = [
            f"{'.'.join(str(part) for part in error.path) or '(the data)'}: {error.message}"
            for error in errors
        ]
        return Result("invalid", {"payload": payload, "errors": messages})


# What Contains pattern looks for, anywhere in the text (Tracardi's contains_pattern patterns;
# dates are day/month/year).
FIND_PATTERNS = {
    "email": r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Z|a-z]{2,}\b",
    "url": r"((http|https)://)(www.)?[a-zA-Z0-9@:%._\+~#?&//=]{2,256}\.[a-z]{2,6}\b"
    r"([-a-zA-Z0-9@:%._\+~#?&//=]*)",
    "date": r"([0]?[1-9]|[1|2][0-9]|[3][0|1])[./-]([0]?[1-9]|[1][0-2])[./-]([0-9]{4}|[0-9]{2})",
    "ip": r"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})",
}


class ContainsPatternAction(Action):
    id = "contains_pattern"
    name = "Contains pattern"
    group = "Validation"
    description = "Finds e-mails, URLs, dates or IP addresses in a text."
    docs = (
        "`field`: a dot path to the text; `pattern`: email, url, date (day/month/year), ip, "
        "or all. When some "
        'are found, `{"<pattern>": ["<found>", ...]}` goes to `true`; otherwise `{"message": '
        '"Didn\'t find any patterns"}` goes to `false`.'
    )
    outputs = ("true", "false")
    config_schema = {
        "type": "object",
        "required": ["field", "pattern"],
        "properties": {
            "field": value_property("Text", "A dot path to the text, e.g. event@properties.msg."),
            "pattern": {
                "enum": ["all", *FIND_PATTERNS],
                "title": "Find",
                "description": "What to look for in the text.",
            },
        },
    }

    def setup(self) -> None:
        check_references(self.config, "field")

    def run(self, payload: Any, flow) -> Result:
        text = read_text(self, "field", payload, flow)[:MAX_REGEX_INPUT]
        kinds = list(FIND_PATTERNS) if self.config["pattern"] == "all" else [self.config["pattern"]]
        found = {}
        for kind in kinds:
            matches = [match[0] for match in re.finditer(FIND_PATTERNS[kind], text)]
            if matches:
                found[kind] = matches
        if found:
            return Result("true", found)
        return Result("false", {"message": "Didn't find any patterns"})
