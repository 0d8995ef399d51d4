"""The check a workflow action from another package passes before it joins the registry
(entry-point group `cdp.actions`, docs/plugins.md)."""

from __future__ import annotations

import re
from typing import Any

from apps.core.plugins import PluginRefused, schema_problem
from apps.workflows.actions.base import Action

# Ids travel in URLs, CSS test ids and graph JSON: keep them plain.
ACTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TEXT_ATTRIBUTES = ("id", "name", "group", "description")


def plugin_action_check(
    obj: Any, *, taken_ids: dict[str, str], taken_class_names: dict[str, str]
) -> type[Action]:
    """`obj` as an action class, or PluginRefused naming what to change. `taken_ids` and
    `taken_class_names` map what is already registered to who registered it ("the built-in
    action Copy data", "package cdp-plugin-x")."""
    if not (isinstance(obj, type) and issubclass(obj, Action)):
        raise PluginRefused(f"{obj!r} is not a subclass of apps.workflows.actions.base.Action")
    for attribute in TEXT_ATTRIBUTES:
        value = getattr(obj, attribute, None)
        if not isinstance(value, str) or not value.strip():
            raise PluginRefused(f"{obj.__name__}.{attribute} must be a non-empty string")
    if not ACTION_ID.match(obj.id):
        raise PluginRefused(
            f"action id {obj.id!r} must be lower-case letters, digits and _ (at most 64), "
            "starting with a letter"
        )
    if obj.id in taken_ids:
        raise PluginRefused(
            f"action id {obj.id!r} is taken by {taken_ids[obj.id]}; choose another id "
            "(prefix it with your package's name)"
        )
    if obj.__name__ in taken_class_names:
        raise PluginRefused(
            f"class name {obj.__name__} is taken by {taken_class_names[obj.__name__]}; "
            "graphs find actions by class name, so rename the class"
        )
    for attribute in ("inputs", "outputs"):
        ports = getattr(obj, attribute)
        if not isinstance(ports, tuple | list) or not all(
            isinstance(port, str) and port for port in ports
        ):
            raise PluginRefused(f"{obj.__name__}.{attribute} must be a tuple of port names")
    if problem := schema_problem(obj.config_schema, what=f"{obj.__name__}.config_schema"):
        raise PluginRefused(problem)
    if obj.run is Action.run:
        raise PluginRefused(f"{obj.__name__} does not implement run(payload, flow)")
    return obj
