"""Memory: values workflows share across runs in Redis (apps.workflows.memory): write one, read
it back, or collect payloads under a key and release them together.

Redis down, slow or refusing: the node answers on its `error` port with the reason, and the
run goes on along that port (it never stops the run).
"""

from __future__ import annotations

from typing import Any

import orjson

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
from apps.workflows.memory import (
    MAX_TTL_SECONDS,
    MemoryUnavailable,
    ValueTooLarge,
    memory_collect,
    memory_read,
    memory_write,
)

# A collection releases at the latest with this many payloads.
MAX_COLLECTED = 1000

_KEY = {
    "type": "string",
    "minLength": 1,
    "title": "Key",
    "description": "The name the value is kept under; may hold {{source@path}} placeholders, "
    "e.g. cart-{{profile@id}}.",
    "x-notation": "template",
}
_FAILURES = (MemoryUnavailable, ValueTooLarge, orjson.JSONDecodeError)


def _error(message: str) -> Result:
    return Result("error", {"message": message})


class _MemoryAction(Action):
    group = "Memory"

    def setup(self) -> None:
        if not self.config["key"].strip():
            raise ConfigError("key: write the name the value is kept under")

    def key(self, payload: Any, flow) -> str:
        return notation.render_string(self.config["key"], flow.data(payload), default="").strip()


class WriteMemoryAction(_MemoryAction):
    id = "write_memory"
    name = "Write to memory"
    description = "Keeps a value in memory (Redis) under a key, for a time, for later runs."
    docs = (
        "`key`: a string template (`last-order-{{profile@id}}`); `value`: a dot path "
        "(`event@properties.order`) or a literal; `ttl`: seconds the value lives (at most 30 "
        "days). Any workflow can read it back with Read from memory until it expires; a "
        "second write replaces it. The payload goes on to `success`. A value that is not there, "
        "a key that renders empty, a value bigger than the limit (CDP_MEMORY_MAX_VALUE_BYTES "
        'of JSON) or a Redis that does not answer go to `error` as `{"message": ...}`.'
    )
    outputs = ("success", "error")
    config_schema = {
        "type": "object",
        "required": ["key", "value"],
        "properties": {
            "key": _KEY,
            "value": {
                "type": "string",
                "minLength": 1,
                "title": "Value",
                "description": "A dot path to the value, e.g. event@properties.order, or a "
                "literal text.",
                "x-notation": "value",
            },
            "ttl": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_TTL_SECONDS,
                "default": 3600,
                "title": "Time to live (seconds)",
                "description": "How long the value is kept, at most 30 days (2592000).",
            },
        },
    }

    def setup(self) -> None:
        super().setup()
        readable_reference(self.config["value"], field="value")

    def run(self, payload: Any, flow) -> Result:
        key = self.key(payload, flow)
        if not key:
            return _error(f"the key {self.config['key']!r} rendered empty")
        value = lookup(self.config["value"], flow.data(payload))
        if value is notation.MISSING:
            return _error(f"there is no value at {self.config['value']}")
        try:
            memory_write(key=key, value=value, ttl_seconds=self.config["ttl"])
        except _FAILURES as exc:
            return _error(str(exc))
        return Result("success", payload)


class ReadMemoryAction(_MemoryAction):
    id = "read_memory"
    name = "Read from memory"
    description = "Reads a value that a workflow kept in memory under a key."
    docs = (
        "`key`: a string template, as written by Write to memory. Found: "
        '`{"value": <the value>}` goes to `success` (and the value to `target`, when set); '
        "not there (never written, or expired): the payload goes to `not-exists`. A Redis that "
        'does not answer: `error` with `{"message": ...}`.'
    )
    outputs = ("success", "not-exists", "error")
    config_schema = {
        "type": "object",
        "required": ["key"],
        "properties": {"key": _KEY, "target": TARGET_PROPERTY},
    }

    def setup(self) -> None:
        super().setup()
        optional_target(self.config)

    def run(self, payload: Any, flow) -> Result:
        key = self.key(payload, flow)
        if not key:
            return _error(f"the key {self.config['key']!r} rendered empty")
        try:
            found, value = memory_read(key=key)
        except _FAILURES as exc:
            return _error(str(exc))
        if not found:
            return Result("not-exists", payload)
        if self.config.get("target"):
            target = self.config["target"]
            flow.assign(target, value, flow.writable_data(payload, [target]))
        return Result("success", {"value": value})


class MemoryCollectorAction(_MemoryAction):
    id = "memory_collector"
    name = "Memory payload collector"
    description = "Gathers values from many runs under a key and releases them together."
    docs = (
        "Each run adds its `value` (by default the whole payload) to the collection under "
        "`key` (a string template, e.g. `basket-{{profile@id}}`). When the collection holds "
        "`count` values, or the run comes `span` seconds or more after its first value, this "
        'run releases them all: `{"key": ..., "items": [oldest first]}` goes to `collected` '
        "and the collection starts over; the runs before it end at this node. Set a count, a "
        f"span or both; at most {MAX_COLLECTED} values are gathered whatever the count. The "
        "span is checked when a value arrives: a collection whose span has passed is released "
        "by its next value. A collection that receives nothing for a day (or twice its span) "
        "is forgotten. A Redis that does not answer, or a value over the size limit: `error` "
        'with `{"message": ...}`. Redis is outside the processing\'s transaction: an event '
        "processed again (a worker that died mid-batch, a replay) adds its value again."
    )
    outputs = ("collected", "error")
    config_schema = {
        "type": "object",
        "required": ["key"],
        "properties": {
            "key": _KEY,
            "value": {
                "type": "string",
                "minLength": 1,
                "default": "payload@...",
                "title": "Value to collect",
                "description": "A dot path; payload@... is the whole payload.",
                "x-notation": "value",
            },
            "count": {
                "type": ["integer", "null"],
                "minimum": 2,
                "maximum": MAX_COLLECTED,
                "default": 10,
                "title": "Release after this many values",
                "description": "Empty: no count (the span decides).",
            },
            "span": {
                "type": ["integer", "null"],
                "minimum": 1,
                "maximum": MAX_TTL_SECONDS,
                "default": None,
                "title": "Release after this many seconds",
                "description": "Counted from the collection's first value; empty: no span.",
            },
        },
    }

    def setup(self) -> None:
        super().setup()
        readable_reference(self.config["value"], field="value")
        if self.config["count"] is None and self.config["span"] is None:
            raise ConfigError("count, span: set a count, a time span, or both")

    def run(self, payload: Any, flow) -> Result | None:
        key = self.key(payload, flow)
        if not key:
            return _error(f"the key {self.config['key']!r} rendered empty")
        value = lookup(self.config["value"], flow.data(payload))
        if value is notation.MISSING:
            return _error(f"there is no value at {self.config['value']}")
        try:
            collected = memory_collect(
                key=key,
                item=value,
                count=self.config["count"] or MAX_COLLECTED,
                span_seconds=self.config["span"] or 0,
                now=flow.now.timestamp(),
            )
        except _FAILURES as exc:
            return _error(str(exc))
        if collected.released is None:
            flow.log("info", f"collected under {key!r}, not released yet")
            return None
        return Result("collected", {"key": key, "items": collected.released})
