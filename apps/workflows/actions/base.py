"""What every workflow action is: a class with an id, docs, ports and a config JSON schema.

An action instance is built once per node when a workflow is compiled (`setup` parses its
config: conditions, expressions, patterns), and `run(payload, flow)` is called once per value
that reaches the node. `run` returns a `Result` (a value on one output port), a list of them,
or None; a None value ends that branch. Raising `ActionError` (or any NotationError) stops the
run and records the message on the node.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import jsonschema

from apps import notation

if TYPE_CHECKING:
    from apps.workflows.engine import Flow

# Sources a node may write to. Session changes are not saved, so session@ is read-only.
WRITABLE_SOURCES = frozenset({"profile", "event", "payload", "memory"})


@dataclass(frozen=True, slots=True)
class Result:
    port: str
    value: Any


@dataclass(frozen=True, slots=True)
class Park:
    """What a Wait action returns instead of a Result: its branch stops here and is saved
    (models.ParkedRun) to go on from this node's `port` at `due_at`, or, with `waiting_for`,
    from its `event` port as soon as an event of that type arrives for the profile."""

    due_at: datetime
    port: str = "payload"
    waiting_for: str = ""


class ActionError(Exception):
    """An action could not do its job; the message is shown on the node in the run log."""


class ConfigError(Exception):
    """A node's config is valid JSON for the schema but cannot work (bad condition, regex...)."""


class Action:
    id: ClassVar[str]
    name: ClassVar[str]
    group: ClassVar[str]
    description: ClassVar[str]
    docs: ClassVar[str] = ""
    inputs: ClassVar[tuple[str, ...]] = ("payload",)
    outputs: ClassVar[tuple[str, ...]] = ("payload",)
    config_schema: ClassVar[dict] = {"type": "object", "properties": {}}
    # The engine holds the values that reach this node until nothing else is on the way to it,
    # then runs it once on {edge name: value} (the Join action).
    joins_inputs: ClassVar[bool] = False
    # Code that runs in visitors' browsers: only a superuser may save a graph with such a node.
    superuser_only: ClassVar[bool] = False
    # Templates show action classes (the catalogue); they must not try to instantiate them.
    do_not_call_in_templates: ClassVar[bool] = True

    def __init__(self, config: dict | None = None) -> None:
        self.config = self.with_defaults(config or {})
        self.setup()

    def setup(self) -> None:
        """Parse the config once; raise ConfigError with a message a marketer can act on."""

    def run(self, payload: Any, flow: Flow) -> Result | list[Result] | None:
        raise NotImplementedError

    def deliver(self, value: Any, payload: Any, flow: Flow, port: str = "payload") -> Result:
        """Send a computed value on `port`, writing it to the optional `target` dot path too."""
        target = self.config.get("target")
        if target:
            flow.assign(target, value, flow.writable_data(payload, [target]))
        return Result(port, value)

    # -- class-level helpers -------------------------------------------------------------

    @classmethod
    def module_path(cls) -> str:
        return cls.__module__

    @classmethod
    def editor_schema(cls) -> dict:
        """The schema the editor draws the node's form from: the config schema, where an
        action may add choices known only now (the saved reports of Load report)."""
        return cls.config_schema

    @classmethod
    def spec(cls, init: dict | None = None) -> dict:
        """The `data.spec` of a node that uses this action (Tracardi's shape)."""
        return {
            "className": cls.__name__,
            "module": cls.module_path(),
            "inputs": list(cls.inputs),
            "outputs": list(cls.outputs),
            "init": cls.with_defaults(init or {}),
        }

    @classmethod
    def with_defaults(cls, config: dict) -> dict:
        properties = cls.config_schema.get("properties", {})
        defaults = {key: prop["default"] for key, prop in properties.items() if "default" in prop}
        return {**copy.deepcopy(defaults), **config}

    @classmethod
    def config_errors(cls, config: Any) -> list[str]:
        """Messages for a config that the schema rejects or `setup` cannot use."""
        if not isinstance(config, dict):
            return ["config (data.spec.init) must be an object"]
        validator = jsonschema.Draft202012Validator(cls.config_schema)
        errors = sorted(validator.iter_errors(cls.with_defaults(config)), key=lambda e: e.path)
        if errors:
            return [_schema_message(error) for error in errors]
        try:
            cls(config)
        except ConfigError as exc:
            return [str(exc)]
        return []


def _schema_message(error: jsonschema.ValidationError) -> str:
    where = ".".join(str(part) for part in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


# -- config helpers used by several action families --------------------------------------


def writable_reference(text: Any, *, field: str) -> str:
    """Check that `text` is a `source@path` a node may write to; return it."""
    if not isinstance(text, str):
        raise ConfigError(f"{field}: expected a dot path like profile@traits.name")
    try:
        parsed = notation.parse_reference(text)
    except notation.NotationError as exc:
        raise ConfigError(f"{field}: {exc}") from exc
    if parsed is None:
        raise ConfigError(
            f"{field}: {text!r} is not a dot path; write e.g. profile@traits.name "
            f"(writable: {', '.join(sorted(WRITABLE_SOURCES))})"
        )
    if parsed.source not in WRITABLE_SOURCES:
        raise ConfigError(
            f"{field}: {parsed.source}@ is read-only in workflows; "
            f"write to one of {', '.join(s + '@' for s in sorted(WRITABLE_SOURCES))}"
        )
    if not parsed.keys and parsed.source in ("profile", "event"):
        raise ConfigError(f"{field}: cannot replace the whole {parsed.source}; name a field")
    return text


def readable_reference(text: Any, *, field: str) -> Any:
    """A value that may be a dot path or a literal; a malformed path is a config error."""
    if isinstance(text, str):
        candidate = text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "`" else text
        try:
            notation.parse_reference(candidate)
        except notation.NotationError as exc:
            raise ConfigError(f"{field}: {exc}") from exc
    return text


TARGET_PROPERTY = {
    "type": ["string", "null"],
    "default": None,
    "title": "Save the result to",
    "description": "Optional: a dot path the result is also written to, e.g. profile@traits.x.",
    "x-notation": "writable_path",
}


def optional_target(config: dict) -> None:
    if config.get("target"):
        writable_reference(config["target"], field="target")


def compiled_condition(text: Any, *, field: str) -> notation.Condition:
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f'{field}: write a condition, e.g. event@properties.plan == "pro"')
    try:
        return notation.compile_condition(text)
    except notation.ConditionSyntaxError as exc:
        raise ConfigError(f"{field}: {exc}") from exc


def lookup(reference: Any, data: dict) -> Any:
    """The value at a dot path, or notation.MISSING; literals come back as they are."""
    try:
        return notation.resolve(reference, data)
    except notation.MissingReferenceError:
        return notation.MISSING
