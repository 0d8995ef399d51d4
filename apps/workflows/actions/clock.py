"""The run's clock: today (in the visitor's time zone), is it between two times of day, how
long the profile has existed, how long since its last visit.

"Now" is the run's clock (`flow.now`), as in apps.workflows.actions.dates. Tracardi's plugins:
time.today_action, time.local_time_span, time.profile_live_time, time.last_profile_visit.
"""

from __future__ import annotations

from datetime import datetime, time, tzinfo
from typing import Any

from apps import notation
from apps.notation.functions import to_datetime, to_timezone
from apps.workflows.actions.base import Action, ActionError, ConfigError, Result, readable_reference
from apps.workflows.actions.dates import WEEKDAYS
from apps.workflows.actions.reading import read_or_missing, text_property

_TIMEZONE = {
    "type": "string",
    "default": "session@context.time.tz",
    "title": "Time zone",
    "description": "A dot path to the visitor's time zone (the tracker sends "
    "session@context.time.tz), or a name such as Europe/Warsaw.",
    "x-notation": "value",
}


def _check_timezone(config: dict) -> None:
    readable_reference(config["timezone"], field="timezone")
    if notation.parse_reference(config["timezone"]) is None:
        try:
            to_timezone(config["timezone"])
        except notation.NotationError as exc:
            raise ConfigError(f"timezone: {exc}") from exc


def _zone(action: Action, payload: Any, flow) -> tzinfo:
    name = read_or_missing(action, "timezone", payload, flow)
    if name is notation.MISSING or name in (None, ""):
        raise ActionError(f"timezone: {action.config['timezone']} has no time zone")
    try:
        return to_timezone(name)
    except notation.NotationError as exc:
        raise ActionError(f"timezone: {exc}") from exc


def _clock(moment: datetime) -> dict:
    return {
        "dayOfWeek": WEEKDAYS[moment.weekday()],
        "day": moment.day,
        "month": moment.month,
        "year": moment.year,
        "week": moment.isoweekday(),  # Tracardi's name for the day number (1: Monday)
        "hour": moment.hour,
        "minute": moment.minute,
        "second": moment.second,
        "ms": moment.microsecond // 1000,
        "time": moment.strftime("%H:%M:%S"),
        "iso": moment.isoformat(),
    }


class TodayAction(Action):
    id = "today"
    name = "Today"
    group = "Time"
    description = "Today's date and time of day, in UTC and in the visitor's time zone."
    docs = (
        "`timezone`: a dot path to a time zone (default `session@context.time.tz`, which the "
        'tracker sends) or a name. Output: `{"utcTime", "timestamp", "server": {...}, '
        '"local": {...}}` where server (UTC) and local each hold `dayOfWeek` (monday...), '
        "`day`, `month`, `year`, `week` (the day's number, 1 = Monday, as Tracardi names "
        "it), `hour`, `minute`, `second`, `ms`, "
        "`time` (hh:mm:ss) and `iso`. E.g. If `payload@local.hour >= 18`."
    )
    config_schema = {"type": "object", "properties": {"timezone": _TIMEZONE}}

    def setup(self) -> None:
        _check_timezone(self.config)

    def run(self, payload: Any, flow) -> Result:
        utc = flow.now.astimezone(to_timezone("UTC"))
        local = flow.now.astimezone(_zone(self, payload, flow))
        return Result(
            "payload",
            {
                "utcTime": utc.isoformat(),
                "timestamp": utc.timestamp(),
                "server": _clock(utc),
                "local": _clock(local),
            },
        )


def _time_of_day(text: Any, field: str) -> time:
    try:
        return datetime.strptime(text, "%H:%M:%S").time()
    except (TypeError, ValueError):
        try:
            return datetime.strptime(text, "%H:%M").time()
        except (TypeError, ValueError):
            raise ConfigError(f"{field}: write a time of day as hh:mm:ss, e.g. 09:00:00") from None


class WeekendCheckAction(Action):
    id = "weekend_check"
    name = "Is it a weekend"
    group = "Time"
    description = "Today's day name and number, and whether it is a weekend (UTC)."
    docs = (
        'Output on `date`: `{"today": "Saturday", "weekend": true, "day_number": 6}` for the '
        "run's date in UTC (day numbers 1 = Monday ... 7 = Sunday; 6 and 7 are the weekend). "
        "Follow it with an If on `payload@weekend == true`; for the visitor's own time zone "
        "use Day of week."
    )
    outputs = ("date",)

    def run(self, payload: Any, flow) -> Result:
        today = flow.now.astimezone(to_timezone("UTC"))
        number = today.isoweekday()
        day = WEEKDAYS[today.weekday()].title()
        return Result("date", {"today": day, "weekend": number > 5, "day_number": number})


class LocalTimeSpanAction(Action):
    id = "local_time_span"
    name = "Is time between"
    group = "Time"
    description = "Routes by whether the visitor's local time of day is between two times."
    docs = (
        "`start` and `end`: times of day (hh:mm:ss, e.g. `09:00:00` and `17:30:00`); "
        "`timezone`: a dot path to the visitor's time zone (default "
        "`session@context.time.tz`) or a name. The payload goes to `in` when the local time "
        "is after start and before end, to `out` otherwise. A span that passes midnight "
        "(start 22:00:00, end 06:00:00) is understood as the night between."
    )
    outputs = ("in", "out")
    config_schema = {
        "type": "object",
        "required": ["start", "end"],
        "properties": {
            "timezone": _TIMEZONE,
            "start": text_property("From", "A time of day, hh:mm:ss, e.g. 09:00:00."),
            "end": text_property("Until", "A time of day, hh:mm:ss, e.g. 17:00:00."),
        },
    }

    def setup(self) -> None:
        _check_timezone(self.config)
        self.start = _time_of_day(self.config["start"], "start")
        self.end = _time_of_day(self.config["end"], "end")
        if self.start == self.end:
            raise ConfigError("end: the span is empty; end must differ from start")

    def run(self, payload: Any, flow) -> Result:
        now = flow.now.astimezone(_zone(self, payload, flow)).time().replace(tzinfo=None)
        if self.start < self.end:
            inside = self.start < now < self.end
        else:
            inside = now > self.start or now < self.end
        return Result("in" if inside else "out", payload)


def _span(seconds: float) -> dict:
    return {
        "seconds": seconds,
        "minutes": seconds / 60,
        "hours": seconds / 3600,
        "days": seconds / 86400,
        "weeks": seconds / 604800,
    }


def _profile_time(flow, *keys: str) -> datetime | None:
    profile = flow.profile or {}
    node: Any = profile.get("metadata") or {}
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    if node in (None, ""):
        return None
    try:
        return to_datetime(node)
    except (notation.NotationError, ValueError, OverflowError):
        return None


class ProfileLiveTimeAction(Action):
    id = "profile_live_time"
    name = "Profile live time"
    group = "Time"
    description = "How long ago the profile was created."
    docs = (
        'Output on `live-time`: `{"last": "<when the profile was created>", "time": '
        '{"seconds", "minutes", "hours", "days", "weeks"}}`. An event without a profile (or '
        "a profile without a creation time) goes to `error` unchanged."
    )
    outputs = ("live-time", "error")

    def run(self, payload: Any, flow) -> Result:
        created = _profile_time(flow, "time", "insert")
        if created is None:
            return Result("error", payload)
        seconds = (flow.now - created).total_seconds()
        return Result("live-time", {"last": created.isoformat(), "time": _span(seconds)})


class LastVisitAction(Action):
    id = "last_visit"
    name = "Last profile visit time"
    group = "Time"
    description = "When the profile's current visit started, and how long ago."
    docs = (
        'Output on `visit`: `{"last": "<start of the current visit>", "difference": '
        '{"seconds", "minutes", "hours", "days", "weeks"}}` (the creation time for a profile '
        "with no visit yet). An event without a profile goes to `error` unchanged."
    )
    outputs = ("visit", "error")

    def run(self, payload: Any, flow) -> Result:
        last = _profile_time(flow, "time", "visit", "current") or _profile_time(
            flow, "time", "insert"
        )
        if last is None:
            return Result("error", payload)
        seconds = (flow.now - last).total_seconds()
        return Result("visit", {"last": last.isoformat(), "difference": _span(seconds)})
