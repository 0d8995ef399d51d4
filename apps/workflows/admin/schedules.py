"""Admin for workflow schedules: a form with choices and fields (no JSON), the condition
builder for a condition audience, the beat entry kept in step on save, and the latest runs with
their counts. Also the profile page's "Upcoming scheduled work" section."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.core.admin_helpers import object_link
from apps.core.widgets import ConditionBuilderWidget
from apps.destinations.admin.profiles import ProfileWithDeliveriesAdmin
from apps.profiles.models import Profile
from apps.workflows.models import Workflow, WorkflowSchedule, WorkflowScheduleRun
from apps.workflows.services.schedules import (
    profile_upcoming_schedules,
    schedule_next_run,
    workflow_schedule_apply,
    workflow_schedule_drop,
)

RECENT_RUNS = 10


class WorkflowScheduleForm(forms.ModelForm):
    class Meta:
        model = WorkflowSchedule
        fields = (
            "name",
            "workflow",
            "enabled",
            "every",
            "interval",
            "at_time",
            "crontab",
            "audience",
            "segment",
            "condition",
        )
        widgets = {
            "every": forms.RadioSelect,
            "audience": forms.RadioSelect,
            "at_time": forms.TimeInput(format="%H:%M", attrs={"placeholder": "08:00"}),
            "crontab": forms.TextInput(attrs={"placeholder": "0 8 * * 1"}),
            "condition": ConditionBuilderWidget(sources=("profile",)),
        }

    class Media:
        js = ("workflows/schedule_fields.js",)


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"


def run_counts(run: WorkflowScheduleRun) -> str:
    return (
        f"{run.get_status_display()}: {run.profiles} profile(s), {run.runs_ok} completed, "
        f"{run.runs_failed} failed, {run.batches} batch(es)"
    )


@admin.register(WorkflowSchedule)
class WorkflowScheduleAdmin(admin.ModelAdmin):
    form = WorkflowScheduleForm
    list_display = ("name", "workflow_link", "enabled", "timing", "audience_text", "next_run")
    list_filter = ("enabled", "every", "audience")
    search_fields = ("name", "workflow__name")
    list_select_related = (
        "workflow",
        "segment",
        "periodic_task",
        "periodic_task__crontab",
        "periodic_task__interval",
    )
    readonly_fields = ("next_run", "last_run", "recent_runs")
    fieldsets = (
        (None, {"fields": ("name", "workflow", "enabled")}),
        (
            "When",
            {
                "fields": ("every", "interval", "at_time", "crontab", "next_run"),
                "description": "Server time zone. Fill the field of the choice made: the number "
                "for every N minutes or hours, the time for every day, five fields for a "
                "crontab.",
            },
        ),
        (
            "For whom",
            {
                "fields": ("audience", "segment", "condition"),
                "description": "Each profile of the audience gets its own run of the workflow "
                "(deployed version), listed in the run history with the event type "
                "scheduled-run; the workflow reads event@properties.schedule.name.",
            },
        ),
        ("Runs", {"fields": ("last_run", "recent_runs")}),
    )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        workflow_schedule_apply(schedule=obj)

    def delete_model(self, request, obj):
        schedule_id = obj.pk
        super().delete_model(request, obj)
        workflow_schedule_drop(schedule_id=schedule_id)

    def delete_queryset(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        for schedule_id in ids:
            workflow_schedule_drop(schedule_id=schedule_id)

    @admin.display(description="workflow", ordering="workflow__name")
    def workflow_link(self, schedule: WorkflowSchedule) -> str:
        return object_link(Workflow, schedule.workflow_id, schedule.workflow.name)

    @admin.display(description="when", ordering="every")
    def timing(self, schedule: WorkflowSchedule) -> str:
        Every = WorkflowSchedule.Every
        if schedule.every == Every.MINUTES:
            return f"every {schedule.interval} minute(s)"
        if schedule.every == Every.HOURS:
            return f"every {schedule.interval} hour(s)"
        if schedule.every == Every.DAY:
            return f"every day at {schedule.at_time:%H:%M}" if schedule.at_time else "-"
        return f"crontab {schedule.crontab}"

    @admin.display(description="for whom")
    def audience_text(self, schedule: WorkflowSchedule) -> str:
        if schedule.audience == WorkflowSchedule.Audience.SEGMENT:
            return f"segment {schedule.segment.name}" if schedule.segment else "-"
        return f"profiles where {schedule.condition}"

    @admin.display(description="next run")
    def next_run(self, schedule: WorkflowSchedule) -> str:
        if schedule.pk is None:
            return "-"
        return _when(schedule_next_run(schedule)) if schedule.enabled else "disabled"

    @admin.display(description="last run")
    def last_run(self, schedule: WorkflowSchedule) -> str:
        run = schedule.runs.order_by("-started").first() if schedule.pk else None
        if run is None:
            return "Never run."
        message = f" {run.message}" if run.message else ""
        return f"{_when(run.started)}: {run_counts(run)}.{message}"

    @admin.display(description="latest runs")
    def recent_runs(self, schedule: WorkflowSchedule) -> str:
        runs = list(schedule.runs.order_by("-started")[:RECENT_RUNS]) if schedule.pk else []
        if not runs:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "</tr>",
            (
                (
                    _when(run.started),
                    _when(run.finished),
                    run.get_status_display(),
                    run.profiles,
                    run.runs_ok,
                    run.runs_failed,
                    run.message or "",
                )
                for run in runs
            ),
        )
        return format_html(
            "<table><tr><th>started</th><th>finished</th><th>status</th><th>profiles</th>"
            "<th>completed</th><th>failed</th><th>note</th></tr>{}</table>",
            rows,
        )


def upcoming_work_section(profile: Profile) -> dict:
    upcoming = profile_upcoming_schedules(profile=profile)
    return {
        "key": "upcoming-scheduled-work",
        "title": "Upcoming scheduled work",
        "columns": ["next run", "schedule", "workflow", "why this person"],
        "rows": [
            (
                _when(item.next_run),
                object_link(WorkflowSchedule, item.schedule.pk, item.schedule.name),
                item.schedule.workflow.name,
                (
                    f"member of the segment {item.schedule.segment.name}"
                    if item.schedule.audience == WorkflowSchedule.Audience.SEGMENT
                    else f"matches {item.schedule.condition}"
                ),
            )
            for item in upcoming
        ],
        "empty": "No scheduled workflow has this person in its audience.",
    }


class ProfileWithScheduledWorkAdmin(ProfileWithDeliveriesAdmin):
    """The profile page with its upcoming scheduled work (workflows come after profiles and
    destinations in the floors: this re-registers the profile admin of destinations)."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        profile = Profile.objects.filter(pk=unquote(object_id)).first()
        if profile is not None and request.user.has_perm("workflows.view_workflowschedule"):
            extra["person_sections"] = [
                *extra.get("person_sections", []),
                upcoming_work_section(profile),
            ]
        return super().change_view(request, object_id, form_url, extra_context=extra)


admin.site.unregister(Profile)
admin.site.register(Profile, ProfileWithScheduledWorkAdmin)
