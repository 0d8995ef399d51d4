"""Segmentation: which segments a profile is in.

`Profile.segments` holds segment *slugs*: the segment's name in lower case with '-' for runs of
whitespace ("High value" -> "high-value"), the same normalisation as event types. Segment rows,
the `add segment` workflow action and the admin's member links all use the slug.

- Live segments are re-evaluated whenever a profile changes (`segments_refresh_live`, the
  first subscriber of `profile_changed`, in the writer's transaction). A change of the segments
  alone does not trigger it again, so the `profile_changed(["segments"])` it sends itself ends
  there (the other subscribers, destination syncs, see it).
- Scheduled segments are re-evaluated over all profiles by a periodic sweep in bounded batches
  (`segment_sweep_batch`, driven by the tasks in apps.profiles.tasks); each member change is
  reported through `profile_changed` in the batch's transaction.
- Segment slugs that no Segment row defines (added by a workflow action) are left alone by both.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.postgres.fields import ArrayField
from django.db import models, transaction
from django.db.models import F, Func, Value
from django.utils import timezone

from apps import notation
from apps.core.caches import process_cached
from apps.core.paginator import Count, bounded_count
from apps.core.text import segment_slug
from apps.profiles.documents import profile_document
from apps.profiles.models import Profile, Segment
from apps.profiles.services.changes import profile_changed

logger = logging.getLogger(__name__)

MEMBER_COUNT_CAP = 100_000


def segment_save(*, segment: Segment) -> Segment:
    """Validate and save a segment (new or changed); live segments apply from the next change
    of each profile, scheduled ones from the next sweep."""
    # The slug is checked by segment_errors, with a message that names the clash.
    segment.full_clean(exclude=["slug"])
    segment.save()
    live_segments.cache_clear()
    return segment


def segment_member_count(*, segment: Segment, cap: int = MEMBER_COUNT_CAP) -> Count:
    """Members through the GIN index on `segments`, counted up to `cap`."""
    return bounded_count(Profile.objects.filter(segments__contains=[segment.slug]), cap=cap)


# --- live segments ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _LiveSegment:
    slug: str
    condition: notation.Condition


@process_cached(ttl_setting="CDP_EVENT_TYPE_CACHE_SECONDS")
def live_segments() -> tuple[_LiveSegment, ...]:
    """Enabled live segments, parsed; cached per process (core.caches)."""
    loaded = []
    rows = Segment.objects.filter(enabled=True, kind=Segment.Kind.LIVE).order_by("slug")
    for slug, condition in rows.values_list("slug", "condition"):
        try:
            loaded.append(_LiveSegment(slug, notation.compile_condition(condition)))
        except notation.NotationError as error:
            logger.warning("Live segment %s skipped: its condition is invalid: %s", slug, error)
    return tuple(loaded)


def _holds(condition: notation.Condition, data: dict, slug: str) -> bool:
    try:
        return bool(condition.evaluate(data))
    except notation.NotationError as error:
        # A condition that cannot be evaluated on this profile (a function on a missing value)
        # does not hold; the segment keeps working for the others.
        logger.info("Segment %s not evaluated on a profile: %s", slug, error)
        return False


def segments_only(changed_fields: Sequence[str]) -> bool:
    return bool(changed_fields) and all(
        path == "segments" or path.startswith("segments.") for path in changed_fields
    )


def segments_refresh_live(*, profile_id: str, changed_fields: Sequence[str]) -> list[str] | None:
    """Re-evaluate the live segments on a changed profile and store the result.

    Returns the new segment list when it changed, else None. Cheap when there are no live
    segments (no query) and when the change was to the segments alone (nothing to do)."""
    if segments_only(changed_fields):
        return None
    segments = live_segments()
    if not segments:
        return None
    with transaction.atomic():
        profile = Profile.objects.select_for_update().filter(pk=profile_id).first()
        if profile is None:
            return None
        data = {"profile": profile_document(profile)}
        held = {
            segment.slug for segment in segments if _holds(segment.condition, data, segment.slug)
        }
        live = {segment.slug for segment in segments}
        kept = [slug for slug in profile.segments if slug not in live or slug in held]
        added = sorted(held - set(profile.segments))
        new_segments = kept + added
        if new_segments == profile.segments:
            return None
        now = timezone.now()
        profile.segments = new_segments
        profile.metadata.setdefault("time", {})["segmentation"] = now.isoformat()
        profile.updated = now
        profile.save(update_fields=["segments", "metadata", "updated"])
        profile_changed(profile_id=profile_id, changed_fields=["segments"])
    return new_segments


def segment_add_if(*, profile: dict, segment: str, condition: str, data: dict) -> bool:
    """The `add segment if condition` workflow action: when `condition` holds on `data`, add the
    segment's slug to the profile document (in place; the run saves it). Returns whether the
    condition held. A condition that cannot be parsed or evaluated raises NotationError."""
    if not notation.evaluate(condition, data):
        return False
    slug = segment_slug(segment)
    segments = profile.get("segments")
    if segments is None:
        segments = profile["segments"] = []
    if slug and slug not in segments:
        segments.append(slug)
    return True


# --- scheduled segments -------------------------------------------------------------------

_SEGMENTS_FIELD = ArrayField(models.CharField(max_length=200))


def segment_sweep_batch(*, segment_id: str, after_id: str, batch_size: int) -> str | None:
    """Evaluate a scheduled segment on the next `batch_size` profiles by id after `after_id`
    (keyset pagination) and add or remove its slug where the answer changed.

    Returns the id to continue after, or None when the sweep is over (or the segment gone)."""
    segment = Segment.objects.filter(
        pk=segment_id, enabled=True, kind=Segment.Kind.SCHEDULED
    ).first()
    if segment is None:
        return None
    try:
        condition = notation.compile_condition(segment.condition)
    except notation.NotationError as error:
        logger.warning("Scheduled segment %s skipped: invalid condition: %s", segment.slug, error)
        return None
    profiles = list(Profile.objects.filter(pk__gt=after_id).order_by("pk")[:batch_size])
    slug = segment.slug
    joining, leaving = [], []
    for profile in profiles:
        holds = _holds(condition, {"profile": profile_document(profile)}, slug)
        if holds and slug not in profile.segments:
            joining.append(profile.pk)
        elif not holds and slug in profile.segments:
            leaving.append(profile.pk)
    if joining or leaving:
        _segment_members_update(slug=slug, joining=joining, leaving=leaving)
    if len(profiles) < batch_size:
        Segment.objects.filter(pk=segment.pk).update(last_evaluated_at=timezone.now())
        return None
    return profiles[-1].pk


def _segment_members_update(*, slug: str, joining: list[str], leaving: list[str]) -> None:
    # array_append / array_remove in SQL: a profile written concurrently by a workflow keeps
    # its other changes (no read-modify-write of the whole row).
    now = timezone.now()
    with transaction.atomic():
        joined = list(
            Profile.objects.select_for_update()
            .filter(pk__in=joining)
            .exclude(segments__contains=[slug])
            .values_list("pk", flat=True)
        )
        Profile.objects.filter(pk__in=joined).update(
            segments=Func(
                F("segments"),
                Value(slug, output_field=models.CharField()),
                function="array_append",
                output_field=_SEGMENTS_FIELD,
            ),
            updated=now,
        )
        left = list(
            Profile.objects.select_for_update()
            .filter(pk__in=leaving, segments__contains=[slug])
            .values_list("pk", flat=True)
        )
        Profile.objects.filter(pk__in=left).update(
            segments=Func(
                F("segments"),
                Value(slug, output_field=models.CharField()),
                function="array_remove",
                output_field=_SEGMENTS_FIELD,
            ),
            updated=now,
        )
        for profile_id in [*joined, *left]:
            profile_changed(profile_id=profile_id, changed_fields=["segments"])
