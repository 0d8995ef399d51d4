"""Erasure ("forget this person"): delete a profile and everything recorded about it, and keep
only an ErasureRecord with its ids, the time, the actor and how many rows went.

What goes with the profile is every row that follows it (apps.profiles.hooks): each follower
names its rows, and they are deleted by `erase_rank`, lowest first, so that rows pointing at
other followers' rows go before those.

The ids stay on the record so that they never resolve again: identity resolution asks
`profile_id_is_forgotten` before creating a profile for an unknown client id, and a forgotten
id gets a fresh profile (never one with that id, even from a source with static profile ids).
"""

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from apps.profiles.hooks import profile_followers
from apps.profiles.models import ErasureRecord, MergeRecord, Profile
from apps.profiles.selectors import profile_find


class ProfileNotFound(Exception):
    pass


def profile_forget(*, profile_id: str, actor: str) -> ErasureRecord:
    """Erase the profile with this id (or merged id): the rows that follow it (sessions,
    events, workflow runs, deliveries) and the merge records that mention it; returns the
    ErasureRecord."""
    with transaction.atomic():
        profile = profile_find(profile_id=profile_id, lock=True)
        if profile is None:
            erased = (
                ErasureRecord.objects.filter(profile_ids__contains=[profile_id])
                .order_by("-erased_at")
                .first()
            )
            if erased is not None:
                raise ProfileNotFound(
                    f"Profile {profile_id} was already erased on "
                    f"{erased.erased_at:%Y-%m-%d %H:%M} (by {erased.actor})."
                )
            raise ProfileNotFound(f"No profile has the id {profile_id!r} (nor merged it earlier).")
        ids = list(dict.fromkeys([profile.pk, *profile.ids]))
        deleted = _delete_everything(profile, ids)
        return ErasureRecord.objects.create(
            profile_ids=ids, actor=actor, erased_at=timezone.now(), deleted=deleted
        )


def _delete_everything(profile: Profile, ids: list[str]) -> dict[str, int]:
    followers = sorted(profile_followers(), key=lambda follower: follower.erase_rank)
    counts = {
        follower.key: _delete(follower.erasure_rows(profile.pk, ids)) for follower in followers
    }
    merge_records = _delete(
        MergeRecord.objects.filter(Q(survivor_id__in=ids) | Q(merged_ids__overlap=ids))
    )
    profiles = _delete(Profile.objects.filter(pk=profile.pk))
    # Listed as a person reads them: the profile, then what hangs on it, nearest first.
    nearest_first = sorted(followers, key=lambda follower: -follower.erase_rank)
    return {
        "profiles": profiles,
        **{follower.key: counts[follower.key] for follower in nearest_first},
        "merge_records": merge_records,
    }


def _delete(queryset: models.QuerySet) -> int:
    _, per_model = queryset.delete()
    return per_model.get(queryset.model._meta.label, 0)
