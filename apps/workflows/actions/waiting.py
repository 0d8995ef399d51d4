"""Time in automation: Wait, and Wait for an event (issue 18).

Both park their branch durably in PostgreSQL (models.ParkedRun): no worker sleeps and no
delayed broker message is sent. A beat job resumes the branch when it is due, at the node's
port, with the payload and memory it had and the event the run started with; the profile is
read again then, as it is at that moment (apps.tracking.resume). Runs not started by an event
of the worker (test runs in the editor) stop at the node and show when it would resume.

`CDP_WORKFLOW_WAIT_SCALE` (settings, 1 in production) multiplies fixed waits and timeouts:
tests and demos shorten an hour to seconds with it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from apps import notation
from apps.workflows.actions.base import (
    Action,
    ActionError,
    ConfigError,
    Park,
    Result,
    lookup,
    readable_reference,
)
from apps.workflows.waits import (
    UNITS,
    WEEKDAYS,
    WaitError,
    clock_time,
    due_after,
    due_from_value,
    due_next_weekday,
    profile_timezone,
)

FOR_A_TIME = "for a time"
UNTIL_DATE = "until a date from the data"
UNTIL_WEEKDAY = "until the next weekday and time"

_AMOUNT = {
    "type": "integer",
    "minimum": 1,
    "default": 1,
    "title": "How long",
    "description": "A whole number of the unit below, e.g. 2 (days).",
}
_UNIT = {
    "enum": list(UNITS),
    "default": "hours",
    "title": "Unit",
    "description": "Minutes, hours, days (24 hours) or weeks.",
}


def _scale() -> float:
    return settings.CDP_WORKFLOW_WAIT_SCALE


class WaitAction(Action):
    id = "wait"
    name = "Wait"
    group = "Flow"
    description = "Pauses this branch for a time, until a date, or until a weekday and time."
    docs = (
        "Parks this branch of the run and goes on from the payload port later, with the same "
        "payload, memory and event; the profile is read again then. Choose when in `Wait`:\n\n"
        f"- **{FOR_A_TIME}**: `How long` and `Unit` (e.g. 2 days);\n"
        f"- **{UNTIL_DATE}**: `Date from the data`, a dot path to an ISO 8601 date/time "
        "(e.g. profile@traits.renewal_at; without a zone it is UTC). A date already past goes "
        "on at once; a missing or unreadable date stops the run with an error;\n"
        f"- **{UNTIL_WEEKDAY}**: `Weekday` and `Time` (HH:MM) in the profile's time zone "
        "(profile@metadata.time.visit.tz, from the visitor's browser), UTC when the profile "
        "has none. The wall-clock time is kept across daylight saving changes.\n\n"
        "Waiting branches are listed in the admin (Workflows › Parked runs) and on the "
        "profile page, where they can be resumed at once or cancelled. If the profile is "
        "merged meanwhile the branch goes on with the merged profile; if the person is "
        "erased it is cancelled."
    )
    config_schema = {
        "type": "object",
        "required": ["mode"],
        "properties": {
            "mode": {
                "enum": [FOR_A_TIME, UNTIL_DATE, UNTIL_WEEKDAY],
                "default": FOR_A_TIME,
                "title": "Wait",
                "description": "How the time to go on is given; only the fields of that "
                "choice are used.",
            },
            "amount": {**_AMOUNT, "description": f"With “{FOR_A_TIME}”: " + _AMOUNT["description"]},
            "unit": {**_UNIT, "description": f"With “{FOR_A_TIME}”: " + _UNIT["description"]},
            "date": {
                "type": ["string", "null"],
                "default": None,
                "title": "Date from the data",
                "description": f"With “{UNTIL_DATE}”: where the date is, "
                "e.g. profile@traits.renewal_at.",
                "x-notation": "path",
            },
            "weekday": {
                "enum": list(WEEKDAYS),
                "default": "monday",
                "title": "Weekday",
                "description": f"With “{UNTIL_WEEKDAY}”: the day to go on.",
            },
            "time": {
                "type": "string",
                "pattern": r"^([01]?\d|2[0-3]):[0-5]\d$",
                "default": "09:00",
                "title": "Time",
                "description": f"With “{UNTIL_WEEKDAY}”: the time of day, HH:MM (24 hours), in the "
                "profile's time zone.",
            },
        },
    }

    def setup(self) -> None:
        mode = self.config["mode"]
        if mode == UNTIL_DATE:
            if not self.config.get("date"):
                raise ConfigError("date: write where the date is, e.g. profile@traits.renewal_at")
            readable_reference(self.config["date"], field="date")
        if mode == UNTIL_WEEKDAY:
            try:
                self.at = clock_time(self.config["time"])
            except WaitError as exc:
                raise ConfigError(f"time: {exc}") from exc

    def run(self, payload: Any, flow) -> Result | Park:
        mode = self.config["mode"]
        if mode == FOR_A_TIME:
            due = due_after(flow.now, self.config["amount"], self.config["unit"], scale=_scale())
        elif mode == UNTIL_DATE:
            value = lookup(self.config["date"], flow.data(payload))
            if value is notation.MISSING or value is None:
                raise ActionError(f"no date at {self.config['date']}: nothing to wait until")
            try:
                due = due_from_value(value)
            except WaitError as exc:
                raise ActionError(f"date at {self.config['date']}: {exc}") from exc
            if due <= flow.now:
                return Result("payload", payload)
        else:
            zone = profile_timezone(flow.profile)
            due = due_next_weekday(flow.now, self.config["weekday"], self.at, zone)
        return Park(due_at=due, port="payload")


class WaitForEventAction(Action):
    id = "wait_for_event"
    name = "Wait for an event"
    group = "Flow"
    description = "Goes on when an event of a type arrives for the profile, or after a timeout."
    docs = (
        "Parks this branch until an event of type `Event type` (e.g. checkout) arrives for the "
        "same profile: the branch then goes on from the `event` port with that event as the "
        "payload (the run's event and memory are kept). When none arrives within the timeout "
        "(`How long` and `Unit`, e.g. 3 days), it goes on from the `timeout` port with the "
        "payload it had. Only events that arrive after the branch parked count. Events of "
        "that type are handed to the worker for this even when no rule routes them."
    )
    outputs = ("event", "timeout")
    config_schema = {
        "type": "object",
        "required": ["event_type"],
        "properties": {
            "event_type": {
                "type": "string",
                "minLength": 1,
                "title": "Event type",
                "description": "The stored form: lower case, spaces as '-', e.g. checkout.",
            },
            "amount": {**_AMOUNT, "title": "Timeout"},
            "unit": _UNIT,
        },
    }

    def setup(self) -> None:
        self.event_type = self.config["event_type"].strip().lower().replace(" ", "-")
        if not self.event_type:
            raise ConfigError("event_type: write the event type to wait for, e.g. checkout")

    def run(self, payload: Any, flow) -> Park:
        due = due_after(flow.now, self.config["amount"], self.config["unit"], scale=_scale())
        return Park(due_at=due, port="timeout", waiting_for=self.event_type)
