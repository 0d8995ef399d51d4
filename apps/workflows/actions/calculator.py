"""Calculator: arithmetic over dot paths, parsed with a small lark grammar (never eval).

One statement per line (or separated by `;`): `target = expression`. A target is a writable
dot path or a local name usable in later lines. Expressions have numbers, dot paths (in
backticks when the path has characters other than letters, digits, `_` and `.`), local
names, + - * / // % **, parentheses and the functions abs, round, min, max, floor, ceil, sqrt.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, Tree, UnexpectedInput, v_args
from lark.exceptions import VisitError

from apps import notation
from apps.workflows.actions.base import (
    Action,
    ActionError,
    ConfigError,
    Result,
    lookup,
    writable_reference,
)

GRAMMAR = r"""
    program: _SEP* statement (_SEP+ statement)* _SEP*
    statement: (REF | NAME) "=" sum

    ?sum: product
        | sum "+" product -> add
        | sum "-" product -> sub
    ?product: unary
        | product "*" unary -> mul
        | product "/" unary -> div
        | product "//" unary -> floordiv
        | product "%" unary -> mod
    ?unary: power
        | "-" unary -> neg
        | "+" unary
    ?power: atom
        | atom "**" unary -> pow
    ?atom: NUMBER -> number
        | REF -> ref
        | QUOTED_REF -> quoted_ref
        | NAME "(" [sum ("," sum)*] ")" -> call
        | NAME -> name
        | "(" sum ")"

    REF.2: /(profile|event|session|payload|flow|memory)@([A-Za-z0-9_.]|\\\.)+/
    QUOTED_REF: /`[^`]+`/
    NAME: /[A-Za-z_][A-Za-z0-9_]*/
    NUMBER: /\d+(\.\d*)?([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?/
    _SEP: /[\n;]/
    %ignore /[ \t\r]+/
"""

FUNCTIONS = {
    "abs": (abs, 1, 1),
    "round": (round, 1, 2),
    "min": (min, 1, 50),
    "max": (max, 1, 50),
    "floor": (math.floor, 1, 1),
    "ceil": (math.ceil, 1, 1),
    "sqrt": (math.sqrt, 1, 1),
}
# 2 ** 1000 is fine; 10 ** 10 ** 10 would hang the worker computing a huge integer.
MAX_EXPONENT = 1000


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(GRAMMAR, start="program", parser="lalr")


@lru_cache(maxsize=512)
def parse_program(text: str) -> Tree:
    try:
        return _parser().parse(text)
    except UnexpectedInput as exc:
        line, column = exc.line, exc.column
        raise ConfigError(
            f"calculation: cannot read it at line {line}, column {column}: "
            f"{exc.get_context(text).strip()!r}"
        ) from exc


def _number(value: Any, where: str) -> int | float:
    if isinstance(value, bool):
        raise ActionError(f"{where} is a boolean, not a number")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        cast = notation.cast_value(value)
        if isinstance(cast, int | float) and not isinstance(cast, bool):
            return cast
    raise ActionError(f"{where} is {value!r}, not a number")


class _Evaluator(Transformer):
    def __init__(self, data: dict, names: dict) -> None:
        super().__init__()
        self.data = data
        self.names = names

    def number(self, items: list[Token]) -> int | float:
        text = items[0]
        return float(text) if any(c in text for c in ".eE") else int(text)

    def ref(self, items: list[Token]) -> int | float:
        return self._read(str(items[0]))

    def quoted_ref(self, items: list[Token]) -> int | float:
        return self._read(str(items[0])[1:-1])

    def _read(self, reference: str) -> int | float:
        value = lookup(reference, self.data)
        if value is notation.MISSING:
            raise ActionError(f"{reference} is missing")
        return _number(value, reference)

    def name(self, items: list[Token]) -> int | float:
        name = str(items[0])
        if name not in self.names:
            raise ActionError(f"{name} is not defined by an earlier line")
        return self.names[name]

    @v_args(inline=True)
    def add(self, a, b):
        return a + b

    @v_args(inline=True)
    def sub(self, a, b):
        return a - b

    @v_args(inline=True)
    def mul(self, a, b):
        return a * b

    @v_args(inline=True)
    def div(self, a, b):
        if b == 0:
            raise ActionError("division by zero")
        return a / b

    @v_args(inline=True)
    def floordiv(self, a, b):
        if b == 0:
            raise ActionError("division by zero")
        return a // b

    @v_args(inline=True)
    def mod(self, a, b):
        if b == 0:
            raise ActionError("modulo by zero")
        return a % b

    @v_args(inline=True)
    def neg(self, a):
        return -a

    @v_args(inline=True)
    def pow(self, a, b):
        if abs(b) > MAX_EXPONENT:
            raise ActionError(f"exponent {b} is too large (at most {MAX_EXPONENT})")
        try:
            result = a**b
        except (OverflowError, ZeroDivisionError) as exc:
            raise ActionError(f"{a} ** {b}: {exc}") from exc
        if isinstance(result, complex):
            raise ActionError(f"{a} ** {b} is not a real number")
        return result

    def call(self, items: list) -> int | float:
        name, *arguments = items
        arguments = [argument for argument in arguments if argument is not None]
        function, least, most = FUNCTIONS[str(name)]
        if not least <= len(arguments) <= most:
            raise ActionError(f"{name}() takes {least} to {most} arguments, not {len(arguments)}")
        try:
            return function(*arguments)
        except (ValueError, TypeError) as exc:
            raise ActionError(f"{name}(): {exc}") from exc


class CalculatorAction(Action):
    id = "calculator"
    name = "Calculator"
    group = "Math"
    description = "Computes numbers from dot paths and writes them to dot paths."
    docs = (
        "`calculation`: one statement per line, `target = expression`, e.g.\n\n"
        "    total = event@properties.price * event@properties.quantity\n"
        "    profile@stats.counters.spent = profile@stats.counters.spent + total\n\n"
        "Targets are writable dot paths or local names for later lines. Expressions: numbers, "
        "dot paths (in backticks if the path has characters other than letters, digits, `_` "
        "and `.`, e.g. `` `event@properties.unit-price` ``), + - * / // % ** and parentheses, "
        "abs, round, min, max, floor, ceil, sqrt. A missing or non-numeric value fails the "
        'node (numeric texts such as "10" count as numbers). Output: '
        '`{"result": <last value>, <local name>: value, ...}`.'
    )
    config_schema = {
        "type": "object",
        "required": ["calculation"],
        "properties": {
            "calculation": {
                "type": "string",
                "minLength": 1,
                "title": "Calculation",
                "description": "One assignment per line, e.g. "
                "profile@traits.total = profile@traits.total + event@properties.price.",
            }
        },
    }

    def setup(self) -> None:
        tree = parse_program(self.config["calculation"])
        self.statements: list[tuple[str, bool, Tree]] = []
        for statement in tree.children:
            target, expression = statement.children
            is_reference = target.type == "REF"
            if is_reference:
                writable_reference(str(target), field="calculation")
            self.statements.append((str(target), is_reference, expression))
        for node in tree.iter_subtrees():
            if node.data == "call" and str(node.children[0]) not in FUNCTIONS:
                raise ConfigError(
                    f"calculation: unknown function {node.children[0]}(); "
                    f"use one of {', '.join(sorted(FUNCTIONS))}"
                )

    def run(self, payload: Any, flow) -> Result:
        targets = [target for target, is_ref, _ in self.statements if is_ref]
        data = flow.writable_data(payload, targets)
        names: dict[str, int | float] = {}
        evaluator = _Evaluator(data, names)
        result: int | float = 0
        for target, is_reference, expression in self.statements:
            try:
                result = evaluator.transform(expression)
            except VisitError as exc:  # lark wraps what the evaluator raised
                raise exc.orig_exc from None
            if isinstance(result, float) and not math.isfinite(result):
                raise ActionError(f"{target} would be {result}")
            if is_reference:
                flow.assign(target, result, data)
            else:
                names[target] = result
        return Result("payload", {"result": result, **names})
