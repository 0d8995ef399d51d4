"""Issue 23 item 9: Detect language, offline (py3langid's shipped model)."""

import pytest

from apps.workflows.actions import action_by_id
from tests.workflows.graphs import run_action

POLISH = "Dzień dobry, chciałbym zwrócić zamówienie, bo buty są za małe."
ENGLISH = "The delivery was fast and the shoes fit perfectly, thank you!"


def test_a_text_is_detected_with_its_confidence_and_alternatives():
    results, flow = run_action(
        "detect_language",
        {"text": "event@properties.review", "target": "profile@traits.language"},
        payload={"p": 1},
        event={"id": "e", "properties": {"review": ENGLISH}},
        profile={"id": "p", "traits": {}},
    )

    assert results == [
        (
            "detected",
            {
                "language": "en",
                "confidence": 0.9967,
                "alternatives": [
                    {"language": "pcm", "confidence": 0.0032},
                    {"language": "tl", "confidence": 0.0},
                ],
            },
        )
    ]
    assert flow.profile["traits"]["language"]["language"] == "en"


def test_a_literal_text():
    results, _ = run_action("detect_language", {"text": POLISH})

    assert results[0][0] == "detected"
    assert (results[0][1]["language"], results[0][1]["confidence"]) == ("pl", 1.0)


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"review": "Bonjour"}, "likeliest fr at 0.1543, below the minimum"),
        ({"review": "   "}, "no text at event@properties.review"),
        ({"review": 42}, "no text at event@properties.review"),
        ({}, "no text at event@properties.review"),
    ],
)
def test_short_missing_or_non_text_values_are_undetermined(properties, message):
    results, flow = run_action(
        "detect_language",
        {"text": "event@properties.review"},
        payload={"p": 1},
        event={"id": "e", "properties": properties},
    )

    assert results == [("undetermined", {"p": 1})]
    assert flow.messages == [{"level": "info", "message": message}]


def test_a_lower_minimum_accepts_a_less_certain_guess():
    results, _ = run_action(
        "detect_language",
        {"text": "event@properties.review", "min_confidence": 0.1},
        event={"id": "e", "properties": {"review": "Bonjour"}},
    )

    assert [(port, value["language"]) for port, value in results] == [("detected", "fr")]


@pytest.mark.parametrize(
    ("config", "errors"),
    [
        ({}, ["'text' is a required property"]),
        (
            {"text": "x", "min_confidence": 1.5},
            ["min_confidence: 1.5 is greater than the maximum of 1"],
        ),
        (
            {"text": "x", "target": "session@x"},
            [
                "target: session@ is read-only in workflows; write to one of "
                "event@, memory@, payload@, profile@"
            ],
        ),
        ({"text": "event@properties.review"}, []),
    ],
)
def test_config_validation(config, errors):
    assert action_by_id("detect_language").config_errors(config) == errors
