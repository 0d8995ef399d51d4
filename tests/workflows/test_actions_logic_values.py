"""The value, list, converter, location, time, segment and password actions of issue 19:
exact outputs on each port, and config errors."""

import re
from datetime import UTC, datetime

import pytest

from apps.workflows.actions import action_by_id
from apps.workflows.actions.base import ActionError
from tests.workflows.graphs import run_action


def event(**properties):
    return {"id": "e", "type": "page-view", "properties": properties}


# -- values ---------------------------------------------------------------------------------


def test_value_mapping_case_insensitive_by_default():
    config = {
        "value": "event@properties.country",
        "mapping": {"PL": "Poland", "DE": "event@properties.de_name"},
        "target": "memory@country",
    }

    pl, flow = run_action("value_mapping", config, event=event(country="pl"))
    de, _ = run_action("value_mapping", config, event=event(country="De", de_name="Germany"))
    other, _ = run_action("value_mapping", config, event=event(country="FR"))

    assert pl == [("result", {"value": "poland"})]
    assert flow.memory == {"country": "poland"}
    assert de == [("result", {"value": "germany"})]
    assert other == [("result", {"value": None})]


def test_value_mapping_case_sensitive():
    config = {"value": "event@properties.c", "case_sensitive": True, "mapping": {"PL": "Poland"}}

    assert run_action("value_mapping", config, event=event(c="PL"))[0] == [
        ("result", {"value": "Poland"})
    ]
    assert run_action("value_mapping", config, event=event(c="pl"))[0] == [
        ("result", {"value": None})
    ]


def test_key_counter_counts_texts_lists_and_objects():
    profile = {"id": "p", "aux": {"pages": {"home": 2}}}
    _, flow = run_action(
        "key_counter",
        {"key": "event@properties.pages", "save_in": "profile@aux.pages"},
        event=event(pages=["home", "cart"]),
        profile=profile,
    )
    assert flow.profile["aux"]["pages"] == {"home": 3, "cart": 1}

    results, flow = run_action(
        "key_counter",
        {"key": "event@properties.weights", "save_in": "memory@counts"},
        payload="in",
        event=event(weights={"a": 2.5, "b": 1}),
    )
    assert results == [("payload", "in")]
    assert flow.memory == {"counts": {"a": 2.5, "b": 1}}

    with pytest.raises(ActionError, match="key: 'a' has 'x', not a number to add"):
        run_action(
            "key_counter",
            {"key": "event@properties.w", "save_in": "memory@c"},
            event=event(w={"a": "x"}),
        )


def test_random_item_picks_each_item():
    config = {"list_of_items": ["A", "B", "event@properties.c"]}
    seen = set()
    for _ in range(200):
        [(port, value)], _ = run_action("random_item", config, event=event(c="C"))
        assert port == "random_element"
        seen.add(value["value"])
        if seen == {"A", "B", "C"}:
            break

    assert seen == {"A", "B", "C"}


@pytest.mark.parametrize(
    ("operation", "result"),
    [
        ("intersection", ["b", "c"]),
        ("union", ["a", "b", "c", "d"]),
        ("difference", ["a"]),
        ("symmetric_difference", ["a", "d"]),
        ("is_subset", False),
        ("is_superset", False),
    ],
)
def test_set_operations(operation, result):
    results, _ = run_action(
        "set_operation",
        {"set1": "event@properties.x", "set2": "event@properties.y", "operation": operation},
        event=event(x=["a", "b", "c", "b"], y=["b", "c", "d"]),
    )

    assert results == [("result", {"result": result})]


def test_set_operations_refuse_objects_on_the_error_port():
    results, _ = run_action(
        "set_operation",
        {"set1": "event@properties.x", "set2": "event@properties.y"},
        event=event(x=[{"a": 1}], y=[]),
    )

    assert results == [
        ("error", {"message": "set1: a set holds texts, numbers or booleans, not objects or lists"})
    ]


def test_find_max_and_min_value():
    interests = {"sport": 3, "travel": 7.5, "food": 1}
    config = {"source": "profile@interests"}
    profile = {"id": "p", "interests": interests}

    assert run_action("find_max_value", config, profile=profile)[0] == [
        ("result", {"key": "travel", "value": 7.5})
    ]
    assert run_action("find_max_value", {**config, "operation": "min"}, profile=profile)[0] == [
        ("result", {"key": "food", "value": 1})
    ]
    assert run_action("find_max_value", config, profile={"id": "p", "interests": {"a": "x"}})[
        0
    ] == [("error", {"message": "Not all values in the object are numbers."})]


def test_sort_dictionary():
    profile = {"id": "p", "interests": {"sport": 3, "travel": 7, "food": 1}}

    by_value, _ = run_action(
        "sort_dictionary",
        {"data": "profile@interests", "sort_by": "value", "direction": "desc"},
        profile=profile,
    )
    by_key, _ = run_action("sort_dictionary", {"data": "profile@interests"}, profile=profile)
    wrong, _ = run_action("sort_dictionary", {"data": "profile@traits"}, profile=profile)

    assert by_value == [("result", {"result": [["travel", 7], ["sport", 3], ["food", 1]]})]
    assert by_key == [("result", {"result": [["food", 1], ["sport", 3], ["travel", 7]]})]
    assert wrong == [("error", {"message": "profile@traits is not an object."})]


@pytest.mark.parametrize(
    ("value", "info"),
    [
        ("abc", {"type": "string", "length": 3}),
        (5, {"type": "int", "length": None}),
        (1.5, {"type": "float", "length": None}),
        (True, {"type": "bool", "length": None}),
        ([1, 2], {"type": "array", "length": 2}),
        ({"a": 1}, {"type": "object", "length": 1}),
        (None, {"type": "null", "length": None}),
    ],
)
def test_field_type(value, info):
    results, _ = run_action("field_type", {"field": "event@properties.v"}, event=event(v=value))

    assert results == [("field_info", info)]


def test_field_type_of_a_missing_field():
    assert run_action("field_type", {"field": "event@properties.v"}, event=event())[0] == [
        ("field_info", {"type": "missing", "length": None})
    ]


def test_cut_out_data():
    basket = {"items": [{"sku": "A"}]}

    plain, _ = run_action(
        "cut_out_data", {"trait": "event@properties.basket"}, event=event(basket=basket)
    )
    wrapped, _ = run_action(
        "cut_out_data",
        {"trait": "event@properties.basket", "key": "cart"},
        event=event(basket=basket),
    )

    assert plain == [("trait", basket)]
    assert wrapped == [("trait", {"cart": basket})]


def test_reshape_payload_with_and_without_defaults():
    template = {
        "email": "profile@data.contact.email.main",
        "plan": "pro",
        "x": "event@properties.x",
    }
    profile = {"id": "p", "data": {"contact": {"email": {"main": "jo@example.com"}}}}

    shaped, _ = run_action("reshape_payload", {"value": template}, profile=profile)
    strict, _ = run_action(
        "reshape_payload", {"value": template, "default": False}, payload="in", profile=profile
    )

    assert shaped == [("payload", {"email": "jo@example.com", "plan": "pro", "x": None})]
    [(port, value)] = strict
    assert port == "error"
    assert "event@properties.x" in value["message"]


def test_resolve_conditions_writes_booleans():
    results, flow = run_action(
        "resolve_conditions",
        {
            "conditions": {
                "profile@traits.is_vip": "profile@stats.visits > 10",
                "profile@traits.is_new": "profile@stats.visits == 1",
            }
        },
        payload="in",
        profile={"id": "p", "stats": {"visits": 12}, "traits": {}},
    )

    assert results == [("payload", "in")]
    assert flow.profile["traits"] == {"is_vip": True, "is_new": False}


@pytest.mark.parametrize(
    ("email", "port"),
    [("jo@example.com", "true"), ("", "false"), (None, "false"), ("missing", "false")],
)
def test_data_exists(email, port):
    contact = {} if email == "missing" else {"email": {"main": email}}
    results, _ = run_action(
        "data_exists", {}, payload="in", profile={"id": "p", "data": {"contact": contact}}
    )

    assert results == [(port, "in")]


# -- converters -------------------------------------------------------------------------------


def test_base64_round_trip():
    encoded, _ = run_action(
        "base64_encode", {"source": "event@properties.t"}, event=event(t="Zażółć")
    )
    decoded, flow = run_action(
        "base64_decode",
        {"source": "event@properties.b", "target": "memory@text"},
        event=event(b="WmHFvMOzxYLEhw"),  # no padding, as URLs often carry it
    )

    assert encoded == [("payload", {"base64": "WmHFvMOzxYLEhw=="})]
    assert decoded == [("payload", {"text": "Zażółć"})]
    assert flow.memory == {"text": "Zażółć"}


def test_base64_decode_of_what_is_not_base64():
    with pytest.raises(ActionError, match=r"source: event@properties.b is a text, not base64"):
        run_action("base64_decode", {"source": "event@properties.b"}, event=event(b="no!"))


def test_json_round_trip_and_error_port():
    as_json, _ = run_action(
        "data_to_json", {"to_json": "event@properties.o"}, event=event(o={"a": [1, 2]})
    )
    as_data, _ = run_action(
        "json_to_data", {"to_data": "event@properties.j"}, event=event(j='{"a": [1, 2]}')
    )
    broken, _ = run_action(
        "json_to_data", {"to_data": "event@properties.j"}, payload="in", event=event(j="{")
    )

    assert as_json == [("payload", {"json": '{"a": [1, 2]}'})]
    assert as_data == [("payload", {"value": {"a": [1, 2]}})]
    assert broken[0][0] == "error"
    assert broken[0][1]["value"] == "in"
    assert broken[0][1]["message"].startswith("not JSON: Expecting property name")


# -- location ---------------------------------------------------------------------------------

WARSAW = {"lat": 52.2297, "lng": 21.0122}
BERLIN = {"lat": 52.5200, "lng": 13.4050}


def test_geo_distance_warsaw_berlin():
    results, _ = run_action(
        "geo_distance",
        {
            "start_coordinate": WARSAW,
            "end_coordinate": {"lat": "event@properties.lat", "lng": "event@properties.lng"},
        },
        event=event(lat=BERLIN["lat"], lng=BERLIN["lng"]),
    )

    [(port, value)] = results
    assert port == "payload"
    assert value["distance"] == pytest.approx(518.837, abs=0.001)


@pytest.mark.parametrize(("radius", "inside"), [(600, True), (500, False)])
def test_geo_fence(radius, inside):
    results, _ = run_action(
        "geo_fence",
        {"center_coordinate": WARSAW, "test_coordinate": BERLIN, "radius": radius},
    )

    assert results == [("payload", {"inside": inside})]


def test_geo_refuses_an_out_of_range_latitude():
    with pytest.raises(ActionError, match="test_coordinate.lat must be a number between -90"):
        run_action(
            "geo_fence",
            {"center_coordinate": WARSAW, "test_coordinate": {"lat": 91, "lng": 0}, "radius": 1},
        )


# -- time -------------------------------------------------------------------------------------

NOON_UTC = datetime(2026, 3, 4, 12, 0, 5, 250000, tzinfo=UTC)  # a Wednesday


def test_today_in_utc_and_local_time():
    results, _ = run_action(
        "today", {}, session={"id": "s", "context": {"time": {"tz": "Asia/Tokyo"}}}, now=NOON_UTC
    )

    [(port, today)] = results
    assert port == "payload"
    assert today["utcTime"] == "2026-03-04T12:00:05.250000+00:00"
    assert today["server"] == {
        "dayOfWeek": "wednesday",
        "day": 4,
        "month": 3,
        "year": 2026,
        "week": 3,
        "hour": 12,
        "minute": 0,
        "second": 5,
        "ms": 250,
        "time": "12:00:05",
        "iso": "2026-03-04T12:00:05.250000+00:00",
    }
    assert (today["local"]["dayOfWeek"], today["local"]["hour"], today["local"]["iso"]) == (
        "wednesday",
        21,
        "2026-03-04T21:00:05.250000+09:00",
    )


def test_today_without_a_time_zone_in_the_session():
    with pytest.raises(ActionError, match="timezone: session@context.time.tz has no time zone"):
        run_action("today", {}, session={"id": "s", "context": {}}, now=NOON_UTC)


@pytest.mark.parametrize(
    ("start", "end", "port"),
    [
        ("09:00:00", "17:00:00", "in"),  # 13:00 in Warsaw
        ("14:00:00", "17:00:00", "out"),
        ("22:00:00", "14:00:00", "in"),  # across midnight
        ("22:00:00", "06:00:00", "out"),
    ],
)
def test_local_time_span(start, end, port):
    results, _ = run_action(
        "local_time_span",
        {"timezone": "Europe/Warsaw", "start": start, "end": end},
        payload="in",
        now=NOON_UTC,
    )

    assert results == [(port, "in")]


def test_profile_live_time_and_last_visit():
    profile = {
        "id": "p",
        "metadata": {
            "time": {
                "insert": "2026-03-02T12:00:05.250000+00:00",
                "visit": {"current": "2026-03-04T11:00:05.250000+00:00"},
            }
        },
    }

    live, _ = run_action("profile_live_time", {}, profile=profile, now=NOON_UTC)
    visit, _ = run_action("last_visit", {}, profile=profile, now=NOON_UTC)
    none, _ = run_action("profile_live_time", {}, payload="in", now=NOON_UTC)

    assert live == [
        (
            "live-time",
            {
                "last": "2026-03-02T12:00:05.250000+00:00",
                "time": {
                    "seconds": 172800.0,
                    "minutes": 2880.0,
                    "hours": 48.0,
                    "days": 2.0,
                    "weeks": 2 / 7,
                },
            },
        )
    ]
    assert visit[0][0] == "visit"
    assert visit[0][1]["last"] == "2026-03-04T11:00:05.250000+00:00"
    assert visit[0][1]["difference"]["hours"] == 1.0
    assert none == [("error", "in")]


@pytest.mark.parametrize(
    ("action", "config", "message"),
    [
        ("local_time_span", {"start": "9am", "end": "17:00:00"}, "start: write a time of day"),
        ("local_time_span", {"start": "09:00", "end": "09:00:00"}, "end: the span is empty"),
        ("today", {"timezone": "Mars/Olympus"}, "timezone: Unknown timezone 'Mars/Olympus'"),
        (
            "geo_fence",
            {"center_coordinate": WARSAW, "test_coordinate": BERLIN, "radius": 0},
            "radius: 0 is less than or equal",
        ),
        (
            "geo_distance",
            {"start_coordinate": {"lat": 1}, "end_coordinate": BERLIN},
            "start_coordinate: 'lng' is a required property",
        ),
        (
            "value_mapping",
            {"value": "a", "mapping": {"PL": 1, "pl": 2}},
            "mapping: two keys differ only in letter case",
        ),
        ("value_mapping", {"value": "a", "mapping": {}}, "mapping: {} should be non-empty"),
        ("key_counter", {"key": "a", "save_in": "session@x"}, "save_in: session@ is read-only"),
        ("random_item", {"list_of_items": []}, "list_of_items: [] should be non-empty"),
        (
            "set_operation",
            {"set1": "a", "set2": "b", "operation": "xor"},
            "operation: 'xor' is not one of",
        ),
        (
            "resolve_conditions",
            {"conditions": {"profile@traits.x": "a >"}},
            "conditions['profile@traits.x']:",
        ),
        ("cut_out_data", {"trait": "basket"}, "trait: write a dot path"),
        (
            "base64_encode",
            {"source": "a", "source_encoding": "klingon"},
            "source_encoding: 'klingon' is not a text encoding",
        ),
        ("has_segment", {"segment": "  "}, "segment: write the segment name"),
        ("move_segment", {"from_segment": "a"}, "'to_segment' is a required property"),
        (
            "generate_password",
            {"min_length": 20, "max_length": 10},
            "min_length: 20 is longer than max_length 10",
        ),
        (
            "generate_password",
            {"min_length": 4, "max_length": 6},
            "max_length: 6 characters cannot hold the 8 required",
        ),
        ("previous_event", {"offset": 1}, "offset: 1 is greater than the maximum of -1"),
        (
            "load_profile_by_field",
            {"field": "profile@name"},
            "field: 'profile@name' is not a profile field",
        ),
        ("join", {"type": "set"}, "type: 'set' is not one of"),
    ],
)
def test_config_errors(action, config, message):
    errors = action_by_id(action).config_errors(config)

    assert errors and errors[0].startswith(message), errors


# -- segments and new profile / visit ----------------------------------------------------------


def test_has_segment_and_move_segment():
    profile = {"id": "p", "segments": ["trial", "newsletter"]}

    assert run_action("has_segment", {"segment": "Trial"}, payload=1, profile=profile)[0] == [
        ("true", 1)
    ]
    assert run_action("has_segment", {"segment": "customer"}, payload=1, profile=profile)[0] == [
        ("false", 1)
    ]
    results, flow = run_action(
        "move_segment",
        {"from_segment": "trial", "to_segment": "Paying customer"},
        payload=1,
        profile=profile,
    )
    assert results == [("payload", 1)]
    assert flow.profile["segments"] == ["newsletter", "paying-customer"]


def test_has_segment_without_a_profile():
    results, flow = run_action("has_segment", {"segment": "trial"}, payload=1)

    assert results == [("false", 1)]
    assert flow.messages == [
        {"level": "warning", "message": "This event has no profile, so it is in no segment."}
    ]


def test_new_profile_and_new_visit_compare_insert_times():
    inserted = {"time": {"insert": "2026-03-04T12:00:00+00:00"}}
    earlier = {"time": {"insert": "2026-03-01T09:00:00+00:00"}}
    this_event = {"id": "e", "type": "page-view", "metadata": inserted}

    new, _ = run_action(
        "new_profile", {}, payload=1, event=this_event, profile={"id": "p", "metadata": inserted}
    )
    old, _ = run_action(
        "new_profile", {}, payload=1, event=this_event, profile={"id": "p", "metadata": earlier}
    )
    none, _ = run_action("new_profile", {}, payload=1, event=this_event)
    visit, _ = run_action(
        "new_visit", {}, payload=1, event=this_event, session={"id": "s", "metadata": inserted}
    )
    again, _ = run_action(
        "new_visit", {}, payload=1, event=this_event, session={"id": "s", "metadata": earlier}
    )

    assert (new, old, none, visit, again) == (
        [("true", 1)],
        [("false", 1)],
        [("false", 1)],
        [("true", 1)],
        [("false", 1)],
    )


# -- password ---------------------------------------------------------------------------------


def test_generate_password_keeps_its_promises():
    config = {
        "min_length": 10,
        "max_length": 12,
        "uppercase": 3,
        "lowercase": 2,
        "special_characters": 2,
    }
    lengths = set()
    for _ in range(60):
        [(port, value)], _ = run_action("generate_password", config)
        password = value["password"]
        assert port == "password"
        assert 10 <= len(password) <= 12
        assert len(re.findall(r"[A-Z]", password)) >= 3
        assert len(re.findall(r"[a-z]", password)) >= 2
        assert len(re.findall(r"[!#$%&*+\-=?@^_]", password)) >= 2
        lengths.add(len(password))

    assert lengths == {10, 11, 12}


# -- four more of Tracardi's: reduce array, payload collector, weekend, conditional segment ------


def test_reduce_array():
    results, _ = run_action(
        "reduce_array",
        {"array": "event@properties.colors"},
        event=event(colors=["red", "blue", "red", 3, "blue", "red"]),
    )
    empty, _ = run_action(
        "reduce_array", {"array": "event@properties.colors"}, event=event(colors=[])
    )

    assert results == [
        ("result", {"counts": {"red": 3, "blue": 2, "3": 1}, "max": "red", "min": "3", "total": 6})
    ]
    assert empty == [("error", {"error": "event@properties.colors is not a list with items"})]


def test_payload_collector_into_a_list_and_by_edge():
    from apps.workflows.engine import workflow_execute
    from tests.workflows.graphs import edge, node
    from tests.workflows.test_engine import compile_graph

    left = edge("a", "by_edge")
    left["data"] = {"name": "left side"}

    def collector(node_id, memory_key, kind):
        # The config key is `name`, as Tracardi's; the helper's `name` is the node's label.
        collecting = node(node_id, "payload_collector", type=kind)
        collecting["data"]["spec"]["init"]["name"] = memory_key
        return collecting

    workflow = compile_graph(
        [
            node("start", "start"),
            node("a", "data_to_json", to_json="event@properties.a"),
            node("b", "data_to_json", to_json="event@properties.b"),
            collector("as_list", "seen", "list"),
            collector("by_edge", "by", "dict"),
        ],
        [
            edge("start", "a"),
            edge("start", "b"),
            edge("a", "as_list"),
            edge("b", "as_list"),
            left,
            edge("b", "by_edge"),
        ],
    )
    from tests.workflows.graphs import make_flow

    flow = make_flow(event={"id": "e", "type": "t", "properties": {"a": 1, "b": 2}})
    outcome = workflow_execute(workflow, flow)

    assert outcome.status == "ok"
    assert flow.memory == {
        "seen": [{"json": "1"}, {"json": "2"}],
        "by": {"left-side": {"json": "1"}, "b:payload->by_edge:payload": {"json": "2"}},
    }


@pytest.mark.parametrize(
    ("day", "answer"),
    [
        (4, {"today": "Wednesday", "weekend": False, "day_number": 3}),
        (7, {"today": "Saturday", "weekend": True, "day_number": 6}),
        (8, {"today": "Sunday", "weekend": True, "day_number": 7}),
    ],
)
def test_weekend_check(day, answer):
    results, _ = run_action("weekend_check", {}, now=datetime(2026, 3, day, 23, 30, tzinfo=UTC))

    assert results == [("date", answer)]


@pytest.mark.parametrize(
    ("visits", "port", "segments"),
    [(12, "true", ["trial", "loyal"]), (2, "false", ["trial"])],
)
def test_conditional_segment(visits, port, segments):
    config = {
        "condition": "profile@stats.visits > 10",
        "true_segment": "Loyal",
        "false_segment": "loyal",
    }
    profile = {"id": "p", "stats": {"visits": visits}, "segments": ["trial", "loyal"][:1]}
    if port == "false":
        profile["segments"] = ["trial", "loyal"]

    results, flow = run_action("conditional_segment", config, payload=1, profile=profile)

    assert results == [(port, 1)]
    assert flow.profile["segments"] == segments


def test_conditional_segment_config_errors():
    assert (
        action_by_id("conditional_segment")
        .config_errors({"condition": "a >"})[0]
        .startswith("condition:")
    )
    assert action_by_id("conditional_segment").config_errors({"condition": "profile@x == 1"}) == [
        "true_segment: name a segment to add or remove on at least one side"
    ]


@pytest.mark.parametrize(
    ("action", "config", "errors"),
    [
        ("string_properties", {}, ["'string' is a required property"]),
        (
            "join_string_list",
            {"string": "event@properties..x"},
            ["string: Reference 'event@properties..x' has an empty key at offset 11"],
        ),
        ("data_to_json", {"to_json": 5}, ["to_json: 5 is not of type 'string'"]),
        ("json_to_data", {}, ["'to_data' is a required property"]),
        ("field_type", {"field": ""}, ["field: write a dot path, e.g. event@properties.size"]),
        (
            "data_exists",
            {"property": "email"},
            ["property: write a dot path, e.g. profile@data.contact.email.main"],
        ),
        (
            "find_max_value",
            {"source": "profile@interests", "operation": "top"},
            ["operation: 'top' is not one of ['max', 'min']"],
        ),
        (
            "sort_dictionary",
            {"data": "profile@x", "sort_by": "size"},
            ["sort_by: 'size' is not one of ['key', 'value']"],
        ),
        ("reshape_payload", {"value": "{}"}, ["value: '{}' is not of type 'object'"]),
        (
            "base64_decode",
            {"source": "a", "target_encoding": "nope"},
            ["target_encoding: 'nope' is not a text encoding (e.g. utf-8, latin-1)"],
        ),
        ("previous_session", {"offset": -101}, ["offset: -101 is less than the minimum of -100"]),
        ("previous_event", {"event_type": ""}, ["event_type: '' should be non-empty"]),
        (
            "payload_collector",
            {"name": "a.b"},
            ["name: use letters, digits, - and _ (it becomes memory@<name>)"],
        ),
        ("reduce_array", {}, ["'array' is a required property"]),
        ("join", {"reshape": "{}"}, ["reshape: '{}' is not of type 'object'"]),
        ("generate_password", {"uppercase": -1}, ["uppercase: -1 is less than the minimum of 0"]),
        ("local_time_span", {"start": "09:00:00"}, ["'end' is a required property"]),
        (
            "geo_distance",
            {
                "start_coordinate": WARSAW,
                "end_coordinate": {"lat": "event@properties..x", "lng": 1},
            },
            ["end_coordinate.lat: Reference 'event@properties..x' has an empty key at offset 11"],
        ),
    ],
)
def test_more_config_errors(action, config, errors):
    assert action_by_id(action).config_errors(config) == errors


@pytest.mark.parametrize(
    "action",
    ["new_profile", "new_visit", "profile_live_time", "last_visit", "weekend_check", "today"],
)
def test_actions_with_nothing_to_set_accept_their_defaults(action):
    assert action_by_id(action).config_errors({}) == []
