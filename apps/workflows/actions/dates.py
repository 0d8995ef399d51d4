"""Dates and times: day or night, day of the week, time difference.

"Now" is the run's clock (`flow.now`), so a run judges every node by the same instant.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from apps import notation
from apps.notation.functions import to_datetime, to_timezone
from apps.workflows.actions.base import (
    TARGET_PROPERTY,
    Action,
    ActionError,
    ConfigError,
    Result,
    optional_target,
    readable_reference,
)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# The sun's centre this far below the horizon is sunrise/sunset (refraction + solar radius).
HORIZON_DEGREES = -0.833


def solar_elevation(moment: datetime, latitude: float, longitude: float) -> float:
    """The sun's elevation in degrees (NOAA's low-precision formulas, good to ~1 degree)."""
    days = moment.timestamp() / 86400 + 2440587.5 - 2451545.0  # days since J2000.0
    mean_longitude = (280.460 + 0.9856474 * days) % 360
    anomaly = math.radians((357.528 + 0.9856003 * days) % 360)
    ecliptic = math.radians(
        mean_longitude + 1.915 * math.sin(anomaly) + 0.020 * math.sin(2 * anomaly)
    )
    obliquity = math.radians(23.439 - 0.0000004 * days)
    right_ascension = math.atan2(math.cos(obliquity) * math.sin(ecliptic), math.cos(ecliptic))
    declination = math.asin(math.sin(obliquity) * math.sin(ecliptic))
    sidereal = math.radians((280.46061837 + 360.98564736629 * days + longitude) % 360)
    hour_angle = sidereal - right_ascension
    lat = math.radians(latitude)
    sine = math.sin(lat) * math.sin(declination) + math.cos(lat) * math.cos(declination) * math.cos(
        hour_angle
    )
    return math.degrees(math.asin(max(-1.0, min(1.0, sine))))


def _coordinate(action: Action, key: str, payload: Any, flow, limit: float) -> float:
    value = notation.cast_value(flow.read(action.config[key], payload))
    if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > limit:
        raise ActionError(f"{key} must be a number between -{limit} and {limit}, got {value!r}")
    return float(value)


class DayNightAction(Action):
    id = "day_night"
    name = "Day/night"
    group = "Time"
    description = "Routes by whether the sun is up at a place now."
    docs = (
        "`latitude` and `longitude`: numbers or dot paths to them (e.g. "
        "`event@context.location.latitude`). The payload goes to `day` when the sun is above "
        "the horizon there at the time of the run, to `night` otherwise."
    )
    outputs = ("day", "night")
    config_schema = {
        "type": "object",
        "required": ["latitude", "longitude"],
        "properties": {
            "latitude": {
                "type": ["number", "string"],
                "title": "Latitude",
                "description": "A number, or a dot path to one, e.g. "
                "session@context.location.latitude.",
                "x-notation": "value",
            },
            "longitude": {
                "type": ["number", "string"],
                "title": "Longitude",
                "description": "A number, or a dot path to one.",
                "x-notation": "value",
            },
        },
    }

    def setup(self) -> None:
        readable_reference(self.config["latitude"], field="latitude")
        readable_reference(self.config["longitude"], field="longitude")

    def run(self, payload: Any, flow) -> Result:
        latitude = _coordinate(self, "latitude", payload, flow, 90)
        longitude = _coordinate(self, "longitude", payload, flow, 180)
        up = solar_elevation(flow.now, latitude, longitude) > HORIZON_DEGREES
        return Result("day" if up else "night", payload)


def _zone(action: Action, payload: Any, flow):
    name = flow.read(action.config["timezone"], payload)
    try:
        return to_timezone(name)
    except notation.NotationError as exc:
        raise ActionError(f"timezone: {exc}") from exc


class WeekdayAction(Action):
    id = "weekday"
    name = "Day of week"
    group = "Time"
    description = "Routes by whether today (in a time zone) is one of the given days."
    docs = (
        "`days`: day names (default saturday and sunday: an is-it-weekend check); `timezone`: "
        "an IANA name such as Europe/Warsaw or a dot path to one (default UTC; the tracker "
        "sends `session@context.time.tz`). The payload goes to `true` when the run's date "
        "there is one of the days, to `false` otherwise."
    )
    outputs = ("true", "false")
    config_schema = {
        "type": "object",
        "properties": {
            "days": {
                "type": "array",
                "minItems": 1,
                "items": {"enum": list(WEEKDAYS), "title": "Day"},
                "default": ["saturday", "sunday"],
                "title": "Days",
                "description": 'The days that go to "true".',
            },
            "timezone": {
                "type": "string",
                "default": "UTC",
                "title": "Time zone",
                "description": "A time zone name (e.g. Europe/Warsaw), or a dot path to one.",
                "x-notation": "value",
            },
        },
    }

    def setup(self) -> None:
        readable_reference(self.config["timezone"], field="timezone")
        if notation.parse_reference(self.config["timezone"]) is None:
            try:
                to_timezone(self.config["timezone"])
            except notation.NotationError as exc:
                raise ConfigError(f"timezone: {exc}") from exc
        self.days = frozenset(WEEKDAYS.index(day) for day in self.config["days"])

    def run(self, payload: Any, flow) -> Result:
        local = flow.now.astimezone(_zone(self, payload, flow))
        return Result("true" if local.weekday() in self.days else "false", payload)


class TimeDifferenceAction(Action):
    id = "time_difference"
    name = "Time difference"
    group = "Time"
    description = "How long ago (or ahead) a date/time is, in seconds to weeks."
    docs = (
        "`reference_date`: a dot path to a date/time (ISO text or Unix timestamp), e.g. "
        "`profile@metadata.time.visit.last`; `now`: `now` (the run's time, default) or "
        'another dot path. Output: `{"seconds", "minutes", "hours", "days", "weeks"}` of '
        "now minus the reference (negative when the reference is in the future)."
    )
    config_schema = {
        "type": "object",
        "required": ["reference_date"],
        "properties": {
            "reference_date": {
                "type": "string",
                "title": "Reference date",
                "description": "A dot path to a date, or an ISO date.",
                "x-notation": "value",
            },
            "now": {
                "type": "string",
                "default": "now",
                "title": "Compared with",
                "description": "now (the run's time), a dot path to a date, or an ISO date.",
                "x-notation": "value",
            },
            "target": TARGET_PROPERTY,
        },
    }

    def setup(self) -> None:
        readable_reference(self.config["reference_date"], field="reference_date")
        readable_reference(self.config["now"], field="now")
        optional_target(self.config)

    def _moment(self, key: str, payload: Any, flow) -> datetime:
        value = flow.read(self.config[key], payload)
        try:
            return to_datetime(value)
        except (notation.NotationError, ValueError, OverflowError) as exc:
            raise ActionError(f"{key}: {value!r} is not a date/time") from exc

    def run(self, payload: Any, flow) -> Result:
        now = flow.now if self.config["now"] == "now" else self._moment("now", payload, flow)
        seconds = (now - self._moment("reference_date", payload, flow)).total_seconds()
        difference = {
            "seconds": seconds,
            "minutes": seconds / 60,
            "hours": seconds / 3600,
            "days": seconds / 86400,
            "weeks": seconds / 604800,
        }
        return self.deliver(difference, payload, flow)
