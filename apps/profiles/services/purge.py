"""Deleting anonymous profiles that stopped coming (the retention purge, `manage.py purge
--anonymous-inactive`): a batch at a time, each in one short transaction, with the rows that
follow them (apps.profiles.hooks: workflow runs, deliveries; their sessions cascade).

Unlike an erasure it keeps no record per profile (the caller records the purge as a whole)
and does not forget the ids: nobody is being forgotten, a returning visitor with a purged id
simply gets a new profile.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models, transaction

from apps.profiles.hooks import profile_followers
from apps.profiles.models import Profile
from apps.profiles.selectors import anonymous_inactive_profiles


def profiles_purge_anonymous(*, profile_ids: list[str], before: datetime) -> dict[str, int]:
    """Delete those of `profile_ids` that are still anonymous, inactive since `before` and
    without events, with what follows them; rows deleted per model label. Profiles locked by a
    writer (a visitor who just came back) are skipped, and the locks taken here make a
    concurrent /track wait for this short transaction, then find the profile gone."""
    with transaction.atomic():
        pks = list(
            anonymous_inactive_profiles(before=before)
            .filter(pk__in=profile_ids)
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)
        )
        if not pks:
            return {}
        deleted: dict[str, int] = {}
        followers = sorted(profile_followers(), key=lambda follower: follower.erase_rank)
        for follower in followers:
            _add(deleted, _delete(follower.model.objects.filter(profile_id__in=pks)))
        _add(deleted, _delete(Profile.objects.filter(pk__in=pks)))
    return deleted


def _delete(queryset: models.QuerySet) -> dict[str, int]:
    # Through Django's collector: the cascades of every app (sessions, their events).
    _, per_model = queryset.only("pk").delete()
    return per_model


def _add(deleted: dict[str, int], per_model: dict[str, int]) -> None:
    for label, count in per_model.items():
        if count:
            deleted[label] = deleted.get(label, 0) + count
