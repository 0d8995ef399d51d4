from datetime import UTC, datetime

import pytest

from apps.workflows.actions import action_by_id
from apps.workflows.actions.base import ActionError
from apps.workflows.actions.dates import solar_elevation
from tests.workflows.graphs import run_action


def test_sort_list_plain_and_by_key():
    event = {"id": "e", "properties": {"n": [3, 1, 2], "items": [{"p": {"v": 2}}, {"p": {"v": 1}}]}}

    assert run_action("sort_list", {"data": "event@properties.n"}, event=event)[0] == [
        ("payload", [1, 2, 3])
    ]
    assert run_action(
        "sort_list",
        {"data": "event@properties.items", "key": "p.v", "direction": "desc"},
        event=event,
    )[0] == [("payload", [{"p": {"v": 2}}, {"p": {"v": 1}}])]


def test_sort_list_errors():
    with pytest.raises(ActionError, match="cannot be compared"):
        run_action(
            "sort_list",
            {"data": "event@properties.x"},
            event={"id": "e", "properties": {"x": [1, "a"]}},
        )
    with pytest.raises(ActionError, match="is dict, not a list"):
        run_action("sort_list", {"data": "event@properties"}, event={"id": "e", "properties": {}})


@pytest.mark.parametrize(
    ("function", "items", "value"),
    [
        ("sum", [1, 2, 3.5], 6.5),
        ("min", [3, 1], 1),
        ("max", [3, 1], 3),
        ("avg", [1, 2], 1.5),
        ("avg", [], None),
        ("count", ["a", "b"], 2),
        ("count_values", ["a", "b", "a", 1], {"a": 2, "b": 1, "1": 1}),
        ("unique", ["a", "b", "a"], ["a", "b"]),
        ("join", ["a", 1, None], "a, 1, "),
    ],
)
def test_reduce_list(function, items, value):
    results, _ = run_action(
        "reduce_list",
        {"data": "event@properties.items", "function": function},
        event={"id": "e", "properties": {"items": items}},
    )

    assert results == [("payload", value)]


def test_reduce_list_sum_needs_numbers():
    with pytest.raises(ActionError, match="needs a list of numbers"):
        run_action(
            "reduce_list",
            {"data": "event@properties.items", "function": "sum"},
            event={"id": "e", "properties": {"items": [1, "2"]}},
        )


def test_solar_elevation_is_right_to_about_a_degree():
    # Equator at the March equinox: the sun is nearly overhead at noon and below at midnight.
    assert solar_elevation(datetime(2026, 3, 20, 12, 7, tzinfo=UTC), 0, 0) == pytest.approx(
        89, abs=2
    )
    assert solar_elevation(datetime(2026, 3, 20, 0, 7, tzinfo=UTC), 0, 0) < -80
    # Warsaw at the June solstice, local noon: 90 - 52.2 + 23.4 = 61.2 degrees.
    assert solar_elevation(
        datetime(2026, 6, 21, 10, 36, tzinfo=UTC), 52.23, 21.01
    ) == pytest.approx(61.2, abs=1)


@pytest.mark.parametrize(
    ("now", "port"),
    [
        (datetime(2026, 6, 21, 12, 0, tzinfo=UTC), "day"),
        (datetime(2026, 6, 21, 22, 30, tzinfo=UTC), "night"),
        # Warsaw sunrise on 21 June is about 02:14 UTC.
        (datetime(2026, 6, 21, 1, 50, tzinfo=UTC), "night"),
        (datetime(2026, 6, 21, 2, 40, tzinfo=UTC), "day"),
    ],
)
def test_day_night_in_warsaw(now, port):
    results, _ = run_action(
        "day_night",
        {"latitude": "event@context.location.latitude", "longitude": 21.01},
        payload={},
        event={"id": "e", "context": {"location": {"latitude": "52.23"}}},
        now=now,
    )

    assert results == [(port, {})]


def test_day_night_rejects_impossible_coordinates():
    with pytest.raises(ActionError, match="latitude must be a number between -90 and 90"):
        run_action("day_night", {"latitude": 91, "longitude": 0})


@pytest.mark.parametrize(
    ("now", "timezone", "port"),
    [
        # Saturday 23:30 UTC is already Sunday in Warsaw and still Saturday in New York.
        (datetime(2026, 3, 7, 23, 30, tzinfo=UTC), "Europe/Warsaw", "true"),
        (datetime(2026, 3, 7, 23, 30, tzinfo=UTC), "America/New_York", "true"),
        # Sunday 23:30 UTC is Monday in Warsaw.
        (datetime(2026, 3, 8, 23, 30, tzinfo=UTC), "Europe/Warsaw", "false"),
        (datetime(2026, 3, 4, 12, 0, tzinfo=UTC), "UTC", "false"),
    ],
)
def test_weekday_weekend_check(now, timezone, port):
    results, _ = run_action("weekday", {"timezone": timezone}, payload={}, now=now)

    assert results == [(port, {})]


def test_weekday_with_days_and_a_timezone_from_the_session():
    results, _ = run_action(
        "weekday",
        {"days": ["wednesday"], "timezone": "session@context.time.tz"},
        payload={},
        session={"id": "s", "context": {"time": {"tz": "Asia/Tokyo"}}},
        now=datetime(2026, 3, 4, 12, 0, tzinfo=UTC),
    )

    assert results == [("true", {})]


def test_weekday_config_errors():
    errors = action_by_id("weekday").config_errors({"timezone": "Mars/Olympus"})
    assert errors[0].startswith("timezone: Unknown timezone 'Mars/Olympus'")
    assert action_by_id("weekday").config_errors({"days": ["funday"]})[0].startswith("days.0:")


def test_time_difference():
    results, _ = run_action(
        "time_difference",
        {"reference_date": "profile@metadata.time.visit.last"},
        profile={"id": "p", "metadata": {"time": {"visit": {"last": "2026-03-03T06:00:00+00:00"}}}},
        now=datetime(2026, 3, 4, 12, 0, tzinfo=UTC),
    )

    assert results == [
        (
            "payload",
            {
                "seconds": 108000.0,
                "minutes": 1800.0,
                "hours": 30.0,
                "days": 1.25,
                "weeks": 108000 / 604800,
            },
        )
    ]


def test_time_difference_between_two_paths_and_bad_dates():
    results, _ = run_action(
        "time_difference",
        {"reference_date": "event@properties.a", "now": "event@properties.b"},
        event={"id": "e", "properties": {"a": "2026-01-02", "b": "2026-01-01"}},
    )
    assert results[0][1]["days"] == -1.0

    with pytest.raises(ActionError, match="reference_date: 'soon' is not a date/time"):
        run_action(
            "time_difference",
            {"reference_date": "event@properties.a"},
            event={"id": "e", "properties": {"a": "soon"}},
        )
