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
from django.db import models
from django.db.models import Q

from apps.core.ids import new_id


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
