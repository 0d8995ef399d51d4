"""Admin for workflows, rules and runs: the workflow editor's endpoints (admin/editor.py), the
draft and deployed status, a picture of the deployed graph, the action catalogue,
and run history per workflow and per profile (`/admin/workflows/workflowrun/?profile=<id>`),
each run with a link that opens it on the canvas."""

from __future__ import annotations

import json

from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from apps.core.admin_helpers import (
    LargeTableAdminMixin,
    ReadOnlyAdminMixin,
    admin_view_requiring,
    changelist_link,
    json_display,
    object_link,
    pretty_json,
    related_id_filter,
)
from apps.core.plugins import plugin_problems, plugins_loaded
from apps.events.models import Event
from apps.profiles.models import Profile
from apps.workflows.actions import actions_by_group, plugin_origin
from apps.workflows.admin import (
    parked,
    schedules,  # noqa: F401  (registers the schedule admin)
)
from apps.workflows.admin.docs import docs_html
from apps.workflows.admin.editor import EditorViews
from apps.workflows.admin.forms import RuleForm, WorkflowForm
from apps.workflows.admin.svg import graph_svg
from apps.workflows.admin.tracardi_io import tracardi_urls
from apps.workflows.models import Rule, Workflow, WorkflowRun
from apps.workflows.services.workflows import workflow_add, workflow_details_save


class RuleInline(admin.TabularInline):
    model = Rule
    form = RuleForm
    fields = ("name", "event_type", "source", "segment", "enabled", "answers_in_request")
    extra = 0
    show_change_link = True


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    form = WorkflowForm
    list_display = (
        "name",
        "enabled",
        "deployed_version",
        "draft_status",
        "node_count",
        "rule_count",
        "runs",
        "updated",
    )
    list_filter = ("enabled",)
    search_fields = ("name", "description")
    readonly_fields = (
        "deployed_version",
        "deployed_at",
        "draft_status",
        "draft_saved",
        "draft_saved_by",
        "picture",
        "runs",
        "created",
        "updated",
    )
    fieldsets = (
        (None, {"fields": ("name", "description", "enabled", "runs")}),
        (
            "Draft and deployed version",
            {
                "fields": (
                    "deployed_version",
                    "deployed_at",
                    "draft_status",
                    "draft_saved",
                    "draft_saved_by",
                )
            },
        ),
        ("Deployed graph", {"fields": ("picture",), "classes": ("collapse",)}),
        ("Times", {"fields": ("created", "updated"), "classes": ("collapse",)}),
    )
    inlines = (RuleInline,)
    change_form_template = "admin/workflows/workflow/change_form.html"
    change_list_template = "admin/workflows/workflow/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rule_total=Count("rules"))

    def save_model(self, request, obj, form, change):
        if change:
            workflow_details_save(workflow=obj)
        else:
            workflow_add(workflow=obj, user=request.user)

    def response_add(self, request, obj, post_url_continue=None):
        """After adding, the change page: the editor opens on the new draft."""
        response = super().response_add(request, obj, post_url_continue)
        if IS_POPUP_VAR in request.POST or "_addanother" in request.POST:
            return response
        return HttpResponseRedirect(
            reverse(
                "admin:workflows_workflow_change", args=[obj.pk], current_app=self.admin_site.name
            )
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "editor_config": EditorViews(self).page_config(request, object_id),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return ((None, {"fields": ("name", "description", "enabled")}),)
        return super().get_fieldsets(request, obj)

    @admin.display(description="nodes (draft)")
    def node_count(self, workflow: Workflow) -> int:
        return len((workflow.draft or {}).get("nodes") or [])

    @admin.display(description="deployed version")
    def deployed_version(self, workflow: Workflow) -> str:
        return str(workflow.version) if workflow.deployed_at else "not deployed"

    @admin.display(description="draft differs", boolean=True)
    def draft_status(self, workflow: Workflow) -> bool:
        return workflow.draft_differs

    @admin.display(description="rules", ordering="rule_total")
    def rule_count(self, workflow: Workflow) -> int:
        return getattr(workflow, "rule_total", 0)

    @admin.display(description="runs")
    def runs(self, workflow: Workflow) -> str:
        if workflow.pk is None:
            return "-"
        return changelist_link(WorkflowRun, "run history", workflow__id__exact=workflow.pk)

    @admin.display(description="picture")
    def picture(self, workflow: Workflow) -> str:
        return graph_svg(workflow.graph)

    def get_urls(self):
        return [
            *EditorViews(self).urls(),
            path(
                "actions/",
                admin_view_requiring(self, self.catalogue_view, "view"),
                name="workflows_workflow_actions",
            ),
            *tracardi_urls(self),
            *super().get_urls(),
        ]

    def catalogue_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        groups = [
            (
                group,
                [
                    {
                        "action": action,
                        "plugin": plugin_origin(action),
                        "docs": docs_html(action.docs),
                        "schema": pretty_json(action.config_schema),
                        "snippet": json.dumps(
                            {"data": {"spec": action.spec(), "metadata": {"name": action.name}}},
                            indent=2,
                        ),
                    }
                    for action in actions
                ],
            )
            for group, actions in actions_by_group().items()
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Workflow actions",
            "groups": groups,
            "plugins_loaded": plugins_loaded(),
            "plugin_problems": plugin_problems(),
        }
        return TemplateResponse(request, "admin/workflows/workflow/actions.html", context)


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    form = RuleForm
    list_display = (
        "name",
        "event_type",
        "source_name",
        "workflow_link",
        "consent_needed",
        "segment",
        "enabled",
        "answers_in_request",
        "updated",
    )
    list_filter = ("enabled", "answers_in_request", "workflow", "source")
    search_fields = ("name", "event_type")
    list_select_related = ("source", "workflow", "segment")
    ordering = ("name",)

    @admin.display(description="source", ordering="source__name")
    def source_name(self, rule: Rule) -> str:
        return rule.source.name if rule.source_id else "any source"

    @admin.display(description="workflow", ordering="workflow__name")
    def workflow_link(self, rule: Rule) -> str:
        return object_link(Workflow, rule.workflow_id, rule.workflow.name)

    @admin.display(description="requires consent", ordering="required_consent")
    def consent_needed(self, rule: Rule) -> str:
        # The consent type's id: no join for the list.
        return rule.required_consent_id or "-"


class RanInFilter(admin.SimpleListFilter):
    """Runs made inside the /track request (rules that answer in the request) or by a worker."""

    title = "where it ran"
    parameter_name = "ran_in"

    def lookups(self, request, model_admin):
        return (("request", "In the visitor's request"), ("worker", "In the background"))

    def queryset(self, request, queryset):
        if self.value() == "request":
            return queryset.filter(in_request=True)
        if self.value() == "worker":
            return queryset.filter(in_request=False)
        return queryset


@admin.register(WorkflowRun)
class WorkflowRunAdmin(LargeTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "started",
        "workflow_link",
        "event_link",
        "event_type",
        "profile_link",
        "status",
        "duration_ms",
        "ran_in",
        "replay",
        "canvas_link",
    )
    list_filter = (
        "status",
        RanInFilter,
        "workflow",
        "replay",
        related_id_filter("profile", "profile"),
        related_id_filter("event", "event"),
    )
    list_select_related = ("workflow",)
    ordering = ("-started",)
    sortable_by = ("started",)
    search_fields = ("event_ref",)
    search_help_text = "An exact event id or profile id."
    fields = (
        "workflow_link",
        "canvas_link",
        "workflow_version",
        "status",
        "error",
        "event_link",
        "event_type",
        "profile_link",
        "rules",
        "ran_in",
        "replay",
        "started",
        "duration_ms",
        "node_log",
        "log_json",
    )
    readonly_fields = fields
    log_json = json_display("log", "log (JSON)")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        # Each branch has its index: stored events by event_id, unsaved ones (never
        # replayed) by the unique (event_ref, workflow) index, profiles by (profile, started).
        matches = Q(event_id=term) | Q(event_ref=term, replay=False) | Q(profile_id=term)
        return queryset.filter(matches), False

    @admin.display(description="workflow")
    def workflow_link(self, run: WorkflowRun) -> str:
        return object_link(Workflow, run.workflow_id, run.workflow.name)

    @admin.display(description="ran in")
    def ran_in(self, run: WorkflowRun) -> str:
        return "request" if run.in_request else "worker"

    @admin.display(description="canvas")
    def canvas_link(self, run: WorkflowRun) -> str:
        url = reverse("admin:workflows_workflow_change", args=[run.workflow_id])
        return format_html('<a href="{}?run={}">Open on the canvas</a>', url, run.pk)

    @admin.display(description="event")
    def event_link(self, run: WorkflowRun) -> str:
        if run.event_id:
            return object_link(Event, run.event_id)
        return format_html("{} <small>(not stored)</small>", run.event_ref)

    @admin.display(description="profile")
    def profile_link(self, run: WorkflowRun) -> str:
        return object_link(Profile, run.profile_id)

    @admin.display(description="rules")
    def rules(self, run: WorkflowRun) -> str:
        return format_html_join(
            ", ", "{}", ((object_link(Rule, rule_id),) for rule_id in run.rule_ids)
        )

    @admin.display(description="nodes")
    def node_log(self, run: WorkflowRun) -> str:
        if not run.log:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}<br><small>{}</small></td><td>{}</td><td>{} &rarr; {}</td>"
            "<td>{}</td><td>{}</td></tr>",
            (
                (
                    entry.get("name") or entry.get("node"),
                    entry.get("node"),
                    entry.get("action"),
                    entry.get("in_port") or "start",
                    entry.get("port") or "(ended)",
                    f"{entry.get('duration_ms', 0):.2f} ms",
                    entry.get("error")
                    or "; ".join(m["message"] for m in entry.get("messages", [])),
                )
                for entry in run.log
            ),
        )
        return format_html(
            "<table><thead><tr><th>node</th><th>action</th><th>ports</th><th>duration</th>"
            "<th>error / messages</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )


__all__ = ["parked"]
