"""The writes of many profiles' batches, made together (apps.tracking.batches).

A profile's batch ends with four writes: its workflow runs, the outcome of its events, and
its profile (read under lock, then updated). Measured in one process (bench/workflows.py's
workflow, 50 profiles of 10 events), those round trips were two thirds of the time when made
per profile, the profile's two alone nearly half. Here `events_run` hands them to a
`BatchWrites`, which makes each a single statement for the whole batch when it is flushed:
at the end of the batch, and before anything that reads or changes another profile's rows
(an identification or a merge), so that such a step sees what the batch did so far.

It all runs in the batch's transaction: nothing commits before the batch does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from apps.core.rows import Statement, statements_execute
from apps.events.bulk import events_outcome_statement
from apps.events.models import Event
from apps.profiles.services.writes import profiles_changes, profiles_write_changes
from apps.workflows.models import WorkflowRun
from apps.workflows.services.parking import ResumedRun, runs_record_resumed
from apps.workflows.services.runs import workflow_runs_insert_statement


@dataclass
class _ProfileChange:
    profile_id: str
    before: dict
    after: dict
    now: datetime
    # Called with the changed paths once the profile is written (its change reports).
    saved: Callable[[list[str]], None]


@dataclass
class BatchWrites:
    runs: list[WorkflowRun] = field(default_factory=list)
    resumed: list[ResumedRun] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    profiles: list[_ProfileChange] = field(default_factory=list)

    def add(
        self,
        *,
        runs: list[WorkflowRun],
        resumed: list[ResumedRun],
        events: list[Event],
    ) -> None:
        self.runs.extend(runs)
        self.resumed.extend(resumed)
        self.events.extend(events)

    def profile_save(
        self,
        *,
        profile_id: str,
        before: dict,
        after: dict,
        now: datetime,
        saved: Callable[[list[str]], None],
    ) -> None:
        if any(change.profile_id == profile_id for change in self.profiles):
            self.flush()  # one change per profile and statement
        self.profiles.append(_ProfileChange(profile_id, before, after, now, saved))

    def flush(self, *, then: Sequence[Statement] = ()) -> None:
        """Runs first (resumed branches append to their runs), then the events' outcome, then
        the profiles, whose change reports may read both, then the statements `then`. Writes
        whose results are not read go together in one round trip: the runs, the outcome and
        `then` when no profile changed (an answering request's usual case)."""
        runs, resumed, events, profiles = self.runs, self.resumed, self.events, self.profiles
        self.runs, self.resumed, self.events, self.profiles = [], [], [], []
        pending = [workflow_runs_insert_statement(runs)]
        if resumed:
            statements_execute(pending)
            pending = []
            runs_record_resumed(resumed)
        pending.append(events_outcome_statement(events))
        wanted = profiles_changes([(c.profile_id, c.before, c.after) for c in profiles])
        changed: dict[str, list[str]] = {}
        if wanted:
            statements_execute(pending)
            pending = []
            changed = profiles_write_changes(wanted, now=max(c.now for c in profiles))
        # With no profile changed, the reports come before the runs and the outcome are
        # written: they then read neither (a live segment counts events by type and time,
        # whatever their status).
        for change in profiles:
            change.saved(changed.get(change.profile_id, []))
        statements_execute([*pending, *then])
