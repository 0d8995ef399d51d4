"""The text and validation actions of issue 19: exact outputs on each port, config errors."""

import pytest

from apps.workflows.actions import action_by_id
from apps.workflows.actions.base import ActionError
from tests.workflows.graphs import run_action


def event(**properties):
    return {"id": "e", "type": "page-view", "properties": properties}


def test_string_properties():
    results, flow = run_action(
        "string_properties",
        {"string": "event@properties.q", "target": "memory@q"},
        event=event(q="  Red Shoes "),
    )

    [(port, value)] = results
    assert port == "payload"
    assert {key: value[key] for key in ("lower", "upper", "title", "strip", "length")} == {
        "lower": "  red shoes ",
        "upper": "  RED SHOES ",
        "title": "  Red Shoes ",
        "strip": "Red Shoes",
        "length": 12,
    }
    assert (value["isalpha"], value["istitle"], value["isspace"]) == (False, True, False)
    assert flow.memory == {"q": value}


def test_string_properties_needs_a_text():
    with pytest.raises(ActionError, match=r"string: event@properties.q is a number, not a text"):
        run_action("string_properties", {"string": "event@properties.q"}, event=event(q=5))


def test_string_stripper():
    results, _ = run_action(
        "string_stripper",
        {"string": "event@properties.phone", "to_remove": " -()"},
        event=event(phone="+48 (600) 100-200"),
    )

    assert results == [("removed", {"value": "+48600100200"})]


def test_string_replace_and_its_error_port():
    config = {"field": "event@properties.s", "find": "colour", "replace": "color"}

    assert run_action("string_replace", config, event=event(s="colour, colours"))[0] == [
        ("output", {"value": "color, colors"})
    ]
    assert run_action("string_replace", config, event=event(s=["colour"]))[0] == [
        ("error", {"message": "event@properties.s is a list, not a text"})
    ]


def test_join_string_list():
    results, _ = run_action(
        "join_string_list",
        {"string": "event@properties.tags", "delimiter": " | "},
        event=event(tags=["a", "b", 3]),
    )

    assert results == [("payload", {"result": "a | b | 3"})]


@pytest.mark.parametrize(
    ("algorithm", "distance"),
    [
        ("levenshtein", 3),
        ("normalized_levenshtein", 3 / 7),
        ("weighted_levenshtein", 3),
        ("damerau", 3),
        ("optimal_string_alignment", 3),
        ("longest_common_subsequence", 5),
    ],
)
def test_string_similarity(algorithm, distance):
    results, _ = run_action(
        "string_similarity",
        {"first_string": "kitten", "second_string": "sitting", "algorithm": algorithm},
    )

    assert results == [("payload", {"similarity": pytest.approx(distance)})]


def test_string_similarity_jaro_winkler_and_same_texts():
    same, _ = run_action(
        "string_similarity",
        {"first_string": "event@properties.a", "second_string": "event@properties.b"},
        event=event(a="martha", b="martha"),
    )
    jw, _ = run_action(
        "string_similarity",
        {"first_string": "martha", "second_string": "marhta", "algorithm": "jaro_winkler"},
    )

    assert same == [("payload", {"similarity": 0.0})]
    assert jw == [("payload", {"similarity": pytest.approx(1 - 0.9611111, abs=1e-6)})]


@pytest.mark.parametrize(
    ("action", "key", "text", "port"),
    [
        ("contains_string", "substring", "shoe", "true"),
        ("contains_string", "substring", "boot", "false"),
        ("starts_with", "prefix", "https://", "true"),
        ("starts_with", "prefix", "http://", "false"),
        ("ends_with", "prefix", "/cart", "true"),
        ("ends_with", "prefix", "/shoes", "false"),
    ],
)
def test_text_tests_route_the_unchanged_payload(action, key, text, port):
    results, _ = run_action(
        action,
        {"field": "event@properties.url", key: text},
        payload={"in": 1},
        event=event(url="https://shop.example.com/shoes/cart"),
    )

    assert results == [(port, {"in": 1})]


@pytest.mark.parametrize(
    ("action", "config", "message"),
    [
        ("contains_string", {"field": "event@properties.x"}, "'substring' is a required property"),
        (
            "starts_with",
            {"field": "event@properties.x", "prefix": ""},
            "prefix: '' should be non-empty",
        ),
        ("string_stripper", {"string": "a", "to_remove": ""}, "to_remove: '' should be non-empty"),
        (
            "string_similarity",
            {"first_string": "a", "second_string": "b", "algorithm": "x"},
            "algorithm: 'x' is not one of",
        ),
        ("string_replace", {"field": "event@properties..x", "find": "a"}, "field:"),
        (
            "regex_validator",
            {"data": "a", "validation_regex": "("},
            "validation_regex: not a valid regular expression",
        ),
        ("json_schema_validator", {"data": "a", "schema": "{nope"}, "schema: not JSON"),
        (
            "json_schema_validator",
            {"data": "a", "schema": '{"type": 5}'},
            "schema: not a valid JSON schema",
        ),
        ("string_validator", {"data": "a", "validator": "zip"}, "validator: 'zip' is not one of"),
        ("contains_pattern", {"field": "a", "pattern": "phone"}, "pattern: 'phone' is not one of"),
    ],
)
def test_config_errors(action, config, message):
    errors = action_by_id(action).config_errors(config)

    assert errors and errors[0].startswith(message), errors


@pytest.mark.parametrize(
    ("validator", "text", "port"),
    [
        ("email", "jo@example.com", "valid"),
        ("email", "jo@example", "invalid"),
        ("url", "https://example.com/a?b=1", "valid"),
        ("url", "ftp://example.com", "invalid"),
        ("ipv4", "192.168.1.20", "valid"),
        ("ipv4", "300.1.1.1", "invalid"),
        ("date", "31/12/2026", "valid"),
        ("date", "2026-12-31", "invalid"),
        ("time", "23:59:30", "valid"),
        ("time", "24:00", "invalid"),
        ("int", "123", "valid"),
        ("int", "12.3", "invalid"),
        ("float", "12,5", "valid"),
        ("number_phone", "+1 555 123 4567", "valid"),
        ("number_phone", "600100200", "invalid"),
        ("ean", "4006381333931", "valid"),
        ("ean", "4006381333932", "invalid"),
    ],
)
def test_string_validator(validator, text, port):
    results, _ = run_action(
        "string_validator",
        {"data": "event@properties.v", "validator": validator},
        payload="in",
        event=event(v=text),
    )

    assert results == [(port, "in")]


def test_string_validator_calls_a_missing_or_non_text_value_invalid():
    config = {"data": "event@properties.v", "validator": "int"}

    assert run_action("string_validator", config, payload="in", event=event())[0] == [
        ("invalid", "in")
    ]
    assert run_action("string_validator", config, payload="in", event=event(v=5))[0] == [
        ("invalid", "in")
    ]


def test_regex_validator_matches_from_the_start():
    config = {"data": "event@properties.code", "validation_regex": r"[A-Z]{2}\d{4}"}

    assert run_action("regex_validator", config, payload=1, event=event(code="PL1234x"))[0] == [
        ("valid", 1)
    ]
    assert run_action("regex_validator", config, payload=1, event=event(code="xPL1234"))[0] == [
        ("invalid", 1)
    ]


def test_json_schema_validator():
    config = {
        "data": "event@properties",
        "schema": '{"type": "object", "required": ["email"], '
        '"properties": {"age": {"type": "integer"}}}',
    }

    assert run_action(
        "json_schema_validator", config, payload="in", event=event(email="a@b.c", age=3)
    )[0] == [("valid", "in")]
    assert run_action("json_schema_validator", config, payload="in", event=event(age="x"))[0] == [
        (
            "invalid",
            {
                "payload": "in",
                "errors": [
                    "(the data): 'email' is a required property",
                    "age: 'x' is not of type 'integer'",
                ],
            },
        )
    ]


def test_contains_pattern():
    text = "Write to jo@example.com or see https://example.com/help on 04/03/2026 from 10.0.0.1"

    everything, _ = run_action(
        "contains_pattern", {"field": "event@properties.t", "pattern": "all"}, event=event(t=text)
    )
    emails, _ = run_action(
        "contains_pattern", {"field": "event@properties.t", "pattern": "email"}, event=event(t=text)
    )
    nothing, _ = run_action(
        "contains_pattern", {"field": "event@properties.t", "pattern": "ip"}, event=event(t="none")
    )

    assert everything == [
        (
            "true",
            {
                "email": ["jo@example.com"],
                "url": ["https://example.com/help"],
                "date": ["04/03/2026"],
                "ip": ["10.0.0.1"],
            },
        )
    ]
    assert emails == [("true", {"email": ["jo@example.com"]})]
    assert nothing == [("false", {"message": "Didn't find any patterns"})]
