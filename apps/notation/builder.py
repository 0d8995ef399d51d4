"""Conditions as the admin's condition builder shows them: AND/OR groups of rows
`[field] [operator] [value]`.

`condition_builder_model(text)` reads a condition into that model, or returns None when the
condition uses something the builder cannot show (NOT, a function on the left, a field compared
with a field, ...): the admin then keeps it as text. The builder writes conditions back with its
own serializer (static/core/condition-builder.js), and the tests check that every model it
writes reads back here to the same model.

The model (plain JSON):
    group: {"op": "and" | "or", "items": [group | rule, ...]}
    rule:  {"field": "profile@stats.visits", "op": <operator>, "value": <value>}  (no "value"
           for operators without one)

Operators and their values:
    "=", "!=", ">", ">=", "<", "<=", "contains", "not contains", "starts with", "ends with":
        a string, number or boolean
    "between": [low, high]; "in", "not in": a list of strings, numbers or booleans
    "exists", "not exists", "empty", "not empty", "is true", "is false": no value
    "before", "after": a date text, written `< datetime('2024-01-31')` / `> datetime(...)`
    "between dates": [from, to], written `BETWEEN datetime(...) AND datetime(...)`
    "in the last days", "more than days ago": a whole number of days, written
        `>= now.offset('-7d')` / `< now.offset('-7d')`
"""

from __future__ import annotations

import re
from typing import Any, Final

from lark import Token, Tree

from .conditions import validate
from .dot import unescape
from .parsing import parse_tree

Model = dict[str, Any]

# The notation's spellings of one comparison, as the builder names them.
_COMPARATORS: Final = {
    "==": "=",
    "=": "=",
    "!=": "!=",
    "<>": "!=",
    ">": ">",
    ">=": ">=",
    "=>": ">=",
    "<": "<",
    "<=": "<=",
    "=<": "<=",
}
_NO_VALUE: Final = {
    "exists": "exists",
    "not_exists": "not exists",
    "empty": "empty",
    "not_empty": "not empty",
}
_ONE_VALUE: Final = {
    "contains": "contains",
    "not_contains": "not contains",
    "starts_with": "starts with",
    "ends_with": "ends with",
}
_DAYS_AGO: Final = re.compile(r"-(\d{1,6})d")


class _NotShown(Exception):
    """Raised inside the reader: the condition is not something the builder can show."""


class _Date(str):
    """A date text read from `datetime('...')`."""


class _DaysAgo(int):
    """A number of days read from `now.offset('-Nd')`."""


def condition_builder_model(text: str) -> Model | None:
    """The builder's model of `text` (an empty group for an empty text), or None when the
    builder cannot show it. Raises ConditionSyntaxError when `text` is not a valid condition."""
    if not text.strip():
        return {"op": "and", "items": []}
    validate(text)
    try:
        node = _node(parse_tree(text))
    except _NotShown:
        return None
    return node if "items" in node else {"op": "and", "items": [node]}


def _node(tree: Tree) -> Model:
    if tree.data in ("and_expr", "or_expr"):
        return {"op": tree.data[:-5], "items": [_node(child) for child in tree.children]}
    field, *operands = tree.children
    if not isinstance(field, Tree) or field.data != "field":
        raise _NotShown
    rule: Model = {"field": str(field.children[0])}
    kind = tree.data
    if kind in _NO_VALUE:
        rule["op"] = _NO_VALUE[kind]
    elif kind in _ONE_VALUE:
        rule.update(op=_ONE_VALUE[kind], value=_scalar(operands[0]))
    elif kind in ("in_list", "not_in_list"):
        if operands[0].data != "list":
            raise _NotShown
        items = [_scalar(item) for item in operands[0].children if item is not None]
        rule.update(op="in" if kind == "in_list" else "not in", value=items)
    elif kind == "between":
        low, high = (_value(operand) for operand in operands)
        if isinstance(low, _Date) and isinstance(high, _Date):
            rule.update(op="between dates", value=[str(low), str(high)])
        elif _special(low) or _special(high):
            raise _NotShown
        else:
            rule.update(op="between", value=[low, high])
    elif kind == "comparison":
        rule.update(_comparison(_COMPARATORS[str(operands[0])], _value(operands[1])))
    else:
        raise _NotShown
    return rule


def _comparison(op: str, value: Any) -> Model:
    if isinstance(value, _Date) and op in ("<", ">"):
        return {"op": "before" if op == "<" else "after", "value": str(value)}
    if isinstance(value, _DaysAgo) and op in (">=", "<"):
        days = int(value)
        return {"op": "in the last days" if op == ">=" else "more than days ago", "value": days}
    if _special(value):
        raise _NotShown
    if op == "=" and isinstance(value, bool):
        return {"op": "is true" if value else "is false"}
    return {"op": op, "value": value}


def _special(value: Any) -> bool:
    return isinstance(value, _Date | _DaysAgo)


def _scalar(tree: Tree) -> Any:
    value = _value(tree)
    if _special(value):
        raise _NotShown
    return value


def _value(tree: Tree) -> Any:
    token = tree.children[0] if tree.children else None
    if tree.data == "string":
        return unescape(str(token)[1:-1])
    if tree.data == "number":
        text = str(token)
        try:
            return int(text)
        except ValueError:
            return float(text)
    if tree.data == "boolean":
        return isinstance(token, Token) and token.type == "TRUE"
    if tree.data == "function_call":
        name, *arguments = tree.children
        if len(arguments) == 1 and arguments[0] is not None and arguments[0].data == "string":
            argument = unescape(str(arguments[0].children[0])[1:-1])
            if str(name).lower() == "datetime":
                return _Date(argument)
            match = _DAYS_AGO.fullmatch(argument)
            if str(name).lower() == "now.offset" and match:
                return _DaysAgo(int(match[1]))
    # null, a field on the right, a list where a value belongs, another function call.
    raise _NotShown
