"""Many profiles per worker task (apps.tracking.batches), in-process: which profiles a task
takes, the order of each profile's events, a failure in one profile, merges. The same with a
real worker, and a worker killed mid-batch: test_batches_worker.py."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.events.models import Event
from apps.profiles.models import Profile
from apps.tracking.batches import profiles_events_process
from apps.tracking.processing import PROFILE_LOCK_NAMESPACE, Processed, profile_lock_key
from apps.workflows.models import WorkflowRun
from tests.profiles.factories import IdentificationPointFactory
from tests.support.database import other_connection
from tests.workflows.factories import EventFactory, ProfileFactory, RuleFactory, WorkflowFactory
from tests.workflows.graphs import linear_graph

pytestmark = pytest.mark.django_db(transaction=True)

T0 = timezone.now().replace(microsecond=0) - timedelta(hours=1)


def seen_workflow():
    return WorkflowFactory(
        graph=linear_graph(("append_remove", {"append": {"profile@traits.seen": "event@id"}}))
    )


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def interleaved(profiles: list[Profile], per_profile: int) -> dict[str, list[str]]:
    """Events of the profiles with interleaved times, stored newest first (so that neither
    the insert order nor the id order is the event order). Returns each profile's event ids
    in event order."""
    expected: dict[str, list[str]] = {profile.id: [] for profile in profiles}
    slots = [
        (index * len(profiles) + position, profile)
        for index in range(per_profile)
        for position, profile in enumerate(profiles)
    ]
    for slot, profile in reversed(slots):
        EventFactory(
            id=f"ev-{slot:03d}-{profile.id[:6]}",
            profile=profile,
            session=None,
            time=T0 + timedelta(seconds=slot),
            inserted=T0 + timedelta(seconds=1000 - slot),
        )
    for slot, profile in slots:
        expected[profile.id].append(f"ev-{slot:03d}-{profile.id[:6]}")
    return expected


def seen(profile: Profile) -> list[str]:
    return Profile.objects.get(pk=profile.pk).traits.get("seen", [])


def statuses() -> dict[str, str]:
    return dict(Event.objects.values_list("id", "status"))


def test_one_task_runs_the_waiting_events_of_several_profiles_each_in_its_order():
    RuleFactory(workflow=seen_workflow(), event_type="page-view")
    profiles = [ProfileFactory() for _ in range(4)]
    expected = interleaved(profiles, per_profile=5)

    assert profiles_events_process(profile_id=profiles[2].id) == Processed(events=20)

    assert set(statuses().values()) == {"processed"}
    for profile in profiles:
        assert seen(profile) == expected[profile.id]
        runs = WorkflowRun.objects.filter(profile_id=profile.id).order_by("started", "event_ref")
        assert [run.event_ref for run in runs] == expected[profile.id]
    assert WorkflowRun.objects.count() == 20
    # The other profiles' own messages come later and find nothing to do.
    for profile in profiles:
        assert profiles_events_process(profile_id=profile.id) == Processed()
    assert WorkflowRun.objects.count() == 20


def test_a_task_takes_at_most_the_batch_of_profiles_the_longest_waiting_first():
    RuleFactory(workflow=seen_workflow(), event_type="page-view")
    own, oldest, middle, newest = (ProfileFactory() for _ in range(4))
    for offset, profile in enumerate([oldest, middle, newest]):
        EventFactory(profile=profile, session=None, inserted=T0 + timedelta(seconds=offset))
    EventFactory(id="own-event", profile=own, session=None, inserted=T0 + timedelta(seconds=9))

    assert profiles_events_process(profile_id=own.id, max_profiles=3) == Processed(events=3)

    assert [bool(seen(profile)) for profile in (own, oldest, middle, newest)] == [
        True,
        True,
        True,
        False,
    ]
    assert Event.objects.filter(profile=newest).get().status == Event.Status.COLLECTED


def test_a_task_claims_other_profiles_only_while_the_batch_stays_within_its_events():
    RuleFactory(workflow=seen_workflow(), event_type="page-view")
    own, first, second = ProfileFactory(), ProfileFactory(), ProfileFactory()
    for offset, profile in enumerate([own, first, second]):
        for second_ in range(4):
            EventFactory(
                profile=profile,
                session=None,
                time=T0 + timedelta(seconds=second_),
                inserted=T0 + timedelta(seconds=offset),
            )

    # 4 of its own and 4 of the first: 4 more would pass 10.
    assert profiles_events_process(profile_id=own.id, max_events=10) == Processed(events=8)

    waiting = Event.objects.filter(status=Event.Status.COLLECTED)
    assert set(waiting.values_list("profile_id", flat=True)) == {second.id}


def test_a_claimed_profile_with_more_events_than_a_batch_is_left_as_a_follow_up():
    RuleFactory(workflow=seen_workflow(), event_type="page-view")
    own, busy = ProfileFactory(), ProfileFactory()
    EventFactory(profile=own, session=None, time=T0)
    for second in range(3):
        EventFactory(profile=busy, session=None, time=T0 + timedelta(seconds=second))

    result = profiles_events_process(profile_id=own.id, batch_size=2)

    assert result == Processed(events=3, profile_ids=[busy.id])
    assert Event.objects.filter(profile=busy, status="collected").count() == 1


def test_a_failure_in_one_profile_rolls_the_batch_back_and_loses_or_repeats_nothing():
    RuleFactory(workflow=seen_workflow(), event_type="page-view")
    own, broken, other = ProfileFactory(), ProfileFactory(), ProfileFactory()
    mine = EventFactory(profile=own, session=None, time=T0, inserted=T0)
    good = EventFactory(profile=broken, session=None, time=T0, inserted=T0)
    # PostgreSQL keeps JSON nested deeper than the encoder writes back: this profile's
    # outcome write fails, and with it the batch.
    deep = EventFactory(
        profile=broken,
        session=None,
        time=T0 + timedelta(seconds=1),
        inserted=T0,
        properties=nested(300),
    )
    theirs = EventFactory(profile=other, session=None, time=T0, inserted=T0)

    # The task runs its own profile alone; the others wait for their own messages.
    assert profiles_events_process(profile_id=own.id) == Processed(events=1)
    assert statuses() == {
        mine.id: "processed",
        good.id: "collected",
        deep.id: "collected",
        theirs.id: "collected",
    }
    assert list(WorkflowRun.objects.values_list("event_ref", flat=True)) == [mine.id]

    # The broken profile's message fails the batch again, then fails the bad event alone.
    assert profiles_events_process(profile_id=broken.id) == Processed(events=1)
    assert profiles_events_process(profile_id=other.id) == Processed(events=1)

    assert statuses() == {
        mine.id: "processed",
        good.id: "processed",
        deep.id: "error",
        theirs.id: "processed",
    }
    assert sorted(WorkflowRun.objects.values_list("event_ref", flat=True)) == sorted(
        [mine.id, good.id, theirs.id]
    )
    assert (seen(own), seen(broken), seen(other)) == ([mine.id], [good.id], [theirs.id])


def test_after_a_profile_that_may_merge_the_batch_stops_and_hands_the_rest_back():
    RuleFactory(workflow=seen_workflow(), event_type="page-view")
    IdentificationPointFactory(event_type="login")
    own, later = ProfileFactory(), ProfileFactory()
    EventFactory(
        type="login", profile=own, session=None, inserted=T0, properties={"email": "a@x.example"}
    )
    waiting = EventFactory(profile=later, session=None, inserted=T0 + timedelta(seconds=1))

    assert profiles_events_process(profile_id=own.id) == Processed(events=1, profile_ids=[later.id])
    assert Event.objects.get(pk=waiting.pk).status == Event.Status.COLLECTED


def test_a_task_whose_profile_is_held_runs_the_others_first_then_its_own():
    RuleFactory(workflow=seen_workflow(), event_type="page-view")
    own, other = ProfileFactory(), ProfileFactory()
    mine = EventFactory(profile=own, session=None, inserted=T0)
    theirs = EventFactory(profile=other, session=None, inserted=T0)
    holder = other_connection(autocommit=False)
    holder.execute(
        "SELECT pg_advisory_xact_lock(%s, %s)", [PROFILE_LOCK_NAMESPACE, profile_lock_key(own.id)]
    )
    results = []

    def task():
        try:
            results.append(profiles_events_process(profile_id=own.id))
        finally:
            connection.close()

    thread = threading.Thread(target=task)
    thread.start()
    try:
        deadline = timezone.now() + timedelta(seconds=30)
        while Event.objects.get(pk=theirs.pk).status != "processed":
            assert timezone.now() < deadline, "the other profile was not processed meanwhile"
            thread.join(0.02)
        assert Event.objects.get(pk=mine.pk).status == "collected"
    finally:
        holder.rollback()
        holder.close()
    thread.join(30)
    assert not thread.is_alive()
    assert results == [Processed(events=2)]
    assert (seen(own), seen(other)) == ([mine.id], [theirs.id])
