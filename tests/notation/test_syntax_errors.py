"""Syntax errors say where and what was expected, for the admin to show next to the field."""

from __future__ import annotations

import pytest

from apps.notation import ConditionSyntaxError, NotationError, validate

VALUE = "a value (number, string, field reference, function call)"
CONDITION = "a condition (field reference, value, function call, NOT or '(')"
OPERATOR = (
    "an operator (==, !=, <, <=, >, >=, BETWEEN, IS NULL, EXISTS, EMPTY, CONTAINS, "
    "STARTS WITH, ENDS WITH, IN)"
)
SOURCES = "use one of event@, flow@, memory@, payload@, profile@, session@"


@pytest.mark.parametrize(
    ("condition", "message", "position"),
    [
        (
            "profile@a == AND 1",
            f"Unexpected 'AND' at column 14; expected {VALUE}",
            13,
        ),
        (
            "a.b > 1",
            f"Unexpected 'a.b' at column 1 (a field reference needs a source; {SOURCES}); "
            f"expected {CONDITION}",
            0,
        ),
        (
            "xxx@b.1 == 1",
            f"Unexpected 'xxx@b.1' at column 1 (unknown source 'xxx@'; {SOURCES}); "
            f"expected {CONDITION}",
            0,
        ),
        ("profile@a ==", f"Unexpected end of the condition at column 13; expected {VALUE}", 12),
        ("profile@a exist", f"Unexpected 'exist' at column 11; expected {OPERATOR}", 10),
        ("(profile@a == 1", "Unexpected end of the condition at column 16; expected ')'", 15),
        (
            "profile@a == 1 )",
            "Unexpected ')' at column 16; expected AND, OR or the end of the condition",
            15,
        ),
        (
            'profile@a == "abc',
            f"Unexpected '\"abc' at column 14 (a string that is never closed?); expected {VALUE}",
            13,
        ),
        ("profile@a BETWEEN 1 OR 2", "Unexpected 'OR' at column 21; expected AND", 20),
        ("profile@a IS 1", "Unexpected '1' at column 14; expected NULL or NOT", 13),
        (
            "profile@x IN [1, 2",
            "Unexpected end of the condition at column 19; expected ',' or ']'",
            18,
        ),
        (
            "profile@a == 1 OR OR profile@b == 2",
            f"Unexpected 'OR' at column 19; expected {CONDITION}",
            18,
        ),
        ("NOT", f"Unexpected end of the condition at column 4; expected {CONDITION}", 3),
        (
            "profile@a..b == 1",
            f"Unexpected '..b' at column 10; expected {OPERATOR}",
            9,
        ),
        ("profile@a = = 1", f"Unexpected '=' at column 13; expected {VALUE}", 12),
        (
            "foo(profile@a) == 1",
            "Unknown function 'foo' at column 1; known functions: datetime, "
            "datetime.from_timestamp, datetime.offset, datetime.timezone, length, lowercase, now, "
            "now.offset, now.timezone, number, trim, uppercase",
            0,
        ),
        (
            "profile@a == 1 AND datetime(profile@a, 2) > now()",
            "Wrong number of arguments to datetime() at column 20; datetime(value) takes 1, got 2",
            19,
        ),
        (
            "now() EXISTS",
            "EXISTS needs a field reference at column 1; "
            "write e.g. profile@data.contact.email EXISTS",
            0,
        ),
        ("   ", "The condition is empty; expected e.g. profile@stats.visits > 3", 0),
    ],
)
def test_message_names_position_and_expectation(
    condition: str, message: str, position: int
) -> None:
    with pytest.raises(ConditionSyntaxError) as caught:
        validate(condition)
    error = caught.value
    assert str(error) == message
    assert error.message == message
    assert error.position == position
    assert (error.line, error.column) == (1, position + 1)
    assert error.condition == condition


def test_multi_line_conditions_report_line_and_column() -> None:
    condition = "profile@a == 1 AND\n  profile@b >"
    with pytest.raises(ConditionSyntaxError) as caught:
        validate(condition)
    error = caught.value
    assert str(error) == f"Unexpected end of the condition at line 2, column 14; expected {VALUE}"
    assert (error.position, error.line, error.column) == (32, 2, 14)


def test_expected_is_kept_as_phrases() -> None:
    with pytest.raises(ConditionSyntaxError) as caught:
        validate("profile@a == 1 )")
    assert caught.value.expected == ("AND", "OR", "the end of the condition")


def test_syntax_error_is_a_notation_error() -> None:
    assert issubclass(ConditionSyntaxError, NotationError)


@pytest.mark.parametrize(
    "condition",
    [
        "profile@a == 1",
        "profile@a\n==\n1",
        "(((profile@a == 1)))",
        "profile@A['key with spaces'] EXISTS",
        "now() > datetime('2020-01-01')",
        "TRUE",
    ],
)
def test_valid_conditions_validate(condition: str) -> None:
    assert validate(condition) is None


def test_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    condition = "NOT " * 2000 + "profile@a EXISTS"
    with pytest.raises(ConditionSyntaxError, match="nested too deeply"):
        validate(condition)
