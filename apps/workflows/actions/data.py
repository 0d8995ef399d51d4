"""Moving data around: copy, delete, append/remove in lists, object and string templates."""

from __future__ import annotations

import copy
from typing import Any

from apps import notation
from apps.workflows.actions.base import (
    TARGET_PROPERTY,
    Action,
    ActionError,
    ConfigError,
    Result,
    lookup,
    readable_reference,
    writable_reference,
)

_MISSING = notation.MISSING


def _delete(reference: str, data: dict) -> bool:
    """Remove the key a dot path names; False when it was not there."""
    parsed = notation.parse_reference(reference)
    *parents, (last, index) = parsed.keys
    node: Any = data.get(parsed.source)
    for name, position in parents:
        if isinstance(node, dict):
            node = node.get(name, node.get(position) if position is not None else None)
        elif isinstance(node, list) and position is not None and position < len(node):
            node = node[position]
        else:
            return False
    if isinstance(node, dict) and last in node:
        del node[last]
        return True
    if isinstance(node, list) and index is not None and index < len(node):
        del node[index]
        return True
    return False


class CopyDataAction(Action):
    id = "copy_data"
    name = "Copy data"
    group = "Data"
    description = "Copies values from any dot path (or a literal) to writable dot paths."
    docs = (
        "`traits.set` maps a target dot path to a source: "
        '`{"profile@traits.plan": "event@properties.plan", "profile@aux.seen": true}`. '
        "Targets may be in profile@, event@, payload@ or memory@ (session@ is read-only). "
        "A source that is not a dot path is copied as a literal value. A missing source fails "
        "the node, unless `skip_missing` is on; then that target is left as it is."
    )
    config_schema = {
        "type": "object",
        "required": ["traits"],
        "properties": {
            "traits": {
                "type": "object",
                "required": ["set"],
                "title": "Copy",
                "description": "What to copy where.",
                "properties": {
                    "set": {
                        "type": "object",
                        "minProperties": 1,
                        "title": "Fields",
                        "description": "Target path (e.g. profile@traits.plan) and the value "
                        "to copy there (e.g. event@properties.plan, or a literal).",
                        "x-key-notation": "writable_path",
                        "x-key-title": "Target",
                        "additionalProperties": {
                            "title": "Value",
                            "description": "A dot path or a literal.",
                            "x-notation": "value",
                        },
                    }
                },
            },
            "skip_missing": {
                "type": "boolean",
                "default": False,
                "title": "Skip missing values",
                "description": "Leave the target as it is when the value's path is missing "
                "(otherwise the run stops with an error).",
            },
        },
    }

    def setup(self) -> None:
        self.pairs = [
            (
                writable_reference(target, field=f"traits.set[{target!r}]"),
                readable_reference(source, field=f"traits.set[{target!r}]"),
            )
            for target, source in self.config["traits"]["set"].items()
        ]
        self.targets = [target for target, _ in self.pairs]

    def run(self, payload: Any, flow) -> Result:
        data = flow.writable_data(payload, self.targets)
        for target, source in self.pairs:
            value = lookup(source, data)
            if value is _MISSING:
                if self.config["skip_missing"]:
                    continue
                raise ActionError(f"cannot copy {source} to {target}: {source} is missing")
            flow.assign(target, copy.deepcopy(value), data)
        return Result("payload", data["payload"])


class DeleteDataAction(Action):
    id = "delete_data"
    name = "Delete data"
    group = "Data"
    description = "Removes the fields at the given dot paths."
    docs = (
        '`delete` is a list of dot paths, e.g. `["profile@traits.temp", "event@properties.x"]`. '
        "A path that is not there is skipped."
    )
    config_schema = {
        "type": "object",
        "required": ["delete"],
        "properties": {
            "delete": {
                "type": "array",
                "minItems": 1,
                "title": "Fields to delete",
                "description": "Dot paths, e.g. profile@traits.temporary.",
                "items": {"type": "string", "title": "Path", "x-notation": "writable_path"},
            }
        },
    }

    def setup(self) -> None:
        self.targets = [writable_reference(t, field="delete") for t in self.config["delete"]]
        if any(not notation.parse_reference(t).keys for t in self.targets):
            raise ConfigError("delete: name a field inside the object, not the whole object")

    def run(self, payload: Any, flow) -> Result:
        data = flow.writable_data(payload, self.targets)
        for target in self.targets:
            if target.startswith("profile@"):
                flow.require_profile("Delete data")
            _delete(target, data)
        return Result("payload", data["payload"])


class AppendRemoveAction(Action):
    id = "append_remove"
    name = "Append/remove in list"
    group = "Data"
    description = "Appends values to lists or removes them from lists at dot paths."
    docs = (
        "`append` and `remove` map a target dot path to a value or a dot path: "
        '`{"append": {"profile@traits.tags": "event@properties.tag"}}`. Appending to a missing '
        "field creates a list; appending to a single value turns it into a list; appending a "
        "list adds its items. `unique` skips values already in the list. `remove` drops every "
        "occurrence of the value (or of each item of a list value)."
    )
    config_schema = {
        "type": "object",
        "properties": {
            "append": {
                "type": "object",
                "default": {},
                "title": "Append",
                "description": "List path (e.g. profile@traits.seen) and the value to append.",
                "x-key-notation": "writable_path",
                "x-key-title": "List",
                "additionalProperties": {
                    "title": "Value",
                    "description": "A dot path or a literal.",
                    "x-notation": "value",
                },
            },
            "remove": {
                "type": "object",
                "default": {},
                "title": "Remove",
                "description": "List path and the value to remove from it.",
                "x-key-notation": "writable_path",
                "x-key-title": "List",
                "additionalProperties": {
                    "title": "Value",
                    "description": "A dot path or a literal.",
                    "x-notation": "value",
                },
            },
            "unique": {
                "type": "boolean",
                "default": False,
                "title": "Unique",
                "description": "Do not append a value the list already holds.",
            },
        },
    }

    def setup(self) -> None:
        if not self.config["append"] and not self.config["remove"]:
            raise ConfigError("set append or remove (target dot path -> value)")
        self.append = [
            (writable_reference(t, field=f"append[{t!r}]"), readable_reference(v, field="append"))
            for t, v in self.config["append"].items()
        ]
        self.remove = [
            (writable_reference(t, field=f"remove[{t!r}]"), readable_reference(v, field="remove"))
            for t, v in self.config["remove"].items()
        ]
        self.targets = [t for t, _ in self.append + self.remove]

    def run(self, payload: Any, flow) -> Result:
        data = flow.writable_data(payload, self.targets)
        for target, source in self.append:
            value = flow_value(source, data)
            current = lookup(target, data)
            items = [] if current in (_MISSING, None) else _as_list(current)
            for item in _as_list(value):
                if not (self.config["unique"] and item in items):
                    items.append(copy.deepcopy(item))
            flow.assign(target, items, data)
        for target, source in self.remove:
            value = flow_value(source, data)
            current = lookup(target, data)
            if current in (_MISSING, None):
                continue
            unwanted = _as_list(value)
            flow.assign(target, [item for item in _as_list(current) if item not in unwanted], data)
        return Result("payload", data["payload"])


def flow_value(source: Any, data: dict) -> Any:
    value = lookup(source, data)
    if value is _MISSING:
        raise ActionError(f"{source} is missing")
    return value


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]


class SetDataAction(Action):
    id = "set_data"
    name = "Set traits/properties"
    group = "Data"
    description = "Renders an object template and writes it to a dot path (merge or replace)."
    docs = (
        "`template` is an object template whose leaf strings are dot paths or literals, e.g. "
        '`{"email": "event@properties.email", "plan": "pro", "city?": "event@properties.city"}` '
        "(a key ending in `?` is dropped when its value is missing). The result is written to "
        "`target` (e.g. `profile@traits` or `event@properties`): with `merge` on (default) its "
        "keys are merged into the object there, recursively; otherwise it replaces it."
    )
    config_schema = {
        "type": "object",
        "required": ["target", "template"],
        "properties": {
            "target": {
                "type": "string",
                "title": "Target",
                "description": "Where the object goes, e.g. profile@traits.address.",
                "x-notation": "writable_path",
            },
            "template": {
                "type": "object",
                "title": "Object template",
                "description": "A JSON object whose text leaves are dot paths or literals, "
                'e.g. {"city": "event@properties.city"}; a key ending in ? is optional.',
                "x-form": "object-template",
            },
            "merge": {
                "type": "boolean",
                "default": True,
                "title": "Merge",
                "description": "Merge into the object at the target instead of replacing it.",
            },
        },
    }

    def setup(self) -> None:
        self.target = writable_reference(self.config["target"], field="target")

    def run(self, payload: Any, flow) -> Result:
        data = flow.writable_data(payload, [self.target])
        rendered = copy.deepcopy(notation.render_template(self.config["template"], data))
        if self.config["merge"]:
            current = lookup(self.target, data)
            if isinstance(current, dict):
                rendered = deep_merge(copy.deepcopy(current), rendered)
        flow.assign(self.target, rendered, data)
        return Result("payload", data["payload"])


def deep_merge(base: dict, extra: dict) -> dict:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = value
    return base


class StringTemplateAction(Action):
    id = "string_template"
    name = "String template"
    group = "Data"
    description = "Renders a text with {{dot.path}} placeholders."
    docs = (
        "`template`: e.g. `Hello {{profile@data.pii.firstname}}, your order "
        "{{event@properties.order_id}} shipped`. The output payload is "
        '`{"template": "<rendered text>"}`; with `target` set the text is also written there. '
        "A missing value renders as an empty text."
    )
    config_schema = {
        "type": "object",
        "required": ["template"],
        "properties": {
            "template": {
                "type": "string",
                "title": "Template",
                "description": "Text with {{source@path}} placeholders, e.g. "
                "Hello {{profile@data.pii.firstname}}.",
                "x-notation": "template",
            },
            "target": TARGET_PROPERTY,
        },
    }

    def setup(self) -> None:
        self.target = self.config["target"]
        if self.target:
            writable_reference(self.target, field="target")

    def run(self, payload: Any, flow) -> Result:
        data = flow.data(payload)
        text = notation.render_string(self.config["template"], data, default=None)
        if self.target:
            flow.assign(self.target, text, flow.writable_data(payload, [self.target]))
        return Result("payload", {"template": text})
