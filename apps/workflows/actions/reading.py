"""Small pieces the logic actions share: reading a configured value, and schema properties.

Most of Tracardi's logic plugins take "a dot path or a literal" per field and answer on a port
with a small object (`{"value": ...}`); these helpers keep those actions short and their
messages alike.
"""

from __future__ import annotations

from typing import Any

from apps import notation
from apps.workflows.actions.base import Action, ActionError, readable_reference


def read(action: Action, key: str, payload: Any, flow) -> Any:
    """The value `action.config[key]` names (a dot path, or a literal); a missing path is an
    ActionError that names the field and the path."""
    reference = action.config[key]
    try:
        return flow.read(reference, payload)
    except notation.MissingReferenceError as exc:
        raise ActionError(f"{key}: {reference} is missing") from exc


def read_or_missing(action: Action, key: str, payload: Any, flow) -> Any:
    """The value, or notation.MISSING when the path is not there."""
    try:
        return flow.read(action.config[key], payload)
    except notation.MissingReferenceError:
        return notation.MISSING


def read_text(action: Action, key: str, payload: Any, flow) -> str:
    value = read(action, key, payload, flow)
    if not isinstance(value, str):
        raise not_a(action, key, value, "a text")
    return value


def not_a(action: Action, key: str, value: Any, wanted: str) -> ActionError:
    """The error for a value of the wrong kind, naming the field, the path and what it held."""
    return ActionError(
        f"{key}: {action.config[key]} is {type_name(value)}, not {wanted} ({value!r:.80})"
    )


def check_references(config: dict, *keys: str) -> None:
    for key in keys:
        readable_reference(config[key], field=key)


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a text"}
    names.update({list: "a list", dict: "an object"})
    return names.get(type(value), type(value).__name__)


def value_property(title: str, description: str, **extra: Any) -> dict:
    """A field that takes a dot path (e.g. event@properties.email) or a literal."""
    base = {"type": "string", "title": title, "description": description}
    return base | {"x-notation": "value"} | extra


def text_property(title: str, description: str, **extra: Any) -> dict:
    return {"type": "string", "title": title, "description": description} | extra
