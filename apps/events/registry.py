"""The event types as the hot path reads them: for every event, the ingestion pipeline asks
whether its properties break the type's schema, and the pipeline and the workers ask whether
its type maps data into the profile, and apply that mapping.

The answers come from one per-process snapshot of all event types that have a schema, tags
or a mapping (a handful of rows), loaded in two queries and kept CDP_EVENT_TYPE_CACHE_SECONDS, so an
admin change takes effect within seconds everywhere and at once in the process that made it
(`event_type_registry.cache_clear()`).
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator

from apps.core.caches import process_cached
from apps.events.indexing import TraitRule, indexed_traits, trait_rule
from apps.events.mapping import MappingRule, mapping_rule_compile, mapping_rules_apply
from apps.events.models import EventReshaping, EventType, EventTypeMapping, IndexedProperty
from apps.events.reshaping import CompiledReshaping, Reshaped, event_reshape, reshaping_compile
from apps.events.validation import properties_error
from apps.notation import MISSING, NotationError
from apps.notation.dot import lookup

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EventTypeRegistry:
    validators: dict[str, Validator] = field(default_factory=dict)
    mappings: dict[str, tuple[MappingRule, ...]] = field(default_factory=dict)
    # Types whose schema could not be compiled (saved before check_schema, or edited in the
    # database by hand): their events are quarantined with this message rather than let through.
    broken: dict[str, str] = field(default_factory=dict)
    reshapings: dict[str, tuple[CompiledReshaping, ...]] = field(default_factory=dict)
    indexed: dict[str, tuple[TraitRule, ...]] = field(default_factory=dict)
    # The type's tags, added to each of its events (Tracardi's predefined types tag theirs).
    tags: dict[str, tuple[str, ...]] = field(default_factory=dict)


@process_cached(ttl_setting="CDP_EVENT_TYPE_CACHE_SECONDS")
def event_type_registry() -> EventTypeRegistry:
    validators: dict[str, Validator] = {}
    broken: dict[str, str] = {}
    tags: dict[str, tuple[str, ...]] = {}
    rows = EventType.objects.filter(Q(json_schema__isnull=False) | ~Q(tags=[])).values_list(
        "type", "json_schema", "tags"
    )
    for event_type, schema, type_tags in rows:
        if type_tags:
            tags[event_type] = tuple(type_tags)
        if schema is None:
            continue
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as error:
            broken[event_type] = (
                f"The JSON schema of event type {event_type!r} is invalid: {error.message}"
            )
            continue
        validators[event_type] = Draft202012Validator(
            schema, format_checker=Draft202012Validator.FORMAT_CHECKER
        )

    rules: dict[str, list[MappingRule]] = {}
    rows = (
        EventTypeMapping.objects.filter(enabled=True)
        .select_related("event_type")
        .order_by("event_type__type", "position", "id")
    )
    for row in rows:
        try:
            rule = mapping_rule_compile(row)
        except (NotationError, ValueError) as error:
            # Saved rules are checked; one broken by hand in the database is skipped (and
            # logged) rather than failing the ingestion of every event.
            logger.warning("Mapping rule %s of %s skipped: %s", row.pk, row.event_type.type, error)
            continue
        rules.setdefault(row.event_type.type, []).append(rule)
    return EventTypeRegistry(
        validators=validators,
        mappings={event_type: tuple(items) for event_type, items in rules.items()},
        broken=broken,
        reshapings=_reshapings(),
        indexed=_indexed(),
        tags=tags,
    )


def _indexed() -> dict[str, tuple[TraitRule, ...]]:
    rules: dict[str, list[TraitRule]] = {}
    for row in IndexedProperty.objects.select_related("event_type").order_by("trait"):
        rules.setdefault(row.event_type.type, []).append(trait_rule(row))
    return {event_type: tuple(items) for event_type, items in rules.items()}


def event_traits(*, event_type: str, properties: dict, traits: dict) -> dict:
    """The event's traits with its type's indexed properties added (apps.events.indexing)."""
    rules = event_type_registry().indexed.get(event_type)
    if not rules:
        return traits
    return indexed_traits(rules, properties, traits)


def _reshapings() -> dict[str, tuple[CompiledReshaping, ...]]:
    compiled: dict[str, list[CompiledReshaping]] = {}
    rows = (
        EventReshaping.objects.filter(enabled=True)
        .select_related("event_type")
        .order_by("event_type__type", "position", "id")
    )
    for row in rows:
        try:
            reshaping = reshaping_compile(row)
        except NotationError as error:
            # Checked at save; one broken by hand in the database is skipped, not fatal.
            logger.warning("Reshaping %s of %s skipped: %s", row.pk, row.event_type.type, error)
            continue
        compiled.setdefault(row.event_type.type, []).append(reshaping)
    return {event_type: tuple(items) for event_type, items in compiled.items()}


def event_reshaped(
    *,
    event_type: str,
    source_id: str,
    properties: dict,
    context: dict,
    traits: dict,
    session_context: dict,
) -> Reshaped | None:
    """The event rewritten by its type's reshaping (Tracardi's event reshaping schemas), or
    None when no reshaping of its type exists (the common case: one dictionary look-up)."""
    reshapings = event_type_registry().reshapings.get(event_type)
    if not reshapings:
        return None
    return event_reshape(
        reshapings,
        event_type=event_type,
        source_id=source_id,
        properties=properties,
        context=context,
        traits=traits,
        session_context=session_context,
    )


def event_validation_error(*, event_type: str, properties: dict) -> str | None:
    """The validation message for an event that breaks its type's schema, else None. An event
    that fails is stored with status `invalid` and this message, and runs no workflow."""
    registry = event_type_registry()
    validator = registry.validators.get(event_type)
    if validator is None:
        return registry.broken.get(event_type)
    return properties_error(validator, properties)


def event_type_tags(event_type: str) -> tuple[str, ...]:
    """The tags the event type gives its events (none for most types)."""
    return event_type_registry().tags.get(event_type, ())


def event_type_has_mapping(event_type: str) -> bool:
    return event_type in event_type_registry().mappings


def mapped_profile_value(
    *, event_type: str, event: dict, profile_paths: Iterable[str]
) -> tuple[str, object] | None:
    """The first value that the type's mapping copies from `event` into one of
    `profile_paths` (profile_path, value), else None: what the event says about, e.g., the
    person's e-mail, read the way the mapping reads it."""
    wanted = set(profile_paths)
    data = {"event": event, "profile": {}, "session": {}}
    for rule in event_type_registry().mappings.get(event_type, ()):
        if rule.profile_path not in wanted or rule.value is None:
            continue
        value = lookup(data, rule.value)
        if value is not MISSING and value not in (None, "") and not isinstance(value, dict | list):
            return rule.profile_path, value
    return None


def mapping_apply(*, profile: dict, event: dict, session: dict | None) -> list[str]:
    """Apply the mapping rules of the event's type to the profile document (in place).

    Returns the dot paths whose value changed, in rule order, without repeats."""
    rules = event_type_registry().mappings.get(event.get("type", ""))
    if not rules:
        return []
    return mapping_rules_apply(rules, profile=profile, event=event, session=session)
