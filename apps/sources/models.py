from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models

from apps.core.ids import new_id

# The source of the events the CDP stores itself without a visitor's request (segment-entered,
# segment-left, and the unsaved scheduled-run): Tracardi keeps an internal source for these too.
# Created on first use (services.internal_source_ensure), not by a data migration: a row every
# database starts with would show in every list and count of sources, and a flushed database
# (transactional tests) loses it anyway. Disabled, so that no client can send to it: /track and
# /collect refuse disabled sources.
INTERNAL_SOURCE_ID = "@internal"
INTERNAL_SOURCE_NAME = "Internal (system events)"
INTERNAL_SOURCE_DESCRIPTION = (
    "Events the CDP stores itself: segment-entered and segment-left. Rules may route its "
    "events; it stays disabled, so that no tracker or webhook can send to it."
)


class EventSource(models.Model):
    """Where traffic comes from. `config` keys (Tracardi's names):

    - static_profile_id (bool): trust an unknown `profile.id` and create the profile with it.
    - generate_profile (bool): /collect creates a profile when no session names one.
    - replace_profile_id (str): a dot path into the /collect body whose value is the profile id.
    Ids chosen that way are static (`Profile.static_ids`): only sources with static_profile_id
    or replace_profile_id resolve them; ordinary sources resolve server-issued ids only.
    - rate_limit (object): {"source": n, "client": n, "window_seconds": s}, requests per window
      for the whole source and per client address, each replacing the CDP_RATE_LIMIT_*
      setting for this source (0: no limit); see apps.tracking.ratelimit.
    """

    class Bridge(models.TextChoices):
        REST = "rest", "REST API (/track)"
        WEBHOOK = "webhook", "Webhook (/collect)"
        REDIRECT = "redirect", "Redirect link (/redirect)"

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    bridge = models.CharField(max_length=16, choices=Bridge.choices, default=Bridge.REST)
    enabled = models.BooleanField(default=True)
    transitional = models.BooleanField(
        default=False,
        help_text="Ephemeral: events are processed by workflows, the profile is saved, but the "
        "session and the events are not stored (as Tracardi's transitional sources).",
    )
    channel = models.CharField(max_length=100, blank=True)
    tags = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    config = models.JSONField(default=dict, blank=True)
    retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Keep this source's events this many days (by event time), then the nightly "
        "purge deletes them. Empty: the global CDP_EVENT_RETENTION_DAYS (unset: forever); "
        "0: forever, whatever the global setting.",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.bridge})"

    def clean(self) -> None:
        problem = rate_limit_problem(self.config.get("rate_limit"))
        if problem:
            raise ValidationError({"config": f"rate_limit: {problem}"})

    @property
    def static_profile_ids(self) -> bool:
        return bool(self.config.get("static_profile_id"))


RATE_LIMIT_KEYS = {"source": 0, "client": 0, "window_seconds": 1}  # the smallest value of each


def rate_limit_problem(value) -> str | None:
    """What is wrong with a `config.rate_limit` value, or None (absent is fine)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        return 'an object like {"source": 1000, "client": 60, "window_seconds": 60}'
    for key, item in value.items():
        if key not in RATE_LIMIT_KEYS:
            return f"unknown key {key!r} (use {', '.join(RATE_LIMIT_KEYS)})"
        smallest = RATE_LIMIT_KEYS[key]
        if isinstance(item, bool) or not isinstance(item, int) or item < smallest:
            return f"{key} must be a whole number of at least {smallest}"
    return None


class RedirectLink(models.Model):
    """A tracked link: /redirect/{id} stores an event, then answers 307 to `url`.

    `props` is an object template over payload.params (query), payload.body and session.
    """

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    url = models.URLField(max_length=2000)
    event_type = models.CharField(max_length=100, default="redirect")
    source = models.ForeignKey(
        EventSource,
        on_delete=models.PROTECT,
        related_name="redirect_links",
        limit_choices_to={"bridge": EventSource.Bridge.REDIRECT},
    )
    props = models.JSONField(default=dict, blank=True)
    tags = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
