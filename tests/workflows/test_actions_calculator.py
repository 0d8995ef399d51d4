import pytest

from apps.workflows.actions import action_by_id
from apps.workflows.actions.base import ActionError
from tests.workflows.graphs import run_action


def calc(text, **flow):
    flow.setdefault("profile", {"id": "p", "stats": {"spent": 10}})
    flow.setdefault("event", {"id": "e", "properties": {"price": 2.5, "qty": 4, "n": "3"}})
    return run_action("calculator", {"calculation": text}, **flow)


def test_lines_assign_locals_and_dot_paths():
    results, flow = calc(
        "total = event@properties.price * event@properties.qty\n"
        "profile@stats.spent = profile@stats.spent + total; profile@stats.avg = total / 4"
    )

    assert results == [("payload", {"result": 2.5, "total": 10.0})]
    assert flow.profile["stats"] == {"spent": 20.0, "avg": 2.5}


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("-2 ** 2", -4),
        ("2 ** -1", 0.5),
        ("7 // 2 + 7 % 2", 4),
        ("round(10 / 3, 2)", 3.33),
        ("max(1, event@properties.qty, 3) + min(5, 2)", 6),
        ("abs(-3) + floor(2.7) + ceil(0.1) + sqrt(16)", 10.0),
        ("event@properties.n * 2", 6),
        ("`event@properties.unit-price` + 1", 2),
    ],
)
def test_expressions(expression, value):
    results, _ = calc(
        f"x = {expression}",
        event={"id": "e", "properties": {"qty": 4, "n": "3", "unit-price": 1}},
    )

    assert results[0][1]["x"] == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x = 1 / 0", "division by zero"),
        ("x = event@properties.nope + 1", "event@properties.nope is missing"),
        ("x = event@properties.word", "event@properties.word is 'abc', not a number"),
        ("x = y + 1", "y is not defined by an earlier line"),
        ("x = 10 ** 10000", "exponent 10000 is too large"),
        ("x = (-8) ** 0.5", "is not a real number"),
    ],
)
def test_runtime_errors(text, message):
    with pytest.raises(ActionError, match=message):
        calc(text, event={"id": "e", "properties": {"word": "abc"}})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x = 1 +", "calculation: cannot read it at line 1"),
        ("x = __import__('os')", "calculation: cannot read it"),
        ("x = exec(1)", "calculation: unknown function exec()"),
        ("session@a = 1", "calculation: session@ is read-only"),
    ],
)
def test_config_errors(text, message):
    assert action_by_id("calculator").config_errors({"calculation": text})[0].startswith(message)
