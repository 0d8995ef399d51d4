"""Text: parse a URL, split a string, regex match and replace.

Each writes its result on the payload port and, with `target` set, to that dot path too.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from apps.workflows.actions.base import (
    TARGET_PROPERTY,
    Action,
    ActionError,
    ConfigError,
    Result,
    optional_target,
    readable_reference,
)

# Regular expressions run on at most this many characters (a pattern runs in the worker).
MAX_REGEX_INPUT = 100_000


def _text(action: Action, key: str, payload: Any, flow) -> str:
    value = flow.read(action.config[key], payload)
    if not isinstance(value, str):
        raise ActionError(f"{key}: {action.config[key]} is {type(value).__name__}, not a text")
    return value


def _compile(pattern: str, field: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"{field}: not a valid regular expression ({exc})") from exc


class ParseUrlAction(Action):
    id = "parse_url"
    name = "Parse URL"
    group = "Text"
    description = "Splits a URL into scheme, host, path, query parameters and fragment."
    docs = (
        "`url`: a dot path to the URL (default `event@context.page.url`). Output: "
        '`{"url", "scheme", "hostname", "port", "path", "query", "params": {name: value or '
        '[values]}, "fragment"}`. `repeated`: a parameter given more than once is a list of '
        "its values (`list`, the default) or its last value (`last`, as Tracardi's Parse URL); "
        "`blank_values`: keep parameters with an empty value (default on; Tracardi drops them). "
        "A node imported from Tracardi gets `last` and no blank values."
    )
    config_schema = {
        "type": "object",
        "properties": {
            "url": {
                "type": "string",
                "default": "event@context.page.url",
                "title": "URL",
                "description": "A dot path to the URL, or a URL.",
                "x-notation": "value",
            },
            "repeated": {
                "enum": ["list", "last"],
                "default": "list",
                "title": "Repeated parameters",
                "description": "A parameter given more than once (?tag=a&tag=b): the list of "
                "its values, or its last value.",
            },
            "blank_values": {
                "type": "boolean",
                "default": True,
                "title": "Keep blank values",
                "description": "Keep parameters with an empty value (?ref=) as empty texts.",
            },
            "target": TARGET_PROPERTY,
        },
    }

    def setup(self) -> None:
        readable_reference(self.config["url"], field="url")
        optional_target(self.config)

    def run(self, payload: Any, flow) -> Result:
        url = _text(self, "url", payload, flow)
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError as exc:
            raise ActionError(f"url {url!r}: {exc}") from exc
        found = parse_qs(parts.query, keep_blank_values=self.config["blank_values"])
        last = self.config["repeated"] == "last"
        params = {
            name: values[-1] if last or len(values) == 1 else values
            for name, values in found.items()
        }
        parsed = {
            "url": url,
            "scheme": parts.scheme,
            "hostname": parts.hostname,
            "port": port,
            "path": parts.path,
            "query": parts.query,
            "params": params,
            "fragment": parts.fragment,
        }
        return self.deliver(parsed, payload, flow)


class SplitStringAction(Action):
    id = "split_string"
    name = "Split string"
    group = "Text"
    description = "Splits a text by a delimiter into a list."
    docs = (
        "`string`: a dot path to the text; `delimiter` (default `,`); `strip` trims each part "
        "(default on); `skip_empty` drops empty parts (default on). Output: the list."
    )
    config_schema = {
        "type": "object",
        "required": ["string"],
        "properties": {
            "string": {
                "type": "string",
                "title": "Text",
                "description": "A dot path to the text to split, or the text.",
                "x-notation": "value",
            },
            "delimiter": {
                "type": "string",
                "minLength": 1,
                "default": ",",
                "title": "Delimiter",
                "description": "What separates the parts.",
            },
            "strip": {
                "type": "boolean",
                "default": True,
                "title": "Strip",
                "description": "Remove spaces around each part.",
            },
            "skip_empty": {
                "type": "boolean",
                "default": True,
                "title": "Skip empty parts",
                "description": "Leave out parts that are empty.",
            },
            "target": TARGET_PROPERTY,
        },
    }

    def setup(self) -> None:
        readable_reference(self.config["string"], field="string")
        optional_target(self.config)

    def run(self, payload: Any, flow) -> Result:
        parts = _text(self, "string", payload, flow).split(self.config["delimiter"])
        if self.config["strip"]:
            parts = [part.strip() for part in parts]
        if self.config["skip_empty"]:
            parts = [part for part in parts if part]
        return self.deliver(parts, payload, flow)


class RegexMatchAction(Action):
    id = "regex_match"
    name = "Regex match"
    group = "Text"
    description = "Searches a text with a regular expression; routes by whether it matched."
    docs = (
        "`pattern`: a Python regular expression; `text`: a dot path to the text. On a match "
        'the `matched` port gets `{"match": <whole match>, "groups": [...], "named": '
        "{name: value}}` (also written to `target` if set); otherwise the unchanged payload "
        "goes to `not_matched`."
    )
    outputs = ("matched", "not_matched")
    config_schema = {
        "type": "object",
        "required": ["pattern", "text"],
        "properties": {
            "pattern": {
                "examples": ["^SO-(?P<number>\\d+)$"],
                "type": "string",
                "minLength": 1,
                "title": "Pattern",
                "description": "A regular expression (Python syntax).",
            },
            "text": {
                "type": "string",
                "title": "Text",
                "description": "A dot path to the text, or the text.",
                "x-notation": "value",
            },
            "target": TARGET_PROPERTY,
        },
    }

    def setup(self) -> None:
        self.pattern = _compile(self.config["pattern"], "pattern")
        readable_reference(self.config["text"], field="text")
        optional_target(self.config)

    def run(self, payload: Any, flow) -> Result:
        match = self.pattern.search(_text(self, "text", payload, flow)[:MAX_REGEX_INPUT])
        if match is None:
            return Result("not_matched", payload)
        found = {"match": match[0], "groups": list(match.groups()), "named": match.groupdict()}
        return self.deliver(found, payload, flow, port="matched")


class RegexReplaceAction(Action):
    id = "regex_replace"
    name = "Regex replace"
    group = "Text"
    description = "Replaces every match of a regular expression in a text."
    docs = (
        "`text`: a dot path to the text; `pattern`: a regular expression; `replacement`: the "
        "replacement (`\\1` or `\\g<name>` insert groups). Output: the new text (also written "
        "to `target` if set)."
    )
    config_schema = {
        "type": "object",
        "required": ["text", "pattern", "replacement"],
        "properties": {
            "text": {
                "type": "string",
                "title": "Text",
                "description": "A dot path to the text, or the text.",
                "x-notation": "value",
            },
            "pattern": {
                "examples": ["(?i)sale-(\\d+)"],
                "type": "string",
                "minLength": 1,
                "title": "Pattern",
                "description": "A regular expression (Python syntax).",
            },
            "replacement": {
                "examples": ["\\1"],
                "type": "string",
                "title": "Replacement",
                "description": "What replaces each match; \\1 names a group.",
            },
            "target": TARGET_PROPERTY,
        },
    }

    def setup(self) -> None:
        self.pattern = _compile(self.config["pattern"], "pattern")
        readable_reference(self.config["text"], field="text")
        optional_target(self.config)
        try:
            self.pattern.sub(self.config["replacement"], "")
        except re.error as exc:
            raise ConfigError(f"replacement: {exc}") from exc

    def run(self, payload: Any, flow) -> Result:
        text = _text(self, "text", payload, flow)[:MAX_REGEX_INPUT]
        try:
            replaced = self.pattern.sub(self.config["replacement"], text)
        except (re.error, IndexError) as exc:
            raise ActionError(f"replacement failed: {exc}") from exc
        return self.deliver(replaced, payload, flow)
