from django.contrib import admin
from django.db.models import Q

from apps.core.admin_helpers import (
    LargeTableAdminMixin,
    ReadOnlyAdminMixin,
    change_link,
    json_display,
    object_link,
    related_id_filter,
)
from apps.events import admin_imports, admin_types  # noqa: F401  (register their ModelAdmins)
from apps.events.models import Event
from apps.events.selectors import event_types_in_use
from apps.profiles.models import Profile, Session


class EventTypeFilter(admin.SimpleListFilter):
    title = "type"
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return [(event_type, event_type) for event_type in event_types_in_use()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(type=self.value())
        return queryset


@admin.register(Event)
class EventAdmin(LargeTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    # apps.tracking.admin adds the replay action.
    list_display = (
        "time",
        "inserted",
        "type",
        "source_link",
        "profile_link",
        "session_link",
        "status",
        "is_bot",
    )
    list_filter = (
        "status",
        EventTypeFilter,
        "source",
        "is_bot",
        related_id_filter("profile", "profile"),
        related_id_filter("session", "session"),
    )
    # The session is shown by its id alone (no join needed); source and profile by name.
    list_select_related = ("source", "profile")
    # Newest stored first, through the index on -inserted; sorting by other columns would
    # sort the whole table.
    ordering = ("-inserted",)
    sortable_by = ("inserted",)
    search_fields = ("id",)
    search_help_text = "An exact event id, profile id or session id."
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "type",
                    "status",
                    "status_message",
                    "time",
                    "inserted",
                    "is_bot",
                    "source_link",
                    "profile_link",
                    "session_link",
                )
            },
        ),
        (
            "Data",
            {
                "fields": (
                    "properties_json",
                    "context_json",
                    "traits_json",
                    "tags_json",
                    "request_json",
                    "metadata_json",
                )
            },
        ),
    )
    readonly_fields = (
        "source_link",
        "profile_link",
        "session_link",
        "properties_json",
        "context_json",
        "traits_json",
        "tags_json",
        "request_json",
        "metadata_json",
    )

    properties_json = json_display("properties")
    context_json = json_display("context")
    traits_json = json_display("traits")
    tags_json = json_display("tags")
    request_json = json_display("request")
    metadata_json = json_display("metadata")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        # Each branch has its index: the pk, (profile, time), (session, time).
        return queryset.filter(Q(pk=term) | Q(profile_id=term) | Q(session_id=term)), False

    @admin.display(description="source")
    def source_link(self, event: Event) -> str:
        return change_link(event.source, event.source.name)

    @admin.display(description="profile")
    def profile_link(self, event: Event) -> str:
        return object_link(Profile, event.profile_id, str(event.profile) if event.profile else None)

    @admin.display(description="session")
    def session_link(self, event: Event) -> str:
        return object_link(Session, event.session_id)
