"""The checks a resource type or sender from another package passes before it is used
(entry-point groups `cdp.resource_types` and `cdp.senders`, docs/plugins.md)."""

from __future__ import annotations

import re
from typing import Any

from apps.core.plugins import PluginRefused, schema_problem

# The admin's type_fields.js finds a type's fields by `<prefix>__<type>__<key>`: no "__".
RESOURCE_TYPE_ID = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
RESOURCE_TYPE_ID_MAX = 32


def plugin_resource_type_check(obj: Any, *, taken: dict[str, str]) -> tuple[str, str, dict]:
    """(id, label, credentials schema) of a resource type class, or PluginRefused."""
    type_id = getattr(obj, "id", None)
    label = getattr(obj, "name", None)
    if not isinstance(type_id, str) or not isinstance(label, str) or not label.strip():
        raise PluginRefused(
            f"{obj!r} must have a string `id` and a non-empty string `name` (its label)"
        )
    if not RESOURCE_TYPE_ID.match(type_id) or len(type_id) > RESOURCE_TYPE_ID_MAX:
        raise PluginRefused(
            f"resource type id {type_id!r} must be lower-case letters and digits joined by "
            f"single underscores, at most {RESOURCE_TYPE_ID_MAX} characters"
        )
    if type_id in taken:
        raise PluginRefused(
            f"resource type id {type_id!r} is taken by {taken[type_id]}; choose another id"
        )
    schema = getattr(obj, "credentials_schema", None)
    if problem := schema_problem(schema, what=f"{type_id} credentials_schema"):
        raise PluginRefused(problem)
    return type_id, label, schema


def plugin_sender_check(
    obj: Any, *, resource_types: dict[str, str], taken: dict[str, str]
) -> tuple[str, Any]:
    """(resource type id, sender instance) of a sender class, or PluginRefused.
    `resource_types` maps the known resource types to their owner, `taken` those that already
    have a sender."""
    if not isinstance(obj, type):
        raise PluginRefused(f"{obj!r} must be a sender class (it is built with no arguments)")
    type_id = getattr(obj, "resource_type", None)
    if not isinstance(type_id, str) or type_id not in resource_types:
        raise PluginRefused(
            f"{obj.__name__}.resource_type is {type_id!r}, which is no resource type; "
            f"name one of {sorted(resource_types)} or add it through cdp.resource_types"
        )
    if type_id in taken:
        raise PluginRefused(
            f"resource type {type_id!r} already has a sender ({taken[type_id]}); "
            "a resource type has one sender"
        )
    if not callable(getattr(obj, "send", None)):
        raise PluginRefused(f"{obj.__name__} has no send(...) method")
    schema = getattr(obj, "settings_schema", None)
    if problem := schema_problem(schema, what=f"{obj.__name__}.settings_schema"):
        raise PluginRefused(problem)
    try:
        sender = obj()
    except Exception as error:  # the plugin's constructor may raise anything
        raise PluginRefused(f"{obj.__name__}() failed: {type(error).__name__}: {error}") from error
    return type_id, sender
