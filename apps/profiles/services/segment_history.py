"""Segment history: a SegmentTransition row each time a profile enters or leaves a segment.

Every writer of `Profile.segments` records here, in its own transaction, what really changed
(no row when the membership stayed the same):
- live segmentation on a profile change (`segments_refresh_live`): cause "live";
- an evaluation over all profiles (`segment_sweep_batch`): cause "sweep", one INSERT per batch;
- a workflow run that added or removed segments (`profile_save_changes`): cause "workflow";
- a merge (the survivor gains the merged profiles' segments) and its undo: cause "merge".

The recorders return what they recorded, as `Transition`s (with their row ids), and hand them
to the subscribers of the "segment transitions" hook (apps.profiles.hooks) in the same
transaction: apps.tracking.segment_events stores one `segment-entered` / `segment-left` system
event per row there, its id derived from the row id, so every real transition, live, swept,
by a workflow or a merge, gives exactly one event.

The rows follow their profile: deleted with it (foreign key cascade: erasure, purge), moved to
the survivor of a merge and back by its undo (`segment_transitions_move`, `..._move_back`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from apps.profiles.hooks import segment_transition_subscribers
from apps.profiles.models import Segment, SegmentTransition

Cause = SegmentTransition.Cause

# The key of the moved rows in MergeRecord.repointed (only present when some moved).
MERGE_KEY = "segment_transitions"


# The system events that segment transitions give (apps.tracking.segment_events stores them;
# rules name them, so they are defined here, below both).
SEGMENT_ENTERED = "segment-entered"
SEGMENT_LEFT = "segment-left"
SEGMENT_EVENT_TYPES = (SEGMENT_ENTERED, SEGMENT_LEFT)


@dataclass(frozen=True, slots=True)
class Transition:
    id: int  # the SegmentTransition row
    profile_id: str
    segment: str  # the slug
    segment_id: str  # the Segment row's id; "" for a slug no Segment row defines
    segment_name: str
    entered: bool
    at: datetime
    cause: str

    @property
    def event_type(self) -> str:
        return SEGMENT_ENTERED if self.entered else SEGMENT_LEFT


def segment_transitions_record(
    *,
    profile_id: str,
    before: Sequence[str],
    after: Sequence[str],
    cause: str,
    at: datetime | None = None,
) -> list[Transition]:
    """Record the segments a profile entered (in `after`, not in `before`) and left (the other
    way round); return them, entries first. Nothing is written when both hold the same slugs.
    Call inside the transaction that writes `after` to the profile. The place for the
    `segment-entered` / `segment-left` system events to hook in (with the bulk recorder)."""
    held_before, held_after = set(before), set(after)
    entered = list(dict.fromkeys(slug for slug in after if slug not in held_before))
    left = list(dict.fromkeys(slug for slug in before if slug not in held_after))
    if not entered and not left:
        return []
    at = at or timezone.now()
    names = _segment_names([*entered, *left])
    rows = SegmentTransition.objects.bulk_create(
        [
            SegmentTransition(
                profile_id=profile_id,
                segment=slug,
                segment_name=names[slug][1],
                entered=is_entry,
                at=at,
                cause=str(cause),
            )
            for slugs, is_entry in ((entered, True), (left, False))
            for slug in slugs
        ]
    )
    transitions = [
        Transition(
            row.pk,
            profile_id,
            row.segment,
            names[row.segment][0],
            row.segment_name,
            row.entered,
            at,
            str(cause),
        )
        for row in rows
    ]
    _announce(transitions)
    return transitions


def segment_transitions_record_bulk(
    *,
    segment: str,
    entered: Sequence[str],
    left: Sequence[str],
    cause: str,
    at: datetime,
) -> list[Transition]:
    """Record that the profiles of `entered` entered the segment (a slug) and those of `left`
    left it, in one INSERT ... SELECT over two arrays (an evaluation sweeps millions of profiles
    a batch at a time: never one statement per profile); return them. The callers pass only
    profiles whose membership they changed. The sweep's hook for the `segment-entered` /
    `segment-left` system events."""
    if not entered and not left:
        return []
    segment_id, name = _segment_names([segment])[segment]
    profile_ids = [*entered, *left]
    flags = [True] * len(entered) + [False] * len(left)
    table = connection.ops.quote_name(SegmentTransition._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (profile_id, segment, segment_name, entered, at, cause) "
            "SELECT moved.profile_id, %s, %s, moved.entered, %s, %s "
            "FROM unnest(%s::varchar[], %s::boolean[]) WITH ORDINALITY "
            "AS moved(profile_id, entered, n) ORDER BY moved.n "
            "RETURNING id, profile_id, entered",
            [segment, name, at, str(cause), profile_ids, flags],
        )
        rows = cursor.fetchall()
    transitions = [
        Transition(row_id, profile_id, segment, segment_id, name, flag, at, str(cause))
        for row_id, profile_id, flag in rows
    ]
    _announce(transitions)
    return transitions


def _announce(transitions: list[Transition]) -> None:
    """The "segment transitions" hook: its subscribers run here, in the writer's transaction."""
    if transitions:
        for subscriber in segment_transition_subscribers():
            subscriber(transitions=transitions)


def segment_transitions_move(*, from_ids: Sequence[str], to_id: str) -> dict[str, list[str]]:
    """Move the history of merged profiles to the survivor (before the merged rows are deleted,
    which would take it with them); return {old profile id: [row ids]} for the merge record."""
    table = connection.ops.quote_name(SegmentTransition._meta.db_table)
    moved: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH old AS (SELECT id, profile_id FROM {table} WHERE profile_id = ANY(%s) "
            f"FOR UPDATE) UPDATE {table} SET profile_id = %s FROM old "
            f"WHERE {table}.id = old.id RETURNING old.id, old.profile_id",
            [list(from_ids), to_id],
        )
        for row_id, old_profile in cursor.fetchall():
            moved.setdefault(old_profile, []).append(str(row_id))
    for ids in moved.values():
        ids.sort(key=int)
    return moved


def segment_transitions_move_back(*, moved: dict[str, list[str]], survivor_id: str) -> None:
    """Undo `segment_transitions_move`: the rows it moved go back to their profiles."""
    for old_profile, row_ids in moved.items():
        SegmentTransition.objects.filter(pk__in=row_ids, profile_id=survivor_id).update(
            profile_id=old_profile
        )


def _segment_names(slugs: Iterable[str]) -> dict[str, tuple[str, str]]:
    """slug -> (segment id, name), as they are now; a slug no Segment row defines (a workflow
    added it) has no id and names itself."""
    slugs = list(slugs)
    found = {
        slug: (segment_id, name)
        for segment_id, slug, name in Segment.objects.filter(slug__in=slugs).values_list(
            "id", "slug", "name"
        )
    }
    return {slug: found.get(slug, ("", slug)) for slug in slugs}
