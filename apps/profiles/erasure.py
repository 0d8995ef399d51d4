"""Erasure ("forget this person"): delete a profile and everything recorded about it, and keep
only an ErasureRecord with its ids, the time, the actor and how many rows went.

The ids stay on the record so that they never resolve again: identity resolution asks
`profile_id_is_forgotten` before creating a profile for an unknown client id, and a forgotten
id gets a fresh profile (never one with that id, even from a source with static profile ids).
"""

from django.apps import apps as django_apps
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from apps.events.models import Event
from apps.profiles.merging import profile_find_any
from apps.profiles.models import ErasureRecord, MergeRecord, Profile, Session


class ProfileNotFound(Exception):
    pass


def profile_id_is_forgotten(profile_id: str) -> bool:
    """Whether an erased profile had this id (its own or a merged one); one indexed query."""
    return ErasureRecord.objects.filter(profile_ids__contains=[profile_id]).exists()


def profile_forget(*, profile_id: str, actor: str) -> ErasureRecord:
    """Erase the profile with this id (or merged id): its sessions, events, workflow runs,
    deliveries and the merge records that mention it; returns the ErasureRecord."""
    with transaction.atomic():
        profile = profile_find_any(profile_id=profile_id, lock=True)
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


def _optional_model(app_label: str, name: str) -> type[models.Model] | None:
    try:
        return django_apps.get_model(app_label, name)
    except LookupError:
        return None


def _delete_everything(profile: Profile, ids: list[str]) -> dict[str, int]:
    pk = profile.pk
    session_ids = Session.objects.filter(profile_id=pk).values("pk")
    # Events of the profile, of its sessions, and those stored without a profile row
    # (saveProfile=false) that name it in metadata. The last is a scan of the profile-less
    # events, acceptable for a rare operator action that must leave nothing behind.
    events = Event.objects.filter(
        Q(profile_id=pk)
        | Q(session_id__in=session_ids)
        | Q(profile__isnull=True, metadata__profile_id__in=ids)
    )
    event_ids = events.values("pk")
    deleted = {"profiles": 0, "sessions": 0, "events": 0}

    run_model = _optional_model("workflows", "WorkflowRun")
    if run_model is not None:
        runs = run_model.objects.filter(Q(profile_id=pk) | Q(event_id__in=event_ids))
        deleted["workflow_runs"] = _delete(runs)
    delivery_model = _optional_model("destinations", "Delivery")
    if delivery_model is not None:
        deliveries = delivery_model.objects.filter(Q(profile_id=pk) | Q(event_id__in=event_ids))
        deleted["deliveries"] = _delete(deliveries)
    deleted["events"] = _delete(events)
    deleted["sessions"] = _delete(Session.objects.filter(profile_id=pk))
    deleted["merge_records"] = _delete(
        MergeRecord.objects.filter(Q(survivor_id__in=ids) | Q(merged_ids__overlap=ids))
    )
    deleted["profiles"] = _delete(Profile.objects.filter(pk=pk))
    return deleted


def _delete(queryset: models.QuerySet) -> int:
    _, per_model = queryset.delete()
    return per_model.get(queryset.model._meta.label, 0)
