"""Form fields generated from a JSON schema, so that what a marketer fills in is a form, never
JSON (the settings and credentials of the destinations' resource types).

Supported, which is what the senders' schemas use: an object whose properties are strings
(`enum` gives a select; `"x-widget": "textarea"` a text area), numbers, integers, booleans,
string maps (`additionalProperties` strings, e.g. HTTP headers: one `Name: value` per line)
and objects of those (flattened, e.g. `basic_auth.username`). Another shape raises
SchemaNotSupported: the caller keeps JSON then. An empty field is left out of the document
(the sender's default applies).
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


class SchemaNotSupported(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class SchemaField:
    name: str  # the form field's name
    path: tuple[str, ...]  # where the value goes in the document
    kind: str  # string, enum, number, integer, boolean, map
    field: forms.Field


def schema_fields(schema: Mapping, *, prefix: str, secret: bool = False) -> list[SchemaField]:
    """One form field per leaf of an object schema. `secret`: the values are never rendered
    back into the page (credentials); an empty field then means "keep the stored value"."""
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), Mapping):
        raise SchemaNotSupported("not an object with properties")
    fields: list[SchemaField] = []
    _walk(schema, (), prefix, secret, fields)
    return fields


def _walk(schema: Mapping, path: tuple, prefix: str, secret: bool, out: list) -> None:
    required = set(schema.get("required", ()))
    for key, spec in schema["properties"].items():
        here = (*path, key)
        name = f"{prefix}__{'__'.join(here)}"
        label = " ".join(here).replace("_", " ").capitalize()
        help_text = spec.get("description", "")
        if secret and required and key in required:
            help_text = (help_text + " " if help_text else "") + "Required."
        elif key in required:
            label += " *"
        kind, field = _field(spec, label=label, help_text=help_text, secret=secret)
        if kind == "object":
            _walk(spec, here, prefix, secret, out)
        else:
            out.append(SchemaField(name, here, kind, field))


def _field(spec: Mapping, *, label: str, help_text: str, secret: bool) -> tuple[str, Any]:
    common = {"label": label, "help_text": help_text, "required": False}
    if "enum" in spec:
        choices = [("", "(default)")] + [(str(v), str(v)) for v in spec["enum"]]
        return "enum", forms.ChoiceField(choices=choices, **common)
    kind = spec.get("type")
    if kind == "string":
        if secret:
            return "string", forms.CharField(
                widget=forms.PasswordInput(render_value=False), **common
            )
        long_text = spec.get("x-widget") == "textarea"
        widget = (
            forms.Textarea(attrs={"rows": 5, "cols": 60})
            if long_text
            else forms.TextInput(attrs={"size": 60})
        )
        return "string", forms.CharField(widget=widget, strip=False, **common)
    if kind in ("number", "integer"):
        bounds = {
            "min_value": spec.get("minimum"),
            "max_value": spec.get("maximum"),
        }
        field_class = forms.IntegerField if kind == "integer" else forms.FloatField
        return kind, field_class(**{k: v for k, v in bounds.items() if v is not None}, **common)
    if kind == "boolean":
        choices = [("", "(default)"), ("true", "yes"), ("false", "no")]
        return "boolean", forms.ChoiceField(choices=choices, **common)
    if kind == "object" and spec.get("additionalProperties") == {"type": "string"}:
        help_text = (help_text + " " if help_text else "") + "One per line: Name: value"
        widget = _SecretTextarea if secret else forms.Textarea
        return "map", forms.CharField(
            widget=widget(attrs={"rows": 3, "placeholder": "X-Api-Key: ..."}),
            **{**common, "help_text": help_text},
        )
    if kind == "object" and isinstance(spec.get("properties"), Mapping):
        return "object", None
    raise SchemaNotSupported(f"unsupported property {spec!r}")


class _SecretTextarea(forms.Textarea):
    def format_value(self, value: Any) -> None:
        return None  # a secret never goes back into the page


def initial_values(document: Mapping | None, fields: list[SchemaField]) -> dict[str, Any]:
    """The form's initial values from a stored document."""
    initial: dict[str, Any] = {}
    for item in fields:
        value: Any = document or {}
        for key in item.path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if value is None:
            continue
        if item.kind == "map" and isinstance(value, Mapping):
            value = "\n".join(f"{name}: {text}" for name, text in value.items())
        elif item.kind == "boolean":
            value = "true" if value else "false"
        initial[item.name] = value
    return initial


def document_from(cleaned: Mapping[str, Any], fields: list[SchemaField]) -> dict[str, Any]:
    """The document from the cleaned form values; empty values are left out. ValidationError
    ({field name: message}) for a map line that is not `Name: value`."""
    document: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for item in fields:
        value = cleaned.get(item.name)
        if value is None or value == "":
            continue
        if item.kind == "boolean":
            value = value == "true"
        elif item.kind == "map":
            try:
                value = _map_lines(value)
            except ValueError as error:
                errors[item.name] = str(error)
                continue
            if not value:
                continue
        node = document
        for key in item.path[:-1]:
            node = node.setdefault(key, {})
        node[item.path[-1]] = value
    if errors:
        raise ValidationError(errors)
    return document


def _map_lines(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, separator, value = line.partition(":")
        if not separator or not name.strip():
            raise ValueError(f"Line {number} is not 'Name: value': {line.strip()[:40]!r}")
        values[name.strip()] = value.strip()
    return values


REQUIRED_PROPERTY = re.compile(r"'([^']+)' is a required property")


def schema_errors_to_fields(
    errors: Any, *, document: str, prefix: str, field_names: Container[str]
) -> None:
    """Move the model's errors on the JSON field `document` (messages such as
    "settings.timeout: 600 is greater than the maximum of 30") onto the generated form fields
    they are about, in place on a ValidationError's error_dict; a message about no single field
    goes above the form, named after the document."""
    if not hasattr(errors, "error_dict") or document not in errors.error_dict:
        return
    title = document.replace("_", " ").capitalize()
    for error in errors.error_dict.pop(document):
        for message in error.messages:
            target, text = _field_of(message, document, prefix, field_names)
            shown = text if target != NON_FIELD_ERRORS else f"{title}: {message}"
            errors.error_dict.setdefault(target, []).append(ValidationError(shown))


def _field_of(message: str, document: str, prefix: str, field_names) -> tuple[str, str]:
    path, separator, text = message.partition(": ")
    if not separator or not (path == document or path.startswith(document + ".")):
        return NON_FIELD_ERRORS, message
    keys = [key for key in path.removeprefix(document).split(".") if key and key != "(top level)"]
    if missing := REQUIRED_PROPERTY.fullmatch(text):
        keys, text = [*keys, missing[1]], "Required for this resource type."
    name = f"{prefix}__" + "__".join(keys)
    return (name, text) if keys and name in field_names else (NON_FIELD_ERRORS, message)
