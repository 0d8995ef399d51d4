"""Dot notation beyond the corpus: bracket keys, malformed references, assign, make_reference."""

from __future__ import annotations

from typing import Any

import pytest

from apps.notation import (
    AssignmentError,
    InvalidReferenceError,
    MissingReferenceError,
    Reference,
    assign,
    cast_value,
    make_reference,
    parse_reference,
    resolve,
)

DATA: dict[str, Any] = {
    "profile": {
        "data": {"pii": {"first name": "John", 'say "hi"': 1}},
        "ids": ["a", "b"],
        "nested": [{"x": 1}, {"x": 2}],
        "a.b": 3,
    },
    "session": None,
}


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ('profile@data.pii["first name"]', "John"),
        # Outside conditions a plain key may hold spaces: only dots and brackets separate keys.
        ("profile@data.pii.first name", "John"),
        ("profile@data.pii['first name']", "John"),
        ('profile@data["pii"]["first name"]', "John"),
        ('profile@data.pii["say \\"hi\\""]', 1),
        ("profile@ids[1]", "b"),
        ("profile@ids.0", "a"),
        ("profile@nested.1.x", 2),
        ("profile@nested[0].x", 1),
        ("profile@a\\.b", 3),
        ('profile@["a.b"]', 3),
        ("session@...", None),
        ("user@example.com", "user@example.com"),
        ("Profile@data", "Profile@data"),
        ("no reference here", "no reference here"),
        (42, 42),
        (None, None),
        (["profile@ids"], ["profile@ids"]),
    ],
)
def test_resolve(reference: Any, expected: Any) -> None:
    assert resolve(reference, DATA) == expected


@pytest.mark.parametrize(
    "reference",
    ["profile@ids.2", "profile@ids.x", "profile@data.pii.last name", "session@id", "event@..."],
)
def test_missing_paths_raise(reference: str) -> None:
    with pytest.raises(MissingReferenceError) as caught:
        resolve(reference, DATA)
    assert caught.value.reference == reference
    assert str(caught.value) == f"Missing value: {reference!r} is not in the data"


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("profile@", "Reference 'profile@' has no path; use profile@... for the whole object"),
        ("profile@a..b", "Reference 'profile@a..b' has an empty key at offset 2"),
        ("profile@a.", "Reference 'profile@a.' ends with a dot"),
        ("profile@a[", "Reference 'profile@a[' has an unclosed or malformed [...] at offset 1"),
        ('profile@a["b]', "Reference 'profile@a[\"b]' has an unclosed or malformed [...]"),
    ],
)
def test_malformed_references_raise(reference: str, message: str) -> None:
    with pytest.raises(InvalidReferenceError) as caught:
        resolve(reference, DATA)
    assert str(caught.value).startswith(message)
    assert caught.value.reference == reference


def test_resolve_without_data_treats_every_source_as_absent() -> None:
    with pytest.raises(MissingReferenceError):
        resolve("profile@id", None)
    assert resolve("literal", None) == "literal"


def test_parse_reference() -> None:
    parsed = parse_reference('event@properties["price $"].0')
    assert isinstance(parsed, Reference)
    assert (parsed.source, parsed.keys, parsed.text, str(parsed)) == (
        "event",
        (("properties", None), ("price $", None), ("0", 0)),
        'event@properties["price $"].0',
        'event@properties["price $"].0',
    )
    assert parse_reference("event@...").keys == ()
    assert parse_reference("not@a reference") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1),
        (" -7 ", -7),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("TRUE", True),
        ("False", False),
        ("null", None),
        ("None", None),
        ("[1, 2]", [1, 2]),
        ('{"a": 1}', {"a": 1}),
        ("[not json", "[not json"),
        ("nan", "nan"),
        ("hello", "hello"),
        (5, 5),
        ([1], [1]),
    ],
)
def test_cast_value(value: Any, expected: Any) -> None:
    result = cast_value(value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("source", "keys", "expected"),
    [
        ("profile", ("data", "pii", "email"), "profile@data.pii.email"),
        ("profile", ("data", "first name"), 'profile@data["first name"]'),
        ("event", ("a.b", 'q"uote', "back\\slash"), 'event@["a.b"]["q\\"uote"]["back\\\\slash"]'),
        ("memory", (), "memory@..."),
        ("flow", ("list", 0), "flow@list.0"),
        ("session", ("",), 'session@[""]'),
    ],
)
def test_make_reference(source: str, keys: tuple[Any, ...], expected: str) -> None:
    assert make_reference(source, *keys) == expected


def test_make_reference_rejects_unknown_source() -> None:
    with pytest.raises(InvalidReferenceError, match="Unknown source 'user'"):
        make_reference("user", "id")


def test_assign_creates_dicts_on_the_way() -> None:
    data: dict[str, Any] = {"profile": {"traits": None}}
    assign("profile@traits.car.brand", "Volvo", data)
    assign("memory@counter", 1, data)
    assign('event@properties["a b"]', [1], data)
    assert data == {
        "profile": {"traits": {"car": {"brand": "Volvo"}}},
        "memory": {"counter": 1},
        "event": {"properties": {"a b": [1]}},
    }


def test_assign_indexes_and_appends_to_lists() -> None:
    data: dict[str, Any] = {"profile": {"ids": ["a", "b"], "items": [{"x": 1}]}}
    assign("profile@ids.0", "z", data)
    assign("profile@ids.2", "c", data)
    assign("profile@items.0.y", 2, data)
    assert data == {"profile": {"ids": ["z", "b", "c"], "items": [{"x": 1, "y": 2}]}}


def test_assign_whole_object() -> None:
    data: dict[str, Any] = {}
    assign("flow@...", {"id": "f"}, data)
    assert data == {"flow": {"id": "f"}}


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (
            "profile@name.first",
            "Cannot assign to 'profile@name.first': profile@name is a str, not an object",
        ),
        (
            "profile@ids.5",
            "Cannot assign to 'profile@ids.5': profile@ids is a list, not an object "
            "or a list long enough",
        ),
        (
            "profile@ids.x.y",
            "Cannot assign to 'profile@ids.x.y': profile@ids is a list, not an object "
            "or a list long enough",
        ),
    ],
)
def test_assign_refuses_to_cross_scalars(reference: str, message: str) -> None:
    data: dict[str, Any] = {"profile": {"name": "John", "ids": ["a"]}}
    with pytest.raises(AssignmentError) as caught:
        assign(reference, 1, data)
    assert str(caught.value) == message
    assert data == {"profile": {"name": "John", "ids": ["a"]}}


@pytest.mark.parametrize("reference", ["literal", "user@example.com", 5])
def test_assign_needs_a_reference(reference: Any) -> None:
    with pytest.raises(InvalidReferenceError, match="not a source@path reference"):
        assign(reference, 1, {})
