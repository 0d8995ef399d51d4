from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.core.durations import DurationError, duration_parse
from cdp.env import env_days


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90d", timedelta(days=90)),
        ("12h", timedelta(hours=12)),
        ("2w", timedelta(weeks=2)),
        ("30m", timedelta(minutes=30)),
        (" 7 d ", timedelta(days=7)),
    ],
)
def test_durations(text, expected):
    assert duration_parse(text) == expected


@pytest.mark.parametrize("text", ["90", "d", "1.5d", "-3d", "3y", "", "90 days"])
def test_bad_durations(text):
    with pytest.raises(DurationError) as raised:
        duration_parse(text)
    assert str(raised.value) == (
        f"{text!r} is not a duration: write a whole number and a unit, e.g. 90d (days), "
        "12h (hours), 2w (weeks) or 30m (minutes)."
    )


@pytest.mark.parametrize(("raw", "expected"), [(None, None), ("", None), ("30", 30)])
def test_retention_days_setting(monkeypatch, raw, expected):
    if raw is None:
        monkeypatch.delenv("CDP_TEST_DAYS", raising=False)
    else:
        monkeypatch.setenv("CDP_TEST_DAYS", raw)
    assert env_days("CDP_TEST_DAYS") == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0", "CDP_TEST_DAYS='0': keep at least 1 day, or leave it unset to keep forever."),
        (
            "90d",
            "CDP_TEST_DAYS='90d' is not a number of days; write e.g. 90, or leave it unset to "
            "keep forever.",
        ),
    ],
)
def test_bad_retention_days_setting(monkeypatch, raw, message):
    monkeypatch.setenv("CDP_TEST_DAYS", raw)
    with pytest.raises(ImproperlyConfigured) as raised:
        env_days("CDP_TEST_DAYS")
    assert str(raised.value) == message
