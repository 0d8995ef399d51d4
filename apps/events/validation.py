"""Event validation against the JSON schema of its event type (quarantine), and the checks an
event type and its mapping rules pass before they are saved.

The ingestion pipeline calls `event_validation_error` for each event while it builds rows: an
event that fails is stored with status `invalid` and the returned message, and runs no workflow.
It is cheap: the compiled validators come from a per-process snapshot of the event types
(apps.events.selectors.event_type_registry), so there is no query per event.
"""

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, relevance

from apps import notation
from apps.core.text import normalise_event_type
from apps.events.mapping import ProfilePathError, profile_path_check
from apps.events.models import EventType, EventTypeMapping
from apps.events.selectors import event_type_registry
from apps.notation.paths import EventPathError, event_reference_parse

# A message names the first few problems; the whole list is rarely useful and can be huge.
MAX_REPORTED_ERRORS = 3


def event_validation_error(*, event_type: str, properties: dict) -> str | None:
    """The validation message for an event that breaks its type's schema, else None."""
    registry = event_type_registry()
    validator = registry.validators.get(event_type)
    if validator is None:
        return registry.broken.get(event_type)
    return properties_error(validator, properties)


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


def event_type_errors(event_type: EventType) -> dict[str, list[str]]:
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


def mapping_errors(rule: EventTypeMapping) -> dict[str, list[str]]:
    """Field errors of one mapping rule (empty when valid)."""
    errors: dict[str, list[str]] = {}
    try:
        profile_path_check(rule.profile_path or "")
    except ProfilePathError as error:
        errors["profile_path"] = [str(error)]
    if rule.operation == EventTypeMapping.Operation.INCREMENT:
        if rule.event_path:
            errors["event_path"] = ["'Increment' adds the amount; leave the event path empty."]
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
