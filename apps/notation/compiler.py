"""Turns a condition's parse tree into a tree of small closures, once per condition text.

Evaluating a compiled condition calls those closures directly: no parsing and no tree walking.
Operands evaluate to a value or MISSING; predicates evaluate to a bool.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from lark import Token, Tree

from . import operators
from .dot import MISSING, Reference, parse_reference, unescape
from .errors import (
    ConditionSyntaxError,
    EvaluationError,
    InvalidReferenceError,
    MissingReferenceError,
)
from .functions import FUNCTIONS, Function
from .history import (
    HISTORY,
    JSON_FIELDS,
    PLAIN_FIELDS,
    TIME_UNITS,
    VALUE_FUNCTIONS,
    HistoryQuery,
    normalise_type,
)
from .parsing import syntax_error_at

Data = Mapping[str, Any]
Predicate = Callable[[Data], bool]
ValueGetter = Callable[[Data], Any]

MAX_WINDOW = timedelta(days=36_525)
# Functions whose result depends on more than their arguments are never folded into constants.
_IMPURE_FUNCTIONS = frozenset({"now", "now.offset", "now.timezone"})


@dataclass(frozen=True, slots=True)
class Operand:
    get: ValueGetter
    position: int
    is_constant: bool = False
    constant: Any = None
    reference: Reference | None = None


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    predicate: Predicate
    references: tuple[str, ...]
    # The aggregates over the profile's events the condition reads, in order of appearance.
    history: tuple[HistoryQuery, ...] = ()


def compile_tree(condition: str, tree: Tree) -> CompiledCondition:
    compiler = _Compiler(condition)
    try:
        predicate = compiler.predicate(tree)
    except RecursionError:
        raise syntax_error_at(condition, 0, "The condition is nested too deeply") from None
    return CompiledCondition(
        predicate,
        tuple(dict.fromkeys(compiler.references)),
        tuple(dict.fromkeys(compiler.history)),
    )


def history_query(condition: str, tree: Tree) -> HistoryQuery:
    """The HistoryQuery of one `history_call` node of `condition`'s parse tree (for the code
    that translates conditions to SQL); raises ConditionSyntaxError."""
    return _Compiler(condition).history_query(tree)


def _first_position(node: Tree | Token) -> int:
    if isinstance(node, Token):
        return node.start_pos or 0
    for token in node.scan_values(lambda value: isinstance(value, Token)):
        return token.start_pos or 0
    return 0


def _constant(value: Any, position: int) -> Operand:
    return Operand(get=lambda data: value, position=position, is_constant=True, constant=value)


class _Compiler:
    def __init__(self, condition: str) -> None:
        self.condition = condition
        self.references: list[str] = []
        self.history: list[HistoryQuery] = []

    def error(self, node: Tree | Token, message: str, detail: str = "") -> ConditionSyntaxError:
        return syntax_error_at(self.condition, _first_position(node), message, detail)

    # Predicates -------------------------------------------------------------------------------

    def predicate(self, tree: Tree) -> Predicate:
        build = getattr(self, f"_predicate_{tree.data}", None)
        if build is None:  # pragma: no cover - every grammar alias has a builder
            raise self.error(tree, f"Unsupported construct {tree.data!r}")
        return build(tree)

    def _predicate_or_expr(self, tree: Tree) -> Predicate:
        parts = [self.predicate(child) for child in tree.children]
        if len(parts) == 2:
            first, second = parts
            return lambda data: first(data) or second(data)

        def any_of(data: Data) -> bool:
            return any(part(data) for part in parts)

        return any_of

    def _predicate_and_expr(self, tree: Tree) -> Predicate:
        parts = [self.predicate(child) for child in tree.children]
        if len(parts) == 2:
            first, second = parts
            return lambda data: first(data) and second(data)

        def all_of(data: Data) -> bool:
            return all(part(data) for part in parts)

        return all_of

    def _predicate_negation(self, tree: Tree) -> Predicate:
        inner = self.predicate(tree.children[0])
        return lambda data: not inner(data)

    def _predicate_constant_condition(self, tree: Tree) -> Predicate:
        value = tree.children[0].type == "TRUE"
        return lambda data: value

    def _predicate_comparison(self, tree: Tree) -> Predicate:
        left_tree, comparator, right_tree = tree.children
        compare = operators.COMPARISONS[str(comparator)]
        left, right = self.operand(left_tree), self.operand(right_tree)
        return self._binary(compare, left, right)

    def _binary(
        self, operation: Callable[[Any, Any], bool], left: Operand, right: Operand
    ) -> Predicate:
        get_left = left.get
        if right.is_constant:
            constant = right.constant
            return lambda data: operation(get_left(data), constant)
        get_right = right.get
        return lambda data: operation(get_left(data), get_right(data))

    def _predicate_between(self, tree: Tree) -> Predicate:
        value, low, high = (self.operand(child).get for child in tree.children)
        return lambda data: operators.between(value(data), low(data), high(data))

    def _predicate_is_null(self, tree: Tree) -> Predicate:
        get = self.operand(tree.children[0]).get

        def is_null(data: Data) -> bool:
            value = get(data)
            return value is None or value is MISSING

        return is_null

    def _predicate_is_not_null(self, tree: Tree) -> Predicate:
        is_null = self._predicate_is_null(tree)
        return lambda data: not is_null(data)

    def _predicate_exists(self, tree: Tree) -> Predicate:
        operand = self.operand(tree.children[0])
        if operand.reference is None:
            raise self.error(
                tree,
                "EXISTS needs a field reference",
                "write e.g. profile@data.contact.email EXISTS",
            )
        get = operand.get
        return lambda data: get(data) is not MISSING

    def _predicate_not_exists(self, tree: Tree) -> Predicate:
        exists = self._predicate_exists(tree)
        return lambda data: not exists(data)

    def _predicate_empty(self, tree: Tree) -> Predicate:
        get = self.operand(tree.children[0]).get
        return lambda data: operators.is_empty(get(data))

    def _predicate_not_empty(self, tree: Tree) -> Predicate:
        empty = self._predicate_empty(tree)
        return lambda data: not empty(data)

    def _predicate_contains(self, tree: Tree) -> Predicate:
        return self._binary(operators.contains, *self._operands(tree))

    def _predicate_not_contains(self, tree: Tree) -> Predicate:
        contains = self._predicate_contains(tree)
        return lambda data: not contains(data)

    def _predicate_starts_with(self, tree: Tree) -> Predicate:
        return self._binary(operators.starts_with, *self._operands(tree))

    def _predicate_ends_with(self, tree: Tree) -> Predicate:
        return self._binary(operators.ends_with, *self._operands(tree))

    def _predicate_in_list(self, tree: Tree) -> Predicate:
        value, collection = self._operands(tree)
        if collection.is_constant and isinstance(collection.constant, tuple | list):
            collection = _constant(_as_set_if_hashable(collection.constant), collection.position)
        return self._binary(operators.is_in, value, collection)

    def _predicate_not_in_list(self, tree: Tree) -> Predicate:
        is_in = self._predicate_in_list(tree)
        return lambda data: not is_in(data)

    def _operands(self, tree: Tree) -> list[Operand]:
        return [self.operand(child) for child in tree.children]

    # Operands ---------------------------------------------------------------------------------

    def operand(self, tree: Tree) -> Operand:
        token = tree.children[0] if tree.children else None
        position = _first_position(tree)
        kind = tree.data
        if kind == "field":
            return self._field(token)
        if kind == "string":
            return _constant(unescape(str(token)[1:-1]), position)
        if kind == "number":
            return _constant(_number(str(token)), position)
        if kind == "boolean":
            return _constant(token.type == "TRUE", position)
        if kind == "null":
            return _constant(None, position)
        if kind == "list":
            return self._list(tree, position)
        if kind == "function_call":
            return self._function_call(tree)
        if kind == "history_call":
            return self._history_call(tree)
        raise self.error(tree, f"Unsupported value {kind!r}")  # pragma: no cover

    def _field(self, token: Token) -> Operand:
        try:
            reference = parse_reference(str(token))
        except InvalidReferenceError as error:
            raise self.error(token, "Invalid field reference", str(error)) from None
        if reference is None:  # pragma: no cover - the FIELD terminal only matches sources
            raise self.error(token, f"Unknown source in {str(token)!r}")
        self.references.append(reference.text)
        return Operand(get=reference.getter, position=token.start_pos or 0, reference=reference)

    def _list(self, tree: Tree, position: int) -> Operand:
        items = [self.operand(child) for child in tree.children if child is not None]
        if all(item.is_constant for item in items):
            return _constant([item.constant for item in items], position)
        getters = [item.get for item in items]
        return Operand(get=lambda data: [get(data) for get in getters], position=position)

    def _function_call(self, tree: Tree) -> Operand:
        name_token, *argument_trees = tree.children
        name = str(name_token).lower()
        function = FUNCTIONS.get(name)
        if function is None:
            known = ", ".join(sorted(FUNCTIONS))
            raise self.error(
                name_token, f"Unknown function {str(name_token)!r}", f"known functions: {known}"
            )
        arguments = [self.operand(child) for child in argument_trees if child is not None]
        if not function.takes(len(arguments)):
            expected = len(function.parameters)
            if function.optional:
                expected = f"{expected} to {expected + len(function.optional)}"
            raise self.error(
                name_token,
                f"Wrong number of arguments to {function.name}()",
                f"{function.signature} takes {expected}, got {len(arguments)}",
            )
        call = _make_call(function, arguments)
        position = name_token.start_pos or 0
        if name not in _IMPURE_FUNCTIONS and all(argument.is_constant for argument in arguments):
            try:
                return _constant(call({}), position)
            except EvaluationError:
                pass  # Raise when (and if) the condition reaches it, as Tracardi does.
        return Operand(get=call, position=position)

    def _history_call(self, tree: Tree) -> Operand:
        query = self.history_query(tree)
        self.history.append(query)
        return Operand(get=_history_getter(query), position=_first_position(tree))

    def history_query(self, tree: Tree) -> HistoryQuery:
        """The HistoryQuery of a `history_call` node; raises ConditionSyntaxError."""
        name_token, *rest = tree.children
        function = str(name_token).lower()
        path: tuple[str, ...] = ()
        if function in VALUE_FUNCTIONS:
            field, *filters = rest
            path = self._history_path(field, str(field).partition("@")[0], function)
        else:
            *filters, path_token = rest
            if function in ("first", "last"):
                if path_token is None:
                    raise self.error(
                        name_token,
                        f"{function}() needs the path to read after it",
                        f'write e.g. {function}(events type "page-view")@properties.url',
                    )
                path = self._history_path(path_token, "event", function)
            elif path_token is not None:
                raise self.error(
                    path_token,
                    f"{function}() gives a number, not an event",
                    f"only first() and last() take a path such as {path_token}",
                )
        types: list[str] = []
        window = None
        for item in filters:
            if item.data == "type_filter":
                if types:
                    raise self.error(item, "Give the event types once", 'e.g. type ["a", "b"]')
                types = [normalise_type(unescape(str(token)[1:-1])) for token in item.children
                         if isinstance(token, Token) and token.type == "STRING"]  # fmt: skip
            else:
                if window is not None:
                    raise self.error(item, "Give the time window once", "e.g. in last 7 days")
                window = self._window(item)
        return HistoryQuery(function, path, tuple(dict.fromkeys(types)), window)

    def _history_path(self, token: Token, source: str, function: str) -> tuple[str, ...]:
        text = str(token)
        example = f"e.g. {function}(event@properties.price)"
        if source != "event":
            raise self.error(token, f"{function}() reads a path of each event", example)
        try:
            reference = parse_reference("event" + text if text.startswith("@") else text)
        except InvalidReferenceError as error:
            raise self.error(token, "Invalid path", str(error)) from None
        keys = reference.keys if reference is not None else ()
        if any(index is not None for _, index in keys):
            raise self.error(token, "A path in an aggregate takes keys, not [indexes]", example)
        names = tuple(name for name, _ in keys)
        if names and names[0] in PLAIN_FIELDS and len(names) == 1:
            return names
        if not names or names[0] not in JSON_FIELDS:
            fields = ", ".join([*JSON_FIELDS, *PLAIN_FIELDS])
            raise self.error(
                token, f"{function}() cannot read {text!r}", f"start the path with one of {fields}"
            )
        return names

    def _window(self, item: Tree) -> timedelta:
        amount_token, unit_token = (child for child in item.children if isinstance(child, Token)
                                    and child.type in ("NUMBER", "TIME_UNIT"))  # fmt: skip
        amount = _number(str(amount_token))
        if not isinstance(amount, int) or amount <= 0:
            raise self.error(
                amount_token, "A time window is a whole number above 0", "e.g. last 7 days"
            )
        unit = TIME_UNITS[str(unit_token).lower().rstrip("s")]
        try:
            window = timedelta(**{unit: amount})
        except OverflowError:
            window = MAX_WINDOW + MAX_WINDOW
        if window > MAX_WINDOW:
            # Past this, `now - window` leaves the dates PostgreSQL and Python can hold.
            raise self.error(
                amount_token, "A time window is at most 100 years", "leave it out for all events"
            )
        return window


def _history_getter(query: HistoryQuery) -> ValueGetter:
    def aggregate(data: Data) -> Any:
        provider = data.get(HISTORY)
        if provider is None:
            raise EvaluationError(
                f"{query.text} reads the profile's stored events, which are not available here"
            )
        return provider.aggregate(query)

    return aggregate


def _make_call(function: Function, arguments: list[Operand]) -> ValueGetter:
    implementation = function.implementation
    getters = [argument.get for argument in arguments]
    labels = [
        argument.reference.text if argument.reference else f"argument {number}"
        for number, argument in enumerate(arguments, start=1)
    ]

    def call(data: Data) -> Any:
        values = [get(data) for get in getters]
        for value, label in zip(values, labels, strict=True):
            if value is MISSING:
                raise MissingReferenceError(label, context=f" (passed to {function.name}())")
            if value is None:
                raise EvaluationError(f"{function.name}() got null for {label}")
        return implementation(*values)

    return call


def _as_set_if_hashable(items: tuple[Any, ...] | list[Any]) -> frozenset[Any] | tuple[Any, ...]:
    # A constant IN-list is searched on every evaluation: hash it once when it can be hashed.
    try:
        return frozenset(items)
    except TypeError:
        return tuple(items)


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)
