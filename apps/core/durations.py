"""Durations as operators type them on the command line: `90d`, `12h`, `2w`, `30m`."""

import re
from datetime import timedelta

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")


class DurationError(ValueError):
    pass


def duration_parse(text: str) -> timedelta:
    """`90d` -> 90 days; units m (minutes), h (hours), d (days), w (weeks). A whole number
    and one unit; anything else raises DurationError with what to write instead."""
    match = _DURATION.match(text or "")
    if match is None:
        raise DurationError(
            f"{text!r} is not a duration: write a whole number and a unit, e.g. 90d (days), "
            "12h (hours), 2w (weeks) or 30m (minutes)."
        )
    amount, unit = int(match.group(1)), match.group(2)
    if amount == 0:
        raise DurationError(f"{text!r}: the duration must be more than zero.")
    return timedelta(**{_UNITS[unit]: amount})
