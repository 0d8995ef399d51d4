"""The helpers behind the condition functions: datetimes, offsets, timezones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from apps.notation import FUNCTIONS, EvaluationError
from apps.notation.functions import to_datetime, to_timedelta, to_timezone


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        ("-1m", timedelta(minutes=-1)),
        ("+2h", timedelta(hours=2)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("-1d 12h", -timedelta(days=1, hours=12)),
        ("30 seconds", timedelta(seconds=30)),
        ("2W", timedelta(weeks=2)),
        ("1.5h", timedelta(minutes=90)),
        (90, timedelta(seconds=90)),
    ],
)
def test_to_timedelta(offset: Any, expected: timedelta) -> None:
    assert to_timedelta(offset) == expected


@pytest.mark.parametrize("offset", ["", "1", "m", "1 fortnight", "1m-", True, None, [1]])
def test_to_timedelta_rejects(offset: Any) -> None:
    with pytest.raises(EvaluationError):
        to_timedelta(offset)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-01-10", datetime(2021, 1, 10, tzinfo=UTC)),
        ("2021-01-10 00:00:01", datetime(2021, 1, 10, 0, 0, 1, tzinfo=UTC)),
        ("2021-01-10T10:00:00Z", datetime(2021, 1, 10, 10, tzinfo=UTC)),
        (
            "2021-01-10T10:00:00+02:00",
            datetime(2021, 1, 10, 10, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("2021/01/10 08:30", datetime(2021, 1, 10, 8, 30, tzinfo=UTC)),
        ("Sun, 10 Jan 2021 10:00:00 GMT", datetime(2021, 1, 10, 10, tzinfo=UTC)),
        ("1650976227", datetime(2022, 4, 26, 12, 30, 27, tzinfo=UTC)),
        (1650976227, datetime(2022, 4, 26, 12, 30, 27, tzinfo=UTC)),
        (date(2021, 1, 10), datetime(2021, 1, 10, tzinfo=UTC)),
        (datetime(2021, 1, 10, 5), datetime(2021, 1, 10, 5, tzinfo=UTC)),
    ],
)
def test_to_datetime(value: Any, expected: datetime) -> None:
    result = to_datetime(value)
    assert result == expected
    assert result.tzinfo is not None


@pytest.mark.parametrize("value", ["yesterday-ish", "", True, {"a": 1}, 10**20])
def test_to_datetime_rejects(value: Any) -> None:
    with pytest.raises(EvaluationError):
        to_datetime(value)


@pytest.mark.parametrize(
    ("name", "key"),
    [("europe/warsaw", "Europe/Warsaw"), ("Europe/Paris", "Europe/Paris"), ("utc", None)],
)
def test_to_timezone_is_case_insensitive(name: str, key: str | None) -> None:
    zone = to_timezone(name)
    assert getattr(zone, "key", None) == key
    if key is None:
        assert zone is UTC


def test_function_catalogue() -> None:
    assert {name: function.signature for name, function in FUNCTIONS.items()} == {
        "now": "now(timezone?)",
        "now.offset": "now.offset(offset)",
        "now.timezone": "now.timezone(timezone)",
        "datetime": "datetime(value)",
        "datetime.from_timestamp": "datetime.from_timestamp(seconds)",
        "datetime.offset": "datetime.offset(value, offset)",
        "datetime.timezone": "datetime.timezone(value, timezone)",
        "lowercase": "lowercase(text)",
        "uppercase": "uppercase(text)",
        "trim": "trim(text)",
        "length": "length(value)",
        "number": "number(value)",
    }
