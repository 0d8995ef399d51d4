"""Admin for parked (waiting) workflow branches, and their section on the profile page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.core.admin_helpers import (
    LargeTableAdminMixin,
    ReadOnlyAdminMixin,
    object_link,
    related_id_filter,
)
from apps.profiles.admin.person import person_section_register
from apps.profiles.models import Profile
from apps.workflows.models import ParkedRun, Workflow
from apps.workflows.selectors import parked_runs_of_profile
from apps.workflows.services.parking import parked_runs_cancel, parked_runs_due_now

PARKED_HELP = (
    "Branches of workflow runs waiting at a Wait or Wait for an event node. They go on by "
    "themselves when due (checked every few seconds). 'Resume now' makes them due at once; "
    "'Cancel' ends them (the run is recorded as ended). If the person's profile is merged "
    "into another one meanwhile, the branch goes on with the merged profile; if the person "
    "is erased, their waiting branches are cancelled and deleted with the rest of their data."
)


@admin.action(description="Cancel the selected waiting branches", permissions=["change"])
def cancel_parked(modeladmin, request, queryset):
    ids = list(queryset.filter(status=ParkedRun.Status.PARKED).values_list("pk", flat=True))
    cancelled = parked_runs_cancel(ids=ids, by=request.user.get_username() or "the admin")
    modeladmin.message_user(
        request,
        f"{cancelled} waiting branch(es) cancelled."
        + (" The others were not waiting any more." if cancelled < queryset.count() else ""),
        messages.SUCCESS if cancelled else messages.WARNING,
    )


@admin.action(description="Resume the selected branches now", permissions=["change"])
def resume_parked_now(modeladmin, request, queryset):
    ids = list(queryset.filter(status=ParkedRun.Status.PARKED).values_list("pk", flat=True))
    due = parked_runs_due_now(ids=ids)
    modeladmin.message_user(
        request,
        f"{due} branch(es) are due now and go on within a few seconds (a Wait for an event "
        "goes on from its timeout port).",
        messages.SUCCESS if due else messages.WARNING,
    )


@admin.register(ParkedRun)
class ParkedRunAdmin(LargeTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "due_at",
        "workflow_link",
        "profile_link",
        "node",
        "waiting_for_label",
        "status",
        "run_link",
        "created",
    )
    list_filter = ("status", "workflow", related_id_filter("profile", "profile"))
    list_select_related = ("workflow",)
    ordering = ("due_at",)
    search_fields = ("=event_ref", "=profile__id")
    search_help_text = "An exact event id or profile id."
    actions = (resume_parked_now, cancel_parked)
    fields = (
        "workflow_link",
        "workflow_version",
        "profile_link",
        "node",
        "due_at",
        "due_port",
        "waiting_for",
        "status",
        "outcome",
        "run_link",
        "event_type",
        "created",
        "finished",
        "state",
    )
    readonly_fields = fields

    def changelist_view(self, request, extra_context=None):
        extra = {
            "title": "Parked runs: workflow branches waiting to go on",
            "parked_help": PARKED_HELP,
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=extra)

    def has_change_permission(self, request, obj=None):
        # The rows are never edited (no Save on a row's page); the list's "change" permission
        # is what its actions (resume now, cancel) need.
        return obj is None and request.user.has_perm("workflows.change_parkedrun")

    @admin.display(description="workflow")
    def workflow_link(self, parked: ParkedRun) -> str:
        return object_link(Workflow, parked.workflow_id, parked.workflow.name)

    @admin.display(description="profile")
    def profile_link(self, parked: ParkedRun) -> str:
        return object_link(Profile, parked.profile_id)

    @admin.display(description="node")
    def node(self, parked: ParkedRun) -> str:
        return f"{parked.node_name} ({parked.node_id})" if parked.node_name else parked.node_id

    @admin.display(description="waiting for")
    def waiting_for_label(self, parked: ParkedRun) -> str:
        if parked.waiting_for:
            return f"event {parked.waiting_for} (else timeout)"
        return "the due time"

    @admin.display(description="run")
    def run_link(self, parked: ParkedRun) -> str:
        url = reverse("admin:workflows_workflowrun_changelist")
        return format_html('<a href="{}?q={}">the run</a>', url, parked.event_ref)


def parked_runs_section(request, profile_id: str) -> dict | None:
    """The profile page's "Waiting workflow branches": what will happen to this person, when."""
    if not request.user.has_perm("workflows.view_parkedrun"):
        return None
    rows = parked_runs_of_profile(profile_id)
    url = reverse("admin:workflows_parkedrun_changelist")
    return {
        "key": "parked_runs",
        "title": "Waiting workflow branches (parked runs)",
        "columns": ["due", "workflow", "node", "waiting for", "since"],
        "rows": [
            (
                format_html(
                    '<a href="{}">{}</a>',
                    reverse("admin:workflows_parkedrun_change", args=[parked.pk]),
                    timezone.localtime(parked.due_at).strftime("%Y-%m-%d %H:%M"),
                ),
                parked.workflow.name,
                f"{parked.node_name} ({parked.node_id})" if parked.node_name else parked.node_id,
                f"event {parked.waiting_for}" if parked.waiting_for else "the due time",
                timezone.localtime(parked.created).strftime("%Y-%m-%d %H:%M"),
            )
            for parked in rows
        ],
        "empty": "No workflow is waiting for this person.",
        "note": "A merge moves these to the merged profile; an erasure cancels them.",
        "more_url": f"{url}?profile={profile_id}&status=parked",
        "more_label": "All waiting branches of this person (resume now, cancel)",
    }


person_section_register(parked_runs_section)
