"""Reads of event types, for the ingestion hot path and the admin.

The ingestion pipeline asks, for every event, whether its properties break the type's schema
and whether its type maps data into the profile. Both answers come from one per-process
snapshot of all event types that have a schema or a mapping (a handful of rows), loaded in two
queries and kept CDP_EVENT_TYPE_CACHE_SECONDS, so an admin change takes effect within seconds
everywhere and at once in the process that made it (`event_type_cache_clear`).
"""

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator

from apps.events.models import Event, EventType, EventTypeMapping
from apps.notation import NotationError

if TYPE_CHECKING:
    from apps.events.mapping import MappingRule

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EventTypeRegistry:
    validators: dict[str, Validator] = field(default_factory=dict)
    mappings: dict[str, tuple["MappingRule", ...]] = field(default_factory=dict)
    # Types whose schema could not be compiled (saved before check_schema, or edited in the
    # database by hand): their events are quarantined with this message rather than let through.
    broken: dict[str, str] = field(default_factory=dict)


_lock = threading.Lock()
_cached: tuple[float, EventTypeRegistry] | None = None


def event_type_registry() -> EventTypeRegistry:
    global _cached
    now = time.monotonic()
    cached = _cached
    if cached is not None and cached[0] > now:
        return cached[1]
    with _lock:
        if _cached is not None and _cached[0] > now:
            return _cached[1]
        registry = _registry_load()
        _cached = (now + settings.CDP_EVENT_TYPE_CACHE_SECONDS, registry)
        return registry


def event_type_cache_clear() -> None:
    global _cached
    _cached = None


def _registry_load() -> EventTypeRegistry:
    # Imported here: apps.events.mapping reads this registry on every event.
    from apps.events.mapping import mapping_rule_compile

    validators: dict[str, Validator] = {}
    broken: dict[str, str] = {}
    schemas = EventType.objects.filter(json_schema__isnull=False).values_list("type", "json_schema")
    for event_type, schema in schemas:
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
    )


def invalid_events(*, event_ids: list[str] | None = None):
    """Quarantined events, newest first (served by the partial index on invalid events)."""
    events = Event.objects.filter(status=Event.Status.INVALID)
    if event_ids is not None:
        events = events.filter(pk__in=event_ids)
    return events.order_by("-inserted")
