"""Event-to-profile mapping over documents: per event type, rules that copy event values into
the profile. This module compiles a stored rule and applies compiled rules to dicts; the
per-process registry of every type's rules and the hot-path calls over it are in
apps.events.registry (`event_type_has_mapping`, `mapping_apply`).

A rule: `profile_path` <- `event_path` with an operation, applied when its condition holds.
Rules whose event value is missing are skipped (Tracardi: "if any property is missing it will
not be processed and no error will be reported"); so are rules whose value does not fit the
operation (a text for `add`), with a warning in the log, so that one odd event never blocks the
rest of the profile's data.
"""

import copy
import json
import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from apps import notation
from apps.events.models import EventTypeMapping
from apps.events.validation import PLACEHOLDER
from apps.notation import MISSING, Reference, parse_reference
from apps.notation.dot import lookup
from apps.notation.paths import event_reference_parse

logger = logging.getLogger(__name__)

_PLAIN_KEY = re.compile(r"[\w$\-]+")

Operation = EventTypeMapping.Operation


@dataclass(frozen=True, slots=True)
class MappingRule:
    profile_path: str
    # Parsed target when the path has no {{placeholders}}; else rendered per event.
    target: Reference | None
    value: Reference | None
    operation: str
    amount: float
    condition: notation.Condition | None


def mapping_rule_compile(row: EventTypeMapping) -> MappingRule:
    """Parse one stored rule; raises NotationError / ValueError for a rule that cannot work."""
    target = None
    if not PLACEHOLDER.search(row.profile_path):
        target = parse_reference("profile@" + row.profile_path)
    takes_no_value = row.operation in (Operation.INCREMENT, Operation.DELETE)
    value = None if takes_no_value else event_reference_parse(row.event_path)
    condition = notation.compile_condition(row.condition) if row.condition.strip() else None
    return MappingRule(
        profile_path=row.profile_path,
        target=target,
        value=value,
        operation=row.operation,
        amount=row.amount,
        condition=condition,
    )


def mapping_rules_apply(
    rules: Iterable[MappingRule], *, profile: dict, event: dict, session: dict | None
) -> list[str]:
    """Apply compiled rules to the profile document (in place).

    Returns the dot paths whose value changed, in rule order, without repeats."""
    data = {"profile": profile, "event": event, "session": session or {}}
    changed: list[str] = []
    for rule in rules:
        path = _rule_apply(rule, data)
        if path is not None and path not in changed:
            changed.append(path)
    return changed


def _rule_apply(rule: MappingRule, data: dict) -> str | None:
    if rule.condition is not None:
        try:
            if not rule.condition.evaluate(data):
                return None
        except notation.NotationError as error:
            logger.warning("Mapping %s skipped: its condition failed: %s", rule.profile_path, error)
            return None
    value: Any = None
    if rule.value is not None:
        value = lookup(data, rule.value)
        if value is MISSING:
            return None
    target, path = _target(rule, data)
    if target is None:
        return None
    current = lookup(data, target)
    if rule.operation == Operation.DELETE:
        return path if current is not MISSING and _delete(target, data) else None
    try:
        new = _operate(rule, current, value)
    except _Skip as reason:
        logger.warning("Mapping %s skipped: %s", path, reason)
        return None
    if new is _UNCHANGED or (current is not MISSING and new == current):
        return None
    try:
        notation.assign(target.text, new, data)
    except notation.NotationError as error:
        logger.warning("Mapping %s skipped: %s", path, error)
        return None
    return path


def _target(rule: MappingRule, data: dict) -> tuple[Reference | None, str]:
    if rule.target is not None:
        return rule.target, rule.profile_path
    missing = False

    def key(match: re.Match) -> str:
        nonlocal missing
        value = lookup(data, event_reference_parse(match[1]))
        if value is MISSING or value is None or isinstance(value, dict | list) or value == "":
            missing = True
            return '["x"]'
        text = str(value)
        if _PLAIN_KEY.fullmatch(text):
            return text
        # A bracketed key, so that a dot or a space in the value stays inside one key.
        return "[" + json.dumps(text, ensure_ascii=False) + "]"

    rendered = PLACEHOLDER.sub(key, rule.profile_path)
    if missing:
        return None, rule.profile_path
    rendered = rendered.replace(".[", "[")
    return parse_reference("profile@" + rendered), rendered


class _Skip(Exception):
    pass


_UNCHANGED = object()


def _operate(rule: MappingRule, current: Any, value: Any) -> Any:
    operation = rule.operation
    if operation == Operation.SET:
        return copy.deepcopy(value)
    if operation == Operation.SET_IF_EMPTY:
        if current is MISSING or current in (None, "", [], {}):
            return copy.deepcopy(value)
        return _UNCHANGED
    if operation == Operation.APPEND:
        return _append(current, value)
    if operation in (Operation.ADD, Operation.SUBTRACT):
        number = _number(value, what="the event value")
        return _sum(current, -number if operation == Operation.SUBTRACT else number)
    if operation == Operation.INCREMENT:
        # A whole amount keeps whole counters whole (1, not 1.0).
        amount = int(rule.amount) if float(rule.amount).is_integer() else rule.amount
        return _sum(current, amount)
    raise _Skip(f"unknown operation {operation!r}")


def _delete(target: Reference, data: dict) -> bool:
    """Remove the profile field `target` names (Tracardi's `delete`); False if it is not there."""
    *parents, (last, index) = target.keys
    node: Any = data.get(target.source)
    for name, position in parents:
        if isinstance(node, dict):
            node = node.get(name)
        elif isinstance(node, list) and position is not None and position < len(node):
            node = node[position]
        else:
            return False
    if isinstance(node, dict) and last in node:
        del node[last]
        return True
    if isinstance(node, list) and index is not None and index < len(node):
        del node[index]
        return True
    return False


def _append(current: Any, value: Any) -> list:
    additions = value if isinstance(value, list) else [value]
    if current is MISSING or current is None:
        result: list = []
    elif isinstance(current, list):
        result = list(current)
    elif isinstance(current, dict):
        raise _Skip("cannot append to an object")
    else:
        result = [current]
    for item in additions:
        if item not in result:
            result.append(copy.deepcopy(item))
    return result


def _sum(current: Any, number: int | float) -> int | float:
    base = (
        0 if current is MISSING or current is None else _number(current, what="the profile value")
    )
    return base + number


def _number(value: Any, *, what: str) -> int | float:
    if isinstance(value, bool):
        raise _Skip(f"{what} {value!r} is not a number")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise _Skip(f"{what} {value!r} is not a finite number")
        return value
    if isinstance(value, str):
        try:
            parsed = float(value)
        except ValueError:
            raise _Skip(f"{what} {value!r} is not a number") from None
        if not math.isfinite(parsed):
            raise _Skip(f"{what} {value!r} is not a finite number")
        return int(parsed) if parsed.is_integer() and "." not in value else parsed
    raise _Skip(f"{what} {value!r} is not a number")
