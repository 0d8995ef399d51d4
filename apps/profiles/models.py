"""Profile and Session, in the shape of Tracardi's Profile and Session objects.

JSON shapes (see docs/profile.md for the full picture):
- Profile.metadata: {"time": {"insert", "create", "update", "segmentation",
  "visit": {"last", "current", "count", "tz"}}, "fields": {"<dot path>": "<iso time>"},
  "system": {...}}
- Profile.stats, traits, interests ({"<name>": number}), consents ({"<id>": {"revoke": iso|null}}),
  aux: open objects.
- Profile.data: {"pii": {...}, "contact": {"email": {"main", "business", "private"}, "phone": ...},
  "identifier": {...}, "devices": {...}, "media": {...}, "preferences": {...}, "job": {...},
  "loyalty": {...}, "metrics": {...}}
"""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models.fields.json import KT
from django.db.models.functions import Lower

from apps.core.ids import new_id


def empty_profile_data() -> dict:
    return {
        "pii": {},
        "contact": {"email": {}, "phone": {}, "address": {}},
        "identifier": {},
        "devices": {},
        "media": {},
        "preferences": {},
        "job": {},
        "loyalty": {},
        "metrics": {},
    }


class Profile(models.Model):
    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    primary_id = models.CharField(max_length=200, null=True, blank=True)
    # Ids of profiles merged into this one; a lookup by any of them finds this profile.
    ids = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    active = models.BooleanField(default=True)
    segments = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    created = models.DateTimeField()
    updated = models.DateTimeField()
    visit_count = models.PositiveIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    stats = models.JSONField(default=dict, blank=True)
    traits = models.JSONField(default=dict, blank=True)
    interests = models.JSONField(default=dict, blank=True)
    consents = models.JSONField(default=dict, blank=True)
    aux = models.JSONField(default=dict, blank=True)
    data = models.JSONField(default=empty_profile_data, blank=True)

    class Meta:
        indexes = [
            GinIndex(fields=["ids"], name="profile_ids_gin"),
            GinIndex(fields=["segments"], name="profile_segments_gin"),
            models.Index(fields=["-updated"], name="profile_updated_idx"),
            models.Index(Lower(KT("data__contact__email__main")), name="profile_email_main_idx"),
        ]

    def __str__(self) -> str:
        email = (self.data or {}).get("contact", {}).get("email", {}).get("main")
        return email or self.id

    @property
    def email(self) -> str | None:
        return (self.data or {}).get("contact", {}).get("email", {}).get("main")


class Session(models.Model):
    class Status(models.TextChoices):
        STARTED = "started"
        ENDED = "ended"

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    profile = models.ForeignKey(
        Profile, null=True, blank=True, on_delete=models.CASCADE, related_name="sessions"
    )
    created = models.DateTimeField()
    updated = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STARTED)
    is_bot = models.BooleanField(default=False)
    metadata = models.JSONField(default=dict, blank=True)
    device = models.JSONField(default=dict, blank=True)
    os = models.JSONField(default=dict, blank=True)
    app = models.JSONField(default=dict, blank=True)
    utm = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True)
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["profile", "-updated"], name="session_profile_updated")]

    def __str__(self) -> str:
        return self.id
