"""Destinations (DESIGN §9): where profile and event data is sent, and the record of each send.

A profile change upserts one pending Delivery per (destination, profile); the dispatcher claims
due rows, renders the destination's mapping, sends through the resource's sender and records a
DeliveryAttempt per network call. JSON shapes:

- Resource.credentials: per resource type, see `apps.destinations.senders.*.CREDENTIALS_SCHEMA`
  (webhook: {"headers": {...}, "basic_auth": {"username", "password"}}; rabbitmq: {"url"};
  smtp: {"host", "port", "username", "password", "security"}). Never shown in clear.
- Destination.mapping: an object template (apps.notation.render_template) over
  {"profile": ...} or {"event": ..., "profile": ...}; empty means that whole document.
- Destination.settings: per resource type, see `SETTINGS_SCHEMA` of each sender.
- Destination.removal_mapping: an object template like `mapping`, rendered for a profile that
  left the scheduled sync's audience (over {"profile": ...}, or {"profile": {"id": ...}} when
  the profile is gone); empty means removals are not sent.
- Delivery.payload: the rendered mapping of the last attempt.

Scheduled syncs (services.syncs): a profile destination may name an audience segment and a
schedule (a django-celery-beat PeriodicTask the services keep in step with the form fields);
each run is a DestinationSyncRun, and DestinationSyncMember is who the last run sent, so the
next run knows who left.
"""

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models

from apps.core.ids import new_id
from apps.destinations.senders import resource_type_choices
from apps.destinations.validation import credentials_errors, destination_errors


class Resource(models.Model):
    # The built-in types; plugins add theirs (choices are read from the senders' registry).
    class Type(models.TextChoices):
        # The destination senders' types (connectors add theirs: apps.destinations.connectors).
        WEBHOOK = "webhook", "HTTP webhook"
        RABBITMQ = "rabbitmq", "RabbitMQ"
        SMTP = "smtp", "E-mail (SMTP)"

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    type = models.CharField(max_length=32, choices=resource_type_choices)
    credentials = models.JSONField(default=dict, blank=True)
    # Tracardi's production/test pair: a workflow's test run uses these when set (a sandbox
    # account, a test channel), the production credentials otherwise. Same shape.
    test_credentials = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.type})"

    def __repr__(self) -> str:
        # Never let the credentials reach a log line through a repr.
        return f"<Resource {self.pk} {self.type}>"

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if problems := credentials_errors(resource_type=self.type, credentials=self.credentials):
            errors["credentials"] = problems
        if self.test_credentials and (
            problems := credentials_errors(
                resource_type=self.type, credentials=self.test_credentials
            )
        ):
            errors["test_credentials"] = [
                problem.replace("credentials.", "test_credentials.", 1) for problem in problems
            ]
        if self.pk and self.destinations.exclude(resource__type=self.type).exists():
            # Its destinations' settings are written for the current type's sender.
            errors["type"] = [
                "Destinations use this resource with settings for its current type; give them "
                "another resource first, or create a new resource of this type."
            ]
        if errors:
            raise ValidationError(errors)


class Destination(models.Model):
    class Kind(models.TextChoices):
        PROFILE = "profile", "Profile (debounced sync on profile change)"
        EVENT = "event", "Event (one delivery per matching event)"

    class SyncEvery(models.TextChoices):
        NEVER = "", "Never (only 'Send now')"
        DAY = "day", "Every day at HH:MM"
        HOURS = "hours", "Every N hours"
        CRONTAB = "crontab", "Crontab"

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="destinations")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PROFILE)
    condition = models.TextField(
        blank=True,
        help_text="Logic notation, e.g. profile@data.contact.email.main EXISTS. "
        "Empty: always send.",
    )
    mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text='Object template, e.g. {"email": "profile@data.contact.email.main", '
        '"plan?": "profile@traits.plan"}. Missing values are sent as null; a key ending in ? is '
        "left out instead. Empty: the whole profile (and event) document.",
    )
    settings = models.JSONField(
        default=dict,
        blank=True,
        help_text="Sender settings; the shape depends on the resource type.",
    )
    delay_seconds = models.PositiveIntegerField(
        default=20,
        help_text="Profile: quiet period after the last change before syncing. "
        "Event: how long to postpone each delivery (0: at once).",
    )
    max_delay_seconds = models.PositiveIntegerField(
        default=60,
        help_text="Profile: sync no later than this after the first pending change, even if "
        "changes keep coming.",
    )
    enabled = models.BooleanField(default=True)
    required_consent = models.ForeignKey(
        "profiles.ConsentType",
        null=True,
        blank=True,
        # A consent type in use must not vanish: the destination would start sending everyone.
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Send only profiles that granted this consent (and have not revoked it); the "
        "others are recorded as skipped. Empty: every profile.",
    )
    forward_erasures = models.BooleanField(
        default=False,
        help_text="Webhook resources: when a person is forgotten, send a deletion request "
        '(data {"action": "delete", "profile_ids": [...], "erasure_id": ...}).',
    )
    event_type = models.CharField(
        max_length=100, blank=True, help_text="Event destinations: the event type (empty: any)."
    )
    source = models.ForeignKey(
        "sources.EventSource",
        null=True,
        blank=True,
        # Not SET_NULL: a destination limited to one source must not widen to every source.
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Event destinations: only events from this source (empty: any source).",
    )
    # Scheduled sync (an audience activation), profile destinations only.
    sync_segment = models.ForeignKey(
        "profiles.Segment",
        null=True,
        blank=True,
        # A segment that an audience sync sends must not vanish under it.
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="audience segment",
        help_text="Scheduled sync and 'Send now': every profile of this segment (that also "
        "passes the condition above) is sent. Empty: no scheduled sync.",
    )
    sync_every = models.CharField(
        max_length=16,
        choices=SyncEvery.choices,
        blank=True,
        default="",
        verbose_name="sync schedule",
        help_text="When the audience is synced. 'Never' leaves only the 'Send now' button.",
    )
    sync_time = models.TimeField(
        null=True,
        blank=True,
        verbose_name="at (HH:MM)",
        help_text="Every day: the time of day, e.g. 02:00 (server time zone).",
    )
    sync_interval_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        verbose_name="every N hours",
        help_text="Every N hours: the number of hours between two syncs, e.g. 6.",
    )
    sync_crontab = models.CharField(
        max_length=100,
        blank=True,
        verbose_name="crontab",
        help_text="Crontab: five fields, minute hour day-of-month month day-of-week, e.g. "
        "'0 2 * * 1-5' (02:00 on weekdays), server time zone.",
    )
    sync_periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Kept in step with the schedule fields by services.syncs.",
    )
    removal_mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text="Object template sent for a profile that left the audience since the last "
        'sync, e.g. {"action": "remove", "email": "profile@data.contact.email.main"}. Empty: '
        "removals are not sent.",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_delay_seconds__gte=models.F("delay_seconds")),
                name="destination_max_delay_not_below_delay",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # Stored event types are lower-case with spaces as dashes (DESIGN §4.1).
        self.event_type = self.event_type.strip().lower().replace(" ", "-")
        errors = destination_errors(self)
        if errors:
            raise ValidationError(errors)


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"
        SKIPPED = "skipped", "Skipped (no consent, condition false or superseded)"

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    # Deliveries are written at the rate of events. The keys get no single-column index
    # (Django's would add a second, LIKE-pattern one on text keys): delivery_health and
    # delivery_profile_created lead with them, and delivery_event serves an event's lineage.
    # The event keeps no database constraint (checked on every insert, on the hottest table's
    # key): deliveries go with their event through the ORM's cascade (erasure, purge).
    destination = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    profile = models.ForeignKey(
        "profiles.Profile",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    event = models.ForeignKey(
        "events.Event",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    is_test = models.BooleanField(default=False, help_text="A 'send test' from the admin.")
    due_at = models.DateTimeField()
    first_change_at = models.DateTimeField()
    # first_change_at + the destination's max delay: the debounce never pushes due_at past it.
    latest_due_at = models.DateTimeField()
    changed_fields = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # `attempts` when the current retry round began (an admin retry starts a new round, while the
    # attempt numbers, part of the idempotency key, keep growing).
    round_start_attempts = models.PositiveIntegerField(default=0)
    # The attempt whose network call had begun when its worker was lost: the next send reuses
    # its number, hence its idempotency key, so a receiver can drop the duplicate.
    in_flight_attempt = models.PositiveIntegerField(null=True, blank=True)
    recoveries = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(null=True, blank=True)
    # A deletion request (services.erasure_forwarding): the erasure record it forwards. Its
    # payload is set when it is recorded, as the profile it is about is gone.
    # (A database default too: the scheduling inserts are SQL that does not name it.)
    erasure_id = models.CharField(max_length=64, blank=True, default="", db_default="")
    # A profile that left a scheduled sync's audience: rendered with the destination's
    # removal_mapping over the profile, or over {"id": removed_profile_id} when the profile is
    # gone (deleted or merged away). (Database defaults: the scheduling SQL does not name them.)
    is_removal = models.BooleanField(default=False, db_default=False)
    removed_profile_id = models.CharField(max_length=64, blank=True, default="", db_default="")
    sync_run = models.ForeignKey(
        "DestinationSyncRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
        # Most deliveries have no run: the partial index below serves the run's figures
        # without a full index on the hot insert path.
        db_index=False,
        help_text="The scheduled sync (or 'Send now') that queued this delivery.",
    )
    last_error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField()
    updated = models.DateTimeField()

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            # The debounce invariant: at most one pending profile sync per (destination, profile).
            # profile_deliveries_schedule upserts against exactly this index.
            models.UniqueConstraint(
                fields=["destination", "profile"],
                condition=models.Q(status="pending", event__isnull=True),
                name="delivery_one_pending_per_profile",
            ),
            models.UniqueConstraint(
                fields=["destination", "event"],
                condition=models.Q(event__isnull=False),
                name="delivery_one_per_event",
            ),
            models.UniqueConstraint(
                fields=["destination", "erasure_id"],
                condition=~models.Q(erasure_id=""),
                name="delivery_one_per_erasure",
            ),
        ]
        indexes = [
            # The dispatcher's scan: due pending rows per destination.
            models.Index(
                fields=["destination", "due_at"],
                name="delivery_pending_due",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["claimed_at"],
                name="delivery_sending_claimed",
                condition=models.Q(status="sending"),
            ),
            models.Index(fields=["destination", "status", "finished_at"], name="delivery_health"),
            # An event's lineage (its deliveries); the event's cascade in the ORM.
            models.Index(fields=["event"], name="delivery_event"),
            models.Index(fields=["profile", "-created"], name="delivery_profile_created"),
            models.Index(fields=["-created"], name="delivery_created"),
            # A sync run's sent / failed / pending figures.
            models.Index(
                fields=["sync_run", "status"],
                name="delivery_sync_run",
                condition=models.Q(sync_run__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        if self.erasure_id:
            about = f"erasure {self.erasure_id}"
        else:
            about = self.profile_id or self.event_id or self.removed_profile_id
        if self.is_removal:
            about = f"removal of {about}"
        return f"{self.destination_id} → {about} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        return f"{self.pk}-{self.in_flight_attempt or self.attempts}"


class DeliveryAttempt(models.Model):
    class Outcome(models.TextChoices):
        IN_FLIGHT = "in_flight", "In flight"
        SENT = "sent"
        RETRY = "retry", "Failed, will retry"
        FAILED = "failed"
        LOST = "lost", "Worker lost during the send (outcome unknown)"

    # Indexed by attempt_delivery_started and attempt_destination (Meta): no LIKE-pattern copies.
    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempts_log", db_index=False
    )
    # Denormalised so the destination's "last error" is one index scan.
    destination = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    number = models.PositiveIntegerField(help_text="Attempt number; part of the idempotency key.")
    is_test = models.BooleanField(default=False)
    started = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.IN_FLIGHT)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    response_excerpt = models.TextField(blank=True)

    class Meta:
        ordering = ["started", "id"]
        indexes = [
            models.Index(fields=["delivery", "started"], name="attempt_delivery_started"),
            models.Index(fields=["destination"], name="attempt_destination"),
            # The retention purge's range of old attempts (CDP_DELIVERY_ATTEMPT_RETENTION_DAYS).
            models.Index(fields=["started"], name="attempt_started"),
            models.Index(
                fields=["destination", "-started"],
                name="attempt_destination_error",
                condition=~models.Q(error=""),
            ),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.outcome}"


class DestinationSyncRun(models.Model):
    """One scheduled sync (or 'Send now') of a destination's audience: what it queued, in
    bounded batches (services.syncs). Its deliveries are linked (Delivery.sync_run), so what was
    sent and what failed is counted from them."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule"
        SEND_NOW = "send_now", "Send now"

    class Status(models.TextChoices):
        RUNNING = "running", "Queueing"
        QUEUED = "queued", "Queued (deliveries are sent by the dispatcher)"
        SKIPPED = "skipped"
        FAILED = "failed"

    class Phase(models.TextChoices):
        MEMBERS = "members"
        REMOVALS = "removals"
        DONE = "done"

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    # Indexed by sync_run_latest (destination, -started).
    destination = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="sync_runs", db_index=False
    )
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    requested_by = models.CharField(max_length=150, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    # Where the run is: its phase and the last profile id it went past (keyset pagination).
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.MEMBERS)
    cursor = models.CharField(max_length=64, blank=True)
    segment_slug = models.CharField(max_length=200, blank=True)
    started = models.DateTimeField()
    # Heartbeat: each batch moves it; a running run that stopped moving is stale.
    updated = models.DateTimeField()
    finished = models.DateTimeField(null=True, blank=True)
    members_queued = models.PositiveIntegerField(default=0)
    already_pending = models.PositiveIntegerField(
        default=0, help_text="Members whose pending delivery was waiting already (merged)."
    )
    skipped_by_condition = models.PositiveIntegerField(default=0)
    removals_queued = models.PositiveIntegerField(default=0)
    left_not_sent = models.PositiveIntegerField(
        default=0, help_text="Profiles that left the audience, not sent: no removal mapping."
    )
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started"]
        constraints = [
            # Two syncs of one destination never queue at once.
            models.UniqueConstraint(
                fields=["destination"],
                condition=models.Q(status="running"),
                name="sync_run_one_running_per_destination",
            )
        ]
        indexes = [models.Index(fields=["destination", "-started"], name="sync_run_latest")]

    def __str__(self) -> str:
        return f"sync of {self.destination_id} at {self.started:%Y-%m-%d %H:%M} ({self.status})"


class DestinationSyncMember(models.Model):
    """Who a destination's last sync sent: (destination, profile id) with the run that last saw
    it. A run stamps its members; rows it did not stamp left the audience. No foreign key to
    the profile: a profile deleted or merged away must still be sent as removed."""

    # Indexed by the unique (destination, profile_id).
    destination = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    profile_id = models.CharField(max_length=64)
    run_id = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["destination", "profile_id"], name="sync_member_one_per_profile"
            )
        ]

    def __str__(self) -> str:
        return f"{self.profile_id} in the audience of {self.destination_id}"
