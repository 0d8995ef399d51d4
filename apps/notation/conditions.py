"""Conditions (logic notation): parse once, evaluate many times.

`compile_condition(text)` parses with the lark grammar, compiles to closures and caches the
result per text, so workflows and segments can call `evaluate(text, data)` in a loop without
re-parsing, or keep the returned `Condition` and call `.evaluate(data)` on it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Final

from .compiler import Predicate, compile_tree
from .errors import EvaluationError, NotationError
from .history import HISTORY, HistoryProvider, HistoryQuery
from .parsing import parse_tree

# Conditions are few (one per rule, segment, destination) but evaluated per event; 4096 texts
# cover any realistic installation while bounding memory if conditions are generated.
CACHE_SIZE: Final = 4096


class Condition:
    """A parsed condition. `evaluate(data)` returns a bool or raises a NotationError.

    A condition with aggregates over the profile's events (`history` lists them) needs a
    provider of that history: `evaluate(data, history=provider)`; without one they raise."""

    __slots__ = ("_predicate", "history", "references", "text")

    def __init__(
        self,
        text: str,
        predicate: Predicate,
        references: tuple[str, ...],
        history: tuple[HistoryQuery, ...] = (),
    ) -> None:
        self.text = text
        self.references = references
        self.history = history
        self._predicate = predicate

    @property
    def uses_history(self) -> bool:
        """Whether the condition reads stored events, so its answer changes as time passes."""
        return bool(self.history)

    def evaluate(
        self, data: Mapping[str, Any] | None, *, history: HistoryProvider | None = None
    ) -> bool:
        if history is not None and (data is None or isinstance(data, Mapping)):
            data = {**(data or {}), HISTORY: history}
        try:
            return self._predicate(data if data is not None else {})
        except NotationError:
            raise
        except Exception as error:
            # The contract is "a bool or a NotationError": surface anything unforeseen (odd
            # values in the data, a mapping that is not one) as an evaluation error.
            if not isinstance(data, Mapping):
                raise EvaluationError(
                    f"Cannot evaluate {self.text!r}: data must be a mapping of sources "
                    f"(profile, event, ...), not {type(data).__name__}"
                ) from error
            raise EvaluationError(f"Cannot evaluate {self.text!r}: {error}") from error

    __call__ = evaluate

    def __repr__(self) -> str:
        return f"Condition({self.text!r})"


def _compile(text: str) -> Condition:
    compiled = compile_tree(text, parse_tree(text))
    return Condition(text, compiled.predicate, compiled.references, compiled.history)


_compile_cached = functools.lru_cache(maxsize=CACHE_SIZE)(_compile)


def compile_condition(condition: str | Condition) -> Condition:
    """The parsed condition for `condition` (cached per text); raises ConditionSyntaxError."""
    if isinstance(condition, Condition):
        return condition
    if not isinstance(condition, str):
        raise NotationError(f"A condition must be a string, not {type(condition).__name__}")
    return _compile_cached(condition)


parse = compile_condition


def evaluate(
    condition: str | Condition,
    data: Mapping[str, Any] | None,
    *,
    history: HistoryProvider | None = None,
) -> bool:
    """Evaluate a condition on `data` ({"profile": ..., "event": ..., ...}); `history` answers
    its aggregates over the profile's stored events, if it has any."""
    return compile_condition(condition).evaluate(data, history=history)


def validate(condition: str) -> None:
    """Raise ConditionSyntaxError when `condition` does not parse (or names an unknown function,
    or calls one with the wrong number of arguments)."""
    compile_condition(condition)


def references(condition: str | Condition) -> tuple[str, ...]:
    """The field references a condition reads, in order of first appearance."""
    return compile_condition(condition).references


def condition_cache_info() -> functools._CacheInfo:
    return _compile_cached.cache_info()


def condition_cache_clear() -> None:
    _compile_cached.cache_clear()
