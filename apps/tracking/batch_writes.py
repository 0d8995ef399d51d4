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

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from apps.events.bulk import events_outcome_write
from apps.events.models import Event
from apps.profiles.services.writes import profiles_save_changes
from apps.workflows.models import WorkflowRun
from apps.workflows.services.parking import ResumedRun, runs_record_resumed
from apps.workflows.services.runs import workflow_runs_insert


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

    def flush(self) -> None:
        """Runs first (resumed branches append to their runs), then the events' outcome, then
        the profiles, whose change reports may read both."""
        runs, resumed, events, profiles = self.runs, self.resumed, self.events, self.profiles
        self.runs, self.resumed, self.events, self.profiles = [], [], [], []
        workflow_runs_insert(runs)
        runs_record_resumed(resumed)
        events_outcome_write(events)
        if not profiles:
            return
        changed = profiles_save_changes(
            changes=[(change.profile_id, change.before, change.after) for change in profiles],
            now=max(change.now for change in profiles),
        )
        for change in profiles:
            change.saved(changed.get(change.profile_id, []))
