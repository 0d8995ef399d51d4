"""Identification points: an event that carries a known identifier attaches its profile to the
profile that already holds that identifier (Tracardi's identification points).

`identification_apply(event=..., profile_id=...)` is called by the workflow processor for each
event before it loads the profile; it returns the id of the profile to go on with (the holder
when a merge happened). With no identification point for the event's type it does nothing and
runs no query (points are cached per process for CDP_EVENT_TYPE_CACHE_SECONDS).

For each point whose event type (and source, if set) match and whose identifier values are all
in the event:
- an advisory lock on the values serialises everyone identifying by them (two sessions of one
  person identifying at once end in one profile);
- if other profiles hold the values, the current profile is merged into the oldest of them
  (the profile that already held the identifier survives; see apps.profiles.merging);
- otherwise the current profile takes the values (written at the point's profile fields), so
  that the next identification by the same values finds it.
"""

import copy
import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from apps.core.text import normalise_event_type
from apps.notation import (
    InvalidReferenceError,
    NotationError,
    Reference,
    assign,
    parse_reference,
)
from apps.notation.dot import lookup
from apps.notation.paths import EventPathError, event_reference_parse
from apps.profiles.merging import (
    IDENTIFIER_ROOTS,
    identifier_holders,
    identifier_lock,
    identifier_values,
    is_identifier,
    profile_find_any,
    profiles_merge,
)
from apps.profiles.models import IdentificationPoint
from apps.profiles.services import profile_document
from apps.profiles.writes import profile_save_changes

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Point:
    id: str
    name: str
    source_id: str | None
    profile_paths: tuple[str, ...]
    event_refs: tuple[Reference, ...]


def identification_point_errors(point: IdentificationPoint) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    normalised = normalise_event_type(point.event_type or "")
    if not normalised:
        errors["event_type"] = ["Enter the event type, e.g. identification."]
    elif normalised != point.event_type:
        errors["event_type"] = [f"Write the event type as stored: {normalised!r}."]
    problems = _fields_problems(point.fields)
    if problems:
        errors["fields"] = problems
    else:
        point.fields = [
            {"profile": pair["profile"].strip().removeprefix("profile@"), "event": pair["event"]}
            for pair in point.fields
        ]
    return errors


def _fields_problems(fields) -> list[str]:
    example = '[{"profile": "data.contact.email.main", "event": "properties.email"}]'
    if not isinstance(fields, list) or not fields:
        return [f"Enter at least one pair of profile field and event property, e.g. {example}"]
    problems = []
    for number, pair in enumerate(fields, start=1):
        if (
            not isinstance(pair, dict)
            or set(pair) != {"profile", "event"}
            or not all(isinstance(pair[key], str) and pair[key].strip() for key in pair)
        ):
            problems.append(f"Pair {number}: write it as {example[1:-1]}.")
            continue
        profile_path = pair["profile"].strip().removeprefix("profile@")
        try:
            reference = parse_reference("profile@" + profile_path)
        except InvalidReferenceError as error:
            problems.append(f"Pair {number}, profile: {error}")
            continue
        if reference is None or not reference.keys or reference.keys[0][0] not in IDENTIFIER_ROOTS:
            problems.append(
                f"Pair {number}, profile: an identifier lives under "
                f"{', '.join(IDENTIFIER_ROOTS)}, e.g. data.contact.email.main."
            )
        elif any(
            not name.replace("_", "").replace("-", "").isalnum() for name, _ in reference.keys
        ):
            problems.append(
                f"Pair {number}, profile: use plain keys (letters, digits, '_', '-') "
                "separated by dots."
            )
        try:
            event_reference_parse(pair["event"])
        except EventPathError as error:
            problems.append(f"Pair {number}, event: {error}")
    return problems


def identification_point_save(*, point: IdentificationPoint) -> IdentificationPoint:
    point.full_clean()
    point.save()
    identification_cache_clear()
    return point


# --- the per-process cache of points ------------------------------------------------------

_lock = threading.Lock()
_cached: tuple[float, dict[str, tuple[_Point, ...]]] | None = None


def _points_by_type() -> dict[str, tuple[_Point, ...]]:
    global _cached
    now = time.monotonic()
    cached = _cached
    if cached is not None and cached[0] > now:
        return cached[1]
    with _lock:
        points: dict[str, list[_Point]] = {}
        for row in IdentificationPoint.objects.filter(enabled=True).order_by("created", "pk"):
            if _fields_problems(row.fields):
                continue
            points.setdefault(row.event_type, []).append(
                _Point(
                    id=row.pk,
                    name=row.name,
                    source_id=row.source_id,
                    profile_paths=tuple(
                        pair["profile"].strip().removeprefix("profile@") for pair in row.fields
                    ),
                    event_refs=tuple(event_reference_parse(pair["event"]) for pair in row.fields),
                )
            )
        loaded = {event_type: tuple(items) for event_type, items in points.items()}
        _cached = (now + settings.CDP_EVENT_TYPE_CACHE_SECONDS, loaded)
        return loaded


def identification_cache_clear() -> None:
    global _cached
    _cached = None


# --- applying -----------------------------------------------------------------------------


def event_type_identifies(event_type: str) -> bool:
    """Whether some enabled identification point listens to this event type (cached, cheap):
    such events need processing even when no workflow rule routes them."""
    return event_type in _points_by_type()


def identification_apply(*, event: dict, profile_id: str) -> str:
    """The id of the profile this event's person has: `profile_id`, or the profile it was
    merged into because the event carries an identifier another profile already holds."""
    points = _points_by_type().get(event.get("type", ""))
    if not points or not profile_id:
        return profile_id
    source_id = (event.get("source") or {}).get("id") or event.get("source_id")
    data = {"event": event}
    for point in points:
        if point.source_id and point.source_id != source_id:
            continue
        values = [lookup(data, reference) for reference in point.event_refs]
        if not all(is_identifier(value) for value in values):
            continue
        profile_id = _identify(point, values, profile_id)
    return profile_id


def _identify(point: _Point, values: list, profile_id: str) -> str:
    paths = point.profile_paths
    with transaction.atomic():
        identifier_lock(paths, values)
        # Not locked here: the merge locks all the rows involved at once, in id order.
        current = profile_find_any(profile_id=profile_id)
        if current is None:
            return profile_id
        holders = list(
            identifier_holders(paths, values)
            .exclude(pk=current.pk)
            .order_by("created", "pk")
            .values_list("pk", flat=True)
        )
        if holders:
            survivor = profiles_merge(
                profile_ids=[*holders, current.pk],
                reason=f"Identification point {point.name!r}: "
                + ", ".join(f"{path} matched" for path in paths),
                actor=f"identification point {point.id}",
            )
            return survivor.pk
        _claim(current, paths, values)
        return current.pk


def _claim(profile, paths: tuple[str, ...], values: list) -> None:
    """Write the identifier values on the profile (where they differ), so that it holds them."""
    before = profile_document(profile)
    if identifier_values(before, paths) == values:
        return
    after = copy.deepcopy(before)
    data = {"profile": after}
    for path, value in zip(paths, values, strict=True):
        reference = parse_reference("profile@" + path)
        if lookup(data, reference) == value:
            continue
        try:
            assign(reference.text, value, data)
        except NotationError as error:
            # The profile keeps something else on the way (a text where an object belongs):
            # it is left as it is, and a later identification by these values merges instead.
            logger.warning("Identifier %s not written on profile %s: %s", path, profile.pk, error)
    profile_save_changes(profile_id=profile.pk, before=before, after=after)
