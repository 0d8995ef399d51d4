from django.db import models

from apps.core.ids import new_id
from apps.reports.subjects import SUBJECT_CHOICES


class Report(models.Model):
    """A saved, parameterised query: rows of one subject (events, profiles, sessions or
    entities) that match `filter` (logic notation over `<subject>@...`, where `{{name}}` stands
    for a parameter's value) within a time window, grouped by one field, measured by one metric.
    Validation and writes: apps.reports.services; running: apps.reports.running."""

    class Metric(models.TextChoices):
        COUNT = "count", "Count of rows"
        SUM = "sum", "Sum of a field"
        AVG = "avg", "Average of a field"
        MIN = "min", "Minimum of a field"
        MAX = "max", "Maximum of a field"

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    subject = models.CharField(max_length=16, choices=SUBJECT_CHOICES, default="event")
    filter = models.TextField(
        blank=True,
        help_text='Which rows count, e.g. event@type == "purchase" AND '
        "event@properties.total > {{min_total}}. Empty: all rows.",
    )
    window_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Only rows of the last N days (by the subject's time). Empty: no limit, or the "
        "dates below.",
    )
    window_from = models.DateTimeField(null=True, blank=True, help_text="From (inclusive).")
    window_to = models.DateTimeField(null=True, blank=True, help_text="To (exclusive).")
    group_by = models.CharField(
        max_length=200,
        blank=True,
        help_text="One row per value of this field, e.g. type, source or properties.country. "
        "Empty: one total.",
    )
    metric = models.CharField(max_length=8, choices=Metric.choices, default=Metric.COUNT)
    metric_field = models.CharField(
        max_length=200,
        blank=True,
        help_text="The number measured (not for count), e.g. properties.total.",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReportParameter(models.Model):
    """A named, typed value the filter refers to as {{name}}; a run may give another value."""

    class Type(models.TextChoices):
        TEXT = "text", "Text"
        NUMBER = "number", "Number"
        BOOLEAN = "boolean", "Yes / no"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="parameters")
    name = models.CharField(
        max_length=64, help_text="Letters, digits and _, e.g. min_total; used as {{min_total}}."
    )
    type = models.CharField(max_length=8, choices=Type.choices, default=Type.TEXT)
    default = models.CharField(
        max_length=500, blank=True, help_text="The value when a run gives none (true/false)."
    )
    required = models.BooleanField(
        default=False, help_text="A run must give a value (the default is not used)."
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["report", "name"], name="reportparameter_unique_name")
        ]

    def __str__(self) -> str:
        return self.name
