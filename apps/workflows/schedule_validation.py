"""Validation of workflow schedules, with messages a marketer can act on. Called from
WorkflowSchedule.clean() (the admin shows each message next to its field); reads no rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps import notation
from apps.destinations.validation import crontab_fields

if TYPE_CHECKING:
    from apps.workflows.models import WorkflowSchedule

MAX_MINUTES = 24 * 60
MAX_HOURS = 24 * 31


def workflow_schedule_errors(schedule: WorkflowSchedule) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    Every, Audience = schedule.Every, schedule.Audience
    if schedule.every in (Every.MINUTES, Every.HOURS):
        most = MAX_MINUTES if schedule.every == Every.MINUTES else MAX_HOURS
        unit = "minutes" if schedule.every == Every.MINUTES else "hours"
        if not (schedule.interval and 1 <= schedule.interval <= most):
            errors["interval"] = [f"Every N {unit}: give a number of {unit} from 1 to {most}."]
    elif schedule.every == Every.DAY and schedule.at_time is None:
        errors["at_time"] = ["Every day: give the time, e.g. 08:00."]
    elif schedule.every == Every.CRONTAB:
        try:
            crontab_fields(schedule.crontab)
        except ValueError as error:
            errors["crontab"] = [str(error)]
    if schedule.audience == Audience.SEGMENT:
        if not schedule.segment_id:
            errors["segment"] = ["Every profile of a segment: choose the segment."]
    elif not schedule.condition.strip():
        errors["condition"] = ["Profiles matching a condition: write the condition."]
    else:
        try:
            notation.validate(schedule.condition)
        except notation.ConditionSyntaxError as error:
            errors["condition"] = [str(error)]
    return errors
