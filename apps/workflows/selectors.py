"""Reads for routing and running: enabled rules and compiled workflows, cached per process.

The ingestion pipeline asks `event_is_routed` for every event (thousands per second), and a
worker needs the rules and graphs for every event it processes, so both read an in-process
table that is reloaded at most every CDP_WORKFLOW_CACHE_SECONDS (one query), and a workflow
graph is compiled once per version. Rule and workflow saves clear the table of the process
that saved them (signals.py); other processes see the change within the cache time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings

from apps.workflows.engine import CompiledWorkflow
from apps.workflows.graph import GraphInvalid, graph_compile
from apps.workflows.models import Rule, Workflow


@dataclass(frozen=True, slots=True)
class RoutedRule:
    id: str
    name: str
    workflow_id: str
    workflow_version: int


@dataclass(frozen=True, slots=True)
class RoutingTable:
    expires: float
    # (source id or None for any source, event type) -> rules, by rule name
    rules: dict[tuple[str | None, str], tuple[RoutedRule, ...]]

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


_lock = threading.Lock()
_table: RoutingTable | None = None
# workflow id -> (version, compiled workflow or the problems that stop it from compiling)
_compiled: dict[str, tuple[int, CompiledWorkflow | GraphInvalid]] = {}


def routing_table() -> RoutingTable:
    table = _table
    if table is not None and table.expires > time.monotonic():
        return table
    with _lock:
        return _routing_table_load()


def _routing_table_load() -> RoutingTable:
    global _table
    rows = (
        Rule.objects.filter(enabled=True, workflow__enabled=True)
        .order_by("name", "id")
        .values_list("id", "name", "event_type", "source_id", "workflow_id", "workflow__version")
    )
    rules: dict[tuple[str | None, str], list[RoutedRule]] = {}
    for rule_id, name, event_type, source_id, workflow_id, version in rows:
        rules.setdefault((source_id, event_type), []).append(
            RoutedRule(rule_id, name, workflow_id, version)
        )
    _table = RoutingTable(
        expires=time.monotonic() + settings.CDP_WORKFLOW_CACHE_SECONDS,
        rules={key: tuple(value) for key, value in rules.items()},
    )
    return _table


def workflow_compiled(*, workflow_id: str, version: int) -> CompiledWorkflow | GraphInvalid:
    """The compiled graph of a workflow at `version` (from the routing table), or the problems
    that keep a graph saved past validation (e.g. by a data import) from running."""
    cached = _compiled.get(workflow_id)
    if cached is not None and cached[0] == version:
        return cached[1]
    workflow = (
        Workflow.objects.filter(pk=workflow_id).only("id", "name", "version", "graph").first()
    )
    if workflow is None:
        return GraphInvalid([])
    try:
        compiled: CompiledWorkflow | GraphInvalid = graph_compile(
            workflow_id=workflow.id,
            name=workflow.name,
            version=workflow.version,
            graph=workflow.graph,
        )
    except GraphInvalid as exc:
        compiled = exc
    _compiled[workflow_id] = (workflow.version, compiled)
    return compiled


def workflow_caches_clear() -> None:
    global _table
    with _lock:
        _table = None
        _compiled.clear()
