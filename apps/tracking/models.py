"""The record of every purge (the nightly retention job and `manage.py purge`).

JSON shapes:
- PurgeRecord.filters: what was asked, e.g. {"events_older_than": "90d", "types": ["page-view"],
  "sources": ["web"]}, or {"retention": {...}} for the nightly job; "cutoffs": {"<what>":
  "<iso time>"}, the times before which rows went (fixed when the purge starts, so a job that
  resumes keeps them).
- PurgeRecord.deleted: rows deleted (or, in a dry run, selected) per table:
  {"events": n, "workflow_runs": n, "deliveries": n, "delivery_attempts": n, "sessions": n,
  "profiles": n}.
"""

from django.db import models

from apps.core.ids import new_id


class PurgeRecord(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    what = models.CharField(max_length=300, help_text="What was purged, in words.")
    filters = models.JSONField(default=dict, blank=True)
    deleted = models.JSONField(default=dict, blank=True)
    actor = models.CharField(max_length=200, help_text="`beat` for the nightly job.")
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(default=0.0, help_text="Time spent deleting, in total.")

    class Meta:
        indexes = [models.Index(fields=["-started_at"], name="purgerecord_started")]

    def __str__(self) -> str:
        return f"{self.what} ({self.started_at:%Y-%m-%d %H:%M})"
