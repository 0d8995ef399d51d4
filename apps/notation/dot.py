"""Dot notation: `source@path` references into the data of a workflow run.

A reference names one of the sources (`profile`, `event`, `session`, `payload`, `flow`,
`memory`) and a path into it: keys separated by dots, `\\.` for a dot inside a key, `["any key"]`
for keys with spaces or symbols, numeric keys indexing lists, and `...` for the whole object.
A string without a known `source@` prefix is a literal and is returned unchanged; a string in
backticks is resolved and then cast (`"1"` -> 1, `"false"` -> False, `"null"` -> None).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Final

from .errors import AssignmentError, InvalidReferenceError, MissingReferenceError

SOURCES: Final = frozenset({"profile", "event", "session", "payload", "flow", "memory"})
WHOLE_OBJECT: Final = "..."


class _Missing:
    """The value of a path that is not in the data (distinct from a stored None)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()

# One step of a path: the key as written, and its integer value when it can index a list.
PathKey = tuple[str, int | None]


@dataclass(frozen=True, slots=True)
class Reference:
    """A parsed `source@path`; `keys` is empty for the whole object (`source@...`)."""

    source: str
    keys: tuple[PathKey, ...]
    text: str
    getter: Callable[[Mapping[str, Any]], Any] = field(compare=False, repr=False)

    def __str__(self) -> str:
        return self.text


@functools.lru_cache(maxsize=4096)
def parse_reference(text: str) -> Reference | None:
    """Parse `source@path`; None when `text` is not a reference (a literal).

    Raises InvalidReferenceError when the source is known but the path is malformed.
    """
    source, separator, path = text.partition("@")
    if not separator or source not in SOURCES:
        return None
    keys = split_path(path, reference=text)
    return Reference(source=source, keys=keys, text=text, getter=make_getter(source, keys))


def split_path(path: str, *, reference: str) -> tuple[PathKey, ...]:
    """Split the part after `@` into keys, honouring `\\.` escapes and `["..."]` brackets."""
    if path == WHOLE_OBJECT:
        return ()
    if not path:
        raise InvalidReferenceError(
            f"Reference {reference!r} has no path; use {reference}... for the whole object",
            reference=reference,
        )
    keys: list[PathKey] = []
    position, length = 0, len(path)
    while True:
        if path[position] == "[":
            key, position = _read_bracket(path, position, reference)
        else:
            key, position = _read_plain(path, position, reference)
        keys.append(key)
        while position < length and path[position] == "[":
            key, position = _read_bracket(path, position, reference)
            keys.append(key)
        if position == length:
            return tuple(keys)
        # _read_plain and _read_bracket stop only at "." or "[" or the end.
        position += 1
        if position == length:
            raise InvalidReferenceError(
                f"Reference {reference!r} ends with a dot", reference=reference
            )


def _read_plain(path: str, position: int, reference: str) -> tuple[PathKey, int]:
    characters: list[str] = []
    length = len(path)
    while position < length:
        character = path[position]
        if character == "\\" and position + 1 < length:
            characters.append(path[position + 1])
            position += 2
            continue
        if character in ".[":
            break
        characters.append(character)
        position += 1
    if not characters:
        raise InvalidReferenceError(
            f"Reference {reference!r} has an empty key at offset {position}", reference=reference
        )
    name = "".join(characters)
    return (name, int(name) if name.isdecimal() and name.isascii() else None), position


def _read_bracket(path: str, position: int, reference: str) -> tuple[PathKey, int]:
    match = _BRACKET.match(path, position)
    if match is None:
        raise InvalidReferenceError(
            f"Reference {reference!r} has an unclosed or malformed [...] at offset {position};"
            ' write ["key"] or [0]',
            reference=reference,
        )
    if match["index"] is not None:
        return (match["index"], int(match["index"])), match.end()
    quoted = match["double"] if match["double"] is not None else match["single"]
    return (unescape(quoted), None), match.end()


_BRACKET: Final = re.compile(
    r"""\[\s*(?:"(?P<double>(?:[^"\\]|\\.)*)"|'(?P<single>(?:[^'\\]|\\.)*)'|(?P<index>\d+))\s*\]""",
    re.ASCII | re.DOTALL,
)
_ESCAPE: Final = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_ESCAPED_CHARACTERS: Final = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


def unescape(text: str) -> str:
    """Undo backslash escapes as JSON writes them (`\\n`, `\\"`, `\\u00e9`, ...); any other
    escaped character stands for itself (`\\'` is a quote, `\\.` a dot)."""
    if "\\" not in text:
        return text
    unescaped = _ESCAPE.sub(_unescape_one, text)
    if _SURROGATE.search(unescaped):
        # "\\ud83d\\ude00" is one emoji written as a UTF-16 pair; join such pairs.
        unescaped = unescaped.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return unescaped


def _unescape_one(match: re.Match[str]) -> str:
    escaped = match[1]
    if len(escaped) == 5:
        return chr(int(escaped[1:], 16))
    return _ESCAPED_CHARACTERS.get(escaped, escaped)


_PLAIN_KEY: Final = re.compile(r"[\w$\-]+")


def make_reference(source: str, *keys: str | int) -> str:
    """Build a reference that reads back exactly `keys`, bracketing keys with special characters.

    `make_reference("profile", "data", "first name")` -> `'profile@data["first name"]'`.
    """
    if source not in SOURCES:
        raise InvalidReferenceError(
            f"Unknown source {source!r}; expected one of {sorted(SOURCES)}", reference=source
        )
    if not keys:
        return f"{source}@{WHOLE_OBJECT}"
    parts: list[str] = []
    for key in keys:
        text = str(key)
        if _PLAIN_KEY.fullmatch(text):
            parts.append(("." if parts else "") + text)
        else:
            escaped = text.replace("\\", "\\\\").replace('"', '\\"')
            parts.append(f'["{escaped}"]')
    return f"{source}@{''.join(parts)}"


def lookup(data: Mapping[str, Any] | None, reference: Reference) -> Any:
    """The value at `reference`, or MISSING. A path into a None source is missing."""
    return reference.getter(data if data is not None else {})


def make_getter(source: str, keys: tuple[PathKey, ...]) -> Callable[[Mapping[str, Any]], Any]:
    """A closure reading `source@keys` from data, MISSING when absent.

    Compiled conditions call it on every evaluation, so the loop keeps to locals and tests
    `type(node) is dict` before the slower abstract-base-class checks.
    """
    if not keys:

        def get_whole(data: Mapping[str, Any]) -> Any:
            return data.get(source, MISSING)

        return get_whole

    def get(data: Mapping[str, Any]) -> Any:
        node = data.get(source)
        if node is None:
            return MISSING
        for name, index in keys:
            if type(node) is dict or isinstance(node, Mapping):
                child = node.get(name, MISSING)
                if child is MISSING:
                    if index is None:
                        return MISSING
                    child = node.get(index, MISSING)
                    if child is MISSING:
                        return MISSING
                node = child
            elif index is not None and isinstance(node, list | tuple) and index < len(node):
                node = node[index]
            else:
                return MISSING
        return node

    return get


def read(reference: Reference, data: Mapping[str, Any] | None) -> Any:
    """The value at `reference`; raises MissingReferenceError when absent."""
    value = lookup(data, reference)
    if value is MISSING:
        raise MissingReferenceError(reference.text)
    return value


def resolve(reference: Any, data: Mapping[str, Any] | None) -> Any:
    """Read a dot reference; literals (anything that is not a `source@path` string) come back
    unchanged, and a reference or literal in backticks is cast after reading."""
    if not isinstance(reference, str):
        return reference
    if len(reference) >= 2 and reference[0] == "`" and reference[-1] == "`":
        inner = reference[1:-1]
        parsed = parse_reference(inner)
        return cast_value(inner if parsed is None else read(parsed, data))
    parsed = parse_reference(reference)
    if parsed is None:
        return reference
    return read(parsed, data)


_INTEGER: Final = re.compile(r"[+-]?\d+", re.ASCII)
_FLOAT: Final = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_CONSTANTS: Final = {"true": True, "false": False, "null": None, "none": None}


def cast_value(value: Any) -> Any:
    """Cast a string to the JSON value it spells (bool, null, number, list, object).

    Anything else, or a string that spells no value, comes back unchanged.
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    lowered = text.lower()
    if lowered in _CONSTANTS:
        return _CONSTANTS[lowered]
    if _INTEGER.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    if text[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except ValueError:
            return value
    return value


def assign(reference: str, value: Any, data: MutableMapping[str, Any]) -> None:
    """Write `value` at `reference`, creating dicts for missing (or null) keys on the way.

    A numeric key indexes an existing list (its length appends). Raises InvalidReferenceError
    for a literal or malformed reference and AssignmentError when the path crosses a scalar.
    """
    parsed = parse_reference(reference) if isinstance(reference, str) else None
    if parsed is None:
        raise InvalidReferenceError(
            f"Cannot assign to {reference!r}: not a source@path reference", reference=str(reference)
        )
    if not parsed.keys:
        data[parsed.source] = value
        return
    node = data.get(parsed.source)
    if node is None:
        node = data[parsed.source] = {}
    for depth, (name, index) in enumerate(parsed.keys[:-1]):
        node = _child_for_write(node, name, index, parsed, depth)
    name, index = parsed.keys[-1]
    _write(node, name, index, value, parsed, len(parsed.keys) - 1)


def _child_for_write(node: Any, name: str, index: int | None, parsed: Reference, depth: int) -> Any:
    if isinstance(node, MutableMapping):
        key: str | int = index if index is not None and name not in node and index in node else name
        child = node.get(key)
        if child is None:
            child = node[key] = {}
        elif not isinstance(child, MutableMapping | list):
            raise _crossing_error(parsed, depth + 1, child)
        return child
    if isinstance(node, list) and index is not None and index < len(node):
        child = node[index]
        if child is None:
            child = node[index] = {}
        elif not isinstance(child, MutableMapping | list):
            raise _crossing_error(parsed, depth + 1, child)
        return child
    raise _crossing_error(parsed, depth, node)


def _write(
    node: Any, name: str, index: int | None, value: Any, parsed: Reference, depth: int
) -> None:
    if isinstance(node, MutableMapping):
        key = index if index is not None and name not in node and index in node else name
        node[key] = value
    elif isinstance(node, list) and index is not None and index <= len(node):
        if index == len(node):
            node.append(value)
        else:
            node[index] = value
    else:
        raise _crossing_error(parsed, depth, node)


def _crossing_error(parsed: Reference, depth: int, node: Any) -> AssignmentError:
    where = make_reference(parsed.source, *(name for name, _ in parsed.keys[:depth]))
    return AssignmentError(
        f"Cannot assign to {parsed.text!r}: {where} is a {type(node).__name__}, not an object"
        + (" or a list long enough" if isinstance(node, list) else "")
    )
