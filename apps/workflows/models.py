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
