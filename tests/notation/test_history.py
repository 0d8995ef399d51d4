"""Aggregates over the profile's stored events, on the reference provider (EventListHistory):
the corpus in cases/history.json, and what the compiled condition exposes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apps import notation
from apps.notation import ConditionSyntaxError, EventListHistory, HistoryQuery, NotationError

from .conformance import case_parameters, load_corpus

CORPUS = "history.json"


def _history() -> EventListHistory:
    corpus = load_corpus(CORPUS)
    return EventListHistory(corpus["events"], now=datetime.fromisoformat(corpus["now"]))


def test_corpus_size() -> None:
    assert len(load_corpus(CORPUS)["cases"]) == 50


@pytest.mark.parametrize("case", case_parameters(CORPUS, "condition"))
def test_history_case(case: dict[str, Any]) -> None:
    condition = case["condition"]
    if case["expected"] == "syntax":
        with pytest.raises(ConditionSyntaxError) as error:
            notation.validate(condition)
        assert case["message"] in str(error.value)
    elif case["expected"] == "error":
        history = None if case.get("without_history") else _history()
        with pytest.raises(NotationError):
            notation.evaluate(condition, {}, history=history)
    else:
        result = notation.evaluate(condition, {}, history=_history())
        assert result is case["expected"]


def test_a_condition_lists_its_aggregates_once_each_in_order() -> None:
    condition = notation.compile_condition(
        'days_since(events type "refund") > 5 AND count(events last 2 weeks) > 1 '
        'AND days_since(events type "Refund") < 7 AND profile@stats.visits > 1'
    )
    assert condition.uses_history is True
    assert condition.history == (
        HistoryQuery("days_since", (), ("refund",), None),
        HistoryQuery("count", (), (), timedelta(weeks=2)),
    )
    assert condition.references == ("profile@stats.visits",)
    assert notation.compile_condition("profile@stats.visits > 1").uses_history is False


def test_the_aggregate_text_reads_back_as_written() -> None:
    query = notation.compile_condition(
        'sum(event@properties.price, type ["purchase", "order"], last 36 hours) > 1'
    ).history[0]
    assert query.text == 'sum(event@properties.price type ["purchase", "order"] in last 36 hours)'
    assert notation.compile_condition(f"{query.text} > 1").history == (query,)


def test_count_and_sum_are_not_plain_functions() -> None:
    # `count(` is the aggregate's keyword; a function that merely starts with it is not.
    with pytest.raises(ConditionSyntaxError, match="Unknown function 'counter'"):
        notation.validate("counter(1) > 2")


def test_a_provider_answers_each_aggregate_it_is_asked_with_no_other_data() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    seen: list[HistoryQuery] = []

    class Recording:
        def __init__(self) -> None:
            self.now = now

        def aggregate(self, query: HistoryQuery) -> Any:
            seen.append(query)
            return 3

    assert notation.evaluate("count(events) == 3 AND count(events) > 2", None, history=Recording())
    assert [query.function for query in seen] == ["count", "count"]


@pytest.mark.parametrize(
    ("window", "text"),
    [("last 7 days", "1 week"), ("last 36 hours", "36 hours"), ("last 90 minutes", "90 minutes"),
     ("last 1 day", "1 day"), ("last 14 days", "2 weeks")],
)  # fmt: skip
def test_the_window_reads_back_in_its_largest_whole_unit(window, text):
    query = notation.compile_condition(f"count(events {window}) > 1").history[0]
    assert query.text == f"count(events in last {text})"
