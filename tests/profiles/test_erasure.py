import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Q
from django.utils import timezone

from apps.destinations.models import Delivery, DeliveryAttempt, Destination, Resource
from apps.events.models import Event
from apps.profiles.models import (
    ConsentChange,
    Entity,
    ErasureRecord,
    MergeRecord,
    Profile,
    Session,
)
from apps.profiles.selectors import profile_id_is_forgotten
from apps.profiles.services.erasure import ProfileNotFound, erasure_proceed, profile_forget
from apps.profiles.services.merge import profiles_merge
from apps.profiles.services.merge_undo import merge_undo
from apps.workflows.models import ParkedRun, WorkflowRun
from tests.events.factories import EventFactory
from tests.profiles.factories import EntityFactory, ProfileFactory, SessionFactory
from tests.sources.factories import EventSourceFactory
from tests.workflows.factories import WorkflowFactory

EMAIL = "forget.me@example.com"


def person_with_history() -> tuple[Profile, list[str]]:
    """A person seen on a laptop and a phone (merged), with events, runs and deliveries; plus an
    undone merge with a third profile (whose record holds a snapshot of the person). Each merge
    and undo schedules the pending sync of the profiles it changed: laptop and bystander have a
    sent delivery and a pending one each. The phone granted and revoked a consent (its history
    moves to the laptop with the merge)."""
    now = timezone.now()
    laptop = ProfileFactory(id="laptop", data={"contact": {"email": {"main": EMAIL}}})
    phone = ProfileFactory(id="phone", traits={"name": "Forget Me"})
    bystander = ProfileFactory(id="bystander")
    source = EventSourceFactory()
    for profile in (laptop, phone, bystander):
        session = SessionFactory(id=f"{profile.pk}-s", profile=profile)
        EventFactory(id=f"{profile.pk}-e", profile=profile, session=session, source=source)
    # Stored without a profile row (saveProfile=false) but naming the profile.
    EventFactory(
        id="profileless",
        profile=None,
        session=None,
        source=source,
        metadata={"profile_id": "phone"},
    )
    workflow = WorkflowFactory()
    for event_id, profile in (("laptop-e", laptop), ("bystander-e", bystander)):
        WorkflowRun.objects.create(
            workflow=workflow,
            workflow_version=1,
            event_id=event_id,
            event_ref=event_id,
            event_type="page-view",
            profile=profile,
            status="ok",
            started=now,
            duration_ms=1,
        )
    destination = Destination.objects.create(
        name="CRM", resource=Resource.objects.create(name="Hook", type="webhook")
    )
    for profile in (laptop, bystander):
        delivery = Delivery.objects.create(
            destination=destination,
            profile=profile,
            due_at=now,
            first_change_at=now,
            latest_due_at=now,
            created=now,
            updated=now,
            payload={"email": EMAIL},
            status=Delivery.Status.SENT,
        )
        DeliveryAttempt.objects.create(
            delivery=delivery, destination=destination, number=1, started=now, duration_ms=1
        )

    for profile, action in ((phone, "granted"), (phone, "revoked"), (bystander, "granted")):
        ConsentChange.objects.create(
            profile=profile, consent_type="marketing", action=action, at=now, via="event", by="e"
        )

    # Orders of each device, a car of the bystander, and a store that belongs to nobody.
    EntityFactory(id="order-1", type="order", profile=laptop)
    EntityFactory(id="order-2", type="order", profile=phone)
    EntityFactory(id="car-1", type="car", profile=bystander)
    EntityFactory(id="store-1", type="store", profile=None)

    profiles_merge(profile_ids=["laptop", "bystander"], reason="wrong guess", actor="a")
    merge_undo(merge_id=MergeRecord.objects.get().pk, actor="a")
    profiles_merge(profile_ids=["laptop", "phone"], reason="same person", actor="a")
    return Profile.objects.get(pk="laptop"), ["laptop", "phone"]


def rows_mentioning(ids: list[str]) -> dict[str, int]:
    sessions = Session.objects.filter(profile_id__in=ids)
    events = Event.objects.filter(
        Q(profile_id__in=ids) | Q(session__in=sessions) | Q(metadata__profile_id__in=ids)
    )
    return {
        "profiles": Profile.objects.filter(Q(pk__in=ids) | Q(ids__overlap=ids)).count(),
        "sessions": sessions.count(),
        "events": events.count(),
        "workflow_runs": WorkflowRun.objects.filter(
            Q(profile_id__in=ids) | Q(event_ref__in=["laptop-e", "phone-e"])
        ).count(),
        "deliveries": Delivery.objects.filter(profile_id__in=ids).count(),
        "consent_changes": ConsentChange.objects.filter(profile_id__in=ids).count(),
        "entities": Entity.objects.filter(profile_id__in=ids).count(),
        "parked_runs": ParkedRun.objects.filter(profile_id__in=ids).count(),
        "delivery_attempts": DeliveryAttempt.objects.filter(delivery__profile_id__in=ids).count(),
        "merge_records": MergeRecord.objects.filter(
            Q(survivor_id__in=ids) | Q(merged_ids__overlap=ids)
        ).count(),
    }


@pytest.mark.django_db
def test_forgetting_leaves_nothing_behind_but_an_anonymous_record():
    person, ids = person_with_history()
    before = rows_mentioning(ids)
    assert before == {
        "profiles": 1,
        "sessions": 2,
        "events": 3,
        "workflow_runs": 1,
        "deliveries": 2,
        "consent_changes": 2,
        "entities": 2,
        "parked_runs": 0,
        "delivery_attempts": 1,
        "merge_records": 2,
    }

    record = profile_forget(profile_id="phone", actor="dpo@example.com")
    assert erasure_proceed(erasure_id=record.pk) is True
    record.refresh_from_db()

    assert rows_mentioning(ids) == dict.fromkeys(before, 0)
    assert (record.status, record.profile_ids) == ("done", ["laptop", "phone"])
    assert record.deleted == {
        "profiles": 1,
        "sessions": 2,
        "events": 3,
        "workflow_runs": 1,
        "deliveries": 2,
        "consent_changes": 2,
        "entities": 2,
        "parked_runs": 0,
        "merge_records": 2,
    }
    stored = json.dumps(list(ErasureRecord.objects.values("profile_ids", "actor", "deleted")))
    assert EMAIL not in stored and "Forget Me" not in stored
    # The bystander keeps everything of its own.
    assert Profile.objects.filter(pk="bystander").exists()
    assert Event.objects.filter(pk="bystander-e", profile_id="bystander").exists()
    assert WorkflowRun.objects.filter(profile_id="bystander").count() == 1
    assert Delivery.objects.filter(profile_id="bystander").count() == 2
    assert ConsentChange.objects.filter(profile_id="bystander").count() == 1
    assert dict(Entity.objects.values_list("pk", "profile_id")) == {
        "car-1": "bystander",
        "store-1": None,
    }


@pytest.mark.django_db
def test_forgotten_ids_are_known_and_never_found_again():
    person_with_history()
    erasure_proceed(erasure_id=profile_forget(profile_id="laptop", actor="dpo").pk)

    assert profile_id_is_forgotten("laptop") is True
    assert profile_id_is_forgotten("phone") is True
    assert profile_id_is_forgotten("bystander") is False
    with pytest.raises(ProfileNotFound) as caught:
        profile_forget(profile_id="phone", actor="dpo")
    assert str(caught.value).startswith("Profile phone was already erased on ")
    with pytest.raises(ProfileNotFound) as caught:
        profile_forget(profile_id="nobody", actor="dpo")
    assert str(caught.value) == "No profile has the id 'nobody' (nor merged it earlier)."


@pytest.mark.django_db
def test_forget_profile_command_prints_what_it_deleted():
    person_with_history()
    out = StringIO()

    call_command("forget_profile", "phone", "--yes", "--wait", stdout=out)

    assert out.getvalue().splitlines()[:-1] == [
        "Erased profile laptop.",
        "Merged ids erased with it: phone",
        "  profiles: 1",
        "  sessions: 2",
        "  events: 3",
        "  consent changes: 2",
        "  entities: 2",
        "  workflow runs: 1",
        "  deliveries: 2",
        "  parked runs: 0",
        "  merge records: 2",
    ]
    assert out.getvalue().splitlines()[-1] == (f"Erasure record: {ErasureRecord.objects.get().pk}")
    assert rows_mentioning(["laptop", "phone"])["profiles"] == 0


@pytest.mark.django_db
def test_forget_profile_command_fails_clearly_for_an_unknown_id():
    with pytest.raises(CommandError) as caught:
        call_command("forget_profile", "ghost", "--yes")
    assert str(caught.value) == (
        "No profile has the id 'ghost' (nor merged it earlier), nor that e-mail or primary id."
    )


@pytest.mark.django_db
def test_forget_profile_command_asks_first(monkeypatch):
    ProfileFactory(id="kept")
    monkeypatch.setattr("builtins.input", lambda prompt: "no")

    with pytest.raises(CommandError, match="^Not erased.$"):
        call_command("forget_profile", "kept", stdout=StringIO())

    assert Profile.objects.filter(pk="kept").exists()
