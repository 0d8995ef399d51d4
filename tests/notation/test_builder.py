"""The condition builder's model of a condition (apps.notation.builder)."""

import pytest

from apps.notation import ConditionSyntaxError
from apps.notation.builder import condition_builder_model


def rule(field: str, op: str, *value) -> dict:
    return {"field": field, "op": op, **({"value": value[0]} if value else {})}


@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("", {"op": "and", "items": []}),
        ("  \n", {"op": "and", "items": []}),
        (
            "event@properties.email EXISTS AND event@properties.plan = 'pro'",
            {
                "op": "and",
                "items": [
                    rule("event@properties.email", "exists"),
                    rule("event@properties.plan", "=", "pro"),
                ],
            },
        ),
        (
            "profile@stats.visits > 3",
            {"op": "and", "items": [rule("profile@stats.visits", ">", 3)]},
        ),
        (
            'profile@a == "x" OR (profile@b <> 1.5 AND profile@c => -2)',
            {
                "op": "or",
                "items": [
                    rule("profile@a", "=", "x"),
                    {
                        "op": "and",
                        "items": [rule("profile@b", "!=", 1.5), rule("profile@c", ">=", -2)],
                    },
                ],
            },
        ),
        (
            "profile@a EXISTS AND (profile@b NOT EXISTS AND profile@c EMPTY)",
            {
                "op": "and",
                "items": [
                    rule("profile@a", "exists"),
                    {
                        "op": "and",
                        "items": [rule("profile@b", "not exists"), rule("profile@c", "empty")],
                    },
                ],
            },
        ),
        ("profile@a not empty", {"op": "and", "items": [rule("profile@a", "not empty")]}),
        ("profile@vip = true", {"op": "and", "items": [rule("profile@vip", "is true")]}),
        ("profile@vip == FALSE", {"op": "and", "items": [rule("profile@vip", "is false")]}),
        ("profile@vip != true", {"op": "and", "items": [rule("profile@vip", "!=", True)]}),
        (
            "profile@n BETWEEN 1 AND 10",
            {"op": "and", "items": [rule("profile@n", "between", [1, 10])]},
        ),
        (
            "profile@segments CONTAINS 'vip' AND profile@e NOT CONTAINS 'x'",
            {
                "op": "and",
                "items": [
                    rule("profile@segments", "contains", "vip"),
                    rule("profile@e", "not contains", "x"),
                ],
            },
        ),
        (
            "profile@e starts with 'a' OR profile@e ENDS  WITH '@x.io'",
            {
                "op": "or",
                "items": [
                    rule("profile@e", "starts with", "a"),
                    rule("profile@e", "ends with", "@x.io"),
                ],
            },
        ),
        (
            "profile@plan IN ['pro', 'team', 3] AND profile@plan NOT IN []",
            {
                "op": "and",
                "items": [
                    rule("profile@plan", "in", ["pro", "team", 3]),
                    rule("profile@plan", "not in", []),
                ],
            },
        ),
        (
            "profile@t < datetime('2024-01-31') AND profile@t > DATETIME(\"2023-12-01T10:00\")",
            {
                "op": "and",
                "items": [
                    rule("profile@t", "before", "2024-01-31"),
                    rule("profile@t", "after", "2023-12-01T10:00"),
                ],
            },
        ),
        (
            "profile@t BETWEEN datetime('2024-01-01') AND datetime('2024-02-01')",
            {
                "op": "and",
                "items": [rule("profile@t", "between dates", ["2024-01-01", "2024-02-01"])],
            },
        ),
        (
            "profile@t >= now.offset('-7d') OR profile@t < now.offset('-30d')",
            {
                "op": "or",
                "items": [
                    rule("profile@t", "in the last days", 7),
                    rule("profile@t", "more than days ago", 30),
                ],
            },
        ),
        (
            # A bracketed key, and a string with a quote, a backslash and double quotes.
            """profile@data["first name"] = 'O\\'Hara \\\\ "q"'""",
            {"op": "and", "items": [rule('profile@data["first name"]', "=", 'O\'Hara \\ "q"')]},
        ),
    ],
)
def test_conditions_the_builder_shows(text, model):
    assert condition_builder_model(text) == model


@pytest.mark.parametrize(
    "text",
    [
        "NOT profile@a EXISTS",
        "profile@a = profile@b",
        "lowercase(profile@a) = 'x'",
        "profile@a = lowercase('X')",
        "profile@a IS NULL",
        "profile@a = null",
        "profile@t > now.offset('-1h')",
        "profile@t >= now.offset('+7d')",
        "profile@t = datetime('2024-01-01')",
        "profile@t BETWEEN datetime('2024-01-01') AND 5",
        "profile@a IN [profile@b]",
        "true",
        "'x' = profile@a",
    ],
)
def test_conditions_the_builder_leaves_as_text(text):
    assert condition_builder_model(text) is None


def test_an_invalid_condition_raises_the_notation_error():
    with pytest.raises(ConditionSyntaxError) as raised:
        condition_builder_model("profile@a = ")
    assert raised.value.column == 12
    with pytest.raises(ConditionSyntaxError, match="Unknown function 'nope'"):
        condition_builder_model("nope(profile@a) = 1")
