"""Undoing a merge (apps.profiles.services.merge): the profiles return to their rows before it
and the rows it re-pointed go back, follower by follower, as its MergeRecord lists them."""

import copy
import re

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.profiles.documents import DOCUMENT_FIELDS
from apps.profiles.hooks import profile_followers
from apps.profiles.models import MergeRecord, Profile
from apps.profiles.services.changes import profile_changed
from apps.profiles.services.merge import MergeError
from apps.profiles.services.segment_history import (
    MERGE_KEY,
    Cause,
    segment_transitions_move_back,
    segment_transitions_record,
)

# The shape of apps.core.ids.new_id's ids (str(uuid4())), as migration 0004 matches it.
_SERVER_ISSUED = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def profile_from_row_snapshot(snapshot: dict) -> Profile:
    values = {}
    for field in Profile._meta.concrete_fields:
        if field.attname == "static_ids" and field.attname not in snapshot:
            # Taken before the column existed: mark ids as migration 0004 marked stored ones.
            values["static_ids"] = [
                pid
                for pid in [snapshot["id"], *(snapshot.get("ids") or [])]
                if not _SERVER_ISSUED.fullmatch(pid)
            ]
            continue
        value = snapshot.get(field.attname)
        if isinstance(field, models.DateTimeField) and isinstance(value, str):
            value = parse_datetime(value)
        values[field.attname] = copy.deepcopy(value)
    return Profile(**values)


def merge_undo(*, merge_id: str, actor: str) -> MergeRecord:
    """Undo a merge: the survivor and the merged profiles return to their rows before it, and
    the events, sessions, runs and deliveries it moved go back to their profiles. Changes the
    survivor received after the merge are lost; rows it gained since stay with it."""
    with transaction.atomic():
        record = MergeRecord.objects.select_for_update().filter(pk=merge_id).first()
        if record is None:
            raise MergeError(f"No merge record {merge_id!r}.")
        if record.status == MergeRecord.Status.UNDONE:
            raise MergeError(
                f"This merge was already undone on {record.undone_at:%Y-%m-%d %H:%M} "
                f"by {record.undone_by}."
            )
        later = (
            MergeRecord.objects.filter(status=MergeRecord.Status.MERGED, created__gt=record.created)
            .filter(
                Q(survivor_id=record.survivor_id) | Q(merged_ids__contains=[record.survivor_id])
            )
            .order_by("-created")
            .first()
        )
        if later is not None:
            raise MergeError(
                f"Profile {record.survivor_id} took part in a later merge ({later.pk} on "
                f"{later.created:%Y-%m-%d %H:%M}); undo that one first."
            )
        survivor = Profile.objects.select_for_update().filter(pk=record.survivor_id).first()
        if survivor is None:
            raise MergeError(
                f"The surviving profile {record.survivor_id} no longer exists (it was erased); "
                "the merge cannot be undone."
            )
        taken = list(Profile.objects.filter(pk__in=record.merged_ids).values_list("pk", flat=True))
        if taken:
            raise MergeError(
                f"Profile id(s) {', '.join(taken)} exist again; the merge cannot be undone."
            )

        segments_now = survivor.segments
        profile_from_row_snapshot(record.survivor_before).save(force_update=True)
        Profile.objects.bulk_create(
            [profile_from_row_snapshot(snapshot) for snapshot in record.merged_profiles]
        )
        for follower in profile_followers():
            for old_profile, row_ids in record.repointed.get(follower.key, {}).items():
                follower.model.objects.filter(pk__in=row_ids, profile_id=record.survivor_id).update(
                    profile_id=old_profile
                )
        segment_transitions_move_back(
            moved=record.repointed.get(MERGE_KEY, {}), survivor_id=record.survivor_id
        )
        # The survivor returns to its segments before the merge: what that changes is history.
        segment_transitions_record(
            profile_id=record.survivor_id,
            before=segments_now,
            after=record.survivor_before.get("segments") or [],
            cause=Cause.MERGE,
        )
        record.status = MergeRecord.Status.UNDONE
        record.undone_at = timezone.now()
        record.undone_by = actor
        record.save(update_fields=["status", "undone_at", "undone_by"])
        for profile_id in [record.survivor_id, *record.merged_ids]:
            profile_changed(profile_id=profile_id, changed_fields=list(DOCUMENT_FIELDS))
    return record
