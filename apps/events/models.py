"""Events. JSON shapes:

- metadata: {"time": {"insert", "create", "process_time"}, "ip", "status", "channel",
  "processed_by": {"rules": [...], "workflows": [...]}, "profile_less": bool, "valid": bool}
- context: the client's event context merged over the request's (page, browser, ...).
- request: the client's `request` block plus the request headers (no authorization, cookie).
- tags: {"values": [...], "count": n}
"""

from datetime import UTC, datetime

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex
from django.core.exceptions import ValidationError
from django.db import models

from apps.core.ids import new_id
from apps.events.validation import (
    event_type_errors,
    indexed_property_errors,
    mapping_errors,
    reshaping_errors,
)
from apps.profiles.models import ImportJobBase

EARLIEST_TIME = datetime(1, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


class Event(models.Model):
    class Status(models.TextChoices):
        COLLECTED = "collected", "Collected (waiting for workflows)"
        PROCESSED = "processed"
        INVALID = "invalid", "Invalid (quarantined)"
        ERROR = "error"

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    type = models.CharField(max_length=100)
    # The hottest table: every index and foreign-key check is paid on every insert. The keys
    # get no single-column index (Django's would add a second, LIKE-pattern one on text keys);
    # the composite indexes in Meta lead with them. Only the profile keeps its database
    # constraint: a merge that deletes the profile while a request stores events for it
    # fails that request's commit, which then resolves the survivor (pipeline.track_ingest).
    # Sources are never deleted while they have events (PROTECT, checked by the ORM through
    # event_source_inserted) and sessions go only with their events (the ORM's cascade in
    # erasure, purge and retention), so those two constraints would only cost.
    source = models.ForeignKey(
        "sources.EventSource",
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    profile = models.ForeignKey(
        "profiles.Profile",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
    )
    session = models.ForeignKey(
        "profiles.Session",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
        db_constraint=False,
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
    # Tracardi's `hit`: the page of the event ({name, url, referer}), from context.page; a
    # database default, so that the other bulk inserts (imports) need not name it.
    hit = models.JSONField(default=dict, db_default={}, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["profile", "time"], name="event_profile_time"),
            # Aggregates over a profile's events of some types in a time window
            # (apps.events.history): one range of this index per type.
            models.Index(fields=["profile", "type", "time"], name="event_profile_type_time"),
            models.Index(fields=["type", "-time"], name="event_type_time"),
            models.Index(fields=["-inserted"], name="event_inserted"),
            # The events list and the API filtered by source, newest first; the PROTECT check.
            models.Index(fields=["source", "-inserted"], name="event_source_inserted"),
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
            # The admin's status=error and is_bot filters (and their bounded counts): small
            # sets, newest stored first. Rows outside them cost a partial index nothing on
            # insert. status=processed (most events) walks event_inserted instead.
            models.Index(
                fields=["-inserted"],
                name="event_error_inserted",
                condition=models.Q(status="error"),
            ),
            models.Index(
                fields=["-inserted"],
                name="event_bot_inserted",
                condition=models.Q(is_bot=True),
            ),
            # A worker's one hot query: a profile's collected events in order. Created by
            # workflows migration 0002 (as SQL, before this declaration existed).
            models.Index(
                fields=["profile", "time", "inserted"],
                name="event_profile_collected",
                condition=models.Q(status="collected"),
            ),
        ]

        constraints = [
            # PostgreSQL stores times Python cannot read back (before year 1 or after 9999 in
            # UTC, 'infinity'): one such row would fail every query that reads it. Ingestion
            # refuses them with a 422; this keeps every other writer from storing one.
            models.CheckConstraint(
                condition=models.Q(time__gte=EARLIEST_TIME, time__lte=LATEST_TIME),
                name="event_time_readable",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class StoredEventId(models.Model):
    """The ids of the stored events, one row each: the unique index the partitioned events
    table cannot have (its key must include `inserted`). Every insert into events_event claims
    its id here first (the trigger event_id_claim, migration 0017) and is skipped when the id
    was claimed before, whatever partition holds it (apps.events.partitions)."""

    id = models.CharField(primary_key=True, max_length=64)
    # When the id was claimed (the event's `inserted`): dropping a month partition forgets the
    # ids of that month through this BRIN index, which costs next to nothing on insert.
    inserted = models.DateTimeField()

    class Meta:
        indexes = [BrinIndex(fields=["inserted"], name="storedeventid_inserted")]

    def __str__(self) -> str:
        return self.id


class EventType(models.Model):
    """What the platform knows about one event type: its description, the journey state it
    marks, an optional JSON schema for its properties (events that break it are quarantined)
    and how its events fill the profile (EventTypeMapping rows)."""

    class JourneyState(models.TextChoices):
        # Tracardi's customer journey states.
        AWARENESS = "awareness"
        CONSIDERATION = "consideration"
        PURCHASE = "purchase"
        RETENTION = "retention"
        LOYALTY = "loyalty"
        ADVOCACY = "advocacy"

    type = models.CharField(
        max_length=100,
        unique=True,
        help_text="Stored form: lower case, spaces as '-' (e.g. page-view).",
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    journey_state = models.CharField(
        max_length=16, choices=JourneyState.choices, blank=True, default=""
    )
    tags = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    json_schema = models.JSONField(
        null=True,
        blank=True,
        help_text="JSON Schema (draft 2020-12) for the event's properties. Empty: no "
        'validation. Example: {"type": "object", "required": ["email"], "properties": '
        '{"email": {"type": "string"}}}',
    )
    predefined = models.BooleanField(
        default=False, help_text="Installed with the platform (Tracardi's predefined types)."
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["type"]

    def __str__(self) -> str:
        return self.type

    def clean(self) -> None:
        errors = event_type_errors(self)
        if errors:
            raise ValidationError(errors)


class EventTypeMapping(models.Model):
    """One rule copying a value from an event of this type into the profile.

    `profile_path` is a dot path into the profile (`data.contact.email.main`); a part in
    double braces is read from the event (`interests.{{event@properties.interest}}`).
    `event_path` is a dot path into the event (`properties.email`), or a full reference to
    another source (`session@context.browser.name`).
    """

    class Operation(models.TextChoices):
        SET = "set", "Set (overwrite)"
        SET_IF_EMPTY = "set_if_empty", "Set if the profile has no value yet"
        APPEND = "append", "Append to a list (unique values)"
        ADD = "add", "Add the event's number"
        SUBTRACT = "subtract", "Subtract the event's number"
        INCREMENT = "increment", "Increment by a constant (the amount)"
        DELETE = "delete", "Delete the profile field"

    event_type = models.ForeignKey(EventType, on_delete=models.CASCADE, related_name="mappings")
    profile_path = models.CharField(
        max_length=300, help_text="Where in the profile, e.g. data.contact.email.main"
    )
    event_path = models.CharField(
        max_length=300,
        blank=True,
        help_text="Where in the event, e.g. properties.email (empty for 'increment' and 'delete').",
    )
    operation = models.CharField(max_length=16, choices=Operation.choices, default=Operation.SET)
    amount = models.FloatField(default=1, help_text="For 'increment': the constant to add.")
    condition = models.TextField(
        blank=True,
        help_text="Logic notation; the rule applies only when it holds, e.g. "
        "event@properties.email EXISTS. Empty: always.",
    )
    position = models.PositiveIntegerField(default=0, help_text="Rules apply in this order.")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["event_type", "position", "id"]
        indexes = [models.Index(fields=["event_type", "position"], name="eventtypemapping_order")]

    def __str__(self) -> str:
        if self.operation == self.Operation.DELETE:
            return f"profile@{self.profile_path} (delete)"
        return f"profile@{self.profile_path} <- {self.event_path or self.amount} ({self.operation})"

    def clean(self) -> None:
        errors = mapping_errors(self)
        if errors:
            raise ValidationError(errors)


class IndexedProperty(models.Model):
    """Event indexing (Tracardi: traits are typed and searchable, properties free-form): a
    property of this type's events copied into the event's `traits` under a name, cast to a
    type, when the event is stored (apps.events.indexing). A change applies to new events;
    "Re-index stored events" on the event type's page applies it to the stored ones."""

    class Type(models.TextChoices):
        TEXT = "text"
        NUMBER = "number"
        BOOLEAN = "boolean"
        DATETIME = "datetime", "Date and time"

    event_type = models.ForeignKey(
        EventType, on_delete=models.CASCADE, related_name="indexed_properties"
    )
    property = models.CharField(
        max_length=300, help_text="A dot path under the event's properties, e.g. order.total"
    )
    trait = models.CharField(
        max_length=100,
        help_text="The trait's name, e.g. order_total: the events list filters on "
        "traits.order_total=... and conditions read event@traits.order_total.",
    )
    type = models.CharField(max_length=8, choices=Type.choices, default=Type.TEXT)

    class Meta:
        ordering = ["event_type", "trait"]
        verbose_name = "indexed property"
        verbose_name_plural = "indexed properties"
        constraints = [
            models.UniqueConstraint(fields=["event_type", "trait"], name="indexed_property_trait")
        ]

    def __str__(self) -> str:
        return f"properties.{self.property} -> traits.{self.trait} ({self.type})"

    def clean(self) -> None:
        errors = indexed_property_errors(self)
        if errors:
            raise ValidationError(errors)


class EventReindexJob(models.Model):
    """A re-index of an event type's stored events after its indexed properties changed, run
    by a worker in batches (apps.events.indexing.events_reindex); its progress is shown on the
    event type's page."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    event_type = models.ForeignKey(EventType, on_delete=models.CASCADE, related_name="reindex_jobs")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveBigIntegerField(default=0, help_text="Stored events of the type.")
    done = models.PositiveBigIntegerField(default=0)
    requested_by = models.CharField(max_length=150)
    requested_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = "re-index"
        constraints = [
            # One at a time per type, even when two requests start one at once.
            models.UniqueConstraint(
                fields=["event_type"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_reindex_under_way",
            )
        ]

    def __str__(self) -> str:
        return f"re-index of {self.event_type_id} ({self.status})"


class EventReshaping(models.Model):
    """Tracardi's event reshaping: before an incoming event of this type is validated, mapped
    or routed, its properties and context are rewritten with object templates, and the
    session's context is completed, when the condition holds (apps.events.reshaping).

    Templates read `event@...` (the event as sent: type, properties, context, traits) and
    `session@context...` (the request's context); the profile is not known yet at that point.
    A missing reference renders as null. The first enabled reshaping (by position) whose
    source and condition match applies; the others are skipped.
    """

    event_type = models.ForeignKey(EventType, on_delete=models.CASCADE, related_name="reshapings")
    name = models.CharField(max_length=200)
    source = models.ForeignKey(
        "sources.EventSource",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Only events from this source. Empty: events from every source.",
    )
    condition = models.TextField(
        blank=True,
        help_text="Logic notation; reshape only when it holds, e.g. "
        "event@properties.sku EXISTS. Empty: always.",
    )
    properties = models.JSONField(
        null=True,
        blank=True,
        help_text="The event's new properties, an object template. Example: "
        '{"product": {"id": "event@properties.sku", "price": "event@properties.price"}}. '
        "Empty: the properties stay as sent.",
    )
    context = models.JSONField(
        null=True,
        blank=True,
        help_text="The event's new context, an object template. Example: "
        '{"page": "event@context.page", "campaign": "session@context.utm.campaign"}. '
        "Empty: the context stays as sent.",
    )
    session = models.JSONField(
        null=True,
        blank=True,
        help_text="Merged into the session's context, an object template. Example: "
        '{"shop": "event@properties.shop"}. Empty: the session is not changed.',
    )
    position = models.PositiveIntegerField(default=0, help_text="The first that matches applies.")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["event_type", "position", "id"]
        verbose_name = "reshaping"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = reshaping_errors(self)
        if errors:
            raise ValidationError(errors)


class QuarantinedEvent(Event):
    """Events stored `invalid` (their properties broke their type's schema), listed on their
    own in the admin with the action that checks them again."""

    class Meta:
        proxy = True
        verbose_name = "quarantined event"


class EventImportJob(ImportJobBase):
    """An import of historic events started from the admin (apps.events.import_jobs): the
    event source of events that name none, how events find their profile, and the counts.
    Events are stored as processed history (no workflow runs; `manage.py import_events
    --process` hands them to the workers)."""

    # The source of events that name none ("": each event names its own).
    source_id = models.CharField(max_length=64, blank=True)
    # "PROFILE_FIELD=EVENT_PATH" pairs (all must match); empty: the profile id the event names.
    match = models.JSONField(default=list, blank=True)
    stored = models.PositiveBigIntegerField(default=0)
    already_stored = models.PositiveBigIntegerField(default=0)

    COUNTS = ("stored", "already_stored")
    AGAIN = "events already stored are not stored twice"

    class Meta:
        ordering = ["-uploaded_at"]
        verbose_name = "event import"
        indexes = [
            models.Index(
                fields=["progress_at"],
                name="eventimportjob_running",
                condition=models.Q(status="running"),
            ),
        ]
