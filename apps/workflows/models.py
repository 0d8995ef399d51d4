"""Workflows, the rules that route events to them, and the record of every run.

JSON shapes:

- Workflow.graph: {"nodes": [Node], "edges": [Edge]} in the shape Tracardi exports (DESIGN §8):
  Node = {"id", "type", "position": {"x", "y"}, "data": {"start": bool, "debug": bool,
  "spec": {"className", "module", "inputs": [port], "outputs": [port], "init": {config}},
  "metadata": {"name", "desc"}}};
  Edge = {"id", "source": node id, "sourceHandle": output port, "target": node id,
  "targetHandle": input port}.
- Workflow.draft: a graph of the same shape, the one the editor changes; `graph` and `version`
  are what the worker runs (the deployed graph). A workflow never deployed (deployed_at null)
  is not routed. WorkflowVersion keeps the graph of every deploy.
- ParkedRun.state: {"payload": the value that reached the Wait node, "memory": the run's
  memory when the branch parked, "event": the event document the run started with,
  "session_id": str or null}.
- WorkflowRun.log: [NodeLog] in execution order, NodeLog = {"node": id, "name", "action",
  "in_port", "port": output port or null, "duration_ms", "error": str or null, "messages": [...],
  "input"/"output": only for nodes with `data.debug` on (and always in test runs)}.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from apps.core.ids import new_id
from apps.workflows.schedule_validation import workflow_schedule_errors


def empty_graph() -> dict:
    return {"nodes": [], "edges": []}


class Workflow(models.Model):
    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    # The deployed graph and its version: what the worker runs. Every deploy bumps the
    # version (workers recompile a cached graph on change) and stores a WorkflowVersion.
    graph = models.JSONField(default=empty_graph)
    version = models.PositiveIntegerField(default=1)
    deployed_at = models.DateTimeField(null=True, blank=True)
    # The graph being edited, and its revision: bumped by every write of the draft, so a save
    # based on an older revision is refused (two people editing at once).
    draft = models.JSONField(default=empty_graph)
    revision = models.PositiveIntegerField(default=1)
    draft_saved = models.DateTimeField(null=True, blank=True)
    draft_saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def draft_differs(self) -> bool:
        """Whether the draft is not what runs (always, before the first deploy)."""
        return self.deployed_at is None or self.draft != self.graph


class WorkflowVersion(models.Model):
    """The graph of a workflow as one deploy made it; runs name their version."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    graph = models.JSONField()
    deployed_at = models.DateTimeField()
    deployed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["workflow", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "version"], name="workflowversion_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} v{self.version}"


class Rule(models.Model):
    """Routes events of one type (from one source, or from any source) to a workflow."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    event_type = models.CharField(
        max_length=100,
        help_text="Stored form: lower case, spaces as '-' (e.g. page-view).",
    )
    source = models.ForeignKey(
        "sources.EventSource",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="workflow_rules",
        help_text="Empty: events of this type from any source.",
    )
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="rules")
    enabled = models.BooleanField(default=True)
    answers_in_request = models.BooleanField(
        "answers in the request",
        default=False,
        help_text="Run this rule's workflow while the visitor's request waits, so it can "
        "answer the page: personalisation, widgets. Keep such workflows short.",
    )
    segment = models.ForeignKey(
        "profiles.Segment",
        null=True,
        blank=True,
        # A watched segment must not vanish under its rule (the rule would fire for any).
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="segment to watch",
        help_text="For the segment-entered and segment-left events only: run the workflow when "
        "a profile enters (or leaves) this segment. Empty: any segment.",
    )
    required_consent = models.ForeignKey(
        "profiles.ConsentType",
        null=True,
        blank=True,
        # A consent type in use must not vanish: the rule would start running for everyone.
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Run the workflow only for profiles that granted this consent (and have not "
        "revoked it); for the others the run is recorded as skipped. Empty: for everyone.",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["event_type"], name="rule_event_type")]

    def __str__(self) -> str:
        return self.name


class WorkflowRun(models.Model):
    class Status(models.TextChoices):
        OK = "ok", "Completed"
        ERROR = "error"
        SKIPPED = "skipped", "Skipped (no consent)"
        # Stopped at the time budget of a run in the request: rolled back, the worker runs
        # it again (the once-per-event constraint does not count it).
        TIMEOUT = "timeout", "Timed out"
        # A branch waits at a Wait node (ParkedRun); the run is `ok` once no branch waits.
        PARKED = "parked", "Waiting (parked)"

    # Runs are written at the rate of events: every index costs. The foreign keys get no
    # index of their own (Django's would add a second, LIKE-pattern one on text keys); the
    # composite indexes in Meta lead with them instead.
    workflow = models.ForeignKey(
        Workflow, on_delete=models.CASCADE, related_name="runs", db_index=False
    )
    workflow_version = models.PositiveIntegerField()
    # The stored event; null for events that were never stored (ephemeral sources) or purged.
    event = models.ForeignKey(
        "events.Event",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="workflow_runs",
        db_index=False,
        # No database constraint: checked on every run insert against the hottest table's
        # key. The ORM sets it null when the event goes (erasure, purge), through
        # workflowrun_event.
        db_constraint=False,
    )
    # The event id as text, also for unsaved events: the idempotency key of a run.
    event_ref = models.CharField(max_length=64)
    event_type = models.CharField(max_length=100)
    profile = models.ForeignKey(
        "profiles.Profile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="workflow_runs",
        db_index=False,
    )
    rule_ids = models.JSONField(default=list, blank=True)
    replay = models.BooleanField(default=False)
    # Run inside the /track request (its rule answers in the request), not by a worker.
    in_request = models.BooleanField("in the request", default=False)
    status = models.CharField(max_length=8, choices=Status.choices)
    error = models.TextField(blank=True)
    error_node = models.CharField(max_length=64, blank=True)
    started = models.DateTimeField()
    duration_ms = models.FloatField()
    log = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            # A redelivered message must not run a workflow twice for one event; replays may,
            # and a run stopped at the request's time budget is run again by the worker.
            # (event_ref first: it also serves the lookup of an unsaved event's runs.)
            models.UniqueConstraint(
                fields=["event_ref", "workflow"],
                condition=Q(replay=False) & ~Q(status="timeout"),
                name="workflowrun_once_per_event",
            )
        ]
        indexes = [
            models.Index(fields=["workflow", "-started"], name="workflowrun_workflow_started"),
            models.Index(fields=["profile", "-started"], name="workflowrun_profile_started"),
            models.Index(fields=["-started"], name="workflowrun_started"),
            models.Index(fields=["event"], name="workflowrun_event"),
            models.Index(
                fields=["-started"], name="workflowrun_errors", condition=Q(status="error")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} on {self.event_ref}"


class WorkflowSchedule(models.Model):
    """A workflow run on a schedule for an audience (issue 18 item 2): every profile of a
    segment, or every profile a condition holds for. Its beat entry (a django-celery-beat
    PeriodicTask) is kept in step with these fields by services.schedules; each firing is a
    WorkflowScheduleRun that walks the audience in batches (apps.tracking.schedules)."""

    class Every(models.TextChoices):
        MINUTES = "minutes", "Every N minutes"
        HOURS = "hours", "Every N hours"
        DAY = "day", "Every day at HH:MM"
        CRONTAB = "crontab", "Crontab"

    class Audience(models.TextChoices):
        SEGMENT = "segment", "Every profile of a segment"
        CONDITION = "condition", "Profiles matching a condition"

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    name = models.CharField(max_length=200)
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="schedules")
    enabled = models.BooleanField(default=True)
    every = models.CharField(
        "schedule",
        max_length=16,
        choices=Every.choices,
        default=Every.DAY,
        help_text="When the workflow runs (server time zone).",
    )
    interval = models.PositiveIntegerField(
        "every N",
        null=True,
        blank=True,
        help_text="Every N minutes or hours: the number, e.g. 30 (minutes) or 6 (hours).",
    )
    at_time = models.TimeField(
        "at (HH:MM)", null=True, blank=True, help_text="Every day: the time of day, e.g. 08:00."
    )
    crontab = models.CharField(
        max_length=100,
        blank=True,
        help_text="Crontab: five fields, minute hour day-of-month month day-of-week, e.g. "
        "'0 8 * * 1' (Mondays at 08:00).",
    )
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.SEGMENT)
    segment = models.ForeignKey(
        "profiles.Segment",
        null=True,
        blank=True,
        # A segment a schedule walks must not vanish under it.
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Every profile of a segment: the segment.",
    )
    condition = models.TextField(
        blank=True,
        help_text="Profiles matching a condition: logic notation over the profile, e.g. "
        'profile@traits.plan == "pro".',
    )
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Kept in step with the schedule fields by services.schedules.",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = workflow_schedule_errors(self)
        if errors:
            raise ValidationError(errors)


class WorkflowScheduleRun(models.Model):
    """One firing of a schedule: its place in the audience (keyset cursor) and its counts."""

    class Status(models.TextChoices):
        RUNNING = "running"
        DONE = "done"
        SKIPPED = "skipped"
        FAILED = "failed"

    id = models.CharField(primary_key=True, max_length=64, default=new_id)
    schedule = models.ForeignKey(
        WorkflowSchedule, on_delete=models.CASCADE, related_name="runs", db_index=False
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    # The last profile id the run went past (keyset pagination over the audience).
    cursor = models.CharField(max_length=64, blank=True)
    started = models.DateTimeField()
    # Heartbeat: each batch moves it; a running run that stopped moving is stale.
    updated = models.DateTimeField()
    finished = models.DateTimeField(null=True, blank=True)
    batches = models.PositiveIntegerField(default=0)
    profiles = models.PositiveIntegerField(default=0, help_text="Profiles of the audience.")
    runs_ok = models.PositiveIntegerField("completed", default=0)
    runs_failed = models.PositiveIntegerField("failed", default=0)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started"]
        constraints = [
            # A second beat tick while a run still walks the audience starts no other.
            models.UniqueConstraint(
                fields=["schedule"],
                condition=Q(status="running"),
                name="schedule_run_one_running",
            )
        ]
        indexes = [models.Index(fields=["schedule", "-started"], name="schedule_run_latest")]

    def __str__(self) -> str:
        return f"{self.schedule_id} at {self.started:%Y-%m-%d %H:%M} ({self.status})"


class ParkedRun(models.Model):
    """A branch of a workflow run waiting at a Wait node, durably (issue 18): resumed by the
    beat job (apps.tracking.resume) when `due_at` passes, on `due_port`, or, for "wait for an
    event", by the worker as soon as an event of type `waiting_for` arrives for the profile
    (port `event`). The row is the flow state; it is resumed exactly once (claimed and
    finished in one transaction).

    Merge and erasure (a ProfileFollower, apps.workflows.apps): when the profile is merged into
    another one while the branch waits, the row is re-pointed like the profile's runs and the
    branch resumes on the survivor (its profile as it is then). An erasure deletes the rows:
    the person's waiting branches are cancelled and nothing of them is kept.
    """

    class Status(models.TextChoices):
        PARKED = "parked", "Waiting"
        RESUMED = "resumed", "Resumed"
        CANCELLED = "cancelled", "Cancelled"

    workflow = models.ForeignKey(
        Workflow, on_delete=models.CASCADE, related_name="parked_runs", db_index=False
    )
    workflow_version = models.PositiveIntegerField()
    # With the workflow, the key of the WorkflowRun this branch belongs to (a non-replay run).
    event_ref = models.CharField(max_length=64)
    event_type = models.CharField(max_length=100)
    profile = models.ForeignKey(
        "profiles.Profile",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="parked_runs",
    )
    node_id = models.CharField("waiting at node", max_length=64)
    node_name = models.CharField(max_length=200, blank=True)
    due_at = models.DateTimeField("due")
    # The output port the branch goes on when due: `payload` (Wait), `timeout` (wait for event).
    due_port = models.CharField(max_length=32, default="payload")
    waiting_for = models.CharField(
        "waiting for event",
        max_length=100,
        blank=True,
        help_text="Wait for an event: the event type that resumes it early (on the event port).",
    )
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PARKED)
    state = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)
    # The port it resumed on, or who cancelled it.
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            # The beat job's claim: the due rows, oldest first.
            models.Index(fields=["due_at"], name="parkedrun_due", condition=Q(status="parked")),
            # The worker's wake-up: this profile's branches waiting for this event type.
            models.Index(
                fields=["profile", "waiting_for"],
                name="parkedrun_waiting",
                condition=Q(status="parked") & ~Q(waiting_for=""),
            ),
            models.Index(fields=["workflow", "event_ref"], name="parkedrun_run"),
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} on {self.event_ref} at {self.node_id}"
