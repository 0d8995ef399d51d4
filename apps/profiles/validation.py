"""Field errors of segments and identification points, as the admin shows them (called by
their models' clean()). Imports no model: the models import this module."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps import notation
from apps.core.text import normalise_event_type, segment_slug
from apps.notation import InvalidReferenceError, parse_reference
from apps.notation.paths import EventPathError, event_reference_parse

if TYPE_CHECKING:
    from apps.profiles.models import IdentificationPoint, Segment

# Profile fields an identifier may live in (what identification points and `merge_by` match).
IDENTIFIER_ROOTS = ("data", "traits", "aux")


def segment_errors(segment: Segment) -> dict[str, list[str]]:
    """Field errors of a segment; fills in the slug from the name."""
    errors: dict[str, list[str]] = {}
    segment.name = (segment.name or "").strip()
    segment.slug = segment_slug(segment.name)
    if not segment.slug:
        errors["name"] = ["Enter a name."]
    elif type(segment).objects.filter(slug=segment.slug).exclude(pk=segment.pk).exists():
        errors["name"] = [
            f"Another segment is already stored as {segment.slug!r} (names differing only in "
            "case or spaces are the same segment)."
        ]
    if not (segment.condition or "").strip():
        errors["condition"] = ["Enter a condition, e.g. profile@stats.visits > 3"]
    else:
        try:
            notation.validate(segment.condition)
        except notation.NotationError as error:
            errors["condition"] = [str(error)]
    return errors


def identification_point_errors(point: IdentificationPoint) -> dict[str, list[str]]:
    """Field errors of an identification point; normalises its profile paths."""
    errors: dict[str, list[str]] = {}
    normalised = normalise_event_type(point.event_type or "")
    if not normalised:
        errors["event_type"] = ["Enter the event type, e.g. identification."]
    elif normalised != point.event_type:
        errors["event_type"] = [f"Write the event type as stored: {normalised!r}."]
    problems = identification_fields_problems(point.fields)
    if problems:
        errors["fields"] = problems
    else:
        point.fields = [
            {"profile": pair["profile"].strip().removeprefix("profile@"), "event": pair["event"]}
            for pair in point.fields
        ]
    return errors


def identification_fields_problems(fields) -> list[str]:
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
