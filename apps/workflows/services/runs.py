"""Running the workflows routed for one event, and recording the runs.

`event_workflows_run` is the one entry point of the workflows library for its callers (the
event processing of apps.tracking): it runs every workflow whose enabled rules route the event
and returns the WorkflowRun rows, unsaved; `workflow_runs_insert` stores a batch of them.
In the /track request (`in_request`) it runs only the workflows of rules that answer in the
request, within a deadline, and gathers their `response` and `ux` into a RequestAnswer.

The insert is one statement: the rows travel as one JSON array parameter, read by
`jsonb_to_recordset` (Django's bulk_create costs more than the workflows themselves on the
benchmark). Table and column names are constants of this module; the data is a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson
from django.db import connection
from django.utils import timezone

from apps.core.rows import Statement, statements_execute
from apps.events.history import StoredEventHistory
from apps.events.models import Event
from apps.profiles.consents import consent_valid
from apps.profiles.services.segment_history import SEGMENT_EVENT_TYPES
from apps.workflows.engine import Flow, FlowEffects, RunOutcome, workflow_execute
from apps.workflows.graph import GraphInvalid
from apps.workflows.models import ParkedRun, WorkflowRun
from apps.workflows.selectors import RoutedRule, routing_table, workflow_compiled
from apps.workflows.services.answers import RequestAnswer
from apps.workflows.services.parking import parked_branches_build

_RUN_COLUMNS = (
    ("workflow_id", "text"),
    ("workflow_version", "int"),
    ("event_id", "text"),
    ("event_ref", "text"),
    ("event_type", "text"),
    ("profile_id", "text"),
    ("rule_ids", "jsonb"),
    ("replay", "bool"),
    ("in_request", "bool"),
    ("status", "text"),
    ("error", "text"),
    ("error_node", "text"),
    ("started", "timestamptz"),
    ("duration_ms", "float8"),
    ("log", "jsonb"),
)


def event_workflows_run(
    *,
    event: Event,
    document: dict,
    profile: dict | None,
    profile_stored: bool,
    session: dict | None,
    effects: FlowEffects,
    now: datetime,
    stored: bool,
    replay: bool = False,
    skip: set[tuple[str, str]] | frozenset = frozenset(),
    answer: RequestAnswer | None = None,
    deadline: float | None = None,
    parked: list[ParkedRun] | None = None,
) -> list[WorkflowRun]:
    """Run the workflows the rules route `event` to, in rule-name order, each once (a
    workflow routed by several rules runs once and names them all). The nodes read and change
    `document`, `profile` and `session`; (workflow id, event id) pairs in `skip` are not run
    again. The runs are returned unsaved.

    With `answer` (the /track request) only the workflows of rules that answer in the
    request run, each stopped at `deadline`; the response and ux of each run that ends `ok`
    go into `answer`, and the runs are marked `in_request`.

    A run whose branches stopped at Wait nodes is `parked` (when it did not fail): the
    branches, unsaved, are added to `parked` for the caller to store with the runs
    (services.parking). Replays do not park: a replayed Wait ends its branch."""
    in_request = answer is not None
    segment_id = watched_segment(event.type, document)
    rules = [
        rule
        for rule in routing_table().rules_for(event.source_id, event.type)
        if rule.watches(segment_id)
    ]
    runs = []
    # One provider for the event's runs: an aggregate over the profile's stored events that
    # several IF nodes (or workflows) read is queried once.
    history = StoredEventHistory(
        profile["id"] if profile is not None and profile_stored else None, now=now
    )
    for workflow_id, (version, rule_ids) in event_workflows(
        event.source_id, event.type, answering_only=in_request, segment_id=segment_id
    ).items():
        if (workflow_id, event.pk) in skip:
            continue
        compiled = workflow_compiled(workflow_id=workflow_id, version=version)
        started = timezone.now()
        missing = consent_missing(rules, workflow_id=workflow_id, profile=profile, now=now)
        if missing is not None:
            outcome = RunOutcome(
                status=WorkflowRun.Status.SKIPPED,
                log=[],
                duration_ms=0.0,
                error=f"No consent '{missing}'",
            )
        elif isinstance(compiled, GraphInvalid):
            outcome = RunOutcome(
                status=WorkflowRun.Status.ERROR,
                log=[],
                duration_ms=0.0,
                error=f"The workflow cannot run: {compiled or 'it was deleted'}",
            )
        else:
            flow = Flow(
                event=document,
                profile=profile,
                session=session,
                workflow={"id": compiled.id, "name": compiled.name, "version": compiled.version},
                now=now,
                effects=effects,
                history=history,
            )
            outcome = workflow_execute(compiled, flow, deadline=deadline)
            if answer is not None and outcome.ok:
                answer.add(response=flow.response, ux=flow.ux)
            stored_profile = profile["id"] if profile is not None and profile_stored else None
            if outcome.ok and outcome.parked and not replay and parked is not None:
                outcome.status = WorkflowRun.Status.PARKED
                parked.extend(
                    parked_branches_build(
                        outcome.parked,
                        workflow_id=workflow_id,
                        version=version,
                        event=document,
                        event_ref=event.pk,
                        event_type=event.type,
                        profile_id=stored_profile,
                        session_id=event.session_id,
                    )
                )
        runs.append(
            WorkflowRun(
                workflow_id=workflow_id,
                workflow_version=version,
                event_id=event.pk if stored else None,
                event_ref=event.pk,
                event_type=event.type,
                profile_id=profile["id"] if profile is not None and profile_stored else None,
                rule_ids=rule_ids,
                replay=replay,
                in_request=in_request,
                status=outcome.status,
                error=outcome.error,
                error_node=outcome.error_node,
                started=started,
                duration_ms=outcome.duration_ms,
                log=outcome.log,
            )
        )
    return runs


def consent_missing(
    rules: Sequence[RoutedRule], *, workflow_id: str, profile: dict | None, now: datetime
) -> str | None:
    """The consent a workflow's rules require and the profile lacks, when none of its rules
    lets it run (a rule without a required consent always does); None to run it."""
    missing = None
    for rule in rules:
        if rule.workflow_id != workflow_id:
            continue
        if rule.required_consent is None or consent_valid(profile, rule.required_consent, now):
            return None
        missing = missing or rule.required_consent
    return missing


def watched_segment(event_type: str, document: dict) -> str | None:
    """The segment id a segment-entered / segment-left event is about (None for other events):
    rules that watch a segment run only for events about it."""
    if event_type not in SEGMENT_EVENT_TYPES:
        return None
    segment = (document.get("properties") or {}).get("segment")
    return str(segment.get("id") or "") if isinstance(segment, dict) else ""


def event_workflows(
    source_id: str,
    event_type: str,
    *,
    answering_only: bool = False,
    segment_id: str | None = None,
) -> dict[str, tuple[int, list[str]]]:
    """workflow id -> (version, rule ids) routed for an event, in the order they run. A
    workflow routed by an answering rule and by another one answers (it runs once). Rules that
    watch another segment than `segment_id` (segment events) are left out."""
    rules: list[RoutedRule] = [
        rule
        for rule in routing_table().rules_for(source_id, event_type)
        if rule.watches(segment_id)
    ]
    answering = {rule.workflow_id for rule in rules if rule.answers}
    workflows: dict[str, tuple[int, list[str]]] = {}
    for rule in rules:
        if answering_only and rule.workflow_id not in answering:
            continue
        version, rule_ids = workflows.setdefault(rule.workflow_id, (rule.workflow_version, []))
        rule_ids.append(rule.id)
    return workflows


def event_has_background_workflows(source_id: str, event_type: str) -> bool:
    """A workflow routed for the event that does not answer in the request (the worker's)."""
    rules = routing_table().rules_for(source_id, event_type)
    answering = {rule.workflow_id for rule in rules if rule.answers}
    return any(rule.workflow_id not in answering for rule in rules)


def workflow_runs_insert(runs: Sequence[WorkflowRun]) -> None:
    statements_execute([workflow_runs_insert_statement(runs)])


def workflow_runs_insert_statement(runs: Sequence[WorkflowRun]) -> Statement | None:
    """The INSERT of `runs` (None for none), to send with other writes in one round trip."""
    if not runs:
        return None
    table = connection.ops.quote_name(WorkflowRun._meta.db_table)
    rows = [{name: getattr(run, name) for name, _ in _RUN_COLUMNS} for run in runs]
    names = ", ".join(name for name, _ in _RUN_COLUMNS)
    record = ", ".join(f"{name} {kind}" for name, kind in _RUN_COLUMNS)
    # Nodes may have put non-JSON values (datetimes) into the log: they are stored as text.
    data = orjson.dumps(rows, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    return (
        f"INSERT INTO {table} ({names}) SELECT {names} "
        f"FROM jsonb_to_recordset(%s::jsonb) AS r({record})",
        [data],
    )
