"""Functions callable inside conditions: `now()`, `datetime(...)`, `lowercase(...)`, ...

Each takes already-evaluated arguments (never missing or null: the caller rejects those) and
raises EvaluationError for values it cannot handle. Datetimes are always timezone-aware (naive
input is taken as UTC) so any two of them compare without a TypeError.
"""

from __future__ import annotations

import email.utils
import functools
import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Final

from .errors import EvaluationError


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    implementation: Callable[..., Any]
    parameters: tuple[str, ...]
    description: str
    # Parameters after `parameters` that a call may leave out.
    optional: tuple[str, ...] = ()

    @property
    def signature(self) -> str:
        names = [*self.parameters, *(f"{name}?" for name in self.optional)]
        return f"{self.name}({', '.join(names)})"

    def takes(self, count: int) -> bool:
        return len(self.parameters) <= count <= len(self.parameters) + len(self.optional)


def to_datetime(value: Any, *, naive_zone: tzinfo = UTC) -> datetime:
    """A timezone-aware datetime from a datetime, date, ISO string or Unix timestamp."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return _from_timestamp(value)
    elif isinstance(value, str):
        moment = _parse_datetime_text(value)
    else:
        raise EvaluationError(f"Cannot read a datetime from {type(value).__name__} {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=naive_zone)
    return moment


_TIMESTAMP_TEXT: Final = re.compile(r"[+-]?\d+(?:\.\d+)?", re.ASCII)
_EXTRA_FORMATS: Final = ("%Y/%m/%d", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S")


def _parse_datetime_text(text: str) -> datetime:
    stripped = text.strip()
    if _TIMESTAMP_TEXT.fullmatch(stripped):
        return _from_timestamp(float(stripped))
    try:
        return datetime.fromisoformat(stripped)
    except ValueError:
        pass
    for pattern in _EXTRA_FORMATS:
        try:
            return datetime.strptime(stripped, pattern)
        except ValueError:
            continue
    try:
        # RFC 2822, as in HTTP and e-mail headers: "Sun, 22 Nov 2026 10:00:00 GMT".
        return email.utils.parsedate_to_datetime(stripped)
    except (TypeError, ValueError):
        pass
    raise EvaluationError(
        f"Cannot read a datetime from {text!r}; use ISO 8601 such as 2021-01-10 or "
        "2021-01-10T12:00:00+00:00"
    )


def _from_timestamp(seconds: float) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise EvaluationError(f"{seconds!r} is not a valid Unix timestamp") from error


_OFFSET: Final = re.compile(r"\s*([+-]?)\s*((?:\d+(?:\.\d+)?\s*[a-z]+\s*)+)", re.IGNORECASE)
_OFFSET_PART: Final = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)", re.IGNORECASE)
_OFFSET_UNITS: Final = {
    "s": "seconds", "sec": "seconds", "second": "seconds", "seconds": "seconds",
    "m": "minutes", "min": "minutes", "minute": "minutes", "minutes": "minutes",
    "h": "hours", "hour": "hours", "hours": "hours",
    "d": "days", "day": "days", "days": "days",
    "w": "weeks", "week": "weeks", "weeks": "weeks",
}  # fmt: skip


def to_timedelta(offset: Any) -> timedelta:
    """`"-1m"`, `"+2h"`, `"1d12h"`, `"30 seconds"`, or a number of seconds."""
    if isinstance(offset, int | float) and not isinstance(offset, bool):
        return timedelta(seconds=offset)
    match = _OFFSET.fullmatch(offset) if isinstance(offset, str) else None
    if match is None:
        raise EvaluationError(
            f'Cannot read a time offset from {offset!r}; write e.g. "-1m", "+2h", "1d12h" '
            "(units s, m, h, d, w)"
        )
    total = timedelta()
    for amount, unit in _OFFSET_PART.findall(match[2]):
        keyword = _OFFSET_UNITS.get(unit.lower())
        if keyword is None:
            raise EvaluationError(f"Unknown time unit {unit!r} in offset {offset!r}")
        total += timedelta(**{keyword: float(amount)})
    return -total if match[1] == "-" else total


@functools.cache
def _timezones_by_lowercase_name() -> Mapping[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def to_timezone(name: Any) -> tzinfo:
    """A timezone by IANA name, case-insensitively (`"europe/warsaw"` works)."""
    if not isinstance(name, str):
        raise EvaluationError(f"A timezone name must be a string, not {type(name).__name__}")
    if name.strip().upper() in ("UTC", "Z", "GMT"):
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        pass
    canonical = _timezones_by_lowercase_name().get(name.strip().lower())
    if canonical is None:
        raise EvaluationError(f"Unknown timezone {name!r}; use an IANA name like Europe/Warsaw")
    return zoneinfo.ZoneInfo(canonical)


def _now(timezone: Any = None) -> datetime:
    # now("europe/paris"): the current time in a timezone, as Tracardi's notation lists it.
    return datetime.now(UTC if timezone is None else to_timezone(timezone))


def _now_offset(offset: Any) -> datetime:
    return _now() + to_timedelta(offset)


def _now_timezone(timezone: Any) -> datetime:
    return datetime.now(to_timezone(timezone))


def _datetime(value: Any) -> datetime:
    return to_datetime(value)


def _datetime_from_timestamp(seconds: Any) -> datetime:
    if isinstance(seconds, str) and _TIMESTAMP_TEXT.fullmatch(seconds.strip()):
        seconds = float(seconds)
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        raise EvaluationError(f"A Unix timestamp must be a number, not {seconds!r}")
    return _from_timestamp(seconds)


def _datetime_offset(value: Any, offset: Any) -> datetime:
    return to_datetime(value) + to_timedelta(offset)


def _datetime_timezone(value: Any, timezone: Any) -> datetime:
    # A naive value is a wall-clock time in that zone; an aware one is converted to it.
    zone = to_timezone(timezone)
    return to_datetime(value, naive_zone=zone).astimezone(zone)


def _require_string(function: str, value: Any) -> str:
    if not isinstance(value, str):
        raise EvaluationError(f"{function}() needs a string, not {type(value).__name__} {value!r}")
    return value


def _lowercase(text: Any) -> str:
    return _require_string("lowercase", text).lower()


def _uppercase(text: Any) -> str:
    return _require_string("uppercase", text).upper()


def _trim(text: Any) -> str:
    return _require_string("trim", text).strip()


def _length(value: Any) -> int:
    if isinstance(value, str | list | tuple | dict):
        return len(value)
    raise EvaluationError(f"length() needs a string, list or object, not {value!r}")


_NUMBER_TEXT: Final = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def _number(value: Any) -> int | float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
        text = value.strip()
        return int(text) if text.lstrip("+-").isdigit() else float(text)
    raise EvaluationError(f"number() cannot read a number from {value!r}")


FUNCTIONS: Final[Mapping[str, Function]] = {
    function.name: function
    for function in (
        Function(
            "now", _now, (), "the current time (UTC, or in the timezone given)", ("timezone",)
        ),
        Function("now.offset", _now_offset, ("offset",), 'now shifted by an offset like "-1m"'),
        Function("now.timezone", _now_timezone, ("timezone",), "the current time in a timezone"),
        Function("datetime", _datetime, ("value",), "a datetime from an ISO string or timestamp"),
        Function(
            "datetime.from_timestamp",
            _datetime_from_timestamp,
            ("seconds",),
            "a datetime from Unix seconds",
        ),
        Function(
            "datetime.offset",
            _datetime_offset,
            ("value", "offset"),
            'a datetime shifted by an offset like "-1d"',
        ),
        Function(
            "datetime.timezone",
            _datetime_timezone,
            ("value", "timezone"),
            "a datetime in a timezone (a value without one is read as local time there)",
        ),
        Function("lowercase", _lowercase, ("text",), "the text in lower case"),
        Function("uppercase", _uppercase, ("text",), "the text in upper case"),
        Function("trim", _trim, ("text",), "the text without surrounding whitespace"),
        Function("length", _length, ("value",), "the length of a string, list or object"),
        Function("number", _number, ("value",), 'a number from a number or a string like "10"'),
    )
}
