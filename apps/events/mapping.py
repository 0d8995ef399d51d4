"""Event-to-profile mapping: per event type, rules that copy event values into the profile.

Used by the workflow processor, which applies the rules of an event's type to the profile it
is about to run workflows on (one profile save for both):

- `event_type_has_mapping(event_type)`: cheap (per-process snapshot, no query per call);
- `mapping_apply(profile=..., event=..., session=...)`: mutates the profile document in place
  and returns the changed dot paths.

`event_mappings_process(event_ids=...)` applies the rules to stored events on its own (loads,
locks and saves each profile), for re-applying mappings and for tests.

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
from itertools import groupby
from typing import Any

from django.db import transaction

from apps import notation
from apps.events.documents import event_document
from apps.events.models import Event, EventTypeMapping
from apps.events.selectors import event_type_registry
from apps.notation import MISSING, Reference, parse_reference
from apps.notation.dot import lookup
from apps.notation.paths import EventPathError, event_reference_parse

logger = logging.getLogger(__name__)

# Profile fields a mapping may write; the rest (id, ids, metadata, segments) belong to the
# platform.
MAPPABLE_PROFILE_ROOTS = ("data", "traits", "interests", "consents", "stats", "aux")

_PLACEHOLDER = re.compile(r"\{\{\s*(.+?)\s*\}\}")
_PLAIN_KEY = re.compile(r"[\w$\-]+")

Operation = EventTypeMapping.Operation


class ProfilePathError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class MappingRule:
    profile_path: str
    # Parsed target when the path has no {{placeholders}}; else rendered per event.
    target: Reference | None
    value: Reference | None
    operation: str
    amount: float
    condition: notation.Condition | None


def profile_path_check(path: str) -> None:
    """Raise ProfilePathError unless `path` is a writable profile path (placeholders allowed)."""
    if not path.strip():
        raise ProfilePathError("Enter a profile path, e.g. data.contact.email.main.")
    if "@" in _PLACEHOLDER.sub("", path):
        raise ProfilePathError(
            "Write the profile path without 'profile@', e.g. data.contact.email.main."
        )
    for placeholder in _PLACEHOLDER.findall(path):
        try:
            event_reference_parse(placeholder)
        except EventPathError as error:
            raise ProfilePathError(f"In {{{{{placeholder}}}}}: {error}") from None
    try:
        reference = parse_reference("profile@" + _PLACEHOLDER.sub('["x"]', path))
    except notation.NotationError as error:
        raise ProfilePathError(str(error)) from None
    root = reference.keys[0][0] if reference and reference.keys else ""
    if root not in MAPPABLE_PROFILE_ROOTS:
        raise ProfilePathError(
            f"A mapping may write only under {', '.join(MAPPABLE_PROFILE_ROOTS)}; "
            f"{root or path!r} is kept by the platform."
        )


def mapping_rule_compile(row: EventTypeMapping) -> MappingRule:
    """Parse one stored rule; raises NotationError / ValueError for a rule that cannot work."""
    target = None
    if not _PLACEHOLDER.search(row.profile_path):
        target = parse_reference("profile@" + row.profile_path)
    value = None if row.operation == Operation.INCREMENT else event_reference_parse(row.event_path)
    condition = notation.compile_condition(row.condition) if row.condition.strip() else None
    return MappingRule(
        profile_path=row.profile_path,
        target=target,
        value=value,
        operation=row.operation,
        amount=row.amount,
        condition=condition,
    )


def event_type_has_mapping(event_type: str) -> bool:
    return event_type in event_type_registry().mappings


def mapping_apply(*, profile: dict, event: dict, session: dict | None) -> list[str]:
    """Apply the mapping rules of the event's type to the profile document (in place).

    Returns the dot paths whose value changed, in rule order, without repeats."""
    rules = event_type_registry().mappings.get(event.get("type", ""))
    if not rules:
        return []
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

    rendered = _PLACEHOLDER.sub(key, rule.profile_path)
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


def event_mappings_process(*, event_ids: Iterable[str]) -> None:
    """Apply the mappings of stored events to their profiles: per profile, in event time order,
    one read under a row lock and one save (which calls profile_changed on commit)."""
    from apps.profiles.models import Profile, Session
    from apps.profiles.services import profile_document, session_document
    from apps.profiles.writes import profile_save_changes

    events = list(
        Event.objects.filter(pk__in=list(event_ids), profile__isnull=False)
        .exclude(status=Event.Status.INVALID)
        .order_by("profile_id", "time", "inserted", "id")
    )
    for profile_id, group in groupby(events, key=lambda event: event.profile_id):
        profile_events = [event for event in group if event_type_has_mapping(event.type)]
        if not profile_events:
            continue
        with transaction.atomic():
            profile = Profile.objects.select_for_update().filter(pk=profile_id).first()
            if profile is None:
                continue
            session_ids = {event.session_id for event in profile_events if event.session_id}
            sessions = {
                session.pk: session_document(session)
                for session in Session.objects.filter(pk__in=session_ids)
            }
            before = profile_document(profile)
            after = copy.deepcopy(before)
            for event in profile_events:
                mapping_apply(
                    profile=after,
                    event=event_document(event),
                    session=sessions.get(event.session_id),
                )
            profile_save_changes(profile_id=profile_id, before=before, after=after)
