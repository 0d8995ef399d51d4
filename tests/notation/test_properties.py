"""Property tests: whatever the data, the engine answers with a bool or a NotationError."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.notation import (
    SOURCES,
    AssignmentError,
    ConditionSyntaxError,
    InvalidReferenceError,
    NotationError,
    assign,
    evaluate,
    make_reference,
    parse_reference,
    render_template,
    resolve,
    validate,
)

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# A small key alphabet so generated conditions and generated data meet often.
KEYS = ["a", "b", "c", "0", "1"]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**6), max_value=10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["2021-01-10", "2021-01-10T10:00:00Z", "vip", "", "1"])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=16,
)
source_data = st.dictionaries(st.sampled_from(sorted(SOURCES)), json_values, max_size=6)
# Data shaped like the conditions below: objects keyed from KEYS at every level.
keyed_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS), children, max_size=4)
    ),
    max_leaves=20,
)
keyed_data = st.dictionaries(st.sampled_from(["payload", "profile"]), keyed_values, max_size=2)
any_data = source_data | keyed_data

field_references = st.builds(
    lambda source, keys: make_reference(source, *keys),
    st.sampled_from(["payload", "profile"]),
    st.lists(st.sampled_from(KEYS), min_size=0, max_size=3),
)
number_literals = st.integers(-100, 100).map(str) | st.floats(
    -1e6, 1e6, allow_nan=False, allow_infinity=False
).map(repr)
string_literals = st.text(max_size=6).map(lambda text: json.dumps(text, ensure_ascii=False))
literals = (
    number_literals
    | string_literals
    | st.sampled_from(["TRUE", "false", "NULL", "'vip'", '"2021-01-10"', "[1, 'a', null]"])
)


def _timeless_calls(argument: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return (
        st.builds("lowercase({})".format, argument)
        | st.builds("length({})".format, argument)
        | st.builds("number({})".format, argument)
        | st.builds("datetime({})".format, argument)
        | st.builds("datetime.offset({}, '-1m')".format, argument)
    )


def _function_calls(argument: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return _timeless_calls(argument) | st.just("now()")


operands = st.recursive(field_references | literals, _function_calls, max_leaves=3)
# The laws of logic below compare two evaluations made a moment apart, and `now()` moves
# between them (`now() = now() OR ...` made both tests fail now and then): their operands leave
# the clock out.
timeless_operands = st.recursive(field_references | literals, _timeless_calls, max_leaves=3)
comparators = st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "=", "=>", "=<", "<>"])


def _predicate(draw: st.DrawFn, operands: st.SearchStrategy[str] = operands) -> str:
    left = draw(operands)
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return f"{draw(field_references)} {draw(st.sampled_from(['EXISTS', 'NOT EXISTS']))}"
    if kind == 1:
        return f"{left} {draw(st.sampled_from(['EMPTY', 'NOT EMPTY', 'IS NULL', 'IS NOT NULL']))}"
    if kind == 2:
        return f"{left} BETWEEN {draw(operands)} AND {draw(operands)}"
    if kind == 3:
        operation = draw(st.sampled_from(["CONTAINS", "NOT CONTAINS", "STARTS WITH", "ENDS WITH"]))
        return f"{left} {operation} {draw(operands)}"
    if kind == 4:
        items = ", ".join(draw(st.lists(literals, max_size=3)))
        return f"{left} {draw(st.sampled_from(['IN', 'NOT IN']))} [{items}]"
    return f"{left} {draw(comparators)} {draw(operands)}"


def _conditions(predicates: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.recursive(
        predicates,
        lambda inner: (
            st.builds("{} AND {}".format, inner, inner)
            | st.builds("{} OR {}".format, inner, inner)
            | st.builds("NOT ({})".format, inner)
            | st.builds("({})".format, inner)
        ),
        max_leaves=4,
    )


predicates = st.composite(_predicate)()
conditions = _conditions(predicates)
timeless_predicates = st.composite(_predicate)(timeless_operands)
timeless_conditions = _conditions(timeless_predicates)

VALID_CONDITIONS = [
    "payload@a > 3 AND payload@b >= 10 OR profile@c CONTAINS 'vip'",
    "payload@a.b BETWEEN 1 AND 10",
    "payload@a == payload@b",
    "payload@a.0 != 'x'",
    "payload@a IS NULL OR payload@a.b IS NOT NULL",
    "payload@a EXISTS AND payload@a.c NOT EXISTS",
    "payload@... EMPTY",
    "profile@a NOT EMPTY AND lowercase(profile@a) == 'vip'",
    "payload@a STARTS WITH 'v' OR payload@a ENDS WITH 'p'",
    "datetime(payload@a) < now() AND datetime.offset(payload@b, '-1d') > now.offset('-1h')",
    "datetime.timezone(payload@a, 'europe/warsaw') < now.timezone('europe/paris')",
    "datetime.from_timestamp(payload@a) > datetime('2020-01-01')",
    "length(payload@a) > 2 OR number(payload@b) <= 3.5",
    "NOT payload@a IN [1, 2, 'a'] AND payload@b NOT IN ['x']",
    "TRUE OR payload@a.b.c > 1",
]


def _outcome(condition: str, data: dict[str, Any]) -> bool | type[NotationError]:
    try:
        result = evaluate(condition, data)
    except NotationError as error:
        assert not isinstance(error, ConditionSyntaxError), error
        return type(error)
    assert type(result) is bool
    return result


@PROPERTY_SETTINGS
@given(condition=st.sampled_from(VALID_CONDITIONS), data=any_data)
def test_listed_conditions_give_a_bool_or_a_notation_error(
    condition: str, data: dict[str, Any]
) -> None:
    _outcome(condition, data)


@PROPERTY_SETTINGS
@given(condition=conditions, data=any_data)
def test_generated_conditions_parse_and_give_a_bool_or_a_notation_error(
    condition: str, data: dict[str, Any]
) -> None:
    validate(condition)
    _outcome(condition, data)


@PROPERTY_SETTINGS
@given(condition=timeless_conditions, data=keyed_data)
def test_not_negates(condition: str, data: dict[str, Any]) -> None:
    outcome = _outcome(condition, data)
    negated = _outcome(f"NOT ({condition})", data)
    if isinstance(outcome, bool):
        assert negated is (not outcome)
    else:
        assert negated is outcome


@PROPERTY_SETTINGS
@given(
    first=timeless_predicates,
    second=timeless_predicates,
    third=timeless_predicates,
    data=keyed_data,
)
def test_and_binds_tighter_than_or(
    first: str, second: str, third: str, data: dict[str, Any]
) -> None:
    assert _outcome(f"{first} OR {second} AND {third}", data) == _outcome(
        f"{first} OR ({second} AND {third})", data
    )
    assert _outcome(f"{first} AND {second} OR {third}", data) == _outcome(
        f"({first} AND {second}) OR {third}", data
    )


@PROPERTY_SETTINGS
@given(text=st.text(max_size=20))
def test_string_literals_round_trip(text: str) -> None:
    data = {"payload": {"text": text}}
    assert evaluate(f"payload@text == {json.dumps(text)}", data) is True
    assert evaluate(f"payload@text == {json.dumps(text, ensure_ascii=False)}", data) is True
    single_quoted = "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    assert evaluate(f"payload@text == {single_quoted}", data) is True


def _is_literal(text: str) -> bool:
    if len(text) >= 2 and text[0] == text[-1] == "`":
        return False
    try:
        return parse_reference(text) is None
    except InvalidReferenceError:
        return False


literal_text = st.text(max_size=10).filter(_is_literal) | st.sampled_from(
    ["xxx@b.1", "user@example.com", "Profile@id", "plain"]
)
plain_keys = st.text(max_size=6).filter(lambda key: not key.endswith("?"))
reference_free_templates = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | literal_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(plain_keys, children),
    max_leaves=20,
)


@PROPERTY_SETTINGS
@given(template=reference_free_templates, data=source_data)
def test_template_without_references_is_unchanged(template: Any, data: dict[str, Any]) -> None:
    original = copy.deepcopy(template)
    assert render_template(template, data) == original
    assert template == original


path_keys = st.lists(
    st.text(max_size=6) | st.sampled_from([*KEYS, "a.b", "x y", "...", 'q"uote', "\\"]),
    max_size=4,
)


@PROPERTY_SETTINGS
@given(source=st.sampled_from(sorted(SOURCES)), keys=path_keys.filter(bool), value=json_values)
def test_assign_then_resolve_returns_the_value(source: str, keys: list[str], value: Any) -> None:
    reference = make_reference(source, *keys)
    data: dict[str, Any] = {}
    assign(reference, value, data)
    assert resolve(reference, data) == value
    assert evaluate(f"{reference} EXISTS", data) is True


@PROPERTY_SETTINGS
@given(
    source=st.sampled_from(sorted(SOURCES)),
    keys=path_keys.filter(bool),
    value=json_values,
    data=source_data,
)
def test_assign_into_existing_data_then_resolve(
    source: str, keys: list[str], value: Any, data: dict[str, Any]
) -> None:
    reference = make_reference(source, *keys)
    try:
        assign(reference, value, data)
    except AssignmentError:
        return  # The path crosses a scalar or a short list: refused, never half-written.
    assert resolve(reference, data) == value


@PROPERTY_SETTINGS
@given(source=st.sampled_from(sorted(SOURCES)), keys=path_keys, data=source_data)
def test_exists_agrees_with_resolve(source: str, keys: list[str], data: dict[str, Any]) -> None:
    reference = make_reference(source, *keys)
    try:
        resolve(reference, data)
    except NotationError:
        found = False
    else:
        found = True
    assert evaluate(f"{reference} EXISTS", data) is found
    parsed = parse_reference(reference)
    assert parsed is not None
    assert [name for name, _ in parsed.keys] == keys
