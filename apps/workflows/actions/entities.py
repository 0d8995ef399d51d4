"""Entities (apps.profiles.models.Entity): upsert, load and delete the things a person has.

The entity id usually comes from event data (an order number), which a stranger can choose, so
a node reaches only the entities of the run's profile, or with "belongs to the profile" off,
entities of no profile (shared ones: products, stores). Writes happen in the processing's
transaction (a test run rolls them back).
"""

from __future__ import annotations

from typing import Any

from apps import notation
from apps.profiles.documents import entity_document
from apps.profiles.selectors import entity_find
from apps.profiles.services.entities import (
    EntityError,
    entity_delete,
    entity_id_clean,
    entity_type_clean,
    entity_upsert,
)
from apps.workflows.actions.base import (
    TARGET_PROPERTY,
    Action,
    ConfigError,
    Result,
    optional_target,
)

_ID = {
    "type": "string",
    "minLength": 1,
    "title": "Entity id",
    "description": "The entity's own id, e.g. {{event@properties.order_id}}; may hold "
    "{{source@path}} placeholders.",
    "x-notation": "template",
}
_TYPE = {
    "type": "string",
    "minLength": 1,
    "title": "Entity type",
    "description": "What the entity is, e.g. order, subscription, car (lower case, spaces as -).",
}
_REFERENCE_PROFILE = {
    "type": "boolean",
    "default": True,
    "title": "Belongs to the profile",
    "description": "On: the entity of the current profile. Off: an entity of no profile "
    "(shared, e.g. a product).",
}


def _error(message: str) -> Result:
    return Result("error", {"message": message})


class _EntityAction(Action):
    group = "Entities"

    def setup(self) -> None:
        if not self.config["id"].strip():
            raise ConfigError("id: write the entity id, e.g. {{event@properties.order_id}}")
        try:
            self.entity_type = entity_type_clean(self.config["type"])
        except EntityError as exc:
            raise ConfigError(f"type: {exc}") from exc

    def target(self, payload: Any, flow) -> tuple[str, str | None]:
        """(entity id, owner profile id); raises EntityError when there is none."""
        rendered = notation.render_string(self.config["id"], flow.data(payload), default="")
        if not rendered.strip():
            raise EntityError(f"the entity id {self.config['id']!r} rendered empty")
        entity_id = entity_id_clean(rendered)
        if not self.config["reference_profile"]:
            return entity_id, None
        if flow.profile is None or not flow.profile.get("id"):
            raise EntityError(f"{self.name} needs a profile, and this event has none")
        return entity_id, flow.profile["id"]


class UpsertEntityAction(_EntityAction):
    id = "upsert_entity"
    name = "Upsert entity"
    description = "Creates or replaces an entity (an order, a subscription...) of the profile."
    docs = (
        "`id`: the entity's id (a string template, e.g. `{{event@properties.order_id}}`); "
        "`type`: what it is (`order`); `properties` and `traits`: object templates whose text "
        'leaves are dot paths or literals, e.g. `{"total": "event@properties.total"}`. '
        "`reference_profile` on (the default) ties the entity to the current profile; off, it "
        "belongs to no profile. An existing entity gets the new properties and traits (they "
        "replace the old ones) and keeps its creation time. The stored entity "
        '(`{"id", "type", "profile", "properties", "traits", "metadata"}`) goes to `entity`. '
        'To `error`, with `{"message": ...}`: an id that renders empty or is over 64 '
        "characters, a missing path in a template, no profile, or an id that is already an "
        "entity of another profile (or of another type: ids are unique across types)."
    )
    outputs = ("entity", "error")
    config_schema = {
        "type": "object",
        "required": ["id", "type"],
        "properties": {
            "id": _ID,
            "type": _TYPE,
            "reference_profile": _REFERENCE_PROFILE,
            "properties": {
                "type": "object",
                "default": {},
                "title": "Properties",
                "description": "An object template: text leaves are dot paths or literals, "
                'e.g. {"total": "event@properties.total"}.',
                "x-form": "object-template",
            },
            "traits": {
                "type": "object",
                "default": {},
                "title": "Traits",
                "description": "An object template for the typed, searchable part, e.g. "
                '{"status": "event@properties.status"}.',
                "x-form": "object-template",
            },
        },
    }

    def run(self, payload: Any, flow) -> Result:
        data = flow.data(payload)
        try:
            entity_id, profile_id = self.target(payload, flow)
            entity, created = entity_upsert(
                entity_id=entity_id,
                entity_type=self.entity_type,
                profile_id=profile_id,
                properties=notation.render_template(self.config["properties"], data),
                traits=notation.render_template(self.config["traits"], data),
                own_only=True,
                now=flow.now,
            )
        except (EntityError, notation.NotationError) as exc:
            return _error(str(exc))
        flow.log("info", f"{'created' if created else 'updated'} {entity.type} {entity.pk}")
        return Result("entity", entity_document(entity))


class LoadEntityAction(_EntityAction):
    id = "load_entity"
    name = "Load entity"
    description = "Loads an entity of the profile by its id and type."
    docs = (
        "`id` (a string template) and `type` name the entity; `reference_profile` on (the "
        "default) looks among the current profile's entities, off among entities of no "
        "profile. Found: the entity document goes to `entity` (and to `target`, when set); "
        "not found: the payload goes to `missing`. An id that renders empty, or no profile: "
        '`error` with `{"message": ...}`.'
    )
    outputs = ("entity", "missing", "error")
    config_schema = {
        "type": "object",
        "required": ["id", "type"],
        "properties": {
            "id": _ID,
            "type": _TYPE,
            "reference_profile": _REFERENCE_PROFILE,
            "target": TARGET_PROPERTY,
        },
    }

    def setup(self) -> None:
        super().setup()
        optional_target(self.config)

    def run(self, payload: Any, flow) -> Result:
        try:
            entity_id, profile_id = self.target(payload, flow)
        except EntityError as exc:
            return _error(str(exc))
        entity = entity_find(
            entity_id=entity_id, entity_type=self.entity_type, profile_id=profile_id
        )
        if entity is None:
            return Result("missing", payload)
        return self.deliver(entity_document(entity), payload, flow, port="entity")


class DeleteEntityAction(_EntityAction):
    id = "delete_entity"
    name = "Delete entity"
    description = "Deletes an entity of the profile by its id and type."
    docs = (
        "`id` (a string template) and `type` name the entity; `reference_profile` on (the "
        "default): only an entity of the current profile is deleted, off: only one of no "
        "profile. Deleted: the payload goes to `deleted`; none such: to `missing`. An id that "
        'renders empty, or no profile: `error` with `{"message": ...}`.'
    )
    outputs = ("deleted", "missing", "error")
    config_schema = {
        "type": "object",
        "required": ["id", "type"],
        "properties": {"id": _ID, "type": _TYPE, "reference_profile": _REFERENCE_PROFILE},
    }

    def run(self, payload: Any, flow) -> Result:
        try:
            entity_id, profile_id = self.target(payload, flow)
        except EntityError as exc:
            return _error(str(exc))
        deleted = entity_delete(
            entity_id=entity_id,
            entity_type=self.entity_type,
            profile_id=profile_id,
            own_only=True,
        )
        return Result("deleted" if deleted else "missing", payload)
