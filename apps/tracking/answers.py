"""Workflows that answer in the /track request (DESIGN §4.1, §6, §8).

A rule marked "answers in the request" has its workflow run inside the request that stored
the event, so that its `response` and `ux` go into the answer (personalisation, widgets). The
pipeline calls `request_answers_run` inside the ingest's own transaction, after the events
are inserted, so an answering request commits once, like a plain one (a second transaction
with its own fsync'd commit made an answering request cost about twice a plain one:
bench/README.md). For the events such a rule routes:

- one savepoint, bounded by the budget CDP_ANSWER_BUDGET_MS for all answering runs of the
  request together: `statement_timeout` and `lock_timeout` are the remaining budget (set
  inside the savepoint, put back before the ingest commits, so the commit and its deferred
  foreign-key checks are never cut short), the engine stops a run before a node that would
  start past the deadline and remote calls wait at most the time left;
- the same ordering guarantee as the worker: the profile's advisory lock (processing.
  profile_lock) until the ingest commits; the profile's `collected` events are read `FOR
  UPDATE` (ours are not committed yet, so no worker can have them). When earlier events of
  the profile still wait for a worker, the request does not jump ahead of them: its
  answering workflows run in the background, after those;
- the same steps and save path as the worker (processing.events_run): identification and
  mapping, the answering workflows, WorkflowRun rows (marked `in_request`), the event's
  status (`processed`, or still `collected` when other rules route it to workflows of the
  worker), `profile_save_changes` and its `profile_changed` follow-ups. They commit with the
  events, so a worker never sees an event whose answering workflow ran but is not recorded
  (exactly once).

Nothing here ever turns the answer into an error or loses the events: a run past the budget
rolls the savepoint back (no profile change half-saved, the other runs' answers dropped as
they will run again), is recorded as a `timeout` run, and the answer carries a warning naming
the workflow; any other failure (a database error, a bug) rolls the savepoint back, is logged
and warned about the same way. In every case what is left `collected` goes to the worker
through the hand-off at the ingest's commit, which then runs exactly the workflows that did
not run here.

A request with no answering rule pays one look-up in the cached routing table.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from apps.core.rows import Statement, rows_fetch_together
from apps.events.models import Event
from apps.profiles.models import Profile, Session
from apps.tracking.batch_writes import BatchWrites
from apps.tracking.handoff import events_enqueue, processed_enqueue
from apps.tracking.processing import (
    EVENT_ORDER,
    BudgetPassed,
    PrefetchedRows,
    Processed,
    events_run,
    profile_lock_statement,
)
from apps.workflows.graph import GraphInvalid
from apps.workflows.models import WorkflowRun
from apps.workflows.routing import answering_rules_exist, event_answers_in_request
from apps.workflows.selectors import workflow_compiled
from apps.workflows.services.answers import RequestAnswer
from apps.workflows.services.runs import (
    event_has_background_workflows,
    event_workflows,
    workflow_runs_insert,
)

logger = logging.getLogger(__name__)

BUSY = "the profile was busy in another task"
UNAVAILABLE = (
    "The workflows that answer in the request could not run; they will run in the background."
)


class _ProfileBusy(Exception):  # noqa: N818 (the budget passed while waiting for the lock)
    """The profile's lock stayed with another task (a worker) past the budget."""


class _EarlierEventsWaiting(Exception):  # noqa: N818 (a reason to step aside, not an error)
    """The profile has events from earlier requests that a worker has not processed yet."""


@dataclass(frozen=True, slots=True)
class AnsweringEvents:
    """The stored, routed events of one request, and those of them an answering rule routes."""

    routed: list[dict]
    answering: list[dict]
    source_id: str
    # The stored profile and session of the request (None when not stored).
    profile_id: str | None
    session_id: str | None


def answering_events(events: list[dict], *, source_id: str) -> list[dict]:
    """The events (documents as the pipeline built them) to run in the request."""
    if not answering_rules_exist():
        return []
    return [
        event
        for event in events
        if event["status"] == Event.Status.COLLECTED
        and event_answers_in_request(source_id=source_id, event_type=event["type"])
    ]


def request_answers_run(*, events: AnsweringEvents) -> RequestAnswer:
    """Run the answering workflows of a request inside its ingest transaction (call it there,
    after the events are inserted), hand the rest to the worker at commit, and return what
    goes into the answer. A failure rolls back only the answering work: the events stay."""
    budget_ms = settings.CDP_ANSWER_BUDGET_MS
    follow_up = Processed()
    ran_here = False
    try:
        answer, follow_up, ran_here = _attempt(events, budget_ms=budget_ms)
    except Exception:
        logger.exception("Answering workflows failed in the request; left to the worker")
        answer = RequestAnswer(warnings=_failed_warnings(events))
    _hand_off(events, follow_up=follow_up, ran_here=ran_here)
    return answer


def _attempt(events: AnsweringEvents, *, budget_ms: int) -> tuple[RequestAnswer, Processed, bool]:
    """(the answer, what the runs leave for the workers, whether they ran here)."""
    deadline = time.monotonic() + budget_ms / 1000
    answer = RequestAnswer()
    try:
        return answer, _run(events, answer=answer, deadline=deadline), True
    except BudgetPassed as passed:
        # The runs that had finished are undone with the one that timed out: none answers.
        _timeouts_record(passed.runs)
        warnings = _late_warnings([*passed.undone, *passed.runs], budget_ms)
    except _ProfileBusy:
        runs = _planned_timeouts(events, reason=BUSY)
        _timeouts_record(runs)
        warnings = _late_warnings(runs, budget_ms)
    except _EarlierEventsWaiting:
        warnings = _waiting_warnings(events)
    except DatabaseError as exc:
        reason = _budget_reason(exc)
        if not reason:
            raise
        runs = _planned_timeouts(events, reason=reason)
        _timeouts_record(runs)
        warnings = _late_warnings(runs, budget_ms)
    return RequestAnswer(warnings=warnings), Processed(), False


def _run(events: AnsweringEvents, *, answer: RequestAnswer, deadline: float) -> Processed:
    """The answering runs in a savepoint of the ingest's transaction: what fails or passes
    the budget rolls back alone, the events stay. The savepoint travels with the first
    statement, and its release, with the reset of the budget's timeouts, with the runs'
    writes (the runs, the events' outcome): no round trip of its own (Django's atomic()
    would cost two more per request). When the runs fail, the rollback to the savepoint
    undoes their writes, their broker messages and the timeouts."""
    savepoint = _Savepoint()
    writes = BatchWrites()
    try:
        processed = _runs_within_budget(
            events, answer=answer, deadline=deadline, savepoint=savepoint, writes=writes
        )
        writes.flush(then=savepoint.release_statements())
    except BaseException:
        savepoint.rollback()
        raise
    return processed


class _Savepoint:
    """A savepoint opened by the first statement of the answering step (`opening`)."""

    NAME = "cdp_answering"

    def __init__(self) -> None:
        self.opened = False
        # Broker messages registered from here on belong to the answering step.
        self._callbacks = len(connection.run_on_commit)

    def opening(self) -> tuple[str, list]:
        """The statement to send first, in the same text as the step's first statement."""
        self.opened = True
        return (f"SAVEPOINT {self.NAME}", [])

    def release_statements(self) -> list[Statement]:
        """Keep the step's work; the session's own timeouts again for the rest of the
        ingest and its commit, which runs the deferred foreign-key checks: the budget must
        not cancel them (that would lose the events). The ingest sets neither timeout at
        session level, so RESET gives back what it had before the budget's local settings."""
        if not self.opened:
            return []
        return [(f"RESET statement_timeout; RESET lock_timeout; RELEASE SAVEPOINT {self.NAME}", [])]

    def rollback(self) -> None:
        """Undo the step, as Django's atomic() undoes a savepoint: the mark that the
        transaction needs a rollback (an ORM write that failed sets it; after this rollback
        it does not any more), its writes and timeouts (in the database) and the broker
        messages it registered."""
        transaction.set_rollback(False)
        if self.opened:
            with connection.cursor() as cursor:
                cursor.execute(f"ROLLBACK TO SAVEPOINT {self.NAME}; RELEASE SAVEPOINT {self.NAME}")
        del connection.run_on_commit[self._callbacks :]


def _runs_within_budget(
    events: AnsweringEvents,
    *,
    answer: RequestAnswer,
    deadline: float,
    savepoint: _Savepoint,
    writes: BatchWrites,
) -> Processed:
    answering = {event["id"] for event in events.answering}
    sessions = [events.session_id] if events.session_id else []
    if events.profile_id:
        # One round trip: the profile's lock (bounded by the budget, which then bounds
        # every statement), its waiting events, the profile and the session. Any waiting
        # event from an earlier request goes first (the worker's order). Ours are not
        # committed, so no worker has them, unless a client retry repeated a stored id
        # (then that row is the earlier request's and may be processed already). One row
        # more than ours is enough to tell.
        routed = {event["id"] for event in events.routed}
        try:
            waiting, profiles, session_rows = rows_fetch_together(
                [
                    (
                        Event,
                        f"profile_id = %s AND status = %s {EVENT_ORDER} LIMIT %s FOR UPDATE",
                        [events.profile_id, Event.Status.COLLECTED, len(routed) + 1],
                    ),
                    (Profile, "id = %s", [events.profile_id]),
                    (Session, "id = ANY(%s)", [sessions]),
                ],
                first=[
                    savepoint.opening(),
                    profile_lock_statement(events.profile_id, budget_ms=_left_ms(deadline)),
                ],
            )
        except DatabaseError as exc:
            # statement_timeout and lock_timeout are both the budget: either may fire.
            if _budget_reason(exc):
                raise _ProfileBusy from exc
            raise
        if any(row.pk not in routed for row in waiting):
            raise _EarlierEventsWaiting
        rows = [row for row in waiting if row.pk in answering]
    else:
        _bound(deadline, savepoint=savepoint)
        rows, session_rows = rows_fetch_together(
            [
                (
                    Event,
                    f"id = ANY(%s) AND status = %s {EVENT_ORDER} FOR UPDATE",
                    [list(answering), Event.Status.COLLECTED],
                ),
                (Session, "id = ANY(%s)", [sessions]),
            ]
        )
        profiles = []
    if not rows:
        return Processed()
    # Events of one request share their insert time, and often their time (none sent):
    # the request's order, not the id, breaks the tie, so that the answer is stable.
    position = {event["id"]: index for index, event in enumerate(events.answering)}
    rows.sort(key=lambda row: (row.time, position[row.pk]))
    batch = events_run(
        rows,
        profile_id=events.profile_id,
        stored=True,
        answer=answer,
        deadline=deadline,
        rows=PrefetchedRows(profiles=profiles, sessions=session_rows),
        writes=writes,
    )
    for run in batch.runs:
        if run.status == WorkflowRun.Status.ERROR:
            answer.warnings.append(f"Workflow '{_workflow_name(run)}' failed: {run.error}"[:1000])
    return batch.follow_up


def _bound(deadline: float, *, savepoint: _Savepoint) -> None:
    """Open the savepoint, and every statement and lock wait in it within the remaining
    budget (the profile's lock sets both when there is a profile)."""
    left = f"{_left_ms(deadline)}ms"
    opening, _ = savepoint.opening()
    with connection.cursor() as cursor:
        cursor.execute(
            f"{opening}; SELECT set_config('statement_timeout', %s, true), "
            "set_config('lock_timeout', %s, true)",
            [left, left],
        )


def _left_ms(deadline: float) -> int:
    return max(1, int((deadline - time.monotonic()) * 1000))


def _budget_reason(exc: DatabaseError) -> str:
    """Why the database stopped at the budget (lock_timeout: the profile's lock or an event
    row held by a worker; statement_timeout: a slow statement), or "" for another error."""
    code = getattr(exc.__cause__, "sqlstate", None)
    if code == "55P03":
        return BUSY
    if code == "57014":
        return "the database did not answer in time"
    return ""


def _hand_off(events: AnsweringEvents, *, follow_up: Processed, ran_here: bool) -> None:
    """What is left for the worker: the routed events, except those the request finished."""
    if ran_here:
        finished = {
            event["id"]
            for event in events.answering
            if not event_has_background_workflows(events.source_id, event["type"])
        }
        left = [event["id"] for event in events.routed if event["id"] not in finished]
    else:
        left = [event["id"] for event in events.routed]
    try:
        events_enqueue(event_ids=left, profile_id=events.profile_id)
        processed_enqueue(follow_up)
    except Exception:
        # The events commit `collected` all the same: the requeue sweep finds them.
        logger.exception("Hand-off after the answering workflows failed; left to the sweep")


def _timeouts_record(runs: list[WorkflowRun]) -> None:
    """The runs stopped at the budget, in their own savepoint (the runs' was rolled back)."""
    for run in runs:
        run.in_request = True
        run.status = WorkflowRun.Status.TIMEOUT
    try:
        with transaction.atomic():
            workflow_runs_insert(runs)
    except DatabaseError:
        logger.exception("Could not record %d timed-out runs", len(runs))


def _planned_timeouts(events: AnsweringEvents, *, reason: str) -> list[WorkflowRun]:
    """Timeout rows for every answering workflow of the request (the budget passed in the
    database, before or between the runs)."""
    now = timezone.now()
    runs = []
    for event in events.answering:
        planned = event_workflows(events.source_id, event["type"], answering_only=True)
        for workflow_id, (version, rule_ids) in planned.items():
            runs.append(
                WorkflowRun(
                    workflow_id=workflow_id,
                    workflow_version=version,
                    event_id=event["id"],
                    event_ref=event["id"],
                    event_type=event["type"],
                    profile_id=events.profile_id,
                    rule_ids=rule_ids,
                    replay=False,
                    in_request=True,
                    status=WorkflowRun.Status.TIMEOUT,
                    error=f"Stopped at the time budget: {reason}.",
                    error_node="",
                    started=now,
                    duration_ms=0.0,
                    log=[],
                )
            )
    return runs


def _workflow_name(run: WorkflowRun) -> str:
    compiled = workflow_compiled(workflow_id=run.workflow_id, version=run.workflow_version)
    if isinstance(compiled, GraphInvalid):
        return run.workflow_id
    return compiled.name


def _names(runs: list[WorkflowRun]) -> list[str]:
    return list(dict.fromkeys(_workflow_name(run) for run in runs))


def _late_warnings(runs: list[WorkflowRun], budget_ms: int) -> list[str]:
    return [
        f"Workflow '{name}' did not answer within {budget_ms} ms; it will run in the background."
        for name in _names(runs)
    ]


def _planned_names(events: AnsweringEvents) -> list[str]:
    return _names(_planned_timeouts(events, reason=""))


def _waiting_warnings(events: AnsweringEvents) -> list[str]:
    return [
        f"Workflow '{name}' did not answer: earlier events of this profile are still being "
        "processed; it will run in the background, after them."
        for name in _planned_names(events)
    ]


def _failed_warnings(events: AnsweringEvents) -> list[str]:
    try:
        names = _planned_names(events)
    except Exception:
        # Naming them needs the routing table and the graphs, which may need the database,
        # which may be what failed: a warning all the same.
        logger.exception("Could not name the answering workflows")
        return [UNAVAILABLE]
    return [
        f"Workflow '{name}' could not run in the request; it will run in the background."
        for name in names
    ]
