"""Erasure ("forget this person"): delete a profile and everything recorded about it, and keep
only an ErasureRecord with its ids, the times, the actor and how many rows went.

It runs as a background job (apps.profiles.tasks), because a person can have hundreds of
thousands of events:

- `profile_forget` starts it in one short transaction: the ErasureRecord (status `running`)
  with every id the profile ever had. From that commit on none of the ids resolves again:
  `profile_id_resolve` skips a profile under a running erasure, and identity resolution asks
  `profile_id_is_forgotten` before creating a profile for an unknown client id (a forgotten id
  gets a fresh profile, never one with that id, even from a source with static profile ids).
- `erasure_proceed` deletes the rows that follow the profile (apps.profiles.hooks) in bounded
  batches, one transaction each: each follower names its rows as index-served selections of
  "what is left", and the rows hanging on a batch (runs and deliveries of a batch of events)
  go in the same transaction, before it. Followers go by `erase_rank`, lowest first. Each
  batch adds its counts to the record and touches its heartbeat in that transaction, so a job
  that dies loses at most its open batch, and the next run (the task's redelivery, or the beat
  sweep over stalled records) carries on from what is left.
- The last transaction locks the profile, deletes what arrived meanwhile (an event of a
  session that was open when the erasure began), the merge records that mention the ids and
  the profile (its segment history goes with it by the foreign key's cascade, one DELETE),
  lets followers forward the erasure (deletion requests to destinations) and marks the record
  `done`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from apps.profiles.hooks import ProfileFollower, profile_followers
from apps.profiles.models import ErasureRecord, MergeRecord, Profile
from apps.profiles.selectors import profile_find

BATCH_SIZE = 1000
# A running erasure whose heartbeat is older than this lost its job (a batch takes well under
# a second; a job gives up its worker after RUN_SECONDS and enqueues its successor).
STALLED_AFTER = timedelta(minutes=2)
RUN_SECONDS = 60.0

Status = ErasureRecord.Status


class ProfileNotFound(Exception):
    pass


def profile_forget(*, profile_id: str, actor: str) -> ErasureRecord:
    """Start erasing the profile with this id (or merged id): its rows (sessions, events,
    workflow runs, deliveries), the merge records that mention it and the profile. Returns the
    `running` ErasureRecord; the caller enqueues the job (apps.profiles.tasks)."""
    with transaction.atomic():
        profile = profile_find(profile_id=profile_id, lock=True)
        if profile is not None:
            running = ErasureRecord.objects.filter(
                status=Status.RUNNING, profile_ids__contains=[profile.pk]
            ).first()
            if running is not None:
                raise ProfileNotFound(
                    f"Profile {profile.pk} is being erased since "
                    f"{running.started_at:%Y-%m-%d %H:%M} (erasure {running.pk})."
                )
        if profile is None:
            erased = (
                ErasureRecord.objects.filter(profile_ids__contains=[profile_id])
                .order_by("-started_at")
                .first()
            )
            if erased is not None:
                raise ProfileNotFound(
                    f"Profile {profile_id} was already erased on "
                    f"{erased.started_at:%Y-%m-%d %H:%M} (by {erased.actor})."
                )
            raise ProfileNotFound(f"No profile has the id {profile_id!r} (nor merged it earlier).")
        now = timezone.now()
        return ErasureRecord.objects.create(
            profile_ids=list(dict.fromkeys([profile.pk, *profile.ids])),
            actor=actor,
            status=Status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            deleted=dict.fromkeys(_count_keys(), 0),
        )


def erasure_proceed(
    *, erasure_id: str, seconds: float = RUN_SECONDS, batch_size: int = BATCH_SIZE
) -> bool:
    """Erase batches of the erasure's rows for about `seconds` (at least one batch), and finish
    it when none is left; True when it is done. Safe to run again, also concurrently (batches
    serialise on the record's row)."""
    record = ErasureRecord.objects.filter(pk=erasure_id).only("status", "profile_ids").first()
    if record is None or record.status == Status.DONE:
        return True
    deadline = time.monotonic() + seconds
    profile_id, ids = record.profile_ids[0], record.profile_ids
    for follower, rows, hanging in _selections(profile_id, ids):
        while _batch_erase(
            erasure_id=erasure_id,
            follower=follower,
            rows=rows,
            hanging=hanging,
            batch_size=batch_size,
        ):
            if time.monotonic() > deadline:
                return False
    return _erasure_finish(erasure_id=erasure_id)


def erasures_stalled(*, now: datetime | None = None) -> list[str]:
    """Running erasures whose job stopped writing (its worker died, its message was lost)."""
    cutoff = (now or timezone.now()) - STALLED_AFTER
    return list(
        ErasureRecord.objects.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )


def erasure_counts(record: ErasureRecord) -> list[tuple[str, int]]:
    """The record's counts as a person reads them: the profile, then what hangs on it, nearest
    first (the stored JSON object does not keep an order)."""
    keys = _count_keys()
    extra = sorted(key for key in record.deleted if key not in keys)
    return [(key, record.deleted[key]) for key in [*keys, *extra] if key in record.deleted]


def erasure_counts_text(record: ErasureRecord) -> str:
    """The non-zero counts: "events: 1200, workflow runs: 30"."""
    return ", ".join(
        f"{name.replace('_', ' ')}: {count}" for name, count in erasure_counts(record) if count
    )


def _followers_by_rank() -> list[ProfileFollower]:
    return sorted(profile_followers(), key=lambda follower: follower.erase_rank)


def _count_keys() -> list[str]:
    # Listed as a person reads them: the profile, then what hangs on it, nearest first.
    nearest_first = sorted(profile_followers(), key=lambda follower: -follower.erase_rank)
    return ["profiles", *(follower.key for follower in nearest_first), "merge_records"]


def _selections(
    profile_id: str, ids: list[str]
) -> Iterable[tuple[ProfileFollower, models.QuerySet, list[ProfileFollower]]]:
    """(follower, one of its row selections, the followers whose rows hang on its rows)."""
    followers = _followers_by_rank()
    for follower in followers:
        hanging = [
            other
            for other in followers
            if other.erasure_hangs_on is not None and other.erasure_hangs_on[0] == follower.key
        ]
        for rows in follower.erasure_rows(profile_id, ids):
            yield follower, rows, hanging


def _batch_erase(
    *,
    erasure_id: str,
    follower: ProfileFollower,
    rows: models.QuerySet,
    hanging: list[ProfileFollower],
    batch_size: int,
) -> bool:
    """Delete one batch of `rows` and what hangs on it, and count it on the record, in one
    transaction. False when nothing is left (or the erasure is done)."""
    with transaction.atomic():
        record = ErasureRecord.objects.select_for_update().only("status", "deleted")
        record = record.get(pk=erasure_id)
        if record.status == Status.DONE:
            return False
        pks = list(rows.values_list("pk", flat=True)[:batch_size])
        if not pks:
            return False
        deleted = record.deleted
        for other in hanging:
            _add_counts(deleted, _delete(other.erasure_hangs_on[1](pks)))
        _add_counts(deleted, _delete(follower.model.objects.filter(pk__in=pks)))
        ErasureRecord.objects.filter(pk=erasure_id).update(
            deleted=deleted, heartbeat_at=timezone.now()
        )
    return True


def _erasure_finish(*, erasure_id: str) -> bool:
    with transaction.atomic():
        record = ErasureRecord.objects.select_for_update().get(pk=erasure_id)
        if record.status == Status.DONE:
            return True
        ids = record.profile_ids
        # Locked, nothing new can hang on the profile; what arrived during the batches (few
        # rows) goes now, in this transaction.
        Profile.objects.select_for_update().filter(pk=ids[0]).values_list("pk").first()
        deleted = record.deleted
        for follower, rows, hanging in _selections(ids[0], ids):
            pks = list(rows.values_list("pk", flat=True))
            if pks:
                for other in hanging:
                    _add_counts(deleted, _delete(other.erasure_hangs_on[1](pks)))
                _add_counts(deleted, _delete(follower.model.objects.filter(pk__in=pks)))
        merge_records = MergeRecord.objects.filter(
            Q(survivor_id__in=ids) | Q(merged_ids__overlap=ids)
        )
        deleted["merge_records"] = deleted.get("merge_records", 0) + _delete(merge_records).get(
            MergeRecord._meta.label, 0
        )
        profiles = _delete(Profile.objects.filter(pk=ids[0]))
        deleted["profiles"] = deleted.get("profiles", 0) + profiles.get(Profile._meta.label, 0)
        _add_counts(deleted, profiles)
        requests = sum(
            follower.after_erasure(record.pk, ids)
            for follower in _followers_by_rank()
            if follower.after_erasure is not None
        )
        now = timezone.now()
        ErasureRecord.objects.filter(pk=erasure_id).update(
            status=Status.DONE,
            erased_at=now,
            heartbeat_at=now,
            deleted=deleted,
            deletion_requests=record.deletion_requests + requests,
        )
    return True


def _delete(queryset: models.QuerySet) -> dict[str, int]:
    """Delete through Django's collector (cascades and SET NULL of every app, which profiles
    does not know); the rows deleted per model label. The collector reads the rows before it
    deletes them: their keys are enough (no model here has delete signals)."""
    _, per_model = queryset.only("pk").delete()
    return per_model


def _add_counts(deleted: dict[str, int], per_model: dict[str, int]) -> None:
    for follower in profile_followers():
        count = per_model.get(follower.model._meta.label, 0)
        if count:
            deleted[follower.key] = deleted.get(follower.key, 0) + count
