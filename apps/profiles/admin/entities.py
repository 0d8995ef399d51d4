"""Entities in the admin: a read-only list filtered by type and profile (workflows and the API
write them), each entity's page, and the "Entities" section of the profile page."""

import json

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

from apps.core.admin_helpers import (
    LargeTableAdminMixin,
    ReadOnlyAdminMixin,
    changelist_url,
    json_display,
    object_link,
    related_id_filter,
)
from apps.profiles.models import Entity, Profile
from apps.profiles.selectors import entity_types, profile_entities

ENTITIES_SHOWN = 50
SUMMARY_CHARS = 80


class EntityTypeFilter(admin.SimpleListFilter):
    title = "type"
    parameter_name = "type"

    def lookups(self, request, model_admin):
        types = entity_types()
        selected = self.value()
        if selected and selected not in types:
            types = sorted([*types, selected])
        return [(entity_type, entity_type) for entity_type in types]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(type=self.value())
        return queryset


@admin.register(Entity)
class EntityAdmin(LargeTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "type", "profile_link", "summary", "changed")
    list_filter = (EntityTypeFilter, related_id_filter("profile", "profile"))
    search_fields = ("id",)
    search_help_text = "An exact entity id or profile id."
    ordering = ("-updated", "id")
    sortable_by = ()
    fields = ("id", "type", "profile_link", "created", "updated", "properties_json", "traits_json")
    readonly_fields = ("profile_link", "properties_json", "traits_json")

    properties_json = json_display("properties")
    traits_json = json_display("traits")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(pk=term) | Q(profile_id=term)), False

    @admin.display(description="profile")
    def profile_link(self, entity: Entity) -> str:
        return object_link(Profile, entity.profile_id) if entity.profile_id else "- (shared)"

    @admin.display(description="properties")
    def summary(self, entity: Entity) -> str:
        return entity_summary(entity)

    @admin.display(description="updated")
    def changed(self, entity: Entity) -> str:
        return _when(entity)


def entity_summary(entity: Entity, field: str = "properties") -> str:
    """`total: 99.5 · currency: EUR`, cut at SUMMARY_CHARS (the whole on the entity's page);
    values as JSON writes them (true, not Python's True), text without quotes."""
    data = getattr(entity, field) or {}
    text = " · ".join(
        f"{key}: {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
        for key, value in data.items()
    )
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def _when(entity: Entity) -> str:
    return format_html(
        '<span style="white-space: nowrap" title="{}">{}</span>',
        entity.updated.isoformat(),
        date_format(timezone.localtime(entity.updated), "j M Y, H:i"),
    )


def entities_section(profile_id: str) -> dict:
    """The profile page's "Entities" section (a `person_sections` entry)."""
    rows = profile_entities(profile_id=profile_id, limit=ENTITIES_SHOWN + 1)
    more = len(rows) > ENTITIES_SHOWN
    return {
        "key": "entities",
        "title": "Entities (orders, subscriptions...)",
        "columns": ["type", "id", "properties", "traits", "updated"],
        "rows": [
            (
                entity.type,
                object_link(Entity, entity.pk, entity.pk),
                entity_summary(entity),
                entity_summary(entity, "traits"),
                _when(entity),
            )
            for entity in rows[:ENTITIES_SHOWN]
        ],
        "empty": "This person has no entities.",
        "note": f"The first {ENTITIES_SHOWN} are shown." if more else "",
        "more_url": changelist_url(Entity, profile=profile_id),
        "more_label": "All entities of this person",
    }
