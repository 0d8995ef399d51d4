"""What event processing adds to the admin of the lower apps: the replay action on events,
the re-validate action on quarantined events, and the tracker snippet on event sources; and
the (read-only) records of purges.

Each is a subclass of the lower app's ModelAdmin, registered in its place (this app comes
after sources and events in INSTALLED_APPS, so their admin modules have registered first).
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from apps.core.admin_helpers import PRETTY_JSON_OVERRIDES
from apps.events.admin import EventAdmin
from apps.events.admin_types import QuarantinedEventAdmin
from apps.events.models import Event, QuarantinedEvent
from apps.sources.admin import EventSourceAdmin
from apps.sources.models import EventSource
from apps.tracking.handoff import REPLAY_MAX, events_replay_enqueue
from apps.tracking.models import PurgeRecord
from apps.tracking.replay import replay_preview
from apps.tracking.retention import purge_counts_text
from apps.tracking.revalidate import events_revalidate
from apps.tracking.tracker import tracker_snippet_admin_html

REVALIDATE_MAX = 5000


@admin.action(description="Replay through the current workflows")
def replay_events_through_workflows(modeladmin, request, queryset):
    # Replays change profiles: reserved to those who may change workflows.
    if not request.user.has_perm("workflows.change_workflow"):
        modeladmin.message_user(
            request, "Replaying events needs the permission to change workflows.", messages.ERROR
        )
        return None
    ids = list(queryset.values_list("pk", flat=True)[: REPLAY_MAX + 1])
    if request.POST.get("confirm") != "yes":
        # Workflows that call other systems call them again: say so before anything runs.
        return TemplateResponse(
            request,
            "admin/tracking/replay_confirm.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": "Replay events through the current workflows?",
                "opts": modeladmin.model._meta,
                "preview": replay_preview(event_ids=ids[:REPLAY_MAX]),
                "selected": ids[:REPLAY_MAX],
                "more_than_max": len(ids) > REPLAY_MAX,
                "replay_max": REPLAY_MAX,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )
    queued = events_replay_enqueue(event_ids=ids)
    modeladmin.message_user(
        request,
        f"{queued} event(s) queued for replay. Events still waiting for their first run are "
        "skipped; the replays show in the workflow runs with replay = yes.",
        messages.SUCCESS,
    )
    if len(ids) > REPLAY_MAX:
        modeladmin.message_user(
            request,
            f"Only the first {REPLAY_MAX} selected events were queued; filter the list to "
            "replay the rest.",
            messages.WARNING,
        )
    return None


@admin.action(description="Re-validate and process (after fixing the schema)")
def revalidate_events(modeladmin, request, queryset) -> None:
    # Released events run through the workflows and change profiles.
    if not request.user.has_perm("events.change_quarantinedevent"):
        modeladmin.message_user(
            request,
            "Re-validating events needs the permission to change quarantined events.",
            messages.ERROR,
        )
        return
    ids = list(queryset.values_list("pk", flat=True)[: REVALIDATE_MAX + 1])
    valid, still_invalid = events_revalidate(event_ids=ids[:REVALIDATE_MAX])
    modeladmin.message_user(
        request,
        f"{valid} event(s) now valid and released to processing; {still_invalid} still break "
        "their type's schema (see their message).",
        messages.SUCCESS if not still_invalid else messages.WARNING,
    )
    if len(ids) > REVALIDATE_MAX:
        modeladmin.message_user(
            request,
            f"Only the first {REVALIDATE_MAX} selected events were checked; run it again for "
            "the rest.",
            messages.WARNING,
        )


class TrackedEventAdmin(EventAdmin):
    actions = (*EventAdmin.actions, replay_events_through_workflows)


class TrackedQuarantinedEventAdmin(QuarantinedEventAdmin):
    actions = (*QuarantinedEventAdmin.actions, revalidate_events)


class TrackedEventSourceAdmin(EventSourceAdmin):
    fieldsets = tuple(
        (name, {**options, "fields": (*options["fields"], "tracker_snippet")})
        if name == "Where to send events"
        else (name, options)
        for name, options in EventSourceAdmin.fieldsets
    )

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "tracker_snippet")

    @admin.display(description="JavaScript snippet")
    def tracker_snippet(self, source: EventSource) -> str:
        return tracker_snippet_admin_html(source)


for model, model_admin in (
    (Event, TrackedEventAdmin),
    (QuarantinedEvent, TrackedQuarantinedEventAdmin),
    (EventSource, TrackedEventSourceAdmin),
):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)


@admin.register(PurgeRecord)
class PurgeRecordAdmin(admin.ModelAdmin):
    """Read-only: a record of what a purge deleted is evidence, not something to edit."""

    list_display = ("started_at", "what", "actor", "dry_run", "status", "counts", "duration")
    list_filter = ("status", "dry_run", "actor")
    search_fields = ("what", "actor")
    ordering = ("-started_at",)
    date_hierarchy = "started_at"
    readonly_fields = (
        "what",
        "actor",
        "dry_run",
        "status",
        "error",
        "counts",
        "filters",
        "started_at",
        "finished_at",
        "duration",
    )
    fields = readonly_fields
    formfield_overrides = PRETTY_JSON_OVERRIDES

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Rows (selected, in a dry run)")
    def counts(self, record: PurgeRecord) -> str:
        return purge_counts_text(record)

    @admin.display(description="Duration", ordering="duration_seconds")
    def duration(self, record: PurgeRecord) -> str:
        return f"{record.duration_seconds:.1f} s"
