"""Reads for routing and running (enabled rules and compiled workflows, cached per process),
and for the workflow editor.

The ingestion pipeline asks `event_is_routed` for every event (thousands per second), and a
worker needs the rules and graphs for every event it processes, so both read per-process
caches (apps.core.caches) that live CDP_WORKFLOW_CACHE_SECONDS: the routing table (one query)
and each workflow compiled at the version the table names. Rule and workflow saves clear both
in the process that saved them (signals.py); other processes see the change within that time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from apps.core.caches import process_cached
from apps.events.models import Event, EventType
from apps.events.selectors import event_types_in_use
from apps.sources.models import EventSource
from apps.workflows.engine import CompiledWorkflow
from apps.workflows.graph import GraphInvalid, graph_compile
from apps.workflows.models import ParkedRun, Rule, Workflow, WorkflowRun, WorkflowVersion

EDITOR_EVENTS_LIMIT = 20


@dataclass(frozen=True, slots=True)
class RoutedRule:
    id: str
    name: str
    workflow_id: str
    workflow_version: int
    # The consent type the profile must hold for the rule to run its workflow (None: any).
    required_consent: str | None = None
    # The rule answers in the request: its workflow runs inside /track (apps.tracking.answers).
    answers: bool = False
    # segment-entered / segment-left rules: the id of the segment they watch (None: any).
    segment_id: str | None = None

    def watches(self, segment_id: str | None) -> bool:
        """Whether the rule runs for a segment event about `segment_id` (any other event:
        segment_id None, and a rule without a segment, always)."""
        return self.segment_id is None or self.segment_id == segment_id


@dataclass(frozen=True, slots=True)
class RoutingTable:
    # (source id or None for any source, event type) -> rules, by rule name
    rules: dict[tuple[str | None, str], tuple[RoutedRule, ...]]
    # The keys of `rules` with at least one rule that answers in the request: empty in most
    # installations, so a request asks one set lookup per event at most.
    answering: frozenset[tuple[str | None, str]] = frozenset()

    def rules_for(self, source_id: str, event_type: str) -> list[RoutedRule]:
        exact = self.rules.get((source_id, event_type), ())
        anywhere = self.rules.get((None, event_type), ())
        if not anywhere:
            return list(exact)
        if not exact:
            return list(anywhere)
        return sorted((*exact, *anywhere), key=lambda rule: (rule.name, rule.id))

    def routes(self, source_id: str, event_type: str) -> bool:
        return (source_id, event_type) in self.rules or (None, event_type) in self.rules

    def answers(self, source_id: str, event_type: str) -> bool:
        """Whether a rule that answers in the request routes the event."""
        answering = self.answering
        return bool(answering) and (
            (source_id, event_type) in answering or (None, event_type) in answering
        )


@process_cached(ttl_setting="CDP_WORKFLOW_CACHE_SECONDS")
def routing_table() -> RoutingTable:
    rows = (
        # A workflow never deployed has nothing to run.
        Rule.objects.filter(
            enabled=True, workflow__enabled=True, workflow__deployed_at__isnull=False
        )
        .order_by("name", "id")
        .values_list(
            "id",
            "name",
            "event_type",
            "source_id",
            "workflow_id",
            "workflow__version",
            "required_consent_id",
            "answers_in_request",
            "segment_id",
        )
    )
    rules: dict[tuple[str | None, str], list[RoutedRule]] = {}
    answering: set[tuple[str | None, str]] = set()
    for (
        rule_id,
        name,
        event_type,
        source_id,
        workflow_id,
        version,
        consent,
        answers,
        segment,
    ) in rows:
        rules.setdefault((source_id, event_type), []).append(
            RoutedRule(rule_id, name, workflow_id, version, consent, answers, segment)
        )
        if answers:
            answering.add((source_id, event_type))
    return RoutingTable(
        rules={key: tuple(value) for key, value in rules.items()}, answering=frozenset(answering)
    )


@process_cached(ttl_setting="CDP_WORKFLOW_CACHE_SECONDS")
def awaited_event_types() -> frozenset[str]:
    """The event types that a "Wait for an event" node of a routed workflow waits for: such
    events go to the worker (to wake the waiting branches) even when no rule routes them. A
    workflow no longer routed lets its waiting branches time out."""
    workflow_ids = {
        (rule.workflow_id, rule.workflow_version)
        for rules in routing_table().rules.values()
        for rule in rules
    }
    types: set[str] = set()
    for workflow_id, version in workflow_ids:
        compiled = workflow_compiled(workflow_id=workflow_id, version=version)
        if isinstance(compiled, GraphInvalid):
            continue
        for node in compiled.nodes.values():
            awaited = getattr(node.action, "event_type", None)
            if node.action.id == "wait_for_event" and awaited:
                types.add(awaited)
    return frozenset(types)


@process_cached(ttl_setting="CDP_WORKFLOW_CACHE_SECONDS")
def workflow_compiled(*, workflow_id: str, version: int) -> CompiledWorkflow | GraphInvalid:
    """The compiled graph of a workflow at `version` (from the routing table), or the problems
    that keep a graph saved past validation (e.g. by a data import) from running."""
    workflow = (
        Workflow.objects.filter(pk=workflow_id).only("id", "name", "version", "graph").first()
    )
    if workflow is None:
        return GraphInvalid([])
    try:
        return graph_compile(
            workflow_id=workflow.id,
            name=workflow.name,
            version=workflow.version,
            graph=workflow.graph,
        )
    except GraphInvalid as exc:
        return exc


def workflow_caches_clear() -> None:
    routing_table.cache_clear()
    workflow_compiled.cache_clear()
    awaited_event_types.cache_clear()


def profile_parked_to_erase(profile_id: str, ids: list[str]) -> list[QuerySet[ParkedRun]]:
    """An erasure deletes the profile's parked branches (all of them: waiting ones are
    cancelled by it), through the profile index."""
    return [ParkedRun.objects.filter(profile_id=profile_id)]


def parked_runs_of_profile(profile_id: str, *, limit: int = 50) -> list[ParkedRun]:
    """The branches waiting for a profile, the soonest due first (the profile page)."""
    return list(
        ParkedRun.objects.filter(profile_id=profile_id, status=ParkedRun.Status.PARKED)
        .select_related("workflow")
        .only(
            "id",
            "workflow__name",
            "node_id",
            "node_name",
            "due_at",
            "waiting_for",
            "event_type",
            "created",
        )
        .order_by("due_at")[:limit]
    )


def profile_runs_to_erase(profile_id: str, ids: list[str]) -> list[QuerySet[WorkflowRun]]:
    """What an erasure of the profile deletes of the runs by itself: its own (through the
    (profile, -started) index). The runs of the events it erases go with each batch of those
    events (`event_runs_to_erase`): an event's run may name another profile, e.g. one it was
    merged into later."""
    # Ordered as the index, so that a batch walks it (see profile_events_to_erase).
    return [WorkflowRun.objects.filter(profile_id=profile_id).order_by("-started")]


def event_runs_to_erase(event_ids: list[str]) -> QuerySet[WorkflowRun]:
    """The runs of a batch of erased events (through the event index)."""
    return WorkflowRun.objects.filter(event_id__in=event_ids)


# -- the workflow editor -------------------------------------------------------------------


def workflow_rules(*, workflow_id: str) -> list[Rule]:
    return list(Rule.objects.filter(workflow_id=workflow_id).select_related("source"))


def workflow_versions(*, workflow_id: str) -> list[WorkflowVersion]:
    return list(
        WorkflowVersion.objects.filter(workflow_id=workflow_id)
        .select_related("deployed_by")
        .defer("graph")
        .order_by("-version")
    )


def rule_sources() -> list[tuple[str, str]]:
    """(id, name) of the event sources a rule may name."""
    return list(EventSource.objects.order_by("name", "id").values_list("id", "name"))


def event_type_suggestions() -> list[str]:
    """Event types a rule may route: those of rules, of declared event types, and those stored
    (read through the type index, never a scan of the events)."""
    types = set(Rule.objects.order_by().values_list("event_type", flat=True).distinct())
    types.update(EventType.objects.values_list("type", flat=True))
    types.update(event_types_in_use())
    return sorted(types)


def editor_events_search(*, text: str) -> list[Event]:
    """At most EDITOR_EVENTS_LIMIT events, newest first: the one with id `text`, those of the
    profile with id `text`, and those whose type starts with `text` (each by its index)."""
    text = text.strip()
    if not text:
        return list(Event.objects.order_by("-inserted")[:EDITOR_EVENTS_LIMIT])
    found = {event.pk: event for event in Event.objects.filter(pk=text)}
    newest = Event.objects.order_by("-time")
    found.update(
        (event.pk, event) for event in newest.filter(profile_id=text)[:EDITOR_EVENTS_LIMIT]
    )
    prefix = text.lower()
    types = [event_type for event_type in event_types_in_use() if event_type.startswith(prefix)]
    if types:
        found.update(
            (event.pk, event) for event in newest.filter(type__in=types)[:EDITOR_EVENTS_LIMIT]
        )
    events = sorted(found.values(), key=lambda event: event.time, reverse=True)
    return events[:EDITOR_EVENTS_LIMIT]


@dataclass(frozen=True, slots=True)
class RunOnCanvas:
    run: WorkflowRun
    graph: dict
    note: str


def workflow_run_with_graph(*, run_id: int) -> RunOnCanvas | None:
    """A past run and the graph of the version that ran (the workflow's deployed graph, with a
    note, when that version was not kept)."""
    run = WorkflowRun.objects.filter(pk=run_id).select_related("workflow").first()
    if run is None:
        return None
    kept = (
        WorkflowVersion.objects.filter(workflow_id=run.workflow_id, version=run.workflow_version)
        .values_list("graph", flat=True)
        .first()
    )
    if kept is not None:
        return RunOnCanvas(run=run, graph=kept, note="")
    note = (
        f"Version {run.workflow_version} of this workflow was not kept; "
        f"showing the deployed version {run.workflow.version}, which may differ."
    )
    return RunOnCanvas(run=run, graph=run.workflow.graph, note=note)


def runs_to_purge(*, before: datetime) -> QuerySet[WorkflowRun]:
    """Runs started before `before` (the retention purge), oldest first through the (-started)
    index, so that the purge takes them in batches without a table scan."""
    return WorkflowRun.objects.filter(started__lt=before).order_by("started")
