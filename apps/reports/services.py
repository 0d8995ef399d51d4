"""Writing reports: the whole definition (fields and parameters) is checked first, then written
in one transaction, so a refused report stores nothing."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.reports.definition import Definition, Parameter, ReportError, definition_check
from apps.reports.models import Report, ReportParameter

REPORT_FIELDS = (
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


def report_definition_from(fields: dict[str, Any], parameters: list[dict]) -> Definition:
    return Definition(
        subject=fields.get("subject", "event"),
        filter=fields.get("filter") or "",
        window_days=fields.get("window_days"),
        window_from=fields.get("window_from"),
        window_to=fields.get("window_to"),
        group_by=fields.get("group_by") or "",
        metric=fields.get("metric") or "count",
        metric_field=fields.get("metric_field") or "",
        parameters=tuple(
            Parameter(
                name=p["name"],
                type=p.get("type", "text"),
                default=p.get("default", ""),
                required=p.get("required", False),
            )
            for p in parameters
        ),
    )


def report_save(*, report: Report | None, fields: dict[str, Any], parameters: list[dict]) -> Report:
    """Create (report None) or replace a report and its parameters."""
    definition_check(report_definition_from(fields, parameters))
    name = fields.get("name", "").strip()
    if not name:
        raise ReportError("Give the report a name.", field="name")
    taken = Report.objects.filter(name=name)
    if report is not None:
        taken = taken.exclude(pk=report.pk)
    if taken.exists():
        raise ReportError(f"A report named {name!r} exists already.", field="name")
    with transaction.atomic():
        report = report or Report()
        for key in REPORT_FIELDS:
            setattr(report, key, fields.get(key, getattr(Report, key).field.get_default()))
        report.name = name
        report.save()
        report.parameters.all().delete()
        ReportParameter.objects.bulk_create(
            ReportParameter(
                report=report,
                name=p["name"],
                type=p.get("type", "text"),
                default=p.get("default", ""),
                required=p.get("required", False),
            )
            for p in parameters
        )
    return report
