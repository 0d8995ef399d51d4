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
  (the profile that already held the identifier survives; see apps.profiles.services.merge);
- otherwise the current profile takes the values (written at the point's profile fields), so
  that the next identification by the same values finds it.
"""

import copy
import logging
from dataclasses import dataclass

from django.db import transaction

from apps.core.caches import process_cached
from apps.notation import NotationError, Reference, assign, parse_reference
from apps.notation.dot import lookup
from apps.notation.paths import event_reference_parse
from apps.profiles.documents import profile_document
from apps.profiles.models import IdentificationPoint
from apps.profiles.selectors import profile_find
from apps.profiles.services.identifiers import (
    identifier_holders,
    identifier_lock,
    identifier_values,
    is_identifier,
)
from apps.profiles.services.merge import profiles_merge
from apps.profiles.services.writes import profile_save_changes
from apps.profiles.validation import identification_fields_problems

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Point:
    id: str
    name: str
    source_id: str | None
    profile_paths: tuple[str, ...]
    event_refs: tuple[Reference, ...]


def identification_point_save(*, point: IdentificationPoint) -> IdentificationPoint:
    point.full_clean()
    point.save()
    identification_points_by_type.cache_clear()
    return point


# --- the per-process cache of points ------------------------------------------------------


@process_cached(ttl_setting="CDP_EVENT_TYPE_CACHE_SECONDS")
def identification_points_by_type() -> dict[str, tuple[_Point, ...]]:
    """Enabled, valid points by event type; cached per process (core.caches)."""
    points: dict[str, list[_Point]] = {}
    for row in IdentificationPoint.objects.filter(enabled=True).order_by("created", "pk"):
        if identification_fields_problems(row.fields):
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
    return {event_type: tuple(items) for event_type, items in points.items()}


# --- applying -----------------------------------------------------------------------------


def event_type_identifies(event_type: str) -> bool:
    """Whether some enabled identification point listens to this event type (cached, cheap):
    such events need processing even when no workflow rule routes them."""
    return event_type in identification_points_by_type()


def identification_apply(*, event: dict, profile_id: str) -> str:
    """The id of the profile this event's person has: `profile_id`, or the profile it was
    merged into because the event carries an identifier another profile already holds."""
    points = identification_points_by_type().get(event.get("type", ""))
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
        current = profile_find(profile_id=profile_id)
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
