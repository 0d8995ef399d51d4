"""Conditions beyond the conformance corpus: the extensions, missing values, types, caching."""

from __future__ import annotations

from typing import Any

import pytest

from apps.notation import (
    Condition,
    EvaluationError,
    MissingReferenceError,
    NotationError,
    compile_condition,
    condition_cache_clear,
    condition_cache_info,
    evaluate,
    references,
)
from apps.notation import conditions as conditions_module

DATA: dict[str, Any] = {
    "payload": {
        "a": {
            "b": 1,
            "c": [1, 2, 3, "4"],
            "d": {"aa": 1},
            "e": "test",
            "g": True,
            "h": None,
            "i": "2021-01-10",
            "k": {},
            "l": "",
            "quote": "it's",
            "zero": 0,
            "padded": "  Mixed Case  ",
            "numeric_text": "42",
        },
        "a.b": {"c": 5},
        "A": {"a b c": 1},
    },
    "profile": {"id": "p-1", "segments": ["vip", "newsletter"], "stats": {"visits": 4}},
}


def check(condition: str, data: dict[str, Any] | None = None) -> bool:
    result = evaluate(condition, DATA if data is None else data)
    assert type(result) is bool
    return result


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # AND binds tighter than OR: true OR (false AND false).
        ("payload@a.b == 1 OR payload@a.b == 2 AND payload@a.b == 3", True),
        # (false AND x) OR true.
        ("payload@a.b == 2 AND payload@a.b == 1 OR payload@a.e == 'test'", True),
        ("payload@a.b == 1 AND payload@a.b == 2 OR payload@a.b == 3", False),
        ("(payload@a.b == 1 OR payload@a.b == 2) AND payload@a.b == 3", False),
        ("payload@a.b == 1 or payload@a.b == 2 or payload@a.b == 3 or payload@a.b == 4", True),
        ("payload@a.b == 1 and payload@a.e == 'test' and payload@a.g == true", True),
    ],
)
def test_and_binds_tighter_than_or(condition: str, expected: bool) -> None:
    assert check(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("NOT payload@a.b == 2", True),
        ("not payload@a.b == 1", False),
        ("NOT NOT payload@a.b == 1", True),
        ("NOT (payload@a.b == 1 OR payload@a.b == 2)", False),
        ("NOT payload@a.b == 2 AND payload@a.e == 'test'", True),
        ("NOT payload@a.missing EXISTS", True),
        # NOT applies to the comparison only, not to the OR after it.
        ("NOT payload@a.b == 1 OR payload@a.b == 1", True),
    ],
)
def test_not(condition: str, expected: bool) -> None:
    assert check(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("payload@a.b IN [1, 2]", True),
        ("payload@a.b in [2, 3]", False),
        ("payload@a.b IN [1.0]", True),
        ('payload@a.e IN ["x", "test"]', True),
        ("payload@a.e IN ['x', 'y']", False),
        ("payload@a.b NOT IN [2, 3]", True),
        ("payload@a.b NOT IN [1]", False),
        ("payload@a.b IN []", False),
        # A list value matches when any of its items is in the list.
        ("payload@a.c IN [3, 9]", True),
        ("payload@a.c IN [7, 9]", False),
        ("payload@a.b IN payload@a.c", True),
        ("payload@a.e IN 'a test string'", True),
        ("payload@a.missing IN [1, 2]", False),
        ("payload@a.missing NOT IN [1, 2]", True),
        ("profile@segments IN ['vip', 'gold']", True),
        ("payload@a.d IN [1, 2]", False),
    ],
)
def test_in_list(condition: str, expected: bool) -> None:
    assert check(condition) is expected


def test_in_needs_a_list_or_string_on_the_right() -> None:
    with pytest.raises(EvaluationError, match="IN needs a list on the right, not int 1"):
        evaluate("payload@a.e IN payload@a.b", DATA)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("payload@a.e == 'test'", True),
        ("payload@a.quote == 'it\\'s'", True),
        ('payload@a.quote == "it\'s"', True),
        ("payload@a.e == 'TEST'", False),
        ("'test' == payload@a.e", True),
    ],
)
def test_single_quoted_strings(condition: str, expected: bool) -> None:
    assert check(condition) is expected


@pytest.mark.parametrize(
    "condition",
    [
        "payload@a.b BeTwEeN 1 aNd 2",
        "payload@a.h Is NuLl",
        "payload@a.b iS nOt NULL",
        "payload@a.e exists",
        "payload@a.missing Not Exists",
        "payload@a.l empty",
        "payload@a.e not empty",
        "payload@a.e contains 'es'",
        "payload@a.e starts   with 'te'",
        "payload@a.e Ends With 'st'",
        "payload@a.g == TRUE",
        "payload@a.g == True",
        "payload@a.h == null",
        "payload@a.b == 1 or false",
        "true",
    ],
)
def test_keywords_are_case_insensitive(condition: str) -> None:
    assert check(condition) is True


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("payload@a.b = 1", True),
        ("payload@a.b <> 1", False),
        ("payload@a.b <> 2", True),
        ("payload@a.b => 1", True),
        ("payload@a.b =< 0", False),
        ("payload@a.b==1", True),
        ("payload@a.b>=1.0", True),
        ("payload@a.b == 1e0", True),
        ("payload@a.b > -0.5", True),
        ("payload@a.b == +1", True),
    ],
)
def test_comparison_spellings(condition: str, expected: bool) -> None:
    assert check(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("payload@a.missing == 1", False),
        ("payload@a.missing != 1", True),
        ("payload@a.missing == NULL", False),
        ("payload@a.missing IS NULL", True),
        ("payload@a.missing IS NOT NULL", False),
        ("payload@a.missing EMPTY", True),
        ("payload@a.missing NOT EMPTY", False),
        ("payload@a.missing CONTAINS 'x'", False),
        ("payload@a.missing NOT CONTAINS 'x'", True),
        ("payload@a.missing STARTS WITH 'x'", False),
        ("payload@a.missing ENDS WITH 'x'", False),
        ("payload@a.e CONTAINS payload@a.missing", False),
        ("payload@a.missing == payload@a.missing", False),
        ("payload@a.missing != payload@a.missing", True),
        ("payload@a.h.deeper EXISTS", False),
        ("payload@a.b.deeper EXISTS", False),
        ("payload@a.c.9 EXISTS", False),
        ("session@... EXISTS", False),
        ("session@id == 1", False),
    ],
)
def test_missing_values(condition: str, expected: bool) -> None:
    assert check(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("payload@a.h > 1", False),
        ("payload@a.h <= 1", False),
        ("payload@a.h BETWEEN 0 AND 2", False),
        ("payload@a.h == NULL", True),
        ("payload@a.h != NULL", False),
        ("payload@a.h EMPTY", True),
        ("payload@a.h EXISTS", True),
    ],
)
def test_null_is_a_value_that_orders_nowhere(condition: str, expected: bool) -> None:
    assert check(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("payload@a.zero EMPTY", False),
        ("payload@a.g EMPTY", False),
        ("payload@a.k EMPTY", True),
        ("payload@a.c NOT EMPTY", True),
        ("payload@a.l EMPTY", True),
        ("trim(payload@a.padded) NOT EMPTY", True),
    ],
)
def test_empty(condition: str, expected: bool) -> None:
    assert check(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # A scalar against a list tests membership, either way round.
        ("payload@a.c == 2", True),
        ("payload@a.c == '4'", True),
        ("payload@a.c == 4", False),
        ("2 == payload@a.c", True),
        ("payload@a.b == [5, 1]", True),
        ("payload@a.c == [1, 2, 3, '4']", True),
        ("payload@a.c == [1, 2, 3]", False),
        # != is exactly the negation of ==.
        ("payload@a.b != payload@a.c", False),
        ("payload@a.c != 9", True),
        ("payload@a.d == payload@a.d", True),
        ("payload@a.e == 1", False),
        ("payload@a.g == 1", True),
    ],
)
def test_equality(condition: str, expected: bool) -> None:
    assert check(condition) is expected


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("payload@a.d > 1", "Cannot compare dict {'aa': 1} > int 1"),
        ("payload@... > 1", "Cannot compare dict "),
        ("payload@a.e < 1", "Cannot compare str 'test' < int 1"),
        ("payload@a.d CONTAINS 1", "CONTAINS works on strings and lists, not dict {'aa': 1}"),
        ("payload@a.e CONTAINS 1", "CONTAINS on a string needs a string, not int 1"),
        ("payload@a.g STARTS WITH 't'", "STARTS WITH works on strings and lists, not bool True"),
        ("lowercase(payload@a.b) == 'x'", "lowercase() needs a string, not int 1"),
        ("datetime(payload@a.e) == now()", "Cannot read a datetime from 'test'"),
        ("datetime.offset(payload@a.i, 'soon') < now()", "Cannot read a time offset from 'soon'"),
        ("datetime.timezone(payload@a.i, 'Mars/Base') < now()", "Unknown timezone 'Mars/Base'"),
        ("lowercase(payload@a.h) == 'x'", "lowercase() got null for payload@a.h"),
    ],
)
def test_type_errors_raise_evaluation_error(condition: str, message: str) -> None:
    with pytest.raises(EvaluationError) as caught:
        evaluate(condition, DATA)
    assert str(caught.value).startswith(message)


def test_function_on_missing_value_names_the_reference() -> None:
    with pytest.raises(MissingReferenceError) as caught:
        evaluate("lowercase(payload@a.nope) == 'x'", DATA)
    assert caught.value.reference == "payload@a.nope"
    assert str(caught.value) == (
        "Missing value: 'payload@a.nope' is not in the data (passed to lowercase())"
    )


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("TRUE OR lowercase(payload@a.nope) == 'x'", True),
        ("FALSE AND lowercase(payload@a.nope) == 'x'", False),
        ("payload@a.nope EXISTS AND lowercase(payload@a.nope) == 'x'", False),
        ("payload@a.h IS NOT NULL AND lowercase(payload@a.h) == 'x'", False),
        ("payload@a.b == 1 OR payload@a.d > 1", True),
    ],
)
def test_left_to_right_short_circuit(condition: str, expected: bool) -> None:
    assert check(condition) is expected


@pytest.mark.parametrize(
    "condition",
    [
        "lowercase(payload@a.nope) == 'x' OR TRUE",
        "payload@a.d > 1 OR payload@a.b == 1",
        "TRUE AND payload@a.d > 1",
    ],
)
def test_errors_on_the_left_are_not_skipped(condition: str) -> None:
    with pytest.raises(NotationError):
        evaluate(condition, DATA)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("payload@A['a b c'] == 1", True),
        ('payload@A["a b c"] == 1', True),
        ("payload@a\\.b.c == 5", True),
        ('payload@["a.b"].c == 5', True),
        ("payload@a.c.1 == 2", True),
        ("payload@a.c[1] == 2", True),
        ("payload@a.c[9] EXISTS", False),
        ("payload@a.d['aa'] BETWEEN 1 AND 1", True),
        ("profile@stats.visits > 3", True),
    ],
)
def test_field_paths(condition: str, expected: bool) -> None:
    assert check(condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("datetime(payload@a.i) == '2021-01-10'", True),
        ("datetime(payload@a.i) < '2021-01-11T00:00:00Z'", True),
        ("datetime(payload@a.i) >= '2021-01-10T01:00:00+02:00'", True),
        ("datetime(payload@a.i) == 'not a date'", False),
        ("datetime.offset(payload@a.i, '+1d') == datetime('2021-01-11')", True),
        ("datetime.offset(payload@a.i, '-1d12h') == datetime('2021-01-08T12:00:00')", True),
        ("datetime.from_timestamp(0) == datetime('1970-01-01T00:00:00+00:00')", True),
        ("datetime('1970-01-01') == datetime.from_timestamp('0')", True),
        # 12:00 in Warsaw in January (UTC+1) is 11:00 UTC.
        ("datetime.timezone('2021-01-10 12:00', 'europe/warsaw') == '2021-01-10T11:00Z'", True),
        ("datetime.timezone('2021-01-10T12:00Z', 'Asia/Tokyo') == '2021-01-10T12:00Z'", True),
        ("now.offset('+1h') > now() AND now.offset('-1h') < now()", True),
        ("now.timezone('America/New_York') <= now.offset('1s')", True),
        ("lowercase(payload@a.padded) == '  mixed case  '", True),
        ("uppercase(payload@a.e) == 'TEST'", True),
        ("trim(payload@a.padded) == 'Mixed Case'", True),
        ("length(payload@a.c) == 4 AND length(payload@a.e) == 4", True),
        ("length(payload@a.k) == 0", True),
        ("number(payload@a.numeric_text) > 41", True),
        ("LowerCase('ABC') == 'abc'", True),
    ],
)
def test_functions(condition: str, expected: bool) -> None:
    assert check(condition) is expected


def test_compiled_condition_is_reusable_and_cached_per_text() -> None:
    condition = compile_condition("profile@stats.visits > 3 OR profile@segments CONTAINS 'vip'")
    assert isinstance(condition, Condition)
    assert compile_condition(condition.text) is condition
    assert compile_condition(condition) is condition
    assert condition.evaluate({"profile": {"stats": {"visits": 5}}}) is True
    assert condition.evaluate({"profile": {"stats": {"visits": 1}, "segments": []}}) is False
    assert condition({"profile": {"segments": ["vip"]}}) is True
    assert evaluate(condition, {"profile": {"segments": ["vip"]}}) is True
    assert repr(condition) == (
        "Condition(\"profile@stats.visits > 3 OR profile@segments CONTAINS 'vip'\")"
    )


def test_second_evaluate_of_the_same_text_does_not_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[str] = []
    real_parse_tree = conditions_module.parse_tree

    def counting_parse_tree(text: str) -> Any:
        parsed.append(text)
        return real_parse_tree(text)

    monkeypatch.setattr(conditions_module, "parse_tree", counting_parse_tree)
    condition_cache_clear()
    text = "payload@a.b == 1 AND payload@a.e == 'test'"

    assert evaluate(text, DATA) is True
    assert evaluate(text, {"payload": {"a": {"b": 2}}}) is False
    assert evaluate(text, DATA) is True

    assert parsed == [text]
    info = condition_cache_info()
    assert (info.hits, info.misses, info.currsize, info.maxsize) == (2, 1, 1, 4096)


def test_evaluating_a_parsed_condition_never_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    condition = compile_condition("payload@a.b BETWEEN 0 AND 2 AND NOT payload@a.e EMPTY")

    def no_parsing(text: str) -> Any:
        raise AssertionError(f"parsed {text!r} during evaluation")

    monkeypatch.setattr(conditions_module, "parse_tree", no_parsing)
    assert [condition.evaluate(DATA) for _ in range(3)] == [True, True, True]


def test_syntax_errors_are_not_cached_as_results() -> None:
    condition_cache_clear()
    for _ in range(2):
        with pytest.raises(NotationError):
            evaluate("payload@a.b ==", DATA)
    assert condition_cache_info().currsize == 0


def test_references_lists_fields_in_order_once() -> None:
    text = (
        "profile@stats.visits > 3 AND event@properties.price >= 10 "
        "OR datetime(profile@metadata.time.insert) < now() AND profile@stats.visits < 100"
    )
    assert references(text) == (
        "profile@stats.visits",
        "event@properties.price",
        "profile@metadata.time.insert",
    )
    assert compile_condition(text).references == references(text)


@pytest.mark.parametrize("data", [None, {}])
def test_no_data_means_every_path_is_missing(data: dict[str, Any] | None) -> None:
    assert evaluate("profile@id EXISTS", data) is False
    assert evaluate("profile@id != 'x'", data) is True


def test_data_that_is_not_a_mapping_raises_evaluation_error() -> None:
    with pytest.raises(EvaluationError, match="data must be a mapping of sources"):
        evaluate("profile@id EXISTS", ["not", "a", "mapping"])  # type: ignore[arg-type]


def test_condition_must_be_text() -> None:
    with pytest.raises(NotationError, match="A condition must be a string, not int"):
        evaluate(42, DATA)  # type: ignore[arg-type]


def test_constant_function_calls_are_folded_but_errors_stay_lazy() -> None:
    # The bad date is only reached when the left side is false.
    condition = compile_condition("payload@a.b == 1 OR datetime('never') > now()")
    assert condition.evaluate(DATA) is True
    with pytest.raises(EvaluationError, match="Cannot read a datetime from 'never'"):
        condition.evaluate({"payload": {"a": {"b": 2}}})
