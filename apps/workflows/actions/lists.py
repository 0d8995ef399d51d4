"""Lists: sort a list, reduce a list to one value."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from apps.notation.templates import to_text
from apps.workflows.actions.base import (
    TARGET_PROPERTY,
    Action,
    ActionError,
    ConfigError,
    Result,
    optional_target,
    readable_reference,
)


def _list(action: Action, payload: Any, flow) -> list:
    value = flow.read(action.config["data"], payload)
    if not isinstance(value, list):
        raise ActionError(f"data: {action.config['data']} is {type(value).__name__}, not a list")
    return value


def _item_key(item: Any, path: str | None) -> Any:
    if not path:
        return item
    node = item
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            raise ActionError(f"an item has no {path!r}: {item!r}")
        node = node[key]
    return node


class SortListAction(Action):
    id = "sort_list"
    name = "Sort list"
    group = "Lists"
    description = "Sorts a list, optionally by a key inside its items."
    docs = (
        "`data`: a dot path to the list; `direction`: asc (default) or desc; `key`: for lists "
        "of objects, the key to sort by (dots go deeper, e.g. `price.amount`). Items must be "
        "comparable (all numbers or all texts). Output: the sorted list."
    )
    config_schema = {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {
                "type": "string",
                "title": "List",
                "description": "A dot path to the list, e.g. event@properties.items.",
                "x-notation": "value",
            },
            "direction": {
                "enum": ["asc", "desc"],
                "default": "asc",
                "title": "Direction",
                "description": "Ascending or descending.",
            },
            "key": {
                "type": ["string", "null"],
                "default": None,
                "title": "Sort by",
                "description": "For a list of objects: the key to sort by (dots for nested "
                "keys, e.g. price.amount).",
            },
            "target": TARGET_PROPERTY,
        },
    }

    def setup(self) -> None:
        readable_reference(self.config["data"], field="data")
        optional_target(self.config)

    def run(self, payload: Any, flow) -> Result:
        items = _list(self, payload, flow)
        try:
            ordered = sorted(
                items,
                key=lambda item: _item_key(item, self.config["key"]),
                reverse=self.config["direction"] == "desc",
            )
        except TypeError as exc:
            raise ActionError(f"the items cannot be compared: {exc}") from exc
        return self.deliver(ordered, payload, flow)


def _numbers(items: list) -> list:
    if not all(isinstance(i, int | float) and not isinstance(i, bool) for i in items):
        raise ActionError("this function needs a list of numbers")
    return items


REDUCERS = {
    "sum": lambda items, _: sum(_numbers(items)),
    "min": lambda items, _: min(_numbers(items)) if items else None,
    "max": lambda items, _: max(_numbers(items)) if items else None,
    "avg": lambda items, _: statistics.fmean(_numbers(items)) if items else None,
    "count": lambda items, _: len(items),
    "count_values": lambda items, _: dict(Counter(notation_text(i) for i in items)),
    "unique": lambda items, _: list(dict.fromkeys(notation_text(i) for i in items)),
    "join": lambda items, separator: separator.join(notation_text(i) for i in items),
}


def notation_text(value: Any) -> str:
    """Items as dict keys / joined text: texts as they are, other values as JSON."""
    return to_text(value)


class ReduceListAction(Action):
    id = "reduce_list"
    name = "Reduce list"
    group = "Lists"
    description = "Reduces a list to one value: sum, min, max, avg, count, count_values, ..."
    docs = (
        "`data`: a dot path to the list; `function`: sum, min, max, avg (numbers only), "
        "count, count_values (`{value: occurrences}`), unique (values in first-seen order) "
        "or join (texts joined by `separator`, default `, `). Output: the value."
    )
    config_schema = {
        "type": "object",
        "required": ["data", "function"],
        "properties": {
            "data": {
                "type": "string",
                "title": "List",
                "description": "A dot path to the list, e.g. event@properties.items.",
                "x-notation": "value",
            },
            "function": {
                "enum": ["avg", "count", "count_values", "join", "max", "min", "sum", "unique"],
                "title": "Function",
                "description": "What to compute from the list.",
            },
            "separator": {
                "type": "string",
                "default": ", ",
                "title": "Separator",
                "description": "For join: what goes between the items.",
            },
            "target": TARGET_PROPERTY,
        },
    }

    def setup(self) -> None:
        readable_reference(self.config["data"], field="data")
        optional_target(self.config)
        if self.config["function"] not in REDUCERS:
            raise ConfigError(f"function: use one of {', '.join(sorted(REDUCERS))}")

    def run(self, payload: Any, flow) -> Result:
        items = _list(self, payload, flow)
        value = REDUCERS[self.config["function"]](items, self.config["separator"])
        return self.deliver(value, payload, flow)
