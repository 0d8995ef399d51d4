"""Test runs: a workflow on a stored or a sample event, with nothing saved.

The engine runs exactly as in production, but with every node's input and output logged,
injected events only reported (DryRunEffects), profile changes only computed, and the whole
thing inside a transaction that is rolled back. Remote HTTP calls do go out; connector actions
use their resources' test credentials where those are set (Flow.test_run). The result
shows the `response` and `ux` the run produced: what the page would receive if the workflow's
rule answers in the request.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from apps.events.documents import EventDataError, event_document, event_from_dict
from apps.events.history import StoredEventHistory
from apps.events.models import Event
from apps.profiles.documents import empty_profile_document, profile_document, session_document
from apps.profiles.models import Profile, Session
from apps.profiles.services.writes import dot_path, profile_changed_paths
from apps.workflows.engine import Flow, RunOutcome, workflow_execute
from apps.workflows.graph import graph_compile
from apps.workflows.models import Workflow
from apps.workflows.services.effects import DryRunEffects

TEST_PROFILE_ID = "@test-profile"
TEST_SOURCE_ID = "@test-source"


class TestRunError(ValueError):
    """The chosen event cannot be used; the message says why."""


@dataclass
class TestRunResult:
    outcome: RunOutcome
    event: dict
    profile_before: dict | None
    profile_after: dict | None
    changed_fields: list[str]
    injected: list[dict]
    merge_by: list[str]
    profile_note: str
    # What the run would add to the /track answer (when its rule answers in the request).
    response: dict
    ux: list[dict]


def workflow_test_run(
    *,
    workflow: Workflow,
    graph: dict | None = None,
    event_id: str | None = None,
    sample: object = None,
    profile_less: bool = False,
) -> TestRunResult:
    """Run `graph` (by default the workflow's saved draft) once. Raises GraphInvalid for a
    graph that cannot run and TestRunError for an unusable event."""
    compiled = graph_compile(
        workflow_id=workflow.pk,
        name=workflow.name,
        version=workflow.version,
        graph=workflow.draft if graph is None else graph,
    )
    now = timezone.now()
    with transaction.atomic():
        event = _event(event_id=event_id, sample=sample, now=now)
        if profile_less:
            event.profile_id = None
        before, note = _profile(event, from_sample=event_id is None)
        profile = copy.deepcopy(before)
        session_row = (
            Session.objects.filter(pk=event.session_id).first() if event.session_id else None
        )
        effects = DryRunEffects(now=now)
        flow = Flow(
            event=event_document(event),
            profile=profile,
            session=session_document(session_row) if session_row is not None else None,
            workflow={"id": compiled.id, "name": compiled.name, "version": compiled.version},
            now=now,
            effects=effects,
            history=StoredEventHistory(event.profile_id, now=now),
            test_run=True,
        )
        outcome = workflow_execute(compiled, flow, keep_payloads=True)
        # Defence in depth: nothing above should write, and if it did, it is undone here.
        transaction.set_rollback(True)
    changed = [dot_path(path) for path in profile_changed_paths(before, profile)] if before else []
    return TestRunResult(
        outcome=outcome,
        event=flow.event,
        profile_before=before,
        profile_after=profile,
        changed_fields=changed,
        injected=effects.injected,
        merge_by=effects.merge_by,
        profile_note=note,
        response=flow.response,
        ux=flow.ux,
    )


def _event(*, event_id: str | None, sample: object, now) -> Event:
    if event_id:
        event = Event.objects.filter(pk=event_id.strip()).first()
        if event is None:
            raise TestRunError(f"There is no stored event with id {event_id.strip()!r}.")
        return event
    if sample is None:
        raise TestRunError("Give a stored event id or write a sample event.")
    try:
        event = event_from_dict(sample, now=now)
    except EventDataError as exc:
        raise TestRunError(f"The sample event is not usable: {exc}.") from exc
    event.source_id = event.source_id or TEST_SOURCE_ID
    return event


def _profile(event: Event, *, from_sample: bool) -> tuple[dict | None, str]:
    if event.profile_id is None:
        if from_sample:
            note = "A new, empty profile (the sample names none)."
            return empty_profile_document(TEST_PROFILE_ID), note
        return None, "The event has no profile."
    row = Profile.objects.filter(pk=event.profile_id).first()
    if row is None:
        raise TestRunError(f"The event names profile {event.profile_id!r}, which does not exist.")
    return profile_document(row), f"Stored profile {row.pk}."
