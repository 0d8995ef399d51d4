"""Admin for event types (schema, journey state, mapping rows) and the quarantine of events
that broke their type's schema. Imported by apps.events.admin."""

from django.contrib import admin
from django.db.models import Count, Q

from apps.core.admin_helpers import (
    PRETTY_JSON_OVERRIDES,
    LargeTableAdminMixin,
    ReadOnlyAdminMixin,
    json_display,
    object_link,
)
from apps.events.models import Event, EventType, EventTypeMapping, QuarantinedEvent
from apps.events.registry import event_type_registry
from apps.events.services import event_type_save
from apps.profiles.models import Profile


class EventTypeMappingInline(admin.TabularInline):
    model = EventTypeMapping
    extra = 1
    fields = (
        "position",
        "profile_path",
        "operation",
        "event_path",
        "amount",
        "condition",
        "enabled",
    )
    ordering = ("position", "id")


@admin.register(EventType)
class EventTypeAdmin(admin.ModelAdmin):
    inlines = (EventTypeMappingInline,)
    formfield_overrides = PRETTY_JSON_OVERRIDES
    list_display = (
        "type",
        "name",
        "journey_state",
        "validated",
        "mapping_rules",
        "predefined",
        "updated",
    )
    list_filter = ("journey_state", "predefined")
    search_fields = ("type", "name")
    fieldsets = (
        (None, {"fields": ("type", "name", "description", "journey_state", "tags")}),
        (
            "Validation",
            {
                "fields": ("json_schema",),
                "description": "Events whose properties break this schema are stored as "
                "quarantined (status invalid) and run no workflow; fix the schema, then "
                "re-validate them from the list of quarantined events.",
            },
        ),
        ("Bookkeeping", {"fields": ("predefined", "created", "updated")}),
    )
    readonly_fields = ("predefined", "created", "updated")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(rule_count=Count("mappings", filter=Q(mappings__enabled=True)))
        )

    def save_model(self, request, obj, form, change) -> None:
        event_type_save(event_type=obj)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        event_type_registry.cache_clear()

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        event_type_registry.cache_clear()

    @admin.display(description="schema", boolean=True)
    def validated(self, event_type: EventType) -> bool:
        return event_type.json_schema is not None

    @admin.display(description="mapping rules", ordering="rule_count")
    def mapping_rules(self, event_type: EventType) -> int:
        return event_type.rule_count


@admin.register(QuarantinedEvent)
class QuarantinedEventAdmin(LargeTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    # apps.tracking.admin adds the re-validate action.
    list_display = ("inserted", "type", "status_message", "profile_link", "event_link")
    # Newest first through the partial index on invalid events.
    ordering = ("-inserted",)
    sortable_by = ("inserted",)
    search_fields = ("id",)
    search_help_text = "An exact event id, profile id or event type."
    fields = (
        "event_link",
        "type",
        "status_message",
        "time",
        "inserted",
        "profile_link",
        "properties_json",
    )
    readonly_fields = fields
    properties_json = json_display("properties")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=QuarantinedEvent.Status.INVALID)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(pk=term) | Q(profile_id=term) | Q(type=term)), False

    @admin.display(description="profile")
    def profile_link(self, event: QuarantinedEvent) -> str:
        return object_link(Profile, event.profile_id)

    @admin.display(description="event")
    def event_link(self, event: QuarantinedEvent) -> str:
        return object_link(Event, event.pk)
