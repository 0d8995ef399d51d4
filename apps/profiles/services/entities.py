"""Entities (apps.profiles.models.Entity): upsert and delete, for workflows and the API.

An upsert replaces the entity's properties and traits and keeps its creation time. Who may
touch an entity: a workflow names an entity from event data, which a stranger can choose, so
its writes are limited to the entities of the run's profile (`profile_id`) or, with no
profile, to entities of no profile (`own_only`); the management API may move an entity to
another profile or change its type. Two upserts of a new id at once: one inserts, the other
waits for its lock and updates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.text import dashed_lower
from apps.profiles.models import Entity, Profile

MAX_ID_LENGTH = 64
MAX_TYPE_LENGTH = 100
# Properties and traits are open objects, but a document of entities stays small: the admin
# shows it whole and workflows copy it into every run log.
MAX_DATA_BYTES = 64 * 1024
MAX_DEPTH = 32


class EntityError(ValueError):
    """The entity cannot be written as asked; the message says why (and which field)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def entity_id_clean(raw: Any) -> str:
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        raise EntityError("The entity id is empty; give e.g. an order number.", field="id")
    if len(text) > MAX_ID_LENGTH:
        raise EntityError(
            f"The entity id is {len(text)} characters long; at most {MAX_ID_LENGTH}.", field="id"
        )
    if "\x00" in text:
        raise EntityError("The entity id contains a NUL character.", field="id")
    return text


def entity_type_clean(raw: Any) -> str:
    """Types are spelled as event types: lower case, spaces as '-' ("Car Loan" -> car-loan)."""
    text = dashed_lower(raw) if isinstance(raw, str) else ""
    if not text:
        raise EntityError(
            "The entity type is empty; give e.g. order or subscription.", field="type"
        )
    if len(text) > MAX_TYPE_LENGTH:
        raise EntityError(
            f"The entity type is longer than {MAX_TYPE_LENGTH} characters.", field="type"
        )
    if "\x00" in text:
        raise EntityError("The entity type contains a NUL character.", field="type")
    return text


def entity_data_clean(raw: Any, *, field: str) -> dict:
    """An object PostgreSQL can store as it is (JSON types only, no NUL, bounded)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise EntityError(f"{field} must be an object, not {type(raw).__name__}.", field=field)
    try:
        encoded = orjson.dumps(raw, default=str, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError as exc:
        raise EntityError(f"{field} cannot be stored as JSON ({exc}).", field=field) from exc
    if len(encoded) > MAX_DATA_BYTES:
        raise EntityError(
            f"{field} is {len(encoded):,} bytes of JSON; at most {MAX_DATA_BYTES:,}.", field=field
        )
    if b"\\u0000" in encoded:
        raise EntityError(f"{field} contains a NUL character (\\u0000).", field=field)
    data = orjson.loads(encoded)
    if _depth(data) > MAX_DEPTH:
        raise EntityError(f"{field} is nested deeper than {MAX_DEPTH} levels.", field=field)
    return data


def entity_upsert(
    *,
    entity_id: Any,
    entity_type: Any,
    profile_id: str | None,
    properties: Any,
    traits: Any,
    own_only: bool,
    now: datetime | None = None,
) -> tuple[Entity, bool]:
    """Create or replace the entity; (entity, created). Raises EntityError for bad input, an
    unknown profile, or (`own_only`) an entity of another type or another owner."""
    entity_id = entity_id_clean(entity_id)
    entity_type = entity_type_clean(entity_type)
    properties = entity_data_clean(properties, field="properties")
    traits = entity_data_clean(traits, field="traits")
    now = now or timezone.now()
    with transaction.atomic():
        if profile_id is not None and not Profile.objects.filter(pk=profile_id).exists():
            raise EntityError(f"There is no profile {profile_id!r}.", field="profile_id")
        row = Entity.objects.select_for_update().filter(pk=entity_id).first()
        if row is None:
            try:
                with transaction.atomic():
                    created = Entity.objects.create(
                        id=entity_id,
                        type=entity_type,
                        profile_id=profile_id,
                        properties=properties,
                        traits=traits,
                        created=now,
                        updated=now,
                    )
                return created, True
            except IntegrityError:
                # Inserted by a concurrent upsert since the select: update it instead.
                row = Entity.objects.select_for_update().get(pk=entity_id)
        if own_only:
            _check_own(row, entity_type=entity_type, profile_id=profile_id)
        row.type = entity_type
        row.profile_id = profile_id
        row.properties = properties
        row.traits = traits
        row.updated = now
        row.save(update_fields=["type", "profile", "properties", "traits", "updated"])
    return row, False


def entity_delete(
    *, entity_id: Any, entity_type: Any = None, profile_id: str | None, own_only: bool
) -> bool:
    """Delete the entity; False when there is none (of that type, or of that owner when
    `own_only`)."""
    rows = Entity.objects.filter(pk=entity_id_clean(entity_id))
    if entity_type is not None:
        rows = rows.filter(type=entity_type_clean(entity_type))
    if own_only:
        rows = rows.filter(profile_id=profile_id)
    deleted, _ = rows.delete()
    return deleted > 0


def _check_own(row: Entity, *, entity_type: str, profile_id: str | None) -> None:
    if row.profile_id != profile_id:
        owner = "another profile" if row.profile_id else "no profile (it is shared)"
        raise EntityError(
            f"Entity {row.pk!r} belongs to {owner}; a workflow writes only the entities of "
            "its own profile.",
            field="id",
        )
    if row.type != entity_type:
        raise EntityError(
            f"Entity {row.pk!r} is a {row.type}, not a {entity_type}; entity ids are unique "
            "across types.",
            field="id",
        )


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    return 0
