"""Working with values: map a value, count keys, pick a random item, set operations, the
largest or smallest entry, sort an object, a value's type, cut out or reshape data, resolve
conditions into fields, and "does this data exist".

Config keys, ports and output shapes are those of Tracardi's plugins (mapping_action,
metrics.key_counter, return_random_element_action, list.operations_on_sets,
list.find_max_value, sort_dictionary, traits.field_type_action, traits.cut_out_trait_action,
traits.reshape_payload_action, traits.assign_condition_result, flow.property_exists).
"""

from __future__ import annotations

import copy
import json
import re
import secrets
from typing import Any

from apps import notation
from apps.workflows.actions.base import (
    TARGET_PROPERTY,
    Action,
    ActionError,
    ConfigError,
    Result,
    compiled_condition,
    lookup,
    optional_target,
    readable_reference,
    writable_reference,
)
from apps.workflows.actions.reading import (
    check_references,
    not_a,
    read,
    read_or_missing,
    text_property,
    value_property,
)

_MISSING = notation.MISSING


def _folded(value: Any, case_sensitive: bool) -> Any:
    return value if case_sensitive or not isinstance(value, str) else value.lower()


class ValueMappingAction(Action):
    id = "value_mapping"
    name = "Value mapping"
    group = "Data"
    description = "Looks a value up in a table of replacements (a switch)."
    docs = (
        "`value`: a dot path to the value to look up, e.g. `event@properties.country`; "
        "`mapping`: rows of *when the value is* → *give*, e.g. `PL` → `Poland`, `DE` → "
        "`Germany` (either side may be a dot path). Without `case_sensitive`, `pl` matches "
        "`PL` (texts are compared, and returned, in lower case as Tracardi does). Output on "
        '`result`: `{"value": <the match, or null>}`; with `target` set the match is also '
        "written there."
    )
    outputs = ("result",)
    config_schema = {
        "type": "object",
        "required": ["value", "mapping"],
        "properties": {
            "value": value_property("Value", "A dot path to the value to look up."),
            "case_sensitive": {
                "type": "boolean",
                "default": False,
                "title": "Case sensitive",
                "description": "Off: PL and pl are the same key.",
            },
            "mapping": {
                "type": "object",
                "minProperties": 1,
                "title": "Replacements",
                "description": "When the value is the key, the output is its replacement.",
                "x-key-title": "When the value is",
                "additionalProperties": {
                    "title": "Give",
                    "description": "A literal or a dot path.",
                    "x-notation": "value",
                },
            },
            "target": TARGET_PROPERTY,
        },
    }

    def setup(self) -> None:
        check_references(self.config, "value")
        optional_target(self.config)
        keys = list(self.config["mapping"])
        if not self.config["case_sensitive"] and len({key.lower() for key in keys}) != len(keys):
            raise ConfigError(
                "mapping: two keys differ only in letter case; turn on case sensitivity or "
                "keep one of them"
            )

    def run(self, payload: Any, flow) -> Result:
        data = flow.data(payload)
        sensitive = self.config["case_sensitive"]
        value = _folded(read_or_missing(self, "value", payload, flow), sensitive)
        table = {
            _folded(_resolved(key, data), sensitive): _folded(_resolved(given, data), sensitive)
            for key, given in self.config["mapping"].items()
        }
        found = table.get(value) if value is not _MISSING else None
        if self.config["target"]:
            self.deliver(found, payload, flow)
        return Result("result", {"value": found})


def _resolved(reference: Any, data: dict) -> Any:
    value = lookup(reference, data)
    return None if value is _MISSING else value


class KeyCounterAction(Action):
    id = "key_counter"
    name = "Key counter"
    group = "Data"
    description = "Counts how often each key occurs, in an object at a dot path."
    docs = (
        "`key`: a dot path to what to count: a text (counted once), a list of texts (each "
        "counted), or an object of `{key: number}` (each added); `save_in`: where the counts "
        "live, e.g. `profile@aux.counters.pages` (created when missing). Counting `['a', 'b']` "
        'into `{"a": 2}` gives `{"a": 3, "b": 1}`. The payload passes unchanged.'
    )
    config_schema = {
        "type": "object",
        "required": ["key", "save_in"],
        "properties": {
            "key": value_property("Key(s)", "A dot path to a text, a list or an object."),
            "save_in": {
                "type": "string",
                "title": "Save counts in",
                "description": "A dot path to an object of counts, e.g. profile@aux.counters.",
                "x-notation": "writable_path",
            },
        },
    }

    def setup(self) -> None:
        check_references(self.config, "key")
        self.save_in = writable_reference(self.config["save_in"], field="save_in")

    def run(self, payload: Any, flow) -> Result:
        data = flow.writable_data(payload, [self.save_in])
        keys = read(self, "key", payload, flow)
        counts = lookup(self.save_in, data)
        if counts is _MISSING or counts is None:
            counts = {}
        if not isinstance(counts, dict):
            raise not_a(self, "save_in", counts, "an object of counts")
        counts = dict(counts)
        for key, step in _counted(keys):
            current = counts.get(key, 0)
            if isinstance(current, bool) or not isinstance(current, int | float):
                raise ActionError(f"save_in: the count of {key!r} is {current!r}, not a number")
            counts[key] = current + step
        flow.assign(self.save_in, counts, data)
        return Result("payload", data["payload"])


def _counted(keys: Any) -> list[tuple[str, int | float]]:
    if isinstance(keys, str):
        return [(keys, 1)]
    if isinstance(keys, dict):
        keys = [keys]
    if not isinstance(keys, list):
        raise ActionError(f"key: count a text, a list of texts or an object, not {keys!r:.80}")
    counted: list[tuple[str, int | float]] = []
    for item in keys:
        if isinstance(item, dict):
            for key, step in item.items():
                if isinstance(step, bool) or not isinstance(step, int | float):
                    raise ActionError(f"key: {key!r} has {step!r}, not a number to add")
                counted.append((key, step))
        elif isinstance(item, str):
            counted.append((item, 1))
        else:
            raise ActionError(f"key: {item!r:.80} is not a text to count")
    return counted


class RandomItemAction(Action):
    id = "random_item"
    name = "Random item"
    group = "Data"
    description = "Picks one of the given items at random (A/B tests, rotating messages)."
    docs = (
        "`list_of_items`: the items, each a literal or a dot path. Output on "
        '`random_element`: `{"value": <one item, resolved>}`, every item equally likely.'
    )
    outputs = ("random_element",)
    config_schema = {
        "type": "object",
        "required": ["list_of_items"],
        "properties": {
            "list_of_items": {
                "type": "array",
                "minItems": 1,
                "title": "Items",
                "description": "One of these is picked.",
                "items": {
                    "type": "string",
                    "title": "Item",
                    "description": "A literal or a dot path.",
                    "x-notation": "value",
                },
            },
            "target": TARGET_PROPERTY,
        },
    }

    def setup(self) -> None:
        for item in self.config["list_of_items"]:
            readable_reference(item, field="list_of_items")
        optional_target(self.config)

    def run(self, payload: Any, flow) -> Result:
        picked = _resolved(secrets.choice(self.config["list_of_items"]), flow.data(payload))
        if self.config["target"]:
            self.deliver(picked, payload, flow)
        return Result("random_element", {"value": picked})


def _hashable(items: Any, key: str) -> list:
    if not isinstance(items, list):
        raise ActionError(f"{key}: not a list ({items!r:.80})")
    if not all(isinstance(item, str | int | float | bool) or item is None for item in items):
        raise ActionError(f"{key}: a set holds texts, numbers or booleans, not objects or lists")
    return items


SET_OPERATIONS = {
    "intersection": lambda a, b: [item for item in dict.fromkeys(a) if item in set(b)],
    "union": lambda a, b: list(dict.fromkeys([*a, *b])),
    "difference": lambda a, b: [item for item in dict.fromkeys(a) if item not in set(b)],
    "symmetric_difference": lambda a, b: [
        item for item in dict.fromkeys([*a, *b]) if (item in set(a)) != (item in set(b))
    ],
    "is_subset": lambda a, b: set(a) <= set(b),
    "is_superset": lambda a, b: set(a) >= set(b),
}


class SetOperationAction(Action):
    id = "set_operation"
    name = "Operations on sets"
    group = "Lists"
    description = "Intersection, union, difference of two lists; is one a subset of the other."
    docs = (
        "`set1`, `set2`: dot paths to two lists; `operation`: intersection, union, difference "
        "(in set1, not in set2), symmetric_difference (in one only), is_subset, is_superset. "
        'Output on `result`: `{"result": [...]}` (items in first-seen order, once each) or '
        '`{"result": true|false}`; lists holding objects go to `error` with `{"message"}`.'
    )
    outputs = ("result", "error")
    config_schema = {
        "type": "object",
        "required": ["set1", "set2"],
        "properties": {
            "set1": value_property("First list", "A dot path to a list."),
            "set2": value_property("Second list", "A dot path to a list."),
            "operation": {
                "enum": list(SET_OPERATIONS),
                "default": "intersection",
                "title": "Operation",
                "description": "What to compute.",
            },
        },
    }

    def setup(self) -> None:
        check_references(self.config, "set1", "set2")

    def run(self, payload: Any, flow) -> Result:
        try:
            first = _hashable(read(self, "set1", payload, flow), "set1")
            second = _hashable(read(self, "set2", payload, flow), "set2")
        except ActionError as exc:
            return Result("error", {"message": str(exc)})
        return Result("result", {"result": SET_OPERATIONS[self.config["operation"]](first, second)})


class FindMaxValueAction(Action):
    id = "find_max_value"
    name = "Max/min value"
    group = "Lists"
    description = "The key with the largest (or smallest) number in an object."
    docs = (
        "`source`: a dot path to an object of numbers, e.g. `profile@interests`; "
        '`operation`: max (default) or min. Output on `result`: `{"key", "value"}` of the '
        "entry (the first one on a tie); an empty object, or one with a value that is not a "
        'number, goes to `error` with `{"message"}`.'
    )
    outputs = ("result", "error")
    config_schema = {
        "type": "object",
        "required": ["source"],
        "properties": {
            "source": value_property("Object", "A dot path to an object of numbers."),
            "operation": {
                "enum": ["max", "min"],
                "default": "max",
                "title": "Find",
                "description": "The largest or the smallest value.",
            },
        },
    }

    def setup(self) -> None:
        check_references(self.config, "source")

    def run(self, payload: Any, flow) -> Result:
        source = read(self, "source", payload, flow)
        if not isinstance(source, dict) or not source:
            message = f"{self.config['source']} is not an object with entries"
            return Result("error", {"message": message})
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in source.values()):
            return Result("error", {"message": "Not all values in the object are numbers."})
        pick = max if self.config["operation"] == "max" else min
        key = pick(source, key=source.__getitem__)
        return Result("result", {"key": key, "value": source[key]})


class SortDictionaryAction(Action):
    id = "sort_dictionary"
    name = "Sort dictionary"
    group = "Lists"
    description = "An object's entries as a list of [key, value] pairs, sorted."
    docs = (
        "`data`: a dot path to an object, e.g. `profile@interests`; `sort_by`: key or value; "
        '`direction`: asc or desc. Output on `result`: `{"result": [[key, value], ...]}`, '
        "so `payload@result.0.0` is the first key; a value that is not an object (or values "
        'that cannot be compared) go to `error` with `{"message"}`.'
    )
    outputs = ("result", "error")
    config_schema = {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": value_property("Object", "A dot path to an object."),
            "sort_by": {
                "enum": ["key", "value"],
                "default": "key",
                "title": "Sort by",
                "description": "Sort the entries by their key or by their value.",
            },
            "direction": {
                "enum": ["asc", "desc"],
                "default": "asc",
                "title": "Direction",
                "description": "Ascending or descending.",
            },
        },
    }

    def setup(self) -> None:
        check_references(self.config, "data")

    def run(self, payload: Any, flow) -> Result:
        data = read_or_missing(self, "data", payload, flow)
        if not isinstance(data, dict):
            return Result("error", {"message": f"{self.config['data']} is not an object."})
        position = 0 if self.config["sort_by"] == "key" else 1
        try:
            ordered = sorted(
                data.items(),
                key=lambda item: item[position],
                reverse=self.config["direction"] == "desc",
            )
        except TypeError as exc:
            return Result("error", {"message": f"The entries cannot be compared: {exc}"})
        return Result("result", {"result": [list(item) for item in ordered]})


FIELD_TYPES = {list: "array", str: "string", int: "int", float: "float", dict: "object"}
FIELD_TYPES[bool] = "bool"


class FieldTypeAction(Action):
    id = "field_type"
    name = "Get field type"
    group = "Data"
    description = "What kind of value a field holds, and its length."
    docs = (
        '`field`: a dot path. Output on `field_info`: `{"type", "length"}` where type is '
        "string, int, float, bool, array, object, null or missing, and length is the length "
        "of a text, list or object (else null)."
    )
    outputs = ("field_info",)
    config_schema = {
        "type": "object",
        "required": ["field"],
        "properties": {"field": value_property("Field", "A dot path, e.g. event@properties.x.")},
    }

    def setup(self) -> None:
        check_references(self.config, "field")
        if notation.parse_reference(self.config["field"]) is None:
            raise ConfigError("field: write a dot path, e.g. event@properties.size")

    def run(self, payload: Any, flow) -> Result:
        value = read_or_missing(self, "field", payload, flow)
        if value is _MISSING:
            return Result("field_info", {"type": "missing", "length": None})
        kind = "null" if value is None else FIELD_TYPES.get(type(value), type(value).__name__)
        length = len(value) if isinstance(value, str | list | dict) else None
        return Result("field_info", {"type": kind, "length": length})


class CutOutDataAction(Action):
    id = "cut_out_data"
    name = "Cut out data"
    group = "Data"
    description = "Sends a piece of the data (e.g. event@properties.order) as the payload."
    docs = (
        "`trait`: a dot path to the data to send on, e.g. `event@properties.basket`; `key`: "
        'optional, wraps it as `{"<key>": <data>}`. Output on `trait`.'
    )
    outputs = ("trait",)
    config_schema = {
        "type": "object",
        "required": ["trait"],
        "properties": {
            "trait": {
                "type": "string",
                "title": "Data",
                "description": "A dot path, e.g. event@properties.basket.",
                "x-notation": "path",
            },
            "key": text_property(
                "Wrap under key", "Optional: the output is {key: data}, e.g. basket.", default=""
            ),
        },
    }

    def setup(self) -> None:
        check_references(self.config, "trait")
        if notation.parse_reference(self.config["trait"]) is None:
            raise ConfigError("trait: write a dot path, e.g. event@properties.basket")

    def run(self, payload: Any, flow) -> Result:
        value = copy.deepcopy(read(self, "trait", payload, flow))
        key = self.config["key"].strip()
        return Result("trait", {key: value} if key else value)


class ReshapePayloadAction(Action):
    id = "reshape_payload"
    name = "Inject payload"
    group = "Data"
    description = "Builds a new payload object from an object template."
    docs = (
        '`value`: an object template, e.g. `{"email": "profile@data.contact.email.main", '
        '"plan": "pro"}` (text leaves that are dot paths are read, others kept). With '
        "`default` on, a missing path becomes null; off, it stops with the message on `error`."
        " Output on `payload`: the object."
    )
    outputs = ("payload", "error")
    config_schema = {
        "type": "object",
        "required": ["value"],
        "properties": {
            "value": {
                "type": "object",
                "title": "Object template",
                "description": 'Text leaves are dot paths or literals, e.g. {"sku": '
                '"event@properties.sku"}; a key ending in ? is optional.',
                "x-form": "object-template",
            },
            "default": {
                "type": "boolean",
                "default": True,
                "title": "Missing values are null",
                "description": "Off: a missing value sends an error instead.",
            },
        },
    }

    def run(self, payload: Any, flow) -> Result:
        data = flow.data(payload)
        try:
            if self.config["default"]:
                shaped = notation.render_template(self.config["value"], data, default=None)
            else:
                shaped = notation.render_template(self.config["value"], data)
        except notation.MissingReferenceError as exc:
            return Result("error", {"message": str(exc)})
        return Result("payload", copy.deepcopy(shaped))


class ResolveConditionsAction(Action):
    id = "resolve_conditions"
    name = "Resolve conditions into fields"
    group = "Data"
    description = "Writes true or false to fields, each by its own condition."
    docs = (
        "`conditions`: rows of *field* → *condition*, e.g. `profile@traits.is_vip` → "
        "`profile@stats.visits > 10`. Each field gets true or false. The payload passes "
        "unchanged."
    )
    config_schema = {
        "type": "object",
        "required": ["conditions"],
        "properties": {
            "conditions": {
                "type": "object",
                "minProperties": 1,
                "title": "Conditions",
                "description": "The field (e.g. profile@traits.is_vip) and its condition.",
                "x-key-notation": "writable_path",
                "x-key-title": "Field",
                "additionalProperties": {
                    "type": "string",
                    "minLength": 1,
                    "title": "Condition",
                    "description": "e.g. profile@stats.visits > 10",
                    "x-notation": "condition",
                },
            }
        },
    }

    def setup(self) -> None:
        self.conditions = [
            (
                writable_reference(target, field=f"conditions[{target!r}]"),
                compiled_condition(text, field=f"conditions[{target!r}]"),
            )
            for target, text in self.config["conditions"].items()
        ]

    def run(self, payload: Any, flow) -> Result:
        data = flow.writable_data(payload, [target for target, _ in self.conditions])
        results = [(target, condition.evaluate(data)) for target, condition in self.conditions]
        for target, holds in results:
            flow.assign(target, holds, data)
        return Result("payload", data["payload"])


class ReduceArrayAction(Action):
    id = "reduce_array"
    name = "Reduce array"
    group = "Lists"
    description = "How often each value occurs in a list, the most and least frequent."
    docs = (
        "`array`: a dot path to a list, e.g. `profile@data.preferences.colors`. Output on "
        '`result`: `{"counts": {"<value>": n, ...}, "max": "<most frequent>", "min": "<least '
        'frequent>", "total": <items>}` (values counted as text; on a tie the first seen wins). '
        'An empty list or a value that is not a list goes to `error` with `{"error"}`.'
    )
    outputs = ("result", "error")
    config_schema = {
        "type": "object",
        "required": ["array"],
        "properties": {"array": value_property("List", "A dot path to the list.")},
    }

    def setup(self) -> None:
        check_references(self.config, "array")

    def run(self, payload: Any, flow) -> Result:
        items = read_or_missing(self, "array", payload, flow)
        if not isinstance(items, list) or not items:
            return Result("error", {"error": f"{self.config['array']} is not a list with items"})
        counts: dict[str, int] = {}
        for item in items:
            key = item if isinstance(item, str) else json.dumps(item, default=str)
            counts[key] = counts.get(key, 0) + 1
        return Result(
            "result",
            {
                "counts": counts,
                "max": max(counts, key=counts.__getitem__),
                "min": min(counts, key=counts.__getitem__),
                "total": len(items),
            },
        )


class PayloadCollectorAction(Action):
    id = "payload_collector"
    name = "Payload collector"
    group = "Data"
    description = "Collects every payload that reaches it into memory@, as a list or by edge."
    docs = (
        "`name`: the memory key, e.g. `seen` (read later as `memory@seen`); `type`: list "
        "(default; each payload appended in arrival order) or dict (each payload under the "
        "name of the connection it came by, spaces as `-`; a connection without a name is "
        "keyed by its id). The payload passes unchanged."
    )
    config_schema = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": text_property("Memory key", "The key under memory@, e.g. seen.", minLength=1),
            "type": {
                "enum": ["list", "dict"],
                "default": "list",
                "title": "Collect into",
                "description": "list: in arrival order; dict: by connection name.",
            },
        },
    }

    def setup(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", self.config["name"]):
            raise ConfigError("name: use letters, digits, - and _ (it becomes memory@<name>)")

    def run(self, payload: Any, flow) -> Result:
        name, kind = self.config["name"], self.config["type"]
        empty: list | dict = [] if kind == "list" else {}
        collected = flow.memory.setdefault(name, empty)
        if not isinstance(collected, type(empty)):
            raise ActionError(f"memory@{name} holds {type(collected).__name__}, not a {kind}")
        if isinstance(collected, list):
            collected.append(payload)
        else:
            collected[(flow.in_edge or flow.node_id).replace(" ", "-")] = payload
        return Result("payload", payload)


class DataExistsAction(Action):
    id = "data_exists"
    name = "Data exists"
    group = "Data"
    description = "Routes by whether a field has a value (not missing, null or empty text)."
    docs = (
        "`property`: a dot path, e.g. `profile@data.contact.email.main`. The payload goes to "
        "`true` when it holds a value, to `false` when it is missing, null or an empty text."
    )
    outputs = ("true", "false")
    config_schema = {
        "type": "object",
        "properties": {
            "property": {
                "type": "string",
                "default": "profile@data.contact.email.main",
                "title": "Field",
                "description": "A dot path, e.g. profile@data.contact.email.main.",
                "x-notation": "path",
            }
        },
    }

    def setup(self) -> None:
        check_references(self.config, "property")
        if notation.parse_reference(self.config["property"]) is None:
            raise ConfigError("property: write a dot path, e.g. profile@data.contact.email.main")

    def run(self, payload: Any, flow) -> Result:
        value = read_or_missing(self, "property", payload, flow)
        exists = value is not _MISSING and value is not None and value != ""
        return Result("true" if exists else "false", payload)
