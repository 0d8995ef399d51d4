"""Scheduled syncs of an audience segment (services.syncs), run in the test process: members,
condition, batches, removals, merging with pending deliveries, disabled destinations and
concurrent runs; sends go to a real local HTTP server through the normal send runs."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.destinations.models import (
    Delivery,
    DeliveryAttempt,
    DestinationSyncMember,
    DestinationSyncRun,
)
from apps.destinations.selectors import sync_runs_with_deliveries
from apps.destinations.services import (
    delivery_claim_next,
    destination_sync_run,
    destination_sync_start,
    destination_sync_step,
    profile_deliveries_schedule,
    sync_runs_resume,
)
from apps.profiles.models import Profile, Segment
from tests.destinations.factories import DestinationFactory, ProfileFactory
from tests.destinations.test_dispatch import dispatch_until_settled
from tests.profiles.factories import SegmentFactory

pytestmark = pytest.mark.django_db

REMOVAL = {"action": "remove", "id": "profile@id"}


@pytest.fixture
def vip():
    # Scheduled: profile changes in the tests do not re-evaluate it.
    return SegmentFactory(name="VIP", kind=Segment.Kind.SCHEDULED)


def member(email, *, plan="free", segments=("vip",)):
    return ProfileFactory(
        segments=list(segments),
        traits={"plan": plan},
        data={"contact": {"email": {"main": email}}},
    )


def canonical(body):
    return json.dumps(body, sort_keys=True)


def sync(destination):
    started = destination_sync_run(destination_id=destination.pk, trigger="schedule")
    assert started.run is not None, started.message
    return started.run


def counts(run):
    return {
        "members_queued": run.members_queued,
        "already_pending": run.already_pending,
        "skipped_by_condition": run.skipped_by_condition,
        "removals_queued": run.removals_queued,
        "left_not_sent": run.left_not_sent,
    }


def pending_of(destination):
    return sorted(
        Delivery.objects.filter(destination=destination, status="pending").values_list(
            "profile_id", "is_removal"
        )
    )


def snapshot_of(destination):
    return sorted(
        DestinationSyncMember.objects.filter(destination=destination).values_list(
            "profile_id", flat=True
        )
    )


def test_every_member_of_the_segment_is_queued_due_now_and_linked_to_the_run(vip):
    destination = DestinationFactory(sync_segment=vip, delay_seconds=20, max_delay_seconds=60)
    a, b, c = member("a@x.io"), member("b@x.io"), member("c@x.io")
    member("other@x.io", segments=["newsletter"])
    before = timezone.now()

    run = sync(destination)

    assert (run.status, run.phase, run.trigger, run.segment_slug) == (
        "queued",
        "done",
        "schedule",
        "vip",
    )
    assert counts(run) == {
        "members_queued": 3,
        "already_pending": 0,
        "skipped_by_condition": 0,
        "removals_queued": 0,
        "left_not_sent": 0,
    }
    assert pending_of(destination) == sorted([(a.pk, False), (b.pk, False), (c.pk, False)])
    deliveries = Delivery.objects.filter(destination=destination)
    assert {d.sync_run_id for d in deliveries} == {run.pk}
    # Due at once (a sync is not a change to debounce), not after the destination's delay.
    assert all(before <= d.due_at <= timezone.now() for d in deliveries)
    assert snapshot_of(destination) == sorted([a.pk, b.pk, c.pk])
    assert run.finished is not None


def test_the_condition_leaves_out_members_it_does_not_hold_for(vip):
    destination = DestinationFactory(sync_segment=vip, condition='profile@traits.plan == "pro"')
    pro_1, pro_2 = member("p1@x.io", plan="pro"), member("p2@x.io", plan="pro")
    member("f@x.io", plan="free")

    run = sync(destination)

    assert (run.members_queued, run.skipped_by_condition) == (2, 1)
    assert pending_of(destination) == sorted([(pro_1.pk, False), (pro_2.pk, False)])
    assert snapshot_of(destination) == sorted([pro_1.pk, pro_2.pk])


def test_a_sync_goes_in_bounded_batches_each_saving_where_it_is(vip, settings):
    settings.CDP_DESTINATION_SYNC_BATCH_SIZE = 2
    destination = DestinationFactory(sync_segment=vip, removal_mapping=REMOVAL)
    profiles = [member(f"m{n}@x.io") for n in range(5)]
    started = destination_sync_start(destination_id=destination.pk, trigger="send_now")
    run_id = started.run.pk

    steps = []
    while True:
        more = destination_sync_step(run_id=run_id)
        run = DestinationSyncRun.objects.get(pk=run_id)
        steps.append((run.phase, run.members_queued))
        if not more:
            break

    # Members 2 + 2 + 1 (a short batch ends the phase), then the member rows 2 + 2 + 1.
    assert steps == [
        ("members", 2),
        ("members", 4),
        ("removals", 5),
        ("removals", 5),
        ("removals", 5),
        ("done", 5),
    ]
    assert run.status == "queued"
    assert len(pending_of(destination)) == 5
    assert snapshot_of(destination) == sorted(p.pk for p in profiles)


def test_a_profile_that_left_the_segment_is_sent_as_removed_with_the_removal_mapping(
    vip, http_server
):
    server = http_server([200])
    destination = DestinationFactory(
        url=server.url,
        sync_segment=vip,
        mapping={"email": "profile@data.contact.email.main"},
        removal_mapping={"action": "remove", "email": "profile@data.contact.email.main"},
    )
    a, b = member("a@x.io"), member("b@x.io")
    sync(destination)
    dispatch_until_settled(destination)
    Profile.objects.filter(pk=b.pk).update(segments=["newsletter"])

    run = sync(destination)
    dispatch_until_settled(destination)

    assert counts(run) == {
        "members_queued": 1,
        "already_pending": 0,
        "skipped_by_condition": 0,
        "removals_queued": 1,
        "left_not_sent": 0,
    }
    removal = Delivery.objects.get(destination=destination, is_removal=True)
    assert (removal.profile_id, removal.removed_profile_id, removal.status) == (b.pk, b.pk, "sent")
    assert snapshot_of(destination) == [a.pk]
    bodies = sorted((r.json() for r in server.requests), key=canonical)
    assert bodies == sorted(
        [
            {"data": {"email": "a@x.io"}, "changes": []},
            {"data": {"email": "b@x.io"}, "changes": []},
            {"data": {"email": "a@x.io"}, "changes": []},
            {"data": {"action": "remove", "email": "b@x.io"}, "changes": []},
        ],
        key=canonical,
    )
    [attempt] = DeliveryAttempt.objects.filter(delivery=removal)
    assert (attempt.number, attempt.outcome, attempt.status_code) == (1, "sent", 200)
    [figures] = sync_runs_with_deliveries(DestinationSyncRun.objects.filter(pk=run.pk))
    assert (
        figures.deliveries_sent,
        figures.deliveries_failed,
        figures.deliveries_skipped,
        figures.deliveries_waiting,
    ) == (2, 0, 0, 0)

    # A third sync with nobody leaving sends no removal again.
    third = sync(destination)
    assert (third.members_queued, third.removals_queued) == (1, 0)


def test_a_deleted_profile_is_sent_as_removed_by_its_id(vip, http_server):
    server = http_server([200])
    destination = DestinationFactory(url=server.url, sync_segment=vip, removal_mapping=REMOVAL)
    kept, deleted = member("a@x.io"), member("b@x.io")
    sync(destination)
    dispatch_until_settled(destination)
    deleted_id = deleted.pk
    deleted.delete()
    server.requests.clear()

    run = sync(destination)
    dispatch_until_settled(destination)

    assert (run.members_queued, run.removals_queued) == (1, 1)
    removal = Delivery.objects.get(destination=destination, is_removal=True)
    assert (removal.profile_id, removal.removed_profile_id, removal.status) == (
        None,
        deleted_id,
        "sent",
    )
    assert sorted((r.json() for r in server.requests), key=canonical) == sorted(
        [
            {"data": {"id": kept.pk}, "changes": []},
            {"data": {"action": "remove", "id": deleted_id}, "changes": []},
        ],
        key=canonical,
    )
    assert snapshot_of(destination) == [kept.pk]


def test_without_a_removal_mapping_leavers_are_counted_not_sent(vip):
    destination = DestinationFactory(sync_segment=vip)
    a, b = member("a@x.io"), member("b@x.io")
    sync(destination)
    Delivery.objects.update(status="sent")
    Profile.objects.filter(pk=b.pk).update(segments=[])

    run = sync(destination)

    assert (run.members_queued, run.removals_queued, run.left_not_sent) == (1, 0, 1)
    assert pending_of(destination) == [(a.pk, False)]
    assert snapshot_of(destination) == [a.pk]


def test_a_member_whose_sync_is_pending_already_is_not_queued_twice(vip):
    destination = DestinationFactory(sync_segment=vip, delay_seconds=300, max_delay_seconds=600)
    waiting, fresh = member("w@x.io"), member("f@x.io")
    profile_deliveries_schedule(profile_id=waiting.pk, changed_fields=["traits.plan"])
    pending = Delivery.objects.get(destination=destination, profile=waiting)
    assert pending.due_at > timezone.now() + timedelta(seconds=200)

    run = sync(destination)
    again = sync(destination)

    assert (run.members_queued, run.already_pending) == (1, 1)
    assert (again.members_queued, again.already_pending) == (0, 2)
    assert pending_of(destination) == sorted([(waiting.pk, False), (fresh.pk, False)])
    pending.refresh_from_db()
    # The waiting row now sends with the sync (due now), keeps its changes, counts in the run.
    assert pending.due_at <= timezone.now()
    assert pending.changed_fields == ["traits.plan"]
    assert pending.sync_run_id == again.pk


def test_a_pending_change_sync_of_a_leaver_becomes_its_removal(vip):
    destination = DestinationFactory(sync_segment=vip, removal_mapping=REMOVAL)
    leaver = member("l@x.io")
    sync(destination)
    Delivery.objects.update(status="sent")
    Profile.objects.filter(pk=leaver.pk).update(segments=[])
    profile_deliveries_schedule(profile_id=leaver.pk, changed_fields=["segments"])

    run = sync(destination)

    assert (run.members_queued, run.removals_queued) == (0, 1)
    assert pending_of(destination) == [(leaver.pk, True)]


def test_a_removed_profile_back_in_the_segment_before_the_send_is_sent_as_a_member(
    vip, http_server
):
    server = http_server([200])
    destination = DestinationFactory(url=server.url, sync_segment=vip, removal_mapping=REMOVAL)
    comeback = member("c@x.io")
    sync(destination)
    dispatch_until_settled(destination)
    Profile.objects.filter(pk=comeback.pk).update(segments=[])
    sync(destination)
    Profile.objects.filter(pk=comeback.pk).update(segments=["vip"])
    server.requests.clear()

    dispatch_until_settled(destination)

    assert [r.json() for r in server.requests] == [{"data": {"id": comeback.pk}, "changes": []}]


def test_a_disabled_destination_queues_nothing_and_says_so(vip):
    destination = DestinationFactory(sync_segment=vip, enabled=False)
    member("a@x.io")

    started = destination_sync_run(destination_id=destination.pk, trigger="schedule")

    assert started.run is None
    assert started.message == "The destination is disabled: nothing was queued."
    assert Delivery.objects.count() == 0
    [run] = DestinationSyncRun.objects.all()
    assert (run.status, run.message, run.members_queued) == (
        "skipped",
        "The destination is disabled: nothing was queued.",
        0,
    )


def test_a_destination_disabled_during_a_sync_stops_it(vip, settings):
    settings.CDP_DESTINATION_SYNC_BATCH_SIZE = 1
    destination = DestinationFactory(sync_segment=vip)
    member("a@x.io")
    member("b@x.io")
    started = destination_sync_start(destination_id=destination.pk, trigger="schedule")
    assert destination_sync_step(run_id=started.run.pk) is True
    destination.enabled = False
    destination.save()

    assert destination_sync_step(run_id=started.run.pk) is False

    run = DestinationSyncRun.objects.get(pk=started.run.pk)
    assert (run.status, run.members_queued) == ("failed", 1)
    assert run.message == "Stopped: the destination was disabled during the sync."


def test_a_second_sync_while_one_is_queueing_starts_nothing(vip):
    destination = DestinationFactory(sync_segment=vip)
    member("a@x.io")
    first = destination_sync_start(destination_id=destination.pk, trigger="schedule")

    second = destination_sync_start(destination_id=destination.pk, trigger="send_now")

    assert second.run is None
    assert second.message.startswith("A sync of this destination is already running (started ")
    assert second.message.endswith("): nothing more was queued.")
    assert DestinationSyncRun.objects.count() == 1
    while destination_sync_step(run_id=first.run.pk):
        pass
    # Once it has queued everything, the next one may start.
    assert destination_sync_start(destination_id=destination.pk, trigger="send_now").run


def test_a_run_that_stopped_moving_gives_way_to_a_new_one(vip, settings):
    destination = DestinationFactory(sync_segment=vip)
    member("a@x.io")
    stuck = destination_sync_start(
        destination_id=destination.pk,
        trigger="schedule",
        now=timezone.now() - timedelta(seconds=settings.CDP_DESTINATION_SYNC_STALE_SECONDS + 1),
    ).run

    fresh = destination_sync_start(destination_id=destination.pk, trigger="schedule").run

    stuck.refresh_from_db()
    assert fresh is not None
    assert (stuck.status, stuck.message) == (
        "failed",
        "Interrupted: no progress for 600 s; a new sync started over.",
    )


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_run_never_queue_a_batch_twice(vip, settings):
    settings.CDP_DESTINATION_SYNC_BATCH_SIZE = 1
    destination = DestinationFactory(sync_segment=vip)
    member("a@x.io")
    member("b@x.io")
    run_id = destination_sync_start(destination_id=destination.pk, trigger="schedule").run.pk
    holding, release = threading.Event(), threading.Event()

    def other_worker():
        # Another worker in the middle of a batch of this run: it holds the run row.
        try:
            with transaction.atomic():
                DestinationSyncRun.objects.select_for_update().get(pk=run_id)
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert holding.wait(timeout=30)
        assert destination_sync_step(run_id=run_id) is False  # leaves the run to its holder
        assert Delivery.objects.count() == 0
    finally:
        release.set()
        thread.join(timeout=30)

    while destination_sync_step(run_id=run_id):
        pass
    run = DestinationSyncRun.objects.get(pk=run_id)
    assert (run.status, run.members_queued) == ("queued", 2)
    assert Delivery.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_syncs_started_at_the_same_moment_make_one_run(vip):
    destination = DestinationFactory(sync_segment=vip)
    member("a@x.io")
    barrier = threading.Barrier(2)
    results = []

    def start():
        try:
            barrier.wait(timeout=30)
            results.append(
                destination_sync_start(destination_id=destination.pk, trigger="schedule")
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(result.run is None for result in results) == [False, True]
    assert DestinationSyncRun.objects.filter(status="running").count() == 1


def test_a_removed_profile_back_in_the_segment_but_not_passing_the_condition_is_removed(
    vip, http_server
):
    server = http_server([200])
    destination = DestinationFactory(
        url=server.url,
        sync_segment=vip,
        condition='profile@traits.plan == "pro"',
        removal_mapping=REMOVAL,
    )
    profile = member("c@x.io", plan="pro")
    sync(destination)
    dispatch_until_settled(destination)
    Profile.objects.filter(pk=profile.pk).update(segments=[])
    sync(destination)
    Profile.objects.filter(pk=profile.pk).update(segments=["vip"], traits={"plan": "free"})
    server.requests.clear()

    dispatch_until_settled(destination)

    assert [r.json() for r in server.requests] == [
        {"data": {"action": "remove", "id": profile.pk}, "changes": []}
    ]


def test_a_recovered_sync_turned_into_a_removal_takes_a_new_idempotency_key(vip):
    destination = DestinationFactory(sync_segment=vip, removal_mapping=REMOVAL)
    leaver = member("l@x.io")
    sync(destination)
    Delivery.objects.update(status="sent")
    Profile.objects.filter(pk=leaver.pk).update(segments=[])
    # A change sync whose worker was lost mid-send: back to pending, its attempt kept.
    profile_deliveries_schedule(profile_id=leaver.pk, changed_fields=["segments"])
    Delivery.objects.filter(status="pending").update(attempts=1, in_flight_attempt=1)

    sync(destination)

    removal = Delivery.objects.get(status="pending")
    assert (removal.is_removal, removal.attempts, removal.in_flight_attempt) == (True, 1, None)
    found, claimed = delivery_claim_next(destination_id=destination.pk)
    assert (found, claimed.idempotency_key, claimed.payload) == (
        True,
        f"{removal.pk}-2",
        {"action": "remove", "id": leaver.pk},
    )


def test_the_beat_sweep_resumes_quiet_runs_and_fails_stuck_ones(vip, settings):
    now = timezone.now()
    quiet, stuck, busy = (
        destination_sync_start(
            destination_id=DestinationFactory(sync_segment=vip).pk,
            trigger="schedule",
            now=now - timedelta(seconds=age),
        ).run
        for age in (
            settings.CDP_DESTINATION_SYNC_RESUME_SECONDS + 1,
            settings.CDP_DESTINATION_SYNC_STALE_SECONDS + 1,
            1,
        )
    )

    assert sync_runs_resume(now=now) == [quiet.pk]

    statuses = dict(DestinationSyncRun.objects.values_list("pk", "status"))
    assert statuses == {quiet.pk: "running", stuck.pk: "failed", busy.pk: "running"}
    assert DestinationSyncRun.objects.get(pk=stuck.pk).message == (
        "Interrupted: no progress for 600 s."
    )
