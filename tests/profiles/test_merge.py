import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.events.models import Event
from apps.profiles.models import Entity, MergeRecord, Profile, Session
from apps.profiles.selectors import profile_id_resolve
from apps.profiles.services.merge import (
    MergeError,
    profile_row_snapshot,
    profiles_merge,
    profiles_merge_by,
)
from apps.profiles.services.merge_undo import merge_undo
from apps.profiles.services.segment_history import SEGMENT_EVENT_TYPES
from apps.workflows.models import WorkflowRun
from tests.events.factories import EventFactory
from tests.profiles.factories import EntityFactory, ProfileFactory, SessionFactory
from tests.workflows.factories import WorkflowFactory

T0 = timezone.now().replace(microsecond=0) - timedelta(days=10)


def iso(days: int) -> str:
    return (T0 + timedelta(days=days)).isoformat()


def alice() -> Profile:
    return ProfileFactory(
        id="alice",
        ids=["alice-old"],
        created=T0,
        updated=T0 + timedelta(days=5),
        visit_count=3,
        segments=["newsletter"],
        traits={"plan": "free", "logins": 2, "tags": ["a", "b"], "address": {"city": "Oslo"}},
        stats={"visits": 3, "views": 10},
        interests={"sport": 1.5, "music": 1},
        consents={"marketing": {"revoke": None}},
        data={"pii": {"firstname": "Alice"}, "contact": {"email": {"main": "a@x.io"}}},
        metadata={
            "time": {
                "insert": iso(0),
                "create": iso(0),
                "visit": {"last": iso(3), "current": iso(4), "count": 3},
            },
            "fields": {"traits.plan": iso(1)},
        },
    )


def alice_on_phone() -> Profile:
    return ProfileFactory(
        id="phone",
        created=T0 + timedelta(days=2),
        updated=T0 + timedelta(days=6),
        visit_count=2,
        segments=["mobile", "newsletter"],
        traits={"plan": "pro", "logins": 1, "tags": ["b", "c"], "address": {"zip": "0150"}},
        stats={"visits": 2},
        interests={"sport": 1, "travel": 2},
        consents={"marketing": {"revoke": iso(9)}, "cookies": {"revoke": None}},
        data={"pii": {"lastname": "Smith"}, "contact": {"email": {"main": "a@x.io"}}},
        metadata={
            "time": {
                "insert": iso(2),
                "create": iso(2),
                "visit": {"last": iso(5), "current": iso(6), "count": 2},
            },
            "fields": {"traits.plan": iso(6)},
        },
    )


def visitor_events():
    """The events the tests stored, without the segment events the CDP stores itself."""
    return Event.objects.exclude(type__in=SEGMENT_EVENT_TYPES)


def segment_events() -> list[tuple]:
    return list(
        Event.objects.filter(type__in=SEGMENT_EVENT_TYPES)
        .order_by("time", "type")
        .values_list("type", "profile_id", "properties__segment__slug", "properties__cause")
    )


@pytest.mark.django_db
def test_merge_follows_tracardi_semantics():
    survivor, merged = alice(), alice_on_phone()
    phone_session = SessionFactory(id="phone-s", profile=merged)
    phone_event = EventFactory(id="phone-e", profile=merged, session=phone_session)
    own_event = EventFactory(id="alice-e", profile=survivor, session__profile=survivor)

    result = profiles_merge(profile_ids=["alice", "phone"], reason="same e-mail", actor="admin")

    assert result.pk == "alice"
    profile = Profile.objects.get()
    assert profile.pk == "alice"
    assert profile.ids == ["alice-old", "phone"]
    assert profile.traits == {
        "plan": "pro",
        "logins": 3,
        "tags": ["a", "b", "c"],
        "address": {"city": "Oslo", "zip": "0150"},
    }
    assert profile.stats == {"visits": 5, "views": 10}
    assert profile.interests == {"sport": 2.5, "music": 1, "travel": 2}
    assert profile.segments == ["newsletter", "mobile"]
    assert profile.consents == {"marketing": {"revoke": iso(9)}, "cookies": {"revoke": None}}
    assert profile.data == {
        "pii": {"firstname": "Alice", "lastname": "Smith"},
        "contact": {"email": {"main": "a@x.io"}},
    }
    assert profile.visit_count == 5
    assert profile.created == T0
    time = profile.metadata["time"]
    assert (time["insert"], time["create"]) == (iso(0), iso(0))
    assert time["visit"] == {"last": iso(5), "current": iso(6), "count": 5}
    assert profile.metadata["fields"] == {"traits.plan": iso(6)}
    assert dict(visitor_events().values_list("pk", "profile_id")) == {
        "phone-e": "alice",
        "alice-e": "alice",
    }
    # The survivor entered the merged profile's segment: one segment-entered system event.
    assert segment_events() == [("segment-entered", "alice", "mobile", "merge")]
    assert Session.objects.get(pk="phone-s").profile_id == "alice"
    assert phone_event.pk  # still stored
    assert own_event.pk

    # A client that still holds the merged id finds the survivor.
    assert profile_id_resolve(profile_id="phone", static=False).id == "alice"
    assert profile_id_resolve(profile_id="alice-old", static=False).id == "alice"


@pytest.mark.django_db
def test_every_merge_is_recorded_with_snapshots_and_the_rows_it_moved():
    survivor, merged = alice(), alice_on_phone()
    survivor_before, merged_before = profile_row_snapshot(survivor), profile_row_snapshot(merged)
    EventFactory(id="e1", profile=merged, session=SessionFactory(id="s1", profile=merged))
    EventFactory(id="e2", profile=merged, session=None)
    EntityFactory(id="order-7", type="order", profile=merged)
    EntityFactory(id="car-1", type="car", profile=survivor)

    profiles_merge(profile_ids=["alice", "phone"], reason="same e-mail", actor="admin")

    record = MergeRecord.objects.get()
    assert (record.survivor_id, record.merged_ids) == ("alice", ["phone"])
    assert (record.reason, record.actor, record.status) == ("same e-mail", "admin", "merged")
    assert record.survivor_before == survivor_before
    assert record.merged_profiles == [merged_before]
    assert record.repointed == {
        "events": {"phone": ["e1", "e2"]},
        "sessions": {"phone": ["s1"]},
        "consent_changes": {},
        "entities": {"phone": ["order-7"]},
        "workflow_runs": {},
        "parked_runs": {},
        "deliveries": {},
    }
    assert dict(Entity.objects.values_list("pk", "profile_id")) == {
        "order-7": "alice",
        "car-1": "alice",
    }


@pytest.mark.django_db
def test_undo_restores_the_profiles_and_their_rows_exactly():
    survivor, merged, third = alice(), alice_on_phone(), ProfileFactory(id="tablet")
    WorkflowRun.objects.create(
        workflow=WorkflowFactory(),
        workflow_version=1,
        event_ref="x",
        event_type="page-view",
        profile=merged,
        status="ok",
        started=T0,
        duration_ms=1,
    )
    EventFactory(id="e1", profile=merged, session=SessionFactory(id="s1", profile=merged))
    EventFactory(id="e3", profile=third, session=SessionFactory(id="s3", profile=third))
    EventFactory(id="e0", profile=survivor, session=SessionFactory(id="s0", profile=survivor))
    EntityFactory(id="order-1", type="order", profile=merged)
    EntityFactory(id="order-2", type="order", profile=third)
    EntityFactory(id="order-0", type="order", profile=survivor)
    EntityFactory(id="store-9", type="store", profile=None)
    entities_before = dict(Entity.objects.values_list("pk", "profile_id"))
    snapshots_before = {p.pk: profile_row_snapshot(p) for p in Profile.objects.all()}
    events_before = dict(visitor_events().values_list("pk", "profile_id"))
    sessions_before = dict(Session.objects.values_list("pk", "profile_id"))
    runs_before = list(WorkflowRun.objects.values_list("pk", "profile_id"))

    profiles_merge(profile_ids=["alice", "phone", "tablet"], reason="r", actor="admin")
    assert list(Profile.objects.values_list("pk", flat=True)) == ["alice"]
    assert set(WorkflowRun.objects.values_list("profile_id", flat=True)) == {"alice"}
    assert dict(Entity.objects.values_list("pk", "profile_id")) == {
        "order-1": "alice",
        "order-2": "alice",
        "order-0": "alice",
        "store-9": None,
    }

    record = merge_undo(merge_id=MergeRecord.objects.get().pk, actor="support")

    assert {p.pk: profile_row_snapshot(p) for p in Profile.objects.all()} == snapshots_before
    assert dict(visitor_events().values_list("pk", "profile_id")) == events_before
    # The survivor entered "mobile" by the merge and left it by the undo (history and events).
    assert segment_events() == [
        ("segment-entered", "alice", "mobile", "merge"),
        ("segment-left", "alice", "mobile", "merge"),
    ]
    assert dict(Session.objects.values_list("pk", "profile_id")) == sessions_before
    assert list(WorkflowRun.objects.values_list("pk", "profile_id")) == runs_before
    assert entities_before == {
        "order-1": "phone",
        "order-2": "tablet",
        "order-0": "alice",
        "store-9": None,
    }
    assert dict(Entity.objects.values_list("pk", "profile_id")) == entities_before
    assert (record.status, record.undone_by) == ("undone", "support")
    assert profile_id_resolve(profile_id="phone", static=False).id == "phone"


@pytest.mark.django_db
def test_undo_is_refused_when_it_would_lose_a_later_merge_or_was_done():
    alice(), alice_on_phone(), ProfileFactory(id="tablet")
    first = profiles_merge(profile_ids=["alice", "phone"], reason="r", actor="a")
    first_record = MergeRecord.objects.get(survivor_id=first.pk)
    profiles_merge(profile_ids=["alice", "tablet"], reason="r", actor="a")
    later = MergeRecord.objects.exclude(pk=first_record.pk).get()

    with pytest.raises(MergeError) as caught:
        merge_undo(merge_id=first_record.pk, actor="support")
    assert str(caught.value) == (
        f"Profile alice took part in a later merge ({later.pk} on "
        f"{later.created:%Y-%m-%d %H:%M}); undo that one first."
    )

    merge_undo(merge_id=later.pk, actor="support")
    merge_undo(merge_id=first_record.pk, actor="support")
    assert sorted(Profile.objects.values_list("pk", flat=True)) == ["alice", "phone", "tablet"]
    with pytest.raises(MergeError, match="This merge was already undone on"):
        merge_undo(merge_id=first_record.pk, actor="support")


@pytest.mark.django_db
def test_merging_by_ids_already_merged_resolves_them_to_their_profile():
    alice(), alice_on_phone(), ProfileFactory(id="tablet")
    profiles_merge(profile_ids=["alice", "phone"], reason="r", actor="a")

    survivor = profiles_merge(profile_ids=["tablet", "phone", "nobody"], reason="r", actor="a")

    assert survivor.pk == "tablet"
    assert list(Profile.objects.values_list("pk", flat=True)) == ["tablet"]
    assert survivor.ids == ["alice", "alice-old", "phone"]


@pytest.mark.django_db
def test_merging_a_profile_with_itself_changes_nothing():
    alice()
    profiles_merge(profile_ids=["alice", "alice-old", "alice"], reason="r", actor="a")
    assert not MergeRecord.objects.exists()
    with pytest.raises(MergeError, match="No profile has the id 'ghost'"):
        profiles_merge(profile_ids=["ghost", "alice"], reason="r", actor="a")


@pytest.mark.django_db
def test_merge_by_finds_the_others_with_the_same_values():
    current = ProfileFactory(data={"contact": {"email": {"main": "Jo@X.io"}}})
    same = ProfileFactory(data={"contact": {"email": {"main": "jo@x.io"}}})
    other = ProfileFactory(data={"contact": {"email": {"main": "someone@x.io"}}})

    survivor = profiles_merge_by(
        profile_id=current.pk, merge_by=["profile@data.contact.email.main"]
    )

    assert survivor.pk == current.pk
    assert sorted(Profile.objects.values_list("pk", flat=True)) == sorted([current.pk, other.pk])
    assert survivor.ids == [same.pk]
    assert profiles_merge_by(profile_id=other.pk, merge_by=["data.contact.email.main"]) is None
    assert profiles_merge_by(profile_id=current.pk, merge_by=["data.contact.phone.main"]) is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_merges_of_the_same_people_end_in_one_survivor():
    ids = ["p1", "p2", "p3"]
    for pid in ids:
        profile = ProfileFactory(id=pid, traits={"n": 1})
        EventFactory(id=f"e-{pid}", profile=profile, session=SessionFactory(profile=profile))
    orders = [["p1", "p2", "p3"], ["p3", "p2", "p1"], ["p2", "p1"], ["p3", "p1"]]
    barrier = threading.Barrier(len(orders))
    errors: list[BaseException] = []

    def merge(order: list[str]) -> None:
        try:
            barrier.wait()
            profiles_merge(profile_ids=order, reason="race", actor="test")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=merge, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    survivor = Profile.objects.get()
    assert sorted([survivor.pk, *survivor.ids]) == ids
    assert survivor.traits == {"n": 3}
    assert set(Event.objects.values_list("profile_id", flat=True)) == {survivor.pk}
    assert set(Session.objects.values_list("profile_id", flat=True)) == {survivor.pk}


@pytest.mark.django_db
def test_merge_sums_the_counters_and_undo_restores_them():
    # A profile from before stats.visits was kept (only its visit_count says 4).
    ProfileFactory(id="old", visit_count=4, stats={"views": 6, "spent": 1.5})
    ProfileFactory(id="new", visit_count=2, stats={"visits": 2, "views": 3})
    before = {p.pk: profile_row_snapshot(p) for p in Profile.objects.all()}

    profiles_merge(profile_ids=["new", "old"], reason="same person", actor="admin")

    survivor = Profile.objects.get()
    assert (survivor.pk, survivor.visit_count) == ("new", 6)
    assert survivor.stats == {"visits": 6, "views": 9, "spent": 1.5}

    merge_undo(merge_id=MergeRecord.objects.get().pk, actor="admin")
    assert {p.pk: profile_row_snapshot(p) for p in Profile.objects.all()} == before
    assert dict(Profile.objects.values_list("pk", "stats")) == {
        "old": {"views": 6, "spent": 1.5},
        "new": {"visits": 2, "views": 3},
    }
