"""Daily figures for the admin's trend charts (apps.core.metrics)."""

from django.db import models


class DailyMetric(models.Model):
    """One figure of one day: e.g. ("events.type", "page-view") = 1,234 on 2026-12-01.

    Counted by each app over its own tables (a range over an index on a time column) and
    written by the refresh job of apps.tracking.trends, so the charts read a few hundred rows
    however large the event tables grow. Snapshot figures (a segment's size) are the value at
    the day's last refresh."""

    day = models.DateField()
    name = models.CharField(max_length=64)
    dimension = models.CharField(max_length=200, blank=True, default="")
    value = models.BigIntegerField()
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "day", "dimension"], name="dailymetric_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.name} {self.dimension}: {self.value}"
