"""API keys for the management API (/api/v1/).

The key itself is shown once, when it is created; only its SHA-256 is kept (a key is 256 random
bits, so a fast hash is as safe as a slow one) with its first characters (`prefix`), which find
the row and name the key in the admin and the logs.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from apps.api.scopes import SCOPE_CHOICES
from apps.core.ids import new_id


class ApiKey(models.Model):
    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    name = models.CharField(max_length=200, help_text="Who or what uses it, e.g. CRM sync.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = ArrayField(
        models.CharField(max_length=32, choices=SCOPE_CHOICES),
        help_text="What the key may do: read or write per area, or everything.",
    )
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty: the key does not expire."
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
