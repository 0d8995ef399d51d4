"""The checks of the events app, over values: an event's properties against its type's JSON
schema (the message that quarantines it), and the fields of an event type and of a mapping rule
before they are saved (called by the models' clean(), which pass themselves in).

This module reads no rows: the ingestion pipeline gets its compiled validators from the
per-process registry (apps.events.registry.event_validation_error).
"""

import re
from typing import TYPE_CHECKING

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, relevance

from apps import notation
from apps.core.text import normalise_event_type
from apps.notation import parse_reference
from apps.notation.paths import EventPathError, event_reference_parse

if TYPE_CHECKING:
    from apps.events.models import EventReshaping, EventType, EventTypeMapping, IndexedProperty

# A message names the first few problems; the whole list is rarely useful and can be huge.
MAX_REPORTED_ERRORS = 3

# Profile fields a mapping may write; the rest (id, ids, metadata, segments) belong to the
# platform.
MAPPABLE_PROFILE_ROOTS = ("data", "traits", "interests", "consents", "stats", "aux")

# A part of a mapping's profile path read from the event: interests.{{event@properties.topic}}.
PLACEHOLDER = re.compile(r"\{\{\s*(.+?)\s*\}\}")


class ProfilePathError(ValueError):
    pass


def properties_error(validator, properties) -> str | None:
    # Most relevant first (what best_match would pick), the first few of them shown.
    errors = sorted(validator.iter_errors(properties), key=relevance, reverse=True)
    if not errors:
        return None
    # In the order of the properties, so that the message reads like the event.
    shown = sorted(errors[:MAX_REPORTED_ERRORS], key=lambda error: [*map(str, error.path)])
    described = "; ".join(_describe(error) for error in shown)
    extra = len(errors) - len(shown)
    suffix = f" (and {extra} more)" if extra > 0 else ""
    return f"Properties do not match the schema of the event type: {described}{suffix}"


def _describe(error) -> str:
    where = "properties" + "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path
    )
    return f"{where}: {error.message}"


def event_type_errors(event_type: "EventType") -> dict[str, list[str]]:
    """Field errors of an event type as the admin shows them (empty when valid)."""
    errors: dict[str, list[str]] = {}
    normalised = normalise_event_type(event_type.type or "")
    if not normalised:
        errors["type"] = ["Enter the event type, e.g. page-view."]
    elif normalised != event_type.type:
        errors["type"] = [
            f"Event types are stored lower case with '-' for spaces: write {normalised!r}."
        ]
    if event_type.json_schema is not None:
        message = json_schema_error(event_type.json_schema)
        if message:
            errors["json_schema"] = [message]
    return errors


def json_schema_error(schema) -> str | None:
    if not isinstance(schema, dict | bool):
        return 'A JSON schema is an object (or true/false), e.g. {"type": "object"}.'
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = "/".join(str(part) for part in error.absolute_path) or "the top level"
        return f"Not a valid JSON Schema (draft 2020-12) at {where}: {error.message}"
    return None


def profile_path_check(path: str) -> None:
    """Raise ProfilePathError unless `path` is a writable profile path (placeholders allowed)."""
    if not path.strip():
        raise ProfilePathError("Enter a profile path, e.g. data.contact.email.main.")
    if "@" in PLACEHOLDER.sub("", path):
        raise ProfilePathError(
            "Write the profile path without 'profile@', e.g. data.contact.email.main."
        )
    for placeholder in PLACEHOLDER.findall(path):
        try:
            event_reference_parse(placeholder)
        except EventPathError as error:
            raise ProfilePathError(f"In {{{{{placeholder}}}}}: {error}") from None
    try:
        reference = parse_reference("profile@" + PLACEHOLDER.sub('["x"]', path))
    except notation.NotationError as error:
        raise ProfilePathError(str(error)) from None
    root = reference.keys[0][0] if reference and reference.keys else ""
    if root not in MAPPABLE_PROFILE_ROOTS:
        raise ProfilePathError(
            f"A mapping may write only under {', '.join(MAPPABLE_PROFILE_ROOTS)}; "
            f"{root or path!r} is kept by the platform."
        )


def mapping_errors(rule: "EventTypeMapping") -> dict[str, list[str]]:
    """Field errors of one mapping rule (empty when valid)."""
    errors: dict[str, list[str]] = {}
    try:
        profile_path_check(rule.profile_path or "")
    except ProfilePathError as error:
        errors["profile_path"] = [str(error)]
    if rule.operation == rule.Operation.INCREMENT:
        if rule.event_path:
            errors["event_path"] = ["'Increment' adds the amount; leave the event path empty."]
    elif rule.operation == rule.Operation.DELETE:
        if rule.event_path:
            errors["event_path"] = [
                "'Delete' removes the profile field; leave the event path empty."
            ]
    elif not rule.event_path:
        errors["event_path"] = ["Enter where the value comes from, e.g. properties.email."]
    else:
        try:
            event_reference_parse(rule.event_path)
        except EventPathError as error:
            errors["event_path"] = [str(error)]
    if rule.condition.strip():
        try:
            notation.validate(rule.condition)
        except notation.NotationError as error:
            errors["condition"] = [str(error)]
    return errors


# What a reshaping template may read: the event as sent and the request's session context.
RESHAPING_SOURCES = ("event", "session")


# The longest condition the admin's check and the API accept.
MAX_CONDITION_LENGTH = 10_000
# Deeper templates are refused (far past any real event's shape; one nested a thousand levels
# would not even be stored: the JSON encoder runs out of stack).
MAX_TEMPLATE_DEPTH = 32


def reshaping_errors(reshaping: "EventReshaping") -> dict[str, list[str]]:
    """Field errors of one event reshaping (empty when valid): the condition parses, each
    template is an object whose references parse and read only the event and the session."""
    errors: dict[str, list[str]] = {}
    if reshaping.condition.strip():
        try:
            notation.validate(reshaping.condition)
        except notation.NotationError as error:
            errors["condition"] = [str(error)]
    for name in ("properties", "context", "session"):
        template = getattr(reshaping, name)
        if template is None:
            continue
        if not isinstance(template, dict):
            errors[name] = ['Write an object, e.g. {"id": "event@properties.sku"}.']
            continue
        message = _template_error(template)
        if message:
            errors[name] = [message]
    if all(getattr(reshaping, name) is None for name in ("properties", "context", "session")):
        errors["properties"] = ["Fill in at least one template: properties, context or session."]
    return errors


def _template_error(node, depth: int = 0) -> str | None:
    """The first reference of an object template that does not parse or reads a source a
    reshaping cannot see, as a message; None when every leaf is fine."""
    if depth > MAX_TEMPLATE_DEPTH:
        return f"The template is nested deeper than {MAX_TEMPLATE_DEPTH} levels."
    if isinstance(node, dict):
        for key in node:
            if "\x00" in key:
                return f"The key {key!r} holds a NUL character, which cannot be stored."
        leaves = node.values()
    elif isinstance(node, list):
        leaves = node
    elif isinstance(node, str):
        if "\x00" in node:
            return f"The value {node!r} holds a NUL character, which cannot be stored."
        try:
            reference = parse_reference(node)
        except notation.NotationError as error:
            return str(error)
        if reference is not None and reference.source not in RESHAPING_SOURCES:
            return (
                f"{node!r} reads {reference.source}@, which is not known before the event is "
                "stored; a reshaping reads event@... and session@context...."
            )
        return None
    else:
        return None
    for leaf in leaves:
        message = _template_error(leaf, depth + 1)
        if message:
            return message
    return None


# A trait name: a plain key (a dot path would nest it, which the events list cannot filter on).
TRAIT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,99}$")


def indexed_property_errors(indexed: "IndexedProperty") -> dict[str, list[str]]:
    """Field errors of one indexed property: a property path that parses, a plain trait name.
    A path written with its `properties.` prefix is kept without it."""
    errors: dict[str, list[str]] = {}
    path = (indexed.property or "").strip().removeprefix("properties.")
    indexed.property = path
    example = "Write a dot path under the event's properties, e.g. order.total"
    try:
        if not path or parse_reference("event@properties." + path) is None:
            errors["property"] = [f"{example}."]
    except notation.NotationError as error:
        errors["property"] = [f"{example} ({error})."]
    if not TRAIT_NAME.match(indexed.trait or ""):
        errors["trait"] = [
            "Use letters, digits, _ and - (starting with a letter or _), e.g. order_total."
        ]
    return errors
