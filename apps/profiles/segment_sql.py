"""Segment conditions as SQL over the profiles table, where that gives exactly the answer of
the Python evaluation (apps.notation), so a preview can count matches in the database.

Only a subset translates: AND, OR, NOT, parentheses, TRUE/FALSE, and predicates on one
`profile@<json column>.<keys>` reference (stats, traits, data, ...; no list indexes):
`EXISTS`, `IS [NOT] NULL`, `[NOT] EMPTY`, and comparisons with a constant on the right
(`==`/`!=` with a string, number, boolean or null; `<`, `<=`, `>`, `>=` with a number or a
string). Anything else (functions, BETWEEN, CONTAINS, IN, two references) returns None and the
caller evaluates in Python instead.

Exactness: the notation's operators (apps.notation.operators) are mirrored case by case on the
JSON type of the value: a missing path or null makes orderings false, numbers compare with
numbers (a boolean counts as 0 or 1, as in Python), `==` on a list means membership, strings
order by code point (COLLATE "C"). An ordering that Python refuses (a string against a number)
raises there, and a condition that raises does not hold for that profile, whatever NOT or OR
around it say; here such a value is SQL NULL, AND and OR short-circuit as Python does (CASE),
and the whole condition is `COALESCE(..., false)`.

Aggregates over the profile's stored events (`count(events type "purchase" in last 7 days)`)
translate too, on the left of those comparisons and with IS [NOT] NULL / [NOT] EMPTY: each
becomes a subquery over the events of the profile row, computed once per row (FROM a derived
table, since a test repeats its value) (written by the events app through
hooks.event_history, the same text its Python provider runs), at the `now` given, as jsonb.

Only column names from PROFILE_JSON_COLUMNS reach the SQL text; paths and constants are
parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from lark import Token, Tree

from apps.notation.compiler import history_query
from apps.notation.dot import parse_reference, unescape
from apps.notation.parsing import parse_tree
from apps.profiles.hooks import event_history
from apps.profiles.models import Profile

PROFILE_JSON_COLUMNS = ("metadata", "stats", "traits", "interests", "consents", "aux", "data")
_ORDERINGS = {">": ">", ">=": ">=", "=>": ">=", "<": "<", "<=": "<=", "=<": "<="}
_EQUALS = ("==", "=")
_NOT_EQUALS = ("!=", "<>")


class Untranslatable(Exception):
    pass


@dataclass
class _Sql:
    condition: str
    now: datetime
    params: dict = field(default_factory=dict)
    source: str = "profile"
    json_columns: tuple[str, ...] = PROFILE_JSON_COLUMNS
    # notation name -> column: scalar columns a reference names alone (`event@type`).
    plain_columns: dict[str, str] = field(default_factory=dict)
    # Of those, the text columns: `==` with a string compares the column itself (an index
    # on it serves), which is exact as a text column holds a string or NULL.
    text_columns: frozenset[str] = frozenset()
    prefix: str = "p"

    def param(self, value) -> str:
        name = f"{self.prefix}{len(self.params)}"
        self.params[name] = value
        return f"%({name})s"

    def value(self, column: str, keys: list[str]) -> str:
        return f'("{column}" #> {self.param(keys)}::text[])'


def condition_sql(
    condition: str,
    *,
    now: datetime | None = None,
    source: str = "profile",
    json_columns: tuple[str, ...] = PROFILE_JSON_COLUMNS,
    plain_columns: dict[str, str] | None = None,
    text_columns: frozenset[str] = frozenset(),
    prefix: str = "p",
) -> tuple[str, dict] | None:
    """A boolean SQL expression over the profiles table that holds exactly where the condition
    holds (aggregates over events at `now`, by default the current time), with its (named)
    parameters; None when the condition does not translate. Raises the notation's
    ConditionSyntaxError for a condition that does not parse.

    Other tables (reports over events, sessions, entities) name their notation `source`, their
    JSON columns and their scalar columns (`{"type": "type", "source": "source_id"}`, compared
    as their JSON value); the column names must be constants, never input. Aggregates over a
    person's events translate over profiles only."""
    tree = parse_tree(condition)
    sql = _Sql(
        condition=condition,
        now=now or timezone.now(),
        source=source,
        json_columns=json_columns,
        plain_columns=dict(plain_columns or {}),
        text_columns=text_columns,
        prefix=prefix,
    )
    try:
        expression = _predicate(tree, sql)
    except Untranslatable:
        return None
    return f"COALESCE({expression}, false)", sql.params


def _predicate(tree: Tree | Token, sql: _Sql) -> str:
    if not isinstance(tree, Tree):
        raise Untranslatable
    kind = tree.data
    if kind == "or_expr":
        parts = [_predicate(child, sql) for child in tree.children]
        return _fold(parts, "WHEN ({p}) IS NULL THEN NULL WHEN ({p}) THEN true")
    if kind == "and_expr":
        parts = [_predicate(child, sql) for child in tree.children]
        return _fold(parts, "WHEN ({p}) IS NULL THEN NULL WHEN NOT ({p}) THEN false")
    if kind == "negation":
        return f"(NOT {_predicate(tree.children[0], sql)})"
    if kind == "constant_condition":
        return "true" if tree.children[0].type == "TRUE" else "false"
    if kind in ("exists", "not_exists"):
        value = _field(tree.children[0], sql)
        test = f"({value} IS NOT NULL)"
        return test if kind == "exists" else f"(NOT {test})"
    if kind in ("is_null", "is_not_null"):

        def null_test(value: str) -> str:
            test = f"({value} IS NULL OR jsonb_typeof({value}) = 'null')"
            return test if kind == "is_null" else f"(NOT {test})"

        return _test(tree.children[0], sql, null_test)
    if kind in ("empty", "not_empty"):

        def empty_test(value: str) -> str:
            test = (
                f"({value} IS NULL OR {value} IN ('null'::jsonb, '\"\"'::jsonb, '[]'::jsonb, "
                "'{}'::jsonb))"
            )
            return test if kind == "empty" else f"(NOT {test})"

        return _test(tree.children[0], sql, empty_test)
    if kind == "comparison":
        left, comparator, right = tree.children
        return _comparison(left, str(comparator), right, sql)
    raise Untranslatable


def _fold(parts: list[str], rule: str) -> str:
    """Python's short-circuit: each part but the last decides (or fails), else the next."""
    expression = parts[-1]
    for part in reversed(parts[:-1]):
        expression = f"(CASE {rule.format(p=part)} ELSE {expression} END)"
    return expression


def _test(tree: Tree, sql: _Sql, build: Callable[[str], str]) -> str:
    """`build(value)` on the operand's jsonb value: a profile field, or an aggregate over the
    profile's events computed once in a derived table."""
    if isinstance(tree, Tree) and tree.data == "history_call":
        # OFFSET 0 keeps PostgreSQL from pulling the derived table up into the test, which
        # would put the subquery back in every place the test names its value (measured 5x
        # slower in bench/history.py).
        value = _history(tree, sql)
        return (
            f"(SELECT {build('history.value')} FROM (SELECT {value} AS value OFFSET 0) AS history)"  # noqa: E501
        )
    return build(_field(tree, sql))


def _field(tree: Tree, sql: _Sql) -> str:
    if not isinstance(tree, Tree) or tree.data != "field":
        raise Untranslatable
    reference = parse_reference(str(tree.children[0]))
    if reference is None or reference.source != sql.source or not reference.keys:
        raise Untranslatable
    (column, column_index), *rest = reference.keys
    if column_index is not None:
        raise Untranslatable
    if not rest and column in sql.plain_columns:
        return f'to_jsonb("{sql.plain_columns[column]}")'
    if column not in sql.json_columns or not rest:
        raise Untranslatable
    if any(index is not None for _, index in rest):
        raise Untranslatable  # a key that may index a list: left to Python
    return sql.value(column, [name for name, _ in rest])


def _history(tree: Tree, sql: _Sql) -> str:
    history = event_history()
    if history is None or sql.source != "profile":
        raise Untranslatable
    return history.sql(
        history_query(sql.condition, tree),
        profile_id_sql=f'"{Profile._meta.db_table}"."id"',
        now_sql=f"{sql.param(sql.now)}::timestamptz",
        param=sql.param,
    )


def _constant(tree: Tree):
    if not isinstance(tree, Tree):
        raise Untranslatable
    kind = tree.data
    token = tree.children[0] if tree.children else None
    if kind == "string":
        return unescape(str(token)[1:-1])
    if kind == "number":
        text = str(token)
        try:
            return int(text)
        except ValueError:
            return float(text)
    if kind == "boolean":
        return token.type == "TRUE"
    if kind == "null":
        return None
    raise Untranslatable


def _text_column(tree: Tree, sql: _Sql) -> str | None:
    reference = parse_reference(str(tree.children[0]))
    if reference is None or reference.source != sql.source or len(reference.keys) != 1:
        return None
    name, index = reference.keys[0]
    if index is not None or name not in sql.text_columns:
        return None
    return sql.plain_columns[name]


def _comparison(left: Tree, comparator: str, right: Tree, sql: _Sql) -> str:
    constant = _constant(right)
    column = _text_column(left, sql) if isinstance(left, Tree) and left.data == "field" else None
    if column is not None and isinstance(constant, str) and comparator in _EQUALS + _NOT_EQUALS:
        test = f'COALESCE("{column}" = {sql.param(constant)}::text, false)'
        return test if comparator in _EQUALS else f"(NOT {test})"
    return _test(left, sql, lambda value: _compare(value, comparator, constant, sql))


def _compare(value: str, comparator: str, constant, sql: _Sql) -> str:
    if comparator in _EQUALS or comparator in _NOT_EQUALS:
        test = _equals(value, constant, sql)
        return test if comparator in _EQUALS else f"(NOT {test})"
    operator = _ORDERINGS.get(comparator)
    if operator is None or isinstance(constant, bool) or constant is None:
        raise Untranslatable
    kind = f"jsonb_typeof({value})"
    missing_or_null = f"WHEN {value} IS NULL OR {kind} = 'null' THEN false"
    if isinstance(constant, int | float):
        number = sql.param(constant)
        return (
            f"(CASE {missing_or_null} "
            f"WHEN {kind} = 'number' THEN ({value} #>> '{{}}')::numeric {operator} "
            f"{number}::numeric "
            f"WHEN {kind} = 'boolean' THEN ({value})::boolean::int {operator} {number}::numeric "
            "ELSE NULL END)"
        )
    text = sql.param(constant)
    return (
        f"(CASE {missing_or_null} "
        f"WHEN {kind} = 'string' THEN ({value} #>> '{{}}') COLLATE \"C\" {operator} "
        f'{text}::text COLLATE "C" ELSE NULL END)'
    )


def _equals(value: str, constant, sql: _Sql) -> str:
    """`==` never raises: equal scalars (1 == 1.0 == true), or membership in a list."""
    kind = f"jsonb_typeof({value})"
    if constant is None:
        return f"COALESCE({kind} = 'null' OR ({kind} = 'array' AND {value} @> '[null]'), false)"
    if isinstance(constant, str):
        text = sql.param(constant)
        return (
            f"COALESCE((CASE WHEN {kind} = 'string' THEN ({value} #>> '{{}}') = {text}::text "
            f"ELSE false END) OR ({kind} = 'array' AND {value} @> jsonb_build_array({text}::text)"
            "), false)"
        )
    number = sql.param(int(constant) if isinstance(constant, bool) else constant)

    def scalar(item: str) -> str:
        # CASE, not AND: PostgreSQL may evaluate a cast before the type test beside it.
        return (
            f"(CASE jsonb_typeof({item}) "
            f"WHEN 'number' THEN ({item} #>> '{{}}')::numeric = {number}::numeric "
            f"WHEN 'boolean' THEN ({item})::boolean::int = {number}::numeric ELSE false END)"
        )

    return (
        f"COALESCE({scalar(value)} OR (CASE WHEN {kind} = 'array' THEN EXISTS (SELECT 1 FROM "
        f"jsonb_array_elements({value}) AS item(value) WHERE {scalar('item.value')}) "
        "ELSE false END), false)"
    )
