"""When a Wait node's branch is due: the three ways of saying it (issue 18), as pure functions.

- for a time: `now` plus an amount of minutes, hours, days or weeks (a day is 24 hours);
- until a date from the data: an ISO 8601 text or a datetime; without a zone it is UTC;
- until the next weekday and time in a time zone (the profile's `metadata.time.visit.tz`,
  UTC when it has none or an unknown one): the wall-clock time is kept across daylight saving
  changes (Monday 09:00 Europe/Warsaw is 08:00 UTC in winter, 07:00 UTC in summer). A time
  that the change skips (02:30 on the spring-forward night) is read with the offset before
  the change, so it comes an hour later on the clock (03:30). "Next" is strictly later than
  now: on Monday at 09:00 sharp, Monday 09:00 is a week away.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

UNITS = {"minutes": 60, "hours": 3600, "days": 86400, "weeks": 7 * 86400}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class WaitError(ValueError):
    """The data does not say when: the message names what is wrong."""


def duration_seconds(amount: float, unit: str, *, scale: float = 1.0) -> float:
    """`amount` `unit`s in seconds; `scale` shortens every wait (settings, for tests/demos)."""
    if unit not in UNITS:
        raise WaitError(f"unknown unit {unit!r}; use one of {', '.join(UNITS)}")
    return amount * UNITS[unit] * scale


def due_after(now: datetime, amount: float, unit: str, *, scale: float = 1.0) -> datetime:
    return now + timedelta(seconds=duration_seconds(amount, unit, scale=scale))


def due_from_value(value: Any) -> datetime:
    """A date/time read from the data: a datetime, or ISO 8601 text ("2026-12-24T18:00:00+01:00",
    "2026-12-24" is midnight UTC). Naive values are UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            raise WaitError(
                f"{value!r} is not a date; write it as ISO 8601, e.g. 2026-12-24T18:00:00+01:00"
            ) from None
    else:
        raise WaitError(f"expected a date/time, found {value!r}")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def clock_time(text: str) -> time:
    match = _CLOCK.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise WaitError(f"{text!r} is not a time of day; write HH:MM, e.g. 09:00")
    return time(int(match[1]), int(match[2]))


def profile_timezone(profile: dict | None) -> tzinfo:
    """The profile's time zone (metadata.time.visit.tz, set from the tracker's context), else
    UTC (no profile, no zone recorded, or a name that is not an IANA zone)."""
    name = (((profile or {}).get("metadata") or {}).get("time") or {}).get("visit", {})
    name = name.get("tz") if isinstance(name, dict) else None
    if not isinstance(name, str) or not name.strip():
        return UTC
    try:
        return zoneinfo.ZoneInfo(name.strip())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def due_next_weekday(now: datetime, weekday: str, at: time, zone: tzinfo) -> datetime:
    """The first `weekday` at wall-clock `at` in `zone` strictly after `now`, in UTC."""
    if weekday not in WEEKDAYS:
        raise WaitError(f"unknown weekday {weekday!r}; use one of {', '.join(WEEKDAYS)}")
    local = now.astimezone(zone)
    ahead = (WEEKDAYS.index(weekday) - local.weekday()) % 7
    for days in (ahead, ahead + 7):
        day = local.date() + timedelta(days=days)
        candidate = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
        if candidate > now:
            return candidate
    raise AssertionError("unreachable: a week later is always later")
