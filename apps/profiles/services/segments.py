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
- A condition with aggregates over the profile's stored events (`count(events type "purchase"
  in last 7 days) > 2`) is evaluated with the event history registered by the events app
  (hooks.event_history), one provider per profile per evaluation, at one `now`. Its answer
  changes as time passes with no profile change, so such a segment is `time_dependent` and the
  scheduled sweep re-evaluates it whatever its kind; a sweep batch answers it in one query when
  it translates to SQL (segment_sql), else per profile in Python.
- An *evaluation* is such a sweep for any kind of segment, with its progress on the segment row
  (`evaluation_*` fields): started when a segment is created, or its condition or enabled flag
  changes (`segment_save`), by "Evaluate now" in the admin, and by the beat for scheduled ones.
  Each evaluation has a run id; a newer one supersedes a running one (its batches stop).
- A visit (stats.visits, metadata.time.visit) and a page view (stats.views) are counted by the
  tracking request without segmentation; the worker re-evaluates live segments when it
  processes the `visit-started` or `page-view` event (`live_segments_read`, apps.tracking),
  and when it processes an event of a type a live segment's aggregate counts
  (`live_segments_count`).
- Segment slugs that no Segment row defines (added by a workflow action) are left alone by both.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.postgres.fields import ArrayField
from django.db import connection, models, transaction
from django.db.models import F, Func, Value
from django.utils import timezone

from apps import notation
from apps.core.caches import process_cached
from apps.core.ids import new_id
from apps.core.paginator import Count, bounded_count
from apps.core.text import segment_slug
from apps.profiles.documents import DOCUMENT_FIELDS, profile_document
from apps.profiles.hooks import profile_history
from apps.profiles.models import Profile, Segment
from apps.profiles.segment_sql import condition_sql
from apps.profiles.services.changes import profile_changed
from apps.profiles.services.segment_history import (
    Cause,
    segment_transitions_record,
    segment_transitions_record_bulk,
)

logger = logging.getLogger(__name__)

MEMBER_COUNT_CAP = 100_000


def segment_save(*, segment: Segment) -> Segment:
    """Validate and save a segment (new or changed). When it is new, or its condition or enabled
    flag changed, and it is enabled, an evaluation over the existing profiles is begun
    (`segment.evaluation_run` names it): the caller enqueues it (apps.profiles.tasks
    `segment_evaluation_enqueue`) once the save commits. Live segments also apply from each
    profile's next change."""
    # The slug is checked by segment_errors, with a message that names the clash.
    segment.full_clean(exclude=["slug"])
    segment.time_dependent = condition_uses_history(segment.condition)
    with transaction.atomic():
        before = (
            Segment.objects.filter(pk=segment.pk).values("condition", "enabled", "kind").first()
            if segment.pk
            else None
        )
        segment.save()
        changed = before is None or any(
            before[name] != getattr(segment, name) for name in ("condition", "enabled", "kind")
        )
        if changed and segment.enabled:
            segment_evaluation_begin(segment=segment)
    live_segments.cache_clear()
    return segment


def condition_uses_history(condition: str) -> bool:
    """Whether `condition` reads the profile's stored events (False when it does not parse:
    validation reports that)."""
    try:
        return notation.compile_condition(condition).uses_history
    except notation.NotationError:
        return False


def segment_member_count(*, segment: Segment, cap: int = MEMBER_COUNT_CAP) -> Count:
    """Members through the GIN index on `segments`, counted up to `cap`."""
    return bounded_count(Profile.objects.filter(segments__contains=[segment.slug]), cap=cap)


# --- live segments ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _LiveSegment:
    slug: str
    condition: notation.Condition
    # The profile paths the condition reads, as key tuples (() for the whole profile).
    reads: tuple[tuple[str, ...], ...] = ()


@process_cached(ttl_setting="CDP_EVENT_TYPE_CACHE_SECONDS")
def live_segments() -> tuple[_LiveSegment, ...]:
    """Enabled live segments, parsed; cached per process (core.caches)."""
    loaded = []
    rows = Segment.objects.filter(enabled=True, kind=Segment.Kind.LIVE).order_by("slug")
    for slug, condition in rows.values_list("slug", "condition"):
        try:
            compiled = notation.compile_condition(condition)
            loaded.append(_LiveSegment(slug, compiled, condition_profile_paths(compiled)))
        except notation.NotationError as error:
            logger.warning("Live segment %s skipped: its condition is invalid: %s", slug, error)
    return tuple(loaded)


def condition_profile_paths(condition: str | notation.Condition) -> tuple[tuple[str, ...], ...]:
    """The profile paths a condition reads, as key tuples (`profile@stats.visits` ->
    ("stats", "visits"); `profile@...` -> ()). Raises NotationError."""
    paths = []
    for text in notation.references(condition):
        reference = notation.parse_reference(text)
        if reference is not None and reference.source == "profile":
            paths.append(tuple(key for key, _ in reference.keys))
    return tuple(dict.fromkeys(paths))


def live_segments_read(path: tuple[str, ...]) -> bool:
    """Whether an enabled live segment reads `path` of the profile, a part of it or an object
    that holds it (per-process cache; no query). The tracking routing asks it for the counters
    the request writes without segmentation (stats.visits, stats.views)."""
    for segment in live_segments():
        for read in segment.reads:
            common = min(len(read), len(path))
            if read[:common] == path[:common]:
                return True
    return False


def live_segments_count(event_type: str) -> bool:
    """Whether an enabled live segment aggregates events of this type (or of every type), so
    that storing one may change its answer (per-process cache; no query)."""
    return any(
        not query.types or event_type in query.types
        for segment in live_segments()
        for query in segment.condition.history
    )


def _holds(
    condition: notation.Condition,
    data: dict,
    slug: str,
    history: notation.HistoryProvider | None = None,
) -> bool:
    try:
        return bool(condition.evaluate(data, history=history))
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
    """Re-evaluate the live segments on a changed profile and store the result, with a
    segment history row per segment entered or left (cause "live").

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
        history = (
            profile_history(profile_id=profile_id)
            if any(segment.condition.uses_history for segment in segments)
            else None
        )
        held = {
            segment.slug
            for segment in segments
            if _holds(segment.condition, data, segment.slug, history)
        }
        live = {segment.slug for segment in segments}
        kept = [slug for slug in profile.segments if slug not in live or slug in held]
        added = sorted(held - set(profile.segments))
        new_segments = kept + added
        if new_segments == profile.segments:
            return None
        now = timezone.now()
        segment_transitions_record(
            profile_id=profile_id,
            before=profile.segments,
            after=new_segments,
            cause=Cause.LIVE,
            at=now,
        )
        profile.segments = new_segments
        profile.metadata.setdefault("time", {})["segmentation"] = now.isoformat()
        profile.updated = now
        profile.save(update_fields=["segments", "metadata", "updated"])
        profile_changed(profile_id=profile_id, changed_fields=["segments"])
    return new_segments


def segment_add_if(
    *,
    profile: dict,
    segment: str,
    condition: str,
    data: dict,
    history: notation.HistoryProvider | None = None,
) -> bool:
    """The `add segment if condition` workflow action: when `condition` holds on `data`, add the
    segment's slug to the profile document (in place; the run saves it). Returns whether the
    condition held. A condition that cannot be parsed or evaluated raises NotationError."""
    if not notation.evaluate(condition, data, history=history):
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


def segment_evaluation_begin(*, segment: Segment) -> str:
    """Begin an evaluation of `segment` over all profiles: a new run id, progress at 0 of the
    profiles there are now (exact up to MEMBER_COUNT_CAP, else PostgreSQL's estimate). A
    running evaluation of the segment is superseded. Returns the run id for the task."""
    run = new_id()
    segment.evaluation_run = run
    segment.evaluation_status = Segment.EvaluationStatus.RUNNING
    segment.evaluation_started_at = timezone.now()
    segment.evaluation_total = bounded_count(Profile.objects.all(), cap=MEMBER_COUNT_CAP).value
    segment.evaluation_done = 0
    segment.evaluation_error = ""
    Segment.objects.filter(pk=segment.pk).update(
        **{name: getattr(segment, name) for name in EVALUATION_FIELDS}
    )
    return run


EVALUATION_FIELDS = (
    "evaluation_run",
    "evaluation_status",
    "evaluation_started_at",
    "evaluation_total",
    "evaluation_done",
    "evaluation_error",
)


def segment_evaluation_fail(*, segment_id: str, run_id: str, error: str) -> None:
    """Record that an evaluation stopped on an error (shown on the segment's admin page)."""
    Segment.objects.filter(pk=segment_id, evaluation_run=run_id).update(
        evaluation_status=Segment.EvaluationStatus.FAILED, evaluation_error=error[:2000]
    )


def segment_sweep_batch(
    *, segment_id: str, after_id: str, batch_size: int, run_id: str = ""
) -> str | None:
    """Evaluate a segment on the next `batch_size` profiles by id after `after_id` (keyset
    pagination), add or remove its slug where the answer changed, and count the batch in the
    evaluation's progress. The profiles that entered or left get segment history rows (cause
    "sweep"), one INSERT for the batch.

    Returns the id to continue after, or None when the sweep is over: the profiles are all
    done, the segment is gone or disabled, or a newer evaluation (another `run_id`) took over.
    A message without `run_id` (sent before evaluations had ids) sweeps unconditionally."""
    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None or (run_id and segment.evaluation_run != run_id):
        return None
    if not segment.enabled:
        segment_evaluation_fail(
            segment_id=segment.pk,
            run_id=segment.evaluation_run,
            error="Stopped: the segment was disabled.",
        )
        return None
    run = Segment.objects.filter(pk=segment.pk, evaluation_run=segment.evaluation_run)
    try:
        condition = notation.compile_condition(segment.condition)
    except notation.NotationError as error:
        logger.warning("Segment %s not evaluated: invalid condition: %s", segment.slug, error)
        segment_evaluation_fail(
            segment_id=segment.pk, run_id=segment.evaluation_run, error=str(error)
        )
        return None
    profiles = list(
        Profile.objects.filter(pk__gt=after_id)
        .order_by("pk")
        .only("pk", *DOCUMENT_FIELDS)[:batch_size]
    )
    slug = segment.slug
    joining, leaving = [], []
    held_in_sql = (
        _held_in_sql(segment.condition, [profile.pk for profile in profiles])
        if condition.uses_history
        else None
    )
    now = timezone.now()
    for profile in profiles:
        if held_in_sql is not None:
            holds = profile.pk in held_in_sql
        else:
            history = (
                profile_history(profile_id=profile.pk, now=now) if condition.uses_history else None
            )
            holds = _holds(condition, {"profile": profile_document(profile)}, slug, history)
        if holds and slug not in profile.segments:
            joining.append(profile.pk)
        elif not holds and slug in profile.segments:
            leaving.append(profile.pk)
    with transaction.atomic():
        if joining or leaving:
            _segment_members_update(slug=slug, joining=joining, leaving=leaving)
        run.update(evaluation_done=F("evaluation_done") + len(profiles))
        if len(profiles) < batch_size:
            run.update(
                last_evaluated_at=timezone.now(), evaluation_status=Segment.EvaluationStatus.DONE
            )
            return None
    return profiles[-1].pk


def _held_in_sql(condition: str, profile_ids: list[str]) -> set[str] | None:
    """The profiles of a batch where a condition over events holds, in one query (its
    aggregates as subqueries per row, segment_sql), instead of a query per profile and
    aggregate; None when the condition does not translate (then Python evaluates it)."""
    translated = condition_sql(condition)
    if translated is None or not profile_ids:
        return None
    where, params = translated
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {Profile._meta.db_table} WHERE id = ANY(%(batch)s) AND ({where})",
            {**params, "batch": profile_ids},
        )
        return {row[0] for row in cursor.fetchall()}


def _segment_members_update(*, slug: str, joining: list[str], leaving: list[str]) -> None:
    # array_append / array_remove in SQL: a profile written concurrently by a workflow keeps
    # its other changes (no read-modify-write of the whole row). The history records only the
    # profiles whose row changed here, read again under their locks.
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
        segment_transitions_record_bulk(
            segment=slug, entered=joined, left=left, cause=Cause.SWEEP, at=now
        )
        for profile_id in [*joined, *left]:
            profile_changed(profile_id=profile_id, changed_fields=["segments"])
