"""Events. JSON shapes:

- metadata: {"time": {"insert", "create", "process_time"}, "ip", "status", "channel",
  "processed_by": {"rules": [...], "workflows": [...]}, "profile_less": bool, "valid": bool}
- context: the client's event context merged over the request's (page, browser, ...).
- request: the client's `request` block plus the request headers (no authorization, cookie).
- tags: {"values": [...], "count": n}
"""

from django.db import models

from apps.core.ids import new_id


class Event(models.Model):
    class Status(models.TextChoices):
        COLLECTED = "collected", "Collected (waiting for workflows)"
        PROCESSED = "processed"
        INVALID = "invalid", "Invalid (quarantined)"
        ERROR = "error"

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    type = models.CharField(max_length=100)
    source = models.ForeignKey(
        "sources.EventSource", on_delete=models.PROTECT, related_name="events"
    )
    profile = models.ForeignKey(
        "profiles.Profile", null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    session = models.ForeignKey(
        "profiles.Session", null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    time = models.DateTimeField(help_text="When the event happened (client time if sent).")
    inserted = models.DateTimeField(help_text="When the server stored it.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COLLECTED)
    status_message = models.TextField(blank=True)
    is_bot = models.BooleanField(default=False)
    properties = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True)
    traits = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    request = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["profile", "time"], name="event_profile_time"),
            models.Index(fields=["type", "-time"], name="event_type_time"),
            models.Index(fields=["-inserted"], name="event_inserted"),
            models.Index(fields=["session", "time"], name="event_session_time"),
            # The re-enqueue sweep and the quarantine list scan only these small sets.
            models.Index(
                fields=["inserted"],
                name="event_collected_inserted",
                condition=models.Q(status="collected"),
            ),
            models.Index(
                fields=["inserted"],
                name="event_invalid_inserted",
                condition=models.Q(status="invalid"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"
