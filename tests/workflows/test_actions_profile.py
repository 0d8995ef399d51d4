"""Segments, interests, counters, consents."""

from datetime import UTC, datetime

import pytest

from apps.workflows.actions import action_by_id
from apps.workflows.actions.base import ActionError
from tests.workflows.graphs import run_action

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def profile(**fields):
    return {"id": "p1", "traits": {}, "stats": {}, "segments": [], "interests": {}, **fields}


def test_add_segment_once_by_slug_and_from_a_template():
    _, flow = run_action(
        "add_segment",
        {"segment": "{{event@properties.category}} Buyers"},
        event={"id": "e", "properties": {"category": "Shoes"}},
        profile=profile(segments=["shoes-buyers", "vip"]),
    )
    assert flow.profile["segments"] == ["shoes-buyers", "vip"]

    _, flow = run_action(
        "add_segment", {"segment": "High value"}, profile=profile(segments=["vip"])
    )
    assert flow.profile["segments"] == ["vip", "high-value"]


@pytest.mark.parametrize(("visits", "port", "segments"), [(5, "true", ["loyal"]), (1, "false", [])])
def test_add_segment_if(visits, port, segments):
    results, flow = run_action(
        "add_segment_if",
        {"segment": "Loyal", "condition": "profile@stats.visits > 3"},
        payload={},
        profile=profile(stats={"visits": visits}),
    )

    assert results == [(port, {})]
    assert flow.profile["segments"] == segments


def test_remove_segment():
    _, flow = run_action(
        "remove_segment", {"segment": "vip"}, profile=profile(segments=["vip", "x"])
    )

    assert flow.profile["segments"] == ["x"]


def test_segments_need_a_profile_and_a_name():
    with pytest.raises(ActionError, match="Add segment needs a profile"):
        run_action("add_segment", {"segment": "x"}, profile=None)
    with pytest.raises(ActionError, match="rendered empty"):
        run_action("add_segment", {"segment": "{{event@nope}}"}, profile=profile())


def test_interests_go_up_down_and_reset():
    _, flow = run_action(
        "increase_interest",
        {"interest": "event@properties.category", "value": 0.5},
        event={"id": "e", "properties": {"category": "sport"}},
        profile=profile(interests={"sport": 1}),
    )
    assert flow.profile["interests"] == {"sport": 1.5}

    _, flow = run_action("decrease_interest", {"interest": "music"}, profile=profile())
    assert flow.profile["interests"] == {"music": -1}

    _, flow = run_action(
        "reset_interest", {"interest": "sport"}, profile=profile(interests={"sport": 9, "x": 1})
    )
    assert flow.profile["interests"] == {"sport": 0, "x": 1}


def test_interest_value_must_be_a_number():
    with pytest.raises(ActionError, match="interest value must be a number, got 'lots'"):
        run_action("increase_interest", {"interest": "a", "value": "lots"}, profile=profile())


def test_counters_count_from_zero_and_by_dot_path_amounts():
    _, flow = run_action(
        "increment_counter",
        {"field": "profile@stats.counters.buys", "increment": "event@properties.qty"},
        event={"id": "e", "properties": {"qty": 3}},
        profile=profile(),
    )
    assert flow.profile["stats"] == {"counters": {"buys": 3}}

    _, flow = run_action(
        "decrement_counter",
        {"field": "profile@stats.left", "decrement": 2},
        profile=profile(stats={"left": 5}),
    )
    assert flow.profile["stats"] == {"left": 3}


def test_a_counter_over_a_text_fails():
    with pytest.raises(ActionError, match="holds 'x', which is not a number"):
        run_action(
            "increment_counter", {"field": "profile@stats.n"}, profile=profile(stats={"n": "x"})
        )


def test_add_consent_with_and_without_revoke_time():
    _, flow = run_action("add_consent", {"consent": "marketing"}, profile=profile(), now=NOW)
    assert flow.profile["consents"] == {
        "marketing": {"grant": "2026-03-04T12:00:00+00:00", "revoke": None}
    }

    _, flow = run_action(
        "add_consent",
        {"consent": "event@properties.consent", "revoke": "event@properties.until"},
        event={"id": "e", "properties": {"consent": "sms", "until": "2027-01-01T00:00:00+00:00"}},
        profile=profile(consents={"marketing": {"revoke": None}}),
        now=NOW,
    )
    assert flow.profile["consents"] == {
        "marketing": {"revoke": None},
        "sms": {"grant": "2026-03-04T12:00:00+00:00", "revoke": "2027-01-01T00:00:00+00:00"},
    }


def test_add_consent_rejects_a_bad_fixed_date():
    assert (
        action_by_id("add_consent")
        .config_errors({"consent": "x", "revoke": "soon"})[0]
        .startswith("revoke: 'soon' is not a date/time")
    )


@pytest.mark.parametrize(
    ("consents", "port"),
    [
        ({"marketing": {"revoke": None}}, "true"),
        ({"marketing": {"revoke": "2026-03-05T00:00:00+00:00"}}, "true"),
        ({"marketing": {"revoke": "2026-03-01T00:00:00+00:00"}}, "false"),
        ({"other": {"revoke": None}}, "false"),
        ({}, "false"),
        # The shape consent-given writes: grant and revoke times.
        ({"marketing": {"grant": "2026-03-01T00:00:00+00:00", "revoke": None}}, "true"),
        (
            {"marketing": {"grant": "2026-01-01T00:00:00Z", "revoke": "2026-03-04T11:59:59Z"}},
            "false",
        ),
        ({"marketing": {"grant": "2026-03-01T00:00:00+00:00", "revoke": "soon"}}, "false"),
    ],
)
def test_has_consent(consents, port):
    results, _ = run_action(
        "has_consent",
        {"consent": "marketing"},
        payload={},
        profile=profile(consents=consents),
        now=NOW,
    )

    assert results == [(port, {})]


class RecordingEffects:
    def __init__(self):
        self.merge_by = []

    def profile_merge_request(self, *, flow, merge_by):
        self.merge_by.extend(merge_by)


def test_merge_profiles_asks_the_processor_to_merge():
    effects = RecordingEffects()

    results, flow = run_action(
        "merge_profiles",
        {"merge_by": ["profile@data.contact.email.main", "traits.customer_no"]},
        payload={},
        profile=profile(),
        effects=effects,
    )

    assert results == [("payload", {})]
    assert effects.merge_by == ["data.contact.email.main", "traits.customer_no"]


def test_merge_profiles_config():
    assert action_by_id("merge_profiles").config_errors({"merge_by": ["session@x"]}) == [
        "merge_by: 'session@x' is not a profile field under data, traits or aux "
        "(e.g. profile@data.contact.email.main)"
    ]
