"""Object and string templates beyond the corpus."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from apps.notation import MissingReferenceError, render_string, render_template

DATA: dict[str, Any] = {
    "profile": {
        "id": "p-1",
        "data": {"pii": {"firstname": "John", "lastname": None}},
        "stats": {"visits": 3},
        "segments": ["vip"],
        "active": True,
        "score": 1.5,
    },
    "event": {"type": "purchase", "time": datetime(2026, 11, 22, 10, 0, tzinfo=UTC)},
}


def test_optional_keys_drop_missing_values_at_any_depth() -> None:
    template = {
        "id": "profile@id",
        "contact?": {"email": "profile@data.contact.email", "name": "profile@data.pii.firstname"},
        "extra?": "profile@nope",
        "list?": ["profile@nope", "profile@segments", "literal"],
    }
    assert render_template(template, DATA) == {
        "id": "p-1",
        "contact": {"name": "John"},
        "list": [["vip"], "literal"],
    }


def test_optional_wins_over_default() -> None:
    template = {"a?": "profile@nope", "b": "profile@nope"}
    assert render_template(template, DATA, default=0) == {"b": 0}


def test_missing_reference_raises_with_its_path() -> None:
    with pytest.raises(MissingReferenceError) as caught:
        render_template({"a": {"b": ["profile@id", "profile@nope"]}}, DATA)
    assert caught.value.reference == "profile@nope"


def test_include_none_false_drops_every_none() -> None:
    template = {"last": "profile@data.pii.lastname", "literal": None, "list": [None, 1]}
    assert render_template(template, DATA, include_none=False) == {"list": [1]}
    assert render_template(template, DATA) == {"last": None, "literal": None, "list": [None, 1]}


def test_backticks_cast_inside_templates() -> None:
    data = {"payload": {"count": "10", "flag": "false"}}
    template = {"count": "`payload@count`", "flag": "`payload@flag`", "n": "`7`"}
    assert render_template(template, data) == {"count": 10, "flag": False, "n": 7}


def test_non_string_leaves_and_keys_are_kept() -> None:
    template = {"n": 1, "f": 1.5, "b": False, "none": None, 1: "profile@id", "t": ("profile@id",)}
    assert render_template(template, DATA) == {
        "n": 1,
        "f": 1.5,
        "b": False,
        "none": None,
        1: "p-1",
        "t": ["p-1"],
    }


def test_top_level_missing_with_default() -> None:
    assert render_template("profile@nope", DATA, default="n/a") == "n/a"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Visits: {{profile@stats.visits}}", "Visits: 3"),
        ("Active: {{profile@active}}, score {{ profile@score }}", "Active: true, score 1.5"),
        ("Segments: {{profile@segments}}", 'Segments: ["vip"]'),
        ("Last: [{{profile@data.pii.lastname}}]", "Last: []"),
        ("At {{event@time}}", "At 2026-11-22T10:00:00+00:00"),
        ("Pii: {{profile@data.pii}}", 'Pii: {"firstname": "John", "lastname": null}'),
        ("{{not a reference}} and {{ }} stay", "{{not a reference}} and {{ }} stay"),
        ("{{profile@id}}{{profile@id}}", "p-1p-1"),
        ("Cast: {{`profile@stats.visits`}}", "Cast: 3"),
        ("Multi\nline {{\n profile@id \n}}", "Multi\nline p-1"),
        ("Zażółć {{profile@data.pii.firstname}}", "Zażółć John"),
    ],
)
def test_render_string(text: str, expected: str) -> None:
    assert render_string(text, DATA) == expected


def test_render_string_default_for_missing() -> None:
    assert render_string("Hi {{profile@nickname}}!", DATA, default="friend") == "Hi friend!"
    with pytest.raises(MissingReferenceError):
        render_string("Hi {{profile@nickname}}!", DATA)
