"""Every action's config schema carries the editor's form hints (EDITOR_CONTRACT.md), so a new
action cannot forget them: a title and a description on every property, a known notation kind
wherever one is named, and a notation kind on every field that takes a path or a condition."""

import re

import jsonschema
import pytest

from apps.workflows.actions import ACTIONS, action_by_id
from apps.workflows.notation_check import NOTATION_KINDS

# Property names that always take notation (a condition, a target, a path).
_NOTATION_NAMES = re.compile(r"^(condition|conditions|target|field|.*path.*)$")


def _properties(schema: dict, where: str):
    """(where, name, property schema) of every property, nested ones included."""
    for name, prop in (schema.get("properties") or {}).items():
        yield f"{where}.{name}", name, prop
        yield from _nested(prop, f"{where}.{name}")


def _nested(prop: dict, where: str):
    if isinstance(prop.get("properties"), dict):
        yield from _properties(prop, where)
    for key in ("items", "additionalProperties"):
        if isinstance(prop.get(key), dict):
            yield from _nested(prop[key], f"{where}.{key}")


def _subschemas(schema, where: str):
    """Every schema object within `schema`, for the x- keywords."""
    if isinstance(schema, dict):
        yield where, schema
        for key, value in schema.items():
            yield from _subschemas(value, f"{where}.{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from _subschemas(value, f"{where}[{index}]")


def _takes_notation(prop: dict) -> bool:
    return any(
        "x-notation" in part or "x-key-notation" in part
        for part in (prop, prop.get("items") or {}, prop.get("additionalProperties") or {})
        if isinstance(part, dict)
    )


@pytest.mark.parametrize("action", ACTIONS, ids=lambda action: action.id)
def test_every_property_has_a_title_and_a_description(action):
    missing = [
        where
        for where, _, prop in _properties(action.config_schema, action.id)
        if not prop.get("title") or not prop.get("description")
    ]

    assert missing == []


@pytest.mark.parametrize("action", ACTIONS, ids=lambda action: action.id)
def test_notation_hints_name_one_of_the_five_kinds(action):
    unknown = [
        (where, schema[key])
        for where, schema in _subschemas(action.config_schema, action.id)
        for key in ("x-notation", "x-key-notation")
        if key in schema and schema[key] not in NOTATION_KINDS
    ]

    assert unknown == []


@pytest.mark.parametrize("action", ACTIONS, ids=lambda action: action.id)
def test_fields_named_like_conditions_targets_and_paths_take_notation(action):
    forgotten = [
        where
        for where, name, prop in _properties(action.config_schema, action.id)
        if _NOTATION_NAMES.match(name) and not _takes_notation(prop)
    ]

    assert forgotten == []


@pytest.mark.parametrize("action", ACTIONS, ids=lambda action: action.id)
def test_the_schema_is_valid_draft_2020_12_and_accepts_the_defaults(action):
    jsonschema.Draft202012Validator.check_schema(action.config_schema)
    defaults = action.with_defaults({})
    errors = jsonschema.Draft202012Validator(action.config_schema).iter_errors(defaults)

    assert [error.message for error in errors if error.validator != "required"] == []


def test_the_five_kinds_are_all_used():
    used = {
        schema[key]
        for action in ACTIONS
        for _, schema in _subschemas(action.config_schema, action.id)
        for key in ("x-notation", "x-key-notation")
        if key in schema
    }

    assert used == {"condition", "path", "writable_path", "value", "template"}


def test_copy_data_describes_its_map_of_target_paths_to_values():
    fields = action_by_id("copy_data").config_schema["properties"]["traits"]["properties"]["set"]

    assert (fields["x-key-notation"], fields["x-key-title"]) == ("writable_path", "Target")
    assert fields["additionalProperties"] == {
        "title": "Value",
        "description": "A dot path or a literal.",
        "x-notation": "value",
    }


def test_the_hints_change_no_validation():
    """x- keywords, titles and descriptions are annotations: a config is judged as before."""
    action = next(action for action in ACTIONS if action.id == "copy_data")

    assert action.config_errors({"traits": {"set": {}}}) == ["traits.set: {} should be non-empty"]
    assert action.config_errors({"traits": {"set": {"profile@traits.a": 1}}}) == []
