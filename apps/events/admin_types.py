"""Admin for event types (schema, journey state, mapping rows) and the quarantine of events
that broke their type's schema. Imported by apps.events.admin."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from apps import notation
from apps.core.admin_helpers import (
    PRETTY_JSON_OVERRIDES,
    LargeTableAdminMixin,
    ReadOnlyAdminMixin,
    admin_view_requiring,
    json_display,
    object_link,
    pretty_json,
)
from apps.core.widgets import (
    ConditionBuilderAdminMixin,
    ConditionBuilderWidget,
    SchemaTableWidget,
)
from apps.events.indexing import ReindexUnderway
from apps.events.models import (
    Event,
    EventReindexJob,
    EventReshaping,
    EventType,
    EventTypeMapping,
    IndexedProperty,
    QuarantinedEvent,
)
from apps.events.registry import event_type_registry
from apps.events.selectors import (
    condition_fields,
    event_type_schema_suggestion,
    reshaping_preview,
)
from apps.events.services import (
    event_type_save,
    indexed_property_delete,
    indexed_property_save,
    reshaping_delete,
    reshaping_save,
)
from apps.events.tasks import reindex_start
from apps.events.validation import MAX_CONDITION_LENGTH
from apps.notation.builder import condition_builder_model
from apps.profiles.models import Profile

# Sources a condition may read, as the builder's field endpoint accepts them.
CONDITION_SOURCES = ("event", "profile")


class EventTypeMappingInline(ConditionBuilderAdminMixin, admin.TabularInline):
    model = EventTypeMapping
    # Compact: the builder opens in a panel, so the row stays one line wide.
    condition_builder_fields = {
        "condition": ConditionBuilderWidget(
            sources=CONDITION_SOURCES, event_type_input="id_type", compact=True
        )
    }
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

    class Media:
        css = {"all": ["events/mappings.css"]}


class EventReshapingInline(ConditionBuilderAdminMixin, admin.StackedInline):
    """Tracardi's event reshaping, edited on its event type's page (apps.events.reshaping)."""

    model = EventReshaping
    condition_builder_fields = {
        "condition": ConditionBuilderWidget(sources=("event",), event_type_input="id_type")
    }
    formfield_overrides = PRETTY_JSON_OVERRIDES
    extra = 0
    fields = (
        ("name", "position", "enabled"),
        "source",
        "condition",
        "properties",
        "context",
        "session",
    )
    ordering = ("position", "id")
    verbose_name_plural = (
        "reshaping: rewrite incoming events of this type before they are validated and mapped"
    )


class IndexedPropertyInline(admin.TabularInline):
    """Event indexing: properties copied, typed, into the events' traits (apps.events.indexing)."""

    model = IndexedProperty
    extra = 0
    fields = ("property", "trait", "type")
    verbose_name_plural = (
        "indexed properties: copied into the events' traits, typed, so the events list "
        "filters on them (traits.name=value) and conditions read them"
    )


# Inline rows saved and deleted through the events services (EventTypeAdmin.save_formset).
_INLINE_SERVICES = {
    EventReshaping: (
        lambda row: reshaping_save(reshaping=row),
        lambda row: reshaping_delete(reshaping=row),
    ),
    IndexedProperty: (
        lambda row: indexed_property_save(indexed=row),
        lambda row: indexed_property_delete(indexed=row),
    ),
}


@admin.register(EventType)
class EventTypeAdmin(admin.ModelAdmin):
    inlines = (EventReshapingInline, IndexedPropertyInline, EventTypeMappingInline)
    change_form_template = "admin/events/eventtype/change_form.html"
    formfield_overrides = PRETTY_JSON_OVERRIDES

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "json_schema":
            # Edited as a table of properties, generated from recent events on demand.
            kwargs["widget"] = SchemaTableWidget(
                suggest_url_name="admin:events_eventtype_schema_suggestion", type_input="id_type"
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

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
        (
            "Indexing",
            {
                "fields": ("reindex_status",),
                "description": "A change to the indexed properties applies to events stored "
                "from now on; re-index to apply it to the events already stored.",
            },
        ),
        (
            "Reshaping preview",
            {
                "fields": ("reshaping_preview",),
                "description": "The latest stored event of this type, as its saved reshapings "
                "would rewrite it now. Save the page to preview a change.",
            },
        ),
        ("Bookkeeping", {"fields": ("predefined", "created", "updated")}),
    )
    readonly_fields = ("predefined", "created", "updated", "reindex_status", "reshaping_preview")

    def get_urls(self):
        # The condition builder's endpoints (apps.core.widgets), used by every condition field
        # of the admin: segments, destinations and these mappings.
        return [
            path(
                "condition-fields/",
                admin_view_requiring(self, condition_fields_view, "view"),
                name="events_eventtype_condition_fields",
            ),
            path(
                "condition-check/",
                admin_view_requiring(self, condition_check_view, "view"),
                name="events_eventtype_condition_check",
            ),
            path(
                "<path:object_id>/reindex/",
                admin_view_requiring(self, self.reindex_view, "change"),
                name="events_eventtype_reindex",
            ),
            path(
                "schema-suggestion/",
                admin_view_requiring(self, schema_suggestion_view, "view"),
                name="events_eventtype_schema_suggestion",
            ),
            *super().get_urls(),
        ]

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

    def save_formset(self, request, form, formset, change) -> None:
        # Reshaping rules and indexed properties are saved and deleted through the events
        # services, as the management API saves them.
        services = _INLINE_SERVICES.get(formset.model)
        if services is None:
            super().save_formset(request, form, formset, change)
            return
        save, delete = services
        instances = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            delete(deleted)
        for instance in instances:
            save(instance)
        formset.save_m2m()

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        event_type_registry.cache_clear()

    @admin.display(description="stored events")
    def reindex_status(self, event_type: EventType) -> str:
        if event_type.pk is None:
            return "Save the event type first."
        job = event_type.reindex_jobs.first()
        # Submits the form of templates/admin/events/eventtype/change_form.html.
        button = format_html(
            '<button type="submit" form="cdp-reindex-form" class="button">{}</button>',
            "Re-index stored events",
        )
        if job is None:
            return format_html("Never re-indexed. {}", button)
        percent = int(100 * job.done / job.total) if job.total else 100
        state = {
            EventReindexJob.Status.QUEUED: "waiting for a worker",
            EventReindexJob.Status.RUNNING: f"running: {job.done:,} of {job.total:,} ({percent}%)",
            EventReindexJob.Status.DONE: f"done: {job.done:,} events",
            EventReindexJob.Status.FAILED: f"failed after {job.done:,} events: {job.error}",
        }[job.status]
        return format_html(
            "Last re-index, asked by {} on {}: {}. {}",
            job.requested_by,
            timezone.localtime(job.requested_at).strftime("%Y-%m-%d %H:%M"),
            state,
            button,
        )

    def reindex_view(self, request: HttpRequest, object_id: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        event_type = self.get_object(request, object_id)
        if event_type is None or not self.has_change_permission(request, event_type):
            raise PermissionDenied
        try:
            job = reindex_start(event_type=event_type, actor=request.user.get_username())
        except ReindexUnderway:
            self.message_user(
                request,
                "A re-index of this type is already under way; its progress is below.",
                messages.WARNING,
            )
        else:
            self.message_user(
                request,
                f"Re-indexing the {job.total:,} stored {event_type.type} events in the "
                "background; reload the page to follow the progress.",
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:events_eventtype_change", args=[event_type.pk]))

    @admin.display(description="preview")
    def reshaping_preview(self, event_type: EventType) -> str:
        if event_type.pk is None:
            return "Save the event type first."
        preview = reshaping_preview(event_type=event_type)
        if not preview.tried:
            return "No enabled reshaping: events of this type are stored as sent."
        if preview.event is None:
            return "No event of this type is stored yet: send one, then come back."
        event, reshaped = preview.event, preview.reshaped
        if reshaped.warning:
            return reshaped.warning
        if not reshaped.applied:
            return format_html(
                "No reshaping matches event {} (its source or the conditions).",
                object_link(Event, event.pk),
            )
        before = {"properties": event.properties, "context": event.context}
        after = {"properties": reshaped.properties, "context": reshaped.context}
        if reshaped.session_context:
            after["session context adds"] = reshaped.session_context
        return format_html(
            '<p>Event {}, reshaped by "{}".</p><div class="cdp-reshaping-preview">'
            "<div><strong>As stored</strong>{}</div><div><strong>Reshaped</strong>{}</div></div>",
            object_link(Event, event.pk),
            reshaped.applied,
            pretty_json(before),
            pretty_json(after),
        )

    @admin.display(description="schema", boolean=True)
    def validated(self, event_type: EventType) -> bool:
        return event_type.json_schema is not None

    @admin.display(description="mapping rules", ordering="rule_count")
    def mapping_rules(self, event_type: EventType) -> int:
        return event_type.rule_count


@require_GET
def schema_suggestion_view(request: HttpRequest) -> JsonResponse:
    """`?type=purchase`: a JSON schema for the properties of that type's recent events,
    {"sampled": n, "schema": {...}}, for the schema table's "Generate" button."""
    event_type = request.GET.get("type", "").strip()[:100]
    if not event_type:
        return JsonResponse({"error": "Fill in the event type first."}, status=400)
    return JsonResponse(event_type_schema_suggestion(event_type))


@require_GET
def condition_fields_view(request: HttpRequest) -> JsonResponse:
    """`?sources=event,profile&event_type=purchase`: the fields a condition can read, from real
    rows: {"fields": [{"path", "type", "count", "example"}, ...]}."""
    sources = [
        source
        for source in request.GET.get("sources", "profile").split(",")
        if source in CONDITION_SOURCES
    ]
    event_type = request.GET.get("event_type", "").strip()[:100]
    return JsonResponse(
        {"fields": condition_fields(sources=list(dict.fromkeys(sources)), event_type=event_type)}
    )


@require_POST
def condition_check_view(request: HttpRequest) -> JsonResponse:
    """POST `condition`: {"ok": true, "builder": <model or null>} for a valid condition (null:
    the builder cannot show it), or {"ok": false, "message", "line", "column", "position",
    "expected"} from the notation's syntax error."""
    text = request.POST.get("condition", "")
    if len(text) > MAX_CONDITION_LENGTH:
        return JsonResponse(
            {"ok": False, "message": f"The condition is longer than {MAX_CONDITION_LENGTH} "
             "characters", "line": 1, "column": 1, "position": 0, "expected": []}
        )  # fmt: skip
    try:
        model = condition_builder_model(text)
    except notation.ConditionSyntaxError as error:
        return JsonResponse(
            {
                "ok": False,
                "message": error.message,
                "line": error.line,
                "column": error.column,
                "position": error.position,
                "expected": list(error.expected),
            }
        )
    except notation.NotationError as error:
        return JsonResponse(
            {"ok": False, "message": str(error), "line": None, "column": None,
             "position": None, "expected": []}
        )  # fmt: skip
    return JsonResponse({"ok": True, "builder": model})


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
