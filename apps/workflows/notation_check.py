"""Checking one field of a node's config as the marketer types it, by the kind of notation the
action's schema names for it (`x-notation`): a condition, a readable or a writable dot path, a
value (a dot path or a literal), or a string template."""

from __future__ import annotations

from dataclasses import dataclass

from apps import notation
from apps.workflows.actions.base import ConfigError, writable_reference

NOTATION_KINDS = ("condition", "path", "writable_path", "value", "template")


@dataclass(frozen=True, slots=True)
class NotationCheck:
    error: str = ""
    # 1-based; None when the message has no position
    line: int | None = None
    column: int | None = None

    @property
    def ok(self) -> bool:
        return not self.error

    def as_dict(self) -> dict:
        if self.ok:
            return {"ok": True}
        return {"ok": False, "error": self.error, "line": self.line, "column": self.column}


def notation_check(*, kind: str, text: str) -> NotationCheck:
    """ValueError for an unknown kind."""
    if kind not in NOTATION_KINDS:
        raise ValueError(f"Unknown notation kind {kind!r}; one of: {', '.join(NOTATION_KINDS)}")
    return _CHECKS[kind](text)


def _condition(text: str) -> NotationCheck:
    if not text.strip():
        return NotationCheck('Write a condition, e.g. event@properties.plan == "pro"')
    try:
        notation.compile_condition(text)
    except notation.ConditionSyntaxError as exc:
        return NotationCheck(str(exc), exc.line, exc.column)
    except notation.NotationError as exc:
        return NotationCheck(str(exc))
    return NotationCheck()


def _unquoted(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "`" else text


def _path(text: str) -> NotationCheck:
    try:
        reference = notation.parse_reference(_unquoted(text.strip()))
    except notation.NotationError as exc:
        return NotationCheck(str(exc))
    if reference is None:
        sources = ", ".join(f"{source}@" for source in sorted(notation.SOURCES))
        return NotationCheck(
            f"{text!r} is not a dot path; write e.g. event@properties.price (sources: {sources})"
        )
    return NotationCheck()


def _writable_path(text: str) -> NotationCheck:
    try:
        writable_reference(text.strip(), field="path")
    except ConfigError as exc:
        return NotationCheck(str(exc).removeprefix("path: "))
    return NotationCheck()


def _value(text: str) -> NotationCheck:
    """A literal is fine; a string naming a known source must be a well-formed path."""
    try:
        notation.parse_reference(_unquoted(text.strip()))
    except notation.NotationError as exc:
        return NotationCheck(str(exc))
    return NotationCheck()


def _template(text: str) -> NotationCheck:
    for expression, position in notation.template_placeholders(text):
        line, column = _line_and_column(text, position)
        reference = _unquoted(expression)
        try:
            parsed = notation.parse_reference(reference)
        except notation.NotationError as exc:
            return NotationCheck(f"{{{{{expression}}}}}: {exc}", line, column)
        if parsed is None:
            return NotationCheck(
                f"{{{{{expression}}}}} is not a dot path (it would stay as written); "
                "write e.g. {{profile@data.pii.firstname}}",
                line,
                column,
            )
    opening = text.rfind("{{")
    if opening != -1 and "}}" not in text[opening:]:
        line, column = _line_and_column(text, opening)
        return NotationCheck("This {{ is not closed with }}", line, column)
    return NotationCheck()


def _line_and_column(text: str, position: int) -> tuple[int, int]:
    line = text.count("\n", 0, position) + 1
    return line, position - (text.rfind("\n", 0, position) + 1) + 1


_CHECKS = {
    "condition": _condition,
    "path": _path,
    "writable_path": _writable_path,
    "value": _value,
    "template": _template,
}
