"""Plugins from other Python packages, found through entry-point groups (docs/plugins.md).

A package declares, in its pyproject.toml, `[project.entry-points."cdp.actions"]` (and
`cdp.resource_types`, `cdp.senders`); each registry that accepts plugins loads its group once at
start through `plugins_load`, with a check of its own (ids must not clash with built-ins,
schemas must be valid JSON Schema). A plugin that fails to import or is refused is skipped with
one logged error naming the package, the entry point and the reason, and is kept in
`plugin_problems()` for the health endpoint and the admin; the rest works.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from jsonschema import Draft202012Validator, SchemaError

logger = logging.getLogger(__name__)

ACTIONS_GROUP = "cdp.actions"
RESOURCE_TYPES_GROUP = "cdp.resource_types"
SENDERS_GROUP = "cdp.senders"


class PluginRefused(Exception):
    """A plugin loaded but cannot be used; the message says why and what to change."""


@dataclass(frozen=True, slots=True)
class PluginOrigin:
    """Where a plugin object comes from: its distribution and its entry point."""

    package: str
    version: str
    group: str
    name: str
    value: str

    @property
    def entry_point(self) -> str:
        return f"{self.name} = {self.value}"

    def as_dict(self) -> dict:
        return {
            "package": self.package,
            "version": self.version,
            "group": self.group,
            "entry_point": self.entry_point,
        }


@dataclass(frozen=True, slots=True)
class PluginProblem:
    origin: PluginOrigin
    reason: str

    def as_dict(self) -> dict:
        return {**self.origin.as_dict(), "reason": self.reason}


@dataclass(frozen=True, slots=True)
class LoadedPlugin:
    origin: PluginOrigin
    obj: Any


_problems: dict[tuple[str, str, str], PluginProblem] = {}
_loaded: dict[tuple[str, str, str], PluginOrigin] = {}
_lock = threading.Lock()


def _origin(entry_point: metadata.EntryPoint) -> PluginOrigin:
    dist = entry_point.dist
    return PluginOrigin(
        package=dist.name if dist is not None else "(unknown package)",
        version=dist.version if dist is not None else "",
        group=entry_point.group,
        name=entry_point.name,
        value=entry_point.value,
    )


def plugins_load(group: str, check: Callable[[str, Any], None]) -> list[LoadedPlugin]:
    """Import every entry point of `group` and pass (name, object) to `check`, which raises
    PluginRefused for one that cannot be used. Returns the accepted ones, by entry-point name;
    the others are logged and recorded as problems. Loading a group again replaces its
    problems (tests install and remove plugins)."""
    with _lock:
        for registry in (_problems, _loaded):
            for key in [key for key in registry if key[0] == group]:
                del registry[key]
    accepted: list[LoadedPlugin] = []
    for entry_point in sorted(metadata.entry_points(group=group), key=lambda ep: ep.name):
        origin = _origin(entry_point)
        try:
            obj = entry_point.load()
        except Exception as error:  # a plugin's import may raise anything; it must not stop us
            _refuse(origin, f"import failed: {type(error).__name__}: {error}")
            continue
        try:
            check(entry_point.name, obj)
        except PluginRefused as error:
            _refuse(origin, str(error))
            continue
        accepted.append(LoadedPlugin(origin, obj))
        with _lock:
            _loaded[(group, origin.package, origin.name)] = origin
    return accepted


def _refuse(origin: PluginOrigin, reason: str) -> None:
    logger.error(
        "Plugin skipped: package %s %s, entry point %r in group %s: %s",
        origin.package,
        origin.version,
        origin.entry_point,
        origin.group,
        reason,
    )
    with _lock:
        _problems[(origin.group, origin.package, origin.name)] = PluginProblem(origin, reason)


def plugin_problems() -> list[PluginProblem]:
    """The plugins skipped since start, in a stable order."""
    with _lock:
        return [_problems[key] for key in sorted(_problems)]


def plugins_loaded() -> list[PluginOrigin]:
    """The plugin objects in use, in a stable order."""
    with _lock:
        return [_loaded[key] for key in sorted(_loaded)]


def plugins_report() -> dict:
    """What the health endpoint shows: the plugins in use and those skipped (reasons are on
    the admin's plugins page and in the log, not on this public endpoint)."""
    return {
        "loaded": [origin.as_dict() for origin in plugins_loaded()],
        "skipped": [problem.origin.as_dict() for problem in plugin_problems()],
    }


def schema_problem(schema: Any, *, what: str) -> str | None:
    """Why `schema` is not a usable JSON Schema (draft 2020-12) for an object, or None."""
    if not isinstance(schema, dict):
        return f"{what} must be a JSON Schema object (a dict), not {type(schema).__name__}"
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = "/".join(str(part) for part in error.absolute_path)
        return f"{what} is not a valid JSON Schema: {error.message}" + (
            f" (at {where})" if where else ""
        )
    if schema.get("type") != "object":
        return f'{what} must describe an object ("type": "object")'
    return None
