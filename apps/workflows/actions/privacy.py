"""Privacy: hash or mask values in place."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from apps import notation
from apps.workflows.actions.base import Action, ConfigError, Result, lookup, writable_reference

HASH_FUNCTIONS = ("md5", "sha1", "sha256", "sha512")


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


class _InPlaceAction(Action):
    group = "Privacy"

    def setup(self) -> None:
        self.targets = [writable_reference(target, field="data") for target in self.config["data"]]

    def transform(self, value: Any) -> Any:
        raise NotImplementedError

    def run(self, payload: Any, flow) -> Result:
        data = flow.writable_data(payload, self.targets)
        for target in self.targets:
            value = lookup(target, data)
            if value is notation.MISSING or value is None:
                continue
            flow.assign(target, self.transform(value), data)
        return Result("payload", data["payload"])


class HashDataAction(_InPlaceAction):
    id = "hash_data"
    name = "Hash data"
    group = "Privacy"
    description = "Replaces values with their hash (matchable, not readable)."
    docs = (
        '`data`: a list of dot paths, e.g. `["profile@data.contact.email.main"]`; `func`: '
        "md5, sha1, sha256 (default) or sha512. Each value becomes the hex digest of its text "
        "(non-text values are hashed as JSON). Missing or null values are skipped."
    )
    config_schema = {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {
                "type": "array",
                "minItems": 1,
                "title": "Fields",
                "description": "Dot paths of the values to change, e.g. "
                "profile@data.contact.email.main.",
                "items": {"type": "string", "title": "Path", "x-notation": "writable_path"},
            },
            "func": {
                "enum": list(HASH_FUNCTIONS),
                "default": "sha256",
                "title": "Hash function",
                "description": "The digest to compute.",
            },
        },
    }

    def transform(self, value: Any) -> str:
        return hashlib.new(self.config["func"], _as_text(value).encode()).hexdigest()


class MaskDataAction(_InPlaceAction):
    id = "mask_data"
    name = "Mask data"
    group = "Privacy"
    description = "Replaces the characters of values with a mask character."
    docs = (
        "`data`: a list of dot paths; `keep_start` / `keep_end`: how many characters to leave "
        "readable at each end (default 0); `char`: the mask (default `*`). "
        "`jane@example.com` with keep_start 1 and keep_end 4 becomes `j***********.com`."
    )
    config_schema = {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {
                "type": "array",
                "minItems": 1,
                "title": "Fields",
                "description": "Dot paths of the values to change, e.g. "
                "profile@data.contact.email.main.",
                "items": {"type": "string", "title": "Path", "x-notation": "writable_path"},
            },
            "keep_start": {
                "type": "integer",
                "minimum": 0,
                "default": 0,
                "title": "Keep at the start",
                "description": "How many characters stay readable at the start.",
            },
            "keep_end": {
                "type": "integer",
                "minimum": 0,
                "default": 0,
                "title": "Keep at the end",
                "description": "How many characters stay readable at the end.",
            },
            "char": {
                "type": "string",
                "minLength": 1,
                "maxLength": 1,
                "default": "*",
                "title": "Mask character",
                "description": "The character that replaces the others.",
            },
        },
    }

    def setup(self) -> None:
        super().setup()
        if self.config["keep_start"] + self.config["keep_end"] > 1000:
            raise ConfigError("keep_start + keep_end: keep fewer characters")

    def transform(self, value: Any) -> str:
        text = _as_text(value)
        start, end = self.config["keep_start"], self.config["keep_end"]
        if start + end >= len(text):
            return self.config["char"] * len(text)
        tail = text[len(text) - end :] if end else ""
        return text[:start] + self.config["char"] * (len(text) - start - end) + tail
