"""JSON schemas (action configs, sender settings and credentials) as rows of a reference table:
each field with its type, default, an example and its description."""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# An example value for a field that has neither `examples` nor a useful default, by the kind of
# notation it takes (the `x-notation` of the schema) and then by its JSON type.
_NOTATION_EXAMPLES = {
    "condition": 'event@properties.plan == "pro"',
    "template": "Hello {{profile@data.pii.firstname}}",
    "value": "event@properties.plan",
    "writable_path": "profile@traits.plan",
    "path": "event@properties.url",
}
# What a text field shows when its schema gives no example at all (undocumented() reports it).
PLACEHOLDER_TEXT = "text"
_TYPE_EXAMPLES: dict[str, Any] = {
    "string": PLACEHOLDER_TEXT,
    "integer": 1,
    "number": 1.5,
    "boolean": True,
    "array": [],
    "object": {},
}


# "... e.g. Checkout." in a description: the example a person wrote for the field.
_EXAMPLE_IN_TEXT = re.compile(r"\be\.g\. (.+?)(?:[;,)]| or |\.\s|\.?$)")


def _example_from_description(spec: Mapping) -> str | None:
    match = _EXAMPLE_IN_TEXT.search(spec.get("description", ""))
    return match[1].strip() if match else None


@dataclass(frozen=True, slots=True)
class SchemaField:
    name: str
    type: str
    required: bool
    default: Any
    has_default: bool
    example: Any
    description: str

    @property
    def example_is_placeholder(self) -> bool:
        return self.example in (PLACEHOLDER_TEXT, [PLACEHOLDER_TEXT])


def _type_name(spec: Mapping) -> str:
    if "enum" in spec:
        return "one of " + ", ".join(str(value) for value in spec["enum"])
    kind = spec.get("type", "any")
    kinds = kind if isinstance(kind, list) else [kind]
    names = []
    for item in kinds:
        if item == "array":
            names.append(f"list of {_type_name(spec.get('items', {})) + 's'}")
        elif item == "object" and "additionalProperties" in spec and not spec.get("properties"):
            names.append("map")
        else:
            names.append(str(item))
    return " or ".join(names)


def _example(spec: Mapping) -> Any:
    if spec.get("examples"):
        return spec["examples"][0]
    if spec.get("default") not in (None, "", [], {}):
        return spec["default"]
    if "enum" in spec:
        return spec["enum"][0]
    if spec.get("x-notation") in _NOTATION_EXAMPLES:
        return _NOTATION_EXAMPLES[spec["x-notation"]]
    if "const" in spec:
        return spec["const"]
    if spec.get("x-resource-types"):
        # A resource picker: the form lists the resources of these types by name.
        return f"the id of a {' or '.join(spec['x-resource-types'])} resource (picked by name)"
    kind = spec.get("type", "string")
    kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
    written = _example_from_description(spec)
    if kind == "string" and written:
        return written
    if kind == "array":
        item = spec.get("items", {})
        if written and item.get("type") == "string" and not item.get("examples"):
            return [written]
        return [_example(item)]
    if kind == "object" and isinstance(spec.get("additionalProperties"), Mapping):
        key = _NOTATION_EXAMPLES.get(spec.get("x-key-notation", ""), "name")
        return {key: _example(spec["additionalProperties"])}
    if kind in ("integer", "number") and "minimum" in spec:
        return spec["minimum"]
    return _TYPE_EXAMPLES.get(kind, "text")


def schema_fields(schema: Mapping, prefix: str = "") -> Iterator[SchemaField]:
    """One row per property; an object with named properties gives a row per nested field."""
    required = set(schema.get("required", ()))
    for key, spec in schema.get("properties", {}).items():
        name = f"{prefix}{key}"
        description = spec.get("description") or spec.get("title") or ""
        if spec.get("title") and spec.get("description"):
            description = f"{spec['title']}: {spec['description']}"
        if spec.get("type") == "object" and spec.get("properties"):
            yield SchemaField(name, "object", key in required, None, False, None, description)
            yield from schema_fields(spec, prefix=f"{name}.")
            continue
        yield SchemaField(
            name=name,
            type=_type_name(spec),
            required=key in required,
            default=spec.get("default"),
            has_default="default" in spec,
            example=_example(spec),
            description=description,
        )


def example_config(schema: Mapping) -> dict:
    """A whole config made of each top-level field's example (nested objects of theirs)."""
    config = {}
    for key, spec in schema.get("properties", {}).items():
        if spec.get("type") == "object" and spec.get("properties"):
            config[key] = example_config(spec)
        else:
            config[key] = _example(spec)
    return config
