"""The lark parser for conditions, and its errors translated into ConditionSyntaxError."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Final

from lark import Lark, Tree, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .dot import SOURCES
from .errors import ConditionSyntaxError

GRAMMAR_PATH: Final = Path(__file__).with_name("grammar.lark")


@functools.cache
def condition_parser() -> Lark:
    # Built on first use, not at import, so Django start-up does not pay for it.
    return Lark(
        GRAMMAR_PATH.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        maybe_placeholders=True,
    )


def parse_tree(condition: str) -> Tree:
    """The lark parse tree of `condition`; raises ConditionSyntaxError."""
    if not condition.strip():
        raise ConditionSyntaxError(
            "The condition is empty; expected e.g. profile@stats.visits > 3",
            condition=condition,
            position=0,
            line=1,
            column=1,
            expected=(_CONDITION,),
        )
    try:
        return condition_parser().parse(condition)
    except UnexpectedInput as error:
        raise _syntax_error(condition, error) from None


def syntax_error_at(
    condition: str, position: int, message: str, detail: str = ""
) -> ConditionSyntaxError:
    """A ConditionSyntaxError at a character offset: `<message> at column N[; <detail>]`."""
    line, column = line_and_column(condition, position)
    return ConditionSyntaxError(
        f"{message} at {_location(condition, line, column)}" + (f"; {detail}" if detail else ""),
        condition=condition,
        position=position,
        line=line,
        column=column,
    )


def line_and_column(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of a 0-based character offset."""
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return line, column


def _location(text: str, line: int, column: int) -> str:
    return f"line {line}, column {column}" if "\n" in text else f"column {column}"


_VALUE: Final = "a value (number, string, field reference, function call)"
_CONDITION: Final = "a condition (field reference, value, function call, NOT or '(')"
_OPERATOR: Final = (
    "an operator (==, !=, <, <=, >, >=, BETWEEN, IS NULL, EXISTS, EMPTY, CONTAINS, "
    "STARTS WITH, ENDS WITH, IN)"
)
_VALUE_TERMINALS: Final = frozenset(
    {
        "FIELD",
        "FUNCTION_NAME",
        "NUMBER",
        "STRING",
        "TRUE",
        "FALSE",
        "NULL",
        "LSQB",
        "HISTORY_EVENTS_FUNCTION",
        "HISTORY_VALUE_FUNCTION",
    }
)
_OPERATOR_TERMINALS: Final = frozenset(
    {"COMPARATOR", "_BETWEEN", "_IS", "_EXISTS", "_EMPTY", "_CONTAINS", "_STARTS_WITH",
     "_ENDS_WITH", "_IN", "_NOT"}
)  # fmt: skip
_TERMINAL_NAMES: Final = {
    "_AND": "AND",
    "_OR": "OR",
    "_NOT": "NOT",
    "_BETWEEN": "BETWEEN",
    "_IS": "IS",
    "_EXISTS": "EXISTS",
    "_EMPTY": "EMPTY",
    "_CONTAINS": "CONTAINS",
    "_STARTS_WITH": "STARTS WITH",
    "_ENDS_WITH": "ENDS WITH",
    "_IN": "IN",
    "NULL": "NULL",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "$END": "the end of the condition",
    "_EVENTS": "EVENTS",
    "_TYPE": "TYPE",
    "_LAST": "LAST",
    "TIME_UNIT": "a time unit (minutes, hours, days, weeks)",
    "HISTORY_PATH": "a path such as @properties.url",
}
_SOURCE_HINT: Final = "use one of " + ", ".join(f"{source}@" for source in sorted(SOURCES))
_WORD_AT: Final = re.compile(r"[^\s()\[\],]+|.", re.DOTALL)


def describe_expected(terminals: set[str] | frozenset[str]) -> tuple[str, ...]:
    """Human-readable phrases for the terminals the parser would have accepted."""
    remaining = set(terminals)
    if "$END" in remaining:
        # A complete condition can always go on with AND/OR; LALR default reductions may
        # already have dropped them from the state that saw the unexpected token.
        remaining |= {"_AND", "_OR"}
    phrases: list[str] = []
    if "FIELD" in remaining:
        starts_condition = "LPAR" in remaining
        phrases.append(_CONDITION if starts_condition else _VALUE)
        remaining -= _VALUE_TERMINALS
        if starts_condition:
            remaining -= {"LPAR", "_NOT"}
    if "COMPARATOR" in remaining:
        phrases.append(_OPERATOR)
        remaining -= _OPERATOR_TERMINALS
    phrases.extend(_TERMINAL_NAMES.get(name, name) for name in sorted(remaining - {"$END"}))
    if "$END" in remaining:
        phrases.append(_TERMINAL_NAMES["$END"])
    return tuple(phrases)


def _join_alternatives(phrases: tuple[str, ...]) -> str:
    if len(phrases) <= 1:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " or " + phrases[-1]


def _accepted_terminals(error: UnexpectedInput) -> set[str]:
    # The interactive parser knows exactly what the current state accepts; the lexer's `allowed`
    # and the token's `expected` can include terminals from merged LALR states.
    interactive = getattr(error, "interactive_parser", None)
    if interactive is not None:
        try:
            return set(interactive.accepts())
        except UnexpectedInput:  # pragma: no cover - accepts() only simulates the state
            pass
    if isinstance(error, UnexpectedCharacters):
        return set(error.allowed or ())
    return set(getattr(error, "expected", ()) or ())


def _syntax_error(condition: str, error: UnexpectedInput) -> ConditionSyntaxError:
    hint = ""
    accepted = _accepted_terminals(error)
    if isinstance(error, UnexpectedToken) and error.token.type != "$END":
        position = error.token.start_pos or 0
        unexpected = f"Unexpected {error.token.value!r}"
    elif isinstance(error, UnexpectedCharacters):
        position = error.pos_in_stream
        word = _WORD_AT.match(condition, position)[0]  # type: ignore[index]
        unexpected = f"Unexpected {word!r}"
        hint = _hint_for(word, accepted)
    else:
        # End of input: point just past the last non-blank character.
        position = len(condition.rstrip())
        unexpected = "Unexpected end of the condition"
    expected = describe_expected(accepted)
    line, column = line_and_column(condition, position)
    message = f"{unexpected} at {_location(condition, line, column)}{hint}"
    if expected:
        message += f"; expected {_join_alternatives(expected)}"
    return ConditionSyntaxError(
        message,
        condition=condition,
        position=position,
        line=line,
        column=column,
        expected=expected,
    )


def _hint_for(word: str, allowed: set[str]) -> str:
    if word[:1] in ("'", '"'):
        return " (a string that is never closed?)"
    source, separator, _ = word.partition("@")
    if separator and source not in SOURCES:
        return f" (unknown source {source + '@'!r}; {_SOURCE_HINT})"
    if "FIELD" in allowed and re.fullmatch(r"[\w$.\-]+", word):
        return f" (a field reference needs a source; {_SOURCE_HINT})"
    return ""
