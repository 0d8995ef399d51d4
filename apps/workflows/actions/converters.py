"""Converters: base64 encode/decode, data to JSON text and back.

Tracardi's `converters.*` plugins: the same config keys and output objects
(`{"base64"}`, `{"text"}`, `{"json"}`, `{"value"}`).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
from typing import Any

from apps.workflows.actions.base import (
    TARGET_PROPERTY,
    Action,
    ConfigError,
    Result,
    optional_target,
)
from apps.workflows.actions.reading import (
    check_references,
    not_a,
    read,
    read_text,
    text_property,
    value_property,
)


def _encoding(name: str, field: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError as exc:
        message = f"{field}: {name!r} is not a text encoding (e.g. utf-8, latin-1)"
        raise ConfigError(message) from exc


class _ConverterAction(Action):
    group = "Converters"
    source_key = "source"
    output_key = ""

    def setup(self) -> None:
        check_references(self.config, self.source_key)
        optional_target(self.config)

    def answer(self, value: Any, payload: Any, flow, port: str = "payload") -> Result:
        if self.config.get("target"):
            self.deliver(value, payload, flow)
        return Result(port, {self.output_key: value})


class Base64EncodeAction(_ConverterAction):
    id = "base64_encode"
    name = "Encode Base64"
    description = "Encodes a text as base64."
    docs = (
        "`source`: a dot path to the text (or the text); `source_encoding`: how the text "
        'becomes bytes first (default utf-8). Output: `{"base64": "<encoded>"}`.'
    )
    output_key = "base64"
    config_schema = {
        "type": "object",
        "required": ["source"],
        "properties": {
            "source": value_property("Text", "A dot path to the text, or the text."),
            "source_encoding": text_property(
                "Text encoding", "How the text becomes bytes, e.g. utf-8.", default="utf_8"
            ),
            "target": TARGET_PROPERTY,
        },
    }

    def setup(self) -> None:
        super().setup()
        self.encoding = _encoding(self.config["source_encoding"], "source_encoding")

    def run(self, payload: Any, flow) -> Result:
        text = read_text(self, "source", payload, flow)
        try:
            raw = text.encode(self.encoding)
        except UnicodeEncodeError as exc:
            raise not_a(self, "source", text, f"a text that {self.encoding} can hold") from exc
        return self.answer(base64.b64encode(raw).decode("ascii"), payload, flow)


class Base64DecodeAction(_ConverterAction):
    id = "base64_decode"
    name = "Decode Base64"
    description = "Decodes base64 into a text."
    docs = (
        "`source`: a dot path to the base64 text (missing `=` padding is accepted); "
        '`target_encoding`: how the bytes read as text (default utf-8). Output: `{"text": '
        '"<decoded>"}`. Text that is not base64, or bytes that are not in that encoding, stop '
        "the run with the reason."
    )
    output_key = "text"
    config_schema = {
        "type": "object",
        "required": ["source"],
        "properties": {
            "source": value_property("Base64 text", "A dot path to the base64 text."),
            "target_encoding": text_property(
                "Text encoding", "How the decoded bytes read as text, e.g. utf-8.", default="utf_8"
            ),
            "target": TARGET_PROPERTY,
        },
    }

    def setup(self) -> None:
        super().setup()
        self.encoding = _encoding(self.config["target_encoding"], "target_encoding")

    def run(self, payload: Any, flow) -> Result:
        encoded = read_text(self, "source", payload, flow).strip()
        try:
            raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
            text = raw.decode(self.encoding)
        except (binascii.Error, ValueError) as exc:
            raise not_a(self, "source", encoded, f"base64 of {self.encoding} text") from exc
        return self.answer(text, payload, flow)


class DataToJsonAction(_ConverterAction):
    id = "data_to_json"
    name = "Data to JSON"
    description = "Writes data (an object, a list...) as JSON text."
    docs = (
        '`to_json`: a dot path to the data, e.g. `event@properties`. Output: `{"json": '
        '"<JSON text>"}` (dates as ISO text).'
    )
    source_key = "to_json"
    output_key = "json"
    config_schema = {
        "type": "object",
        "required": ["to_json"],
        "properties": {
            "to_json": value_property("Data", "A dot path to the data, e.g. event@properties."),
            "target": TARGET_PROPERTY,
        },
    }

    def run(self, payload: Any, flow) -> Result:
        value = read(self, "to_json", payload, flow)
        return self.answer(json.dumps(value, default=str), payload, flow)


class JsonToDataAction(_ConverterAction):
    id = "json_to_data"
    name = "JSON to data"
    description = "Reads JSON text into data."
    docs = (
        "`to_data`: a dot path to JSON text, e.g. `event@properties.json`. Output on "
        '`payload`: `{"value": <the data>}`; text that is not JSON goes to `error` as '
        '`{"value": <the payload>, "message": "<why>"}`.'
    )
    source_key = "to_data"
    output_key = "value"
    outputs = ("payload", "error")
    config_schema = {
        "type": "object",
        "required": ["to_data"],
        "properties": {
            "to_data": value_property("JSON text", "A dot path to the JSON text."),
            "target": TARGET_PROPERTY,
        },
    }

    def run(self, payload: Any, flow) -> Result:
        text = read_text(self, "to_data", payload, flow)
        try:
            value = json.loads(text)
        except ValueError as exc:
            return Result("error", {"value": payload, "message": f"not JSON: {exc}"})
        return self.answer(value, payload, flow)
