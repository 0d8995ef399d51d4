"""What each condition operator means on two evaluated operands.

A MISSING operand (a path not in the data) makes `==`, `<`, `<=`, `>`, `>=`, BETWEEN, CONTAINS,
STARTS WITH, ENDS WITH and IN false, and `!=` true. Null (None) is a stored value: it equals
NULL, is EMPTY, and is never less or greater than anything (ordering with null is false).
Incomparable types (an object against a number, say) raise EvaluationError.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Final

from .dot import MISSING
from .errors import EvaluationError
from .functions import to_datetime

Comparison = Callable[[Any, Any], bool]


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple)


def equals(left: Any, right: Any) -> bool:
    """`==`: plain equality (1 == 1.0), membership when exactly one side is a list."""
    if left is MISSING or right is MISSING:
        return False
    if left == right:
        return True
    if _is_list(left):
        return not _is_list(right) and right in left
    if _is_list(right):
        return left in right
    if isinstance(left, date) or isinstance(right, date):
        coerced = _coerce_datetimes(left, right)
        return coerced is not None and coerced[0] == coerced[1]
    return False


def not_equals(left: Any, right: Any) -> bool:
    """`!=` is exactly the negation of `==` (so a missing value is != anything)."""
    return not equals(left, right)


def _coerce_datetimes(left: Any, right: Any) -> tuple[datetime, datetime] | None:
    """Both sides as aware datetimes when one is a datetime and the other a date, datetime or
    ISO string (naive values are UTC); None when that is not possible."""
    if not all(isinstance(value, date | str) for value in (left, right)):
        return None
    try:
        return to_datetime(left), to_datetime(right)
    except EvaluationError:
        return None


def _ordering(compare: Callable[[Any, Any], bool], symbol: str) -> Comparison:
    def ordered(left: Any, right: Any) -> bool:
        if left is MISSING or right is MISSING or left is None or right is None:
            return False
        try:
            return compare(left, right)
        except TypeError:
            pass
        coerced = _coerce_datetimes(left, right)
        if coerced is None:
            raise EvaluationError(
                f"Cannot compare {_describe(left)} {symbol} {_describe(right)}"
            ) from None
        return compare(*coerced)

    return ordered


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


greater = _ordering(operator.gt, ">")
greater_or_equal = _ordering(operator.ge, ">=")
less = _ordering(operator.lt, "<")
less_or_equal = _ordering(operator.le, "<=")

COMPARISONS: Final[Mapping[str, Comparison]] = {
    "==": equals,
    "=": equals,
    "!=": not_equals,
    "<>": not_equals,
    ">": greater,
    ">=": greater_or_equal,
    "=>": greater_or_equal,
    "<": less,
    "<=": less_or_equal,
    "=<": less_or_equal,
}


def between(value: Any, low: Any, high: Any) -> bool:
    """Inclusive on both ends."""
    return greater_or_equal(value, low) and less_or_equal(value, high)


def is_empty(value: Any) -> bool:
    """Missing, null, "", [] and {} are empty; 0 and false are values, so not empty."""
    if value is MISSING or value is None:
        return True
    if isinstance(value, str | list | tuple | Mapping):
        return len(value) == 0
    return False


def contains(haystack: Any, needle: Any) -> bool:
    """A substring of a string, or an item of a list."""
    if haystack is MISSING or needle is MISSING:
        return False
    if isinstance(haystack, str):
        return needle in haystack if isinstance(needle, str) else _not_text("CONTAINS", needle)
    if _is_list(haystack):
        return needle in haystack
    raise _not_text_or_list("CONTAINS", haystack)


def starts_with(haystack: Any, needle: Any) -> bool:
    """A string prefix, or a list whose first item equals the value."""
    if haystack is MISSING or needle is MISSING:
        return False
    if isinstance(haystack, str):
        if isinstance(needle, str):
            return haystack.startswith(needle)
        return _not_text("STARTS WITH", needle)
    if _is_list(haystack):
        return bool(haystack) and haystack[0] == needle
    raise _not_text_or_list("STARTS WITH", haystack)


def ends_with(haystack: Any, needle: Any) -> bool:
    """A string suffix, or a list whose last item equals the value."""
    if haystack is MISSING or needle is MISSING:
        return False
    if isinstance(haystack, str):
        if isinstance(needle, str):
            return haystack.endswith(needle)
        return _not_text("ENDS WITH", needle)
    if _is_list(haystack):
        return bool(haystack) and haystack[-1] == needle
    raise _not_text_or_list("ENDS WITH", haystack)


def is_in(value: Any, collection: Any) -> bool:
    """`value IN [..]`: the value is an item of the list; a list value matches when any of its
    items is. A string on the right means substring."""
    if value is MISSING or collection is MISSING:
        return False
    if _is_list(collection) or isinstance(collection, frozenset):
        if _is_list(value):
            return any(_member(item, collection) for item in value)
        return _member(value, collection)
    if isinstance(collection, str):
        if isinstance(value, str):
            return value in collection
        return _not_text("IN", value)
    raise EvaluationError(f"IN needs a list on the right, not {_describe(collection)}")


def _member(value: Any, collection: Any) -> bool:
    try:
        return value in collection
    except TypeError:
        # An unhashable value (list, object) against a set of constant scalars: never equal.
        return False


def _not_text(operation: str, value: Any) -> bool:
    raise EvaluationError(f"{operation} on a string needs a string, not {_describe(value)}")


def _not_text_or_list(operation: str, value: Any) -> EvaluationError:
    return EvaluationError(f"{operation} works on strings and lists, not {_describe(value)}")
