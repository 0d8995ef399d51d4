"""When a Wait node's branch is due (apps.workflows.waits) and what the Wait actions answer."""

import zoneinfo
from datetime import UTC, datetime, time

import pytest

from apps.workflows.actions import action_by_id
from apps.workflows.actions.base import ActionError, Park, Result
from apps.workflows.engine import ResumePoint, workflow_execute
from apps.workflows.graph import graph_compile
from apps.workflows.waits import (
    WaitError,
    due_after,
    due_from_value,
    due_next_weekday,
    profile_timezone,
)
from tests.workflows.graphs import edge, graph, make_flow, node

WARSAW = zoneinfo.ZoneInfo("Europe/Warsaw")
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(
    ("amount", "unit", "expected"),
    [
        (15, "minutes", datetime(2026, 3, 4, 12, 15, tzinfo=UTC)),
        (3, "hours", datetime(2026, 3, 4, 15, 0, tzinfo=UTC)),
        (2, "days", datetime(2026, 3, 6, 12, 0, tzinfo=UTC)),
        (1, "weeks", datetime(2026, 3, 11, 12, 0, tzinfo=UTC)),
    ],
)
def test_a_fixed_wait_adds_the_amount(amount, unit, expected):
    assert due_after(NOW, amount, unit) == expected


def test_the_scale_setting_shortens_a_fixed_wait():
    assert due_after(NOW, 1, "hours", scale=0.001) == datetime(2026, 3, 4, 12, 0, 3, 600000, UTC)


def test_an_unknown_unit_is_refused():
    with pytest.raises(WaitError, match="unknown unit 'years'"):
        due_after(NOW, 1, "years")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-24T18:00:00+01:00", datetime(2026, 12, 24, 17, 0, tzinfo=UTC)),
        ("2026-12-24T18:00:00Z", datetime(2026, 12, 24, 18, 0, tzinfo=UTC)),
        ("2026-12-24T18:00:00", datetime(2026, 12, 24, 18, 0, tzinfo=UTC)),
        ("2026-12-24", datetime(2026, 12, 24, 0, 0, tzinfo=UTC)),
        (datetime(2026, 5, 1, 8, 0, tzinfo=WARSAW), datetime(2026, 5, 1, 6, 0, tzinfo=UTC)),
    ],
)
def test_a_date_from_the_data_is_read_as_iso_8601_with_utc_by_default(value, expected):
    assert due_from_value(value) == expected


@pytest.mark.parametrize("value", ["next week", 17, "", None])
def test_a_value_that_is_no_date_is_refused_with_the_value(value):
    with pytest.raises(WaitError, match=repr(value).replace("(", r"\(")):
        due_from_value(value)


@pytest.mark.parametrize(
    ("now", "weekday", "at", "expected"),
    [
        # Winter (CET, UTC+1): Monday 09:00 in Warsaw is 08:00 UTC.
        (datetime(2026, 3, 20, 12, 0, tzinfo=UTC), "monday", time(9), "2026-03-23 08:00"),
        # Across the spring change (29 March): the next Monday 09:00 is CEST, 07:00 UTC.
        (datetime(2026, 3, 27, 12, 0, tzinfo=UTC), "monday", time(9), "2026-03-30 07:00"),
        # Across the autumn change (25 October): back to 08:00 UTC.
        (datetime(2026, 10, 23, 12, 0, tzinfo=UTC), "monday", time(9), "2026-10-26 08:00"),
        # 02:30 does not exist on 29 March in Warsaw: read with the offset before the change.
        (datetime(2026, 3, 27, 12, 0, tzinfo=UTC), "sunday", time(2, 30), "2026-03-29 01:30"),
        # 02:30 happens twice on 25 October: the first one (still CEST).
        (datetime(2026, 10, 23, 12, 0, tzinfo=UTC), "sunday", time(2, 30), "2026-10-25 00:30"),
        # Today, later: today. Today at that very minute: a week later (strictly after now).
        (datetime(2026, 3, 4, 7, 0, tzinfo=UTC), "wednesday", time(9), "2026-03-04 08:00"),
        (datetime(2026, 3, 4, 8, 0, tzinfo=UTC), "wednesday", time(9), "2026-03-11 08:00"),
        # Late Sunday evening UTC is already Monday 00:30 in Warsaw: 00:15 is past, so the next
        # Monday, which is in summer time (CEST): 22:15 UTC on Sunday.
        (datetime(2026, 3, 22, 23, 30, tzinfo=UTC), "monday", time(0, 15), "2026-03-29 22:15"),
    ],
)
def test_the_next_weekday_and_time_in_the_profiles_zone(now, weekday, at, expected):
    due = due_next_weekday(now, weekday, at, WARSAW)
    assert due.tzinfo == UTC
    assert due.strftime("%Y-%m-%d %H:%M") == expected


def test_the_profiles_zone_comes_from_its_visit_else_utc():
    profile = {"metadata": {"time": {"visit": {"tz": "Europe/Warsaw"}}}}
    assert profile_timezone(profile) == WARSAW
    assert profile_timezone({"metadata": {"time": {"visit": {"tz": None}}}}) is UTC
    assert profile_timezone({"metadata": {"time": {"visit": {"tz": "Mars/Olympus"}}}}) is UTC
    assert profile_timezone(None) is UTC


def run_wait(config, *, profile=None, payload=None):
    action = action_by_id("wait")(config)
    return action.run(payload or {"p": 1}, make_flow(profile=profile, now=NOW))


def test_wait_for_a_time_parks_until_now_plus_the_amount():
    assert run_wait({"mode": "for a time", "amount": 2, "unit": "days"}) == Park(
        due_at=datetime(2026, 3, 6, 12, 0, tzinfo=UTC), port="payload"
    )


def test_wait_until_a_date_reads_the_path_and_a_past_date_goes_on_at_once():
    config = {"mode": "until a date from the data", "date": "profile@traits.renewal_at"}
    profile = {"id": "p1", "traits": {"renewal_at": "2026-04-01T10:00:00+02:00"}}
    assert run_wait(config, profile=profile) == Park(
        due_at=datetime(2026, 4, 1, 8, 0, tzinfo=UTC), port="payload"
    )
    profile["traits"]["renewal_at"] = "2026-03-01T10:00:00Z"
    assert run_wait(config, profile=profile, payload={"x": 2}) == Result("payload", {"x": 2})


def test_wait_until_a_missing_or_bad_date_stops_the_run_with_the_path():
    config = {"mode": "until a date from the data", "date": "profile@traits.renewal_at"}
    with pytest.raises(ActionError, match="no date at profile@traits.renewal_at"):
        run_wait(config, profile={"id": "p1", "traits": {}})
    with pytest.raises(ActionError, match="'soon' is not a date"):
        run_wait(config, profile={"id": "p1", "traits": {"renewal_at": "soon"}})


def test_wait_until_a_weekday_uses_the_profiles_zone_and_utc_without_one():
    config = {"mode": "until the next weekday and time", "weekday": "friday", "time": "18:30"}
    warsaw = {"id": "p1", "metadata": {"time": {"visit": {"tz": "Europe/Warsaw"}}}}
    assert run_wait(config, profile=warsaw).due_at == datetime(2026, 3, 6, 17, 30, tzinfo=UTC)
    assert run_wait(config, profile={"id": "p2"}).due_at == datetime(2026, 3, 6, 18, 30, tzinfo=UTC)


def test_wait_configs_that_cannot_work_say_what_to_write():
    wait = action_by_id("wait")
    assert wait.config_errors({"mode": "until a date from the data"}) == [
        "date: write where the date is, e.g. profile@traits.renewal_at"
    ]
    assert wait.config_errors({"mode": "until the next weekday and time", "time": "9am"}) == [
        "time: '9am' does not match '^([01]?\\\\d|2[0-3]):[0-5]\\\\d$'"
    ]
    assert wait.config_errors({"mode": "later"})[0].startswith("mode: 'later' is not one of")
    assert wait.config_errors({"mode": "for a time", "amount": 0}) == [
        "amount: 0 is less than the minimum of 1"
    ]


def test_wait_for_an_event_parks_on_timeout_and_names_the_type(settings):
    settings.CDP_WORKFLOW_WAIT_SCALE = 1.0
    config = {"event_type": "Check Out", "amount": 3, "unit": "days"}
    action = action_by_id("wait_for_event")(config)
    assert action.run({}, make_flow(now=NOW)) == Park(
        due_at=datetime(2026, 3, 7, 12, 0, tzinfo=UTC), port="timeout", waiting_for="check-out"
    )


def test_the_engine_parks_a_branch_with_its_payload_and_memory_and_resumes_it_at_the_node():
    nodes = [
        node("start", "start"),
        node("remember", "copy_data", traits={"set": {"memory@step": "`1`"}}),
        node("wait", "wait", mode="for a time", amount=1, unit="hours"),
        node("after", "copy_data", traits={"set": {"profile@traits.after": "memory@step"}}),
        node("other", "copy_data", traits={"set": {"profile@traits.other": "`yes`"}}),
    ]
    edges = [
        edge("start", "remember"),
        edge("remember", "wait"),
        edge("wait", "after"),
        edge("start", "other"),
    ]
    compiled = graph_compile(workflow_id="w1", name="W", version=1, graph=graph(nodes, edges))
    profile = {"id": "p1", "traits": {}}
    flow = make_flow(profile=profile, now=NOW)
    outcome = workflow_execute(compiled, flow)
    assert outcome.status == "ok"
    # The branch without a Wait ran to its end; the other stopped at the Wait node.
    assert profile["traits"] == {"other": "yes"}
    [branch] = outcome.parked
    assert (branch.node_id, branch.park.due_at) == ("wait", datetime(2026, 3, 4, 13, tzinfo=UTC))
    assert branch.memory == {"step": 1}
    assert branch.payload["id"] == "e1"
    assert [entry["node"] for entry in outcome.log] == ["start", "remember", "other", "wait"]

    later = make_flow(profile=profile, now=NOW)
    later.memory = branch.memory
    resumed = workflow_execute(
        compiled, later, resume=ResumePoint(node_id="wait", port="payload", payload=branch.payload)
    )
    assert resumed.status == "ok"
    assert profile["traits"] == {"other": "yes", "after": 1}
    assert [(e["node"], e["port"]) for e in resumed.log] == [
        ("wait", "payload"),
        ("after", "payload"),
    ]


def test_resuming_at_a_node_that_is_gone_is_an_error_naming_it():
    compiled = graph_compile(
        workflow_id="w1", name="W", version=1, graph=graph([node("start", "start")], [])
    )
    outcome = workflow_execute(
        compiled, make_flow(), resume=ResumePoint(node_id="wait", port="payload", payload={})
    )
    assert (outcome.status, outcome.error) == (
        "error",
        "Node wait to resume at is no longer in the workflow",
    )
