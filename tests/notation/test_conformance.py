"""The shared conformance corpus: one test per case."""

from __future__ import annotations

from typing import Any

import pytest

from apps.notation import NotationError, evaluate, render_string, render_template, resolve

from .conformance import case_parameters, load_corpus


def test_corpus_is_complete() -> None:
    counts = {
        name: len(load_corpus(name)["cases"])
        for name in (
            "conditions.json",
            "dot_notation.json",
            "object_templates.json",
            "string_templates.json",
        )
    }
    assert counts == {
        "conditions.json": 94,
        "dot_notation.json": 26,
        "object_templates.json": 12,
        "string_templates.json": 5,
    }


@pytest.mark.parametrize("case", case_parameters("conditions.json", "condition"))
def test_condition(case: dict[str, Any]) -> None:
    data = case.get("data", load_corpus("conditions.json")["default_data"])
    if case["expected"] == "error":
        with pytest.raises(NotationError):
            evaluate(case["condition"], data)
    else:
        result = evaluate(case["condition"], data)
        assert type(result) is bool
        assert result is case["expected"]


@pytest.mark.parametrize("case", case_parameters("dot_notation.json", "reference"))
def test_dot_notation(case: dict[str, Any]) -> None:
    if case.get("expected_error"):
        with pytest.raises(NotationError):
            resolve(case["reference"], case["data"])
    else:
        result = resolve(case["reference"], case["data"])
        assert result == case["expected"]
        # 1, 1.0 and True are equal in Python; a cast must produce the JSON type, not just an
        # equal value.
        assert type(result) is type(case["expected"])


@pytest.mark.parametrize("case", case_parameters("object_templates.json", "template"))
def test_object_template(case: dict[str, Any]) -> None:
    options = case.get("options", {})
    if case.get("expected_error"):
        with pytest.raises(NotationError):
            render_template(case["template"], case["data"], **options)
    else:
        assert render_template(case["template"], case["data"], **options) == case["expected"]


@pytest.mark.parametrize("case", case_parameters("string_templates.json", "text"))
def test_string_template(case: dict[str, Any]) -> None:
    if case.get("expected_error"):
        with pytest.raises(NotationError):
            render_string(case["text"], case["data"])
    else:
        assert render_string(case["text"], case["data"]) == case["expected"]
