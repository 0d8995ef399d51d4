"""Reports in the admin: a form with no JSON (subject, the condition builder for the filter,
the window, group-by and metric fields with suggestions, parameters as rows) and a Run page
with a bar chart, a table and a CSV download."""

from __future__ import annotations

import csv

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode

from apps.core.admin_helpers import admin_view_requiring
from apps.core.widgets import ConditionBuilderWidget
from apps.reports.charts import bar_chart
from apps.reports.definition import (
    Definition,
    Parameter,
    ReportError,
    definition_check,
    placeholder_names,
)
from apps.reports.models import Report, ReportParameter
from apps.reports.running import ReportResult, report_run
from apps.reports.subjects import SUBJECTS

_FIELD_LIST = {"list": "report-fields", "autocomplete": "off", "size": 40}


def field_suggestions() -> list[tuple[str, str]]:
    """Fields for the group-by and metric inputs: every subject's columns, and its JSON
    columns as a start to complete (properties.…)."""
    seen: dict[str, list[str]] = {}
    for subject in SUBJECTS.values():
        for name in subject.plain_columns:
            seen.setdefault(name, []).append(subject.label.lower())
        for column in subject.json_columns:
            seen.setdefault(f"{column}.", []).append(subject.label.lower())
    return [(name, ", ".join(labels)) for name, labels in seen.items()]


class ReportForm(forms.ModelForm):
    class Meta:
        model = Report
        fields = (
            "name",
            "description",
            "subject",
            "filter",
            "window_days",
            "window_from",
            "window_to",
            "group_by",
            "metric",
            "metric_field",
        )
        widgets = {
            "filter": ConditionBuilderWidget(sources=("event", "profile", "session", "payload")),
            "group_by": forms.TextInput(attrs=_FIELD_LIST),
            "metric_field": forms.TextInput(attrs=_FIELD_LIST),
            "description": forms.Textarea(attrs={"rows": 2, "cols": 80}),
        }
        help_texts = {
            "filter": "Which rows count. Name the row as event@, profile@ or session@ (an entity "
            'as payload@), e.g. event@type == "purchase" AND event@properties.total >= '
            '"{{min_total}}": a value box holding just {{min_total}} takes the parameter of that '
            "name (rows below) with its type. Empty: all rows.",
        }

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        # Parameters are rows below, checked with the filter in their formset; here each
        # {{name}} stands in as a text so the rest of the definition is checked.
        stand_ins = tuple(
            Parameter(name=name, default="x")
            for name in dict.fromkeys(placeholder_names(cleaned.get("filter") or ""))
        )
        try:
            definition_check(_definition(cleaned, stand_ins))
        except ReportError as error:
            self.add_error(error.field if error.field in self.fields else None, str(error))
        return cleaned


def _definition(data: dict, parameters: tuple[Parameter, ...]) -> Definition:
    return Definition(
        subject=data.get("subject") or "event",
        filter=data.get("filter") or "",
        window_days=data.get("window_days"),
        window_from=data.get("window_from"),
        window_to=data.get("window_to"),
        group_by=data.get("group_by") or "",
        metric=data.get("metric") or "count",
        metric_field=data.get("metric_field") or "",
        parameters=parameters,
    )


class ParameterFormSet(forms.BaseInlineFormSet):
    """The filter's {{names}} against the rows, with their types and defaults."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        rows = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        parameters = tuple(
            Parameter(
                name=row["name"],
                type=row["type"],
                default=row.get("default") or "",
                required=row.get("required", False),
            )
            for row in rows
        )
        report = self.instance
        try:
            definition_check(
                _definition(
                    {field: getattr(report, field) for field in ReportForm.Meta.fields},
                    parameters,
                )
            )
        except ReportError as error:
            raise forms.ValidationError(str(error)) from error


class ReportParameterInline(admin.TabularInline):
    model = ReportParameter
    formset = ParameterFormSet
    extra = 1
    fields = ("name", "type", "default", "required")
    verbose_name = "parameter"


class RunForm(forms.Form):
    """One input per parameter of the report, its default filled in."""

    def __init__(self, *args, parameters: list[ReportParameter], **kwargs):
        super().__init__(*args, **kwargs)
        for parameter in parameters:
            help_text = "required" if parameter.required else f"default: {parameter.default!r}"
            if parameter.type == ReportParameter.Type.BOOLEAN:
                field = forms.ChoiceField(
                    choices=[("", "(default)"), ("true", "Yes"), ("false", "No")],
                    required=False,
                )
            else:
                field = forms.CharField(
                    required=False,
                    widget=forms.TextInput(
                        attrs={
                            "placeholder": parameter.default,
                            "inputmode": "decimal"
                            if parameter.type == ReportParameter.Type.NUMBER
                            else "text",
                        }
                    ),
                )
            field.label = parameter.name
            field.help_text = help_text
            self.fields[parameter.name] = field

    def values(self) -> dict[str, str]:
        return {name: value for name, value in self.cleaned_data.items() if value not in ("", None)}


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    form = ReportForm
    inlines = (ReportParameterInline,)
    change_form_template = "admin/reports/report/change_form.html"
    list_display = ("name", "subject", "metric_text", "group_by", "window_text", "updated")
    list_filter = ("subject", "metric")
    search_fields = ("name", "description")
    fieldsets = (
        (None, {"fields": ("name", "description", "subject", "filter")}),
        (
            "Time window",
            {
                "fields": ("window_days", ("window_from", "window_to")),
                "description": "Over the events' time, or when profiles, sessions and "
                "entities were created.",
            },
        ),
        ("Result", {"fields": ("group_by", "metric", "metric_field")}),
    )

    @admin.display(description="metric")
    def metric_text(self, report: Report) -> str:
        return metric_title(report)

    @admin.display(description="window")
    def window_text(self, report: Report) -> str:
        return window_title(report)

    def get_urls(self):
        run = admin_view_requiring(self, self.run_view, "view")
        csv = admin_view_requiring(self, self.csv_view, "view")
        return [
            path("<path:object_id>/run/", run, name="reports_report_run"),
            path("<path:object_id>/run/csv/", csv, name="reports_report_run_csv"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, *args, **kwargs):
        context["report_field_suggestions"] = field_suggestions()
        return super().render_change_form(request, context, *args, **kwargs)

    def _report(self, request: HttpRequest, object_id: str) -> Report:
        report = get_object_or_404(Report.objects.prefetch_related("parameters"), pk=object_id)
        if not self.has_view_permission(request, report):
            raise PermissionDenied
        return report

    def run_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        report = self._report(request, object_id)
        parameters = list(report.parameters.all())
        form = RunForm(request.GET or None, parameters=parameters)
        result: ReportResult | None = None
        error = ""
        values: dict[str, str] = {}
        if form.is_bound and form.is_valid():
            values = form.values()
        if not form.is_bound or form.is_valid():
            try:
                result = report_run(report=report, parameters=values)
            except ReportError as exc:
                error = str(exc)
        context = {
            **self.admin_site.each_context(request),
            "opts": Report._meta,
            "title": f"Run {report.name}",
            "report": report,
            "form": form,
            "result": result,
            "error": error,
            "chart": bar_chart(result.rows) if result else None,
            "elapsed": f"{result.elapsed_ms:.0f}" if result else "",
            "summary": summary(report),
            "group_title": report.group_by or "all rows",
            "metric_title": metric_title(report),
            "csv_url": reverse("admin:reports_report_run_csv", args=[report.pk])
            + (f"?{urlencode(values)}" if values else ""),
        }
        return TemplateResponse(request, "admin/reports/report/run.html", context)

    def csv_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        report = self._report(request, object_id)
        try:
            result = report_run(report=report, parameters=dict(request.GET.items()))
        except ReportError as exc:
            return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="report-{report.pk}.csv"'
        writer = csv.writer(response)
        writer.writerow([report.group_by or "group", metric_title(report)])
        for group, value in result.rows:
            writer.writerow(["" if group is None else group, "" if value is None else value])
        return response


def metric_title(report: Report) -> str:
    if report.metric == Report.Metric.COUNT:
        return "count"
    return f"{report.metric} of {report.metric_field}"


def window_title(report: Report) -> str:
    if report.window_days:
        return f"last {report.window_days} day{'s' if report.window_days != 1 else ''}"
    if report.window_from or report.window_to:
        start = f"{report.window_from:%Y-%m-%d %H:%M}" if report.window_from else "…"
        end = f"{report.window_to:%Y-%m-%d %H:%M}" if report.window_to else "…"
        return f"{start} – {end}"
    return "all time"


def summary(report: Report) -> str:
    subject = SUBJECTS[report.subject].label
    grouped = f" by {report.group_by}" if report.group_by else ""
    where = f", where {report.filter}" if report.filter.strip() else ""
    return f"{subject}: {metric_title(report)}{grouped}, {window_title(report)}{where}."
