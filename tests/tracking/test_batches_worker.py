"""Many profiles per worker task (apps.tracking.batches) with real Celery workers: per-profile
order and exactly-once when messages queue up, and a worker killed in the middle of a batch
of several profiles."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from apps.events.models import Event
from apps.profiles.models import Profile
from apps.tracking.handoff import events_enqueue
from apps.tracking.tasks import process_profile_events, requeue_collected_events
from apps.workflows.models import WorkflowRun
from apps.workflows.services.workflows import workflow_create
from tests.support.celery_worker import (  # noqa: F401  (fixtures)
    celery_worker,
    celery_worker_factory,
    wait_for,
)
from tests.workflows.factories import EventFactory, ProfileFactory, RuleFactory
from tests.workflows.graphs import linear_graph
from tests.workflows.servers import RecordingServer

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SEEN = linear_graph(
    ("increment_counter", {"field": "profile@stats.counters.runs"}),
    ("append_remove", {"append": {"profile@traits.seen": "event@id"}}),
)


@pytest.fixture
def slow_server():
    server = RecordingServer(hold_first=True).start()
    yield server
    server.stop()


def store_wave(profiles, *, wave: int, per_profile: int, base) -> dict[str, list[str]]:
    """Events with interleaved times across the profiles, stored newest first in one
    transaction (as one request stores its events); each profile's ids in event order."""
    order: dict[str, list[str]] = {profile.id: [] for profile in profiles}
    slots = [
        (wave * 1000 + index * len(profiles) + position, profile)
        for index in range(per_profile)
        for position, profile in enumerate(profiles)
    ]
    with transaction.atomic():
        for slot, profile in reversed(slots):
            EventFactory(
                id=f"w{wave}-{slot:05d}-{profile.id[:8]}",
                profile=profile,
                session=None,
                time=base + timedelta(seconds=slot),
            )
    for slot, profile in slots:
        order[profile.id].append(f"w{wave}-{slot:05d}-{profile.id[:8]}")
    return order


def test_queued_messages_of_many_profiles_run_each_event_once_in_its_profiles_order(
    celery_worker,  # noqa: F811
):
    RuleFactory(workflow=workflow_create(name="Seen", graph=SEEN), event_type="page-view")
    profiles = [ProfileFactory() for _ in range(30)]
    base = timezone.now() - timedelta(hours=1)
    first = store_wave(profiles, wave=0, per_profile=4, base=base)
    # One message per event (as /track sends one per request), and a duplicate of each.
    for _ in range(2):
        for profile in profiles:
            for event_id in first[profile.id]:
                events_enqueue(event_ids=[event_id], profile_id=profile.id)
    wait_for(
        lambda: Event.objects.filter(status=Event.Status.PROCESSED).exists(),
        message="the first batch to commit",
    )
    # A second wave while the first is being worked through.
    second = store_wave(profiles, wave=1, per_profile=3, base=base)
    for profile in profiles:
        process_profile_events.delay(profile.id)

    wait_for(
        lambda: not Event.objects.filter(status=Event.Status.COLLECTED).exists(),
        timeout=120,
        message="all events to be processed",
    )
    celery_worker.wait_idle()
    assert set(Event.objects.values_list("status", flat=True)) == {"processed"}
    assert WorkflowRun.objects.count() == 30 * 7
    assert sorted(WorkflowRun.objects.values_list("event_ref", flat=True)) == sorted(
        Event.objects.values_list("id", flat=True)
    )
    for profile in profiles:
        stored = Profile.objects.get(pk=profile.pk)
        assert stored.traits == {"seen": first[profile.id] + second[profile.id]}
        assert stored.stats == {"counters": {"runs": 7}}


def test_a_worker_killed_mid_batch_leaves_every_profile_to_a_new_worker_exactly_once(
    celery_worker_factory,  # noqa: F811
    slow_server,
):
    RuleFactory(workflow=workflow_create(name="Seen", graph=SEEN), event_type="page-view")
    remote = linear_graph(
        (
            "remote_call",
            {
                "url": slow_server.url,
                "timeout": 10,
                "body": {"event": "event@id"},
                "method": "POST",
            },
            "response",
        ),
        ("increment_counter", {"field": "profile@stats.counters.calls"}),
    )
    RuleFactory(workflow=workflow_create(name="Call", graph=remote), event_type="slow")
    stored = timezone.now() - timedelta(seconds=5)
    own, held, last = ProfileFactory(), ProfileFactory(), ProfileFactory()
    # The batch runs its own profile first, then the others, the longest waiting first: the
    # own profile's runs are done (not committed) when the held profile's remote call hangs.
    mine = [
        EventFactory(
            profile=own,
            session=None,
            time=stored + timedelta(seconds=index),
            inserted=stored + timedelta(seconds=1),
        )
        for index in range(3)
    ]
    slow = EventFactory(type="slow", profile=held, session=None, inserted=stored)
    later = EventFactory(profile=last, session=None, inserted=stored + timedelta(seconds=2))
    doomed = celery_worker_factory(queues=("batch-kill-test",))

    process_profile_events.apply_async(args=[own.id], queue="batch-kill-test")
    assert slow_server.first_arrived.wait(30), "the remote call of the held profile never ran"
    doomed.kill()

    assert set(Event.objects.values_list("status", flat=True)) == {"collected"}
    assert WorkflowRun.objects.count() == 0
    # The message died with its worker; the sweep, run by a new worker, hands every
    # still-collected profile on.
    fresh = celery_worker_factory(
        queues=("celery", "batch-kill-test"),
        extra_env={"CDP_WORKFLOW_REQUEUE_AFTER_SECONDS": "1"},
    )
    requeue_collected_events.apply_async(queue="batch-kill-test")

    wait_for(
        lambda: not Event.objects.filter(status=Event.Status.COLLECTED).exists(),
        message="every event to be processed after the crash",
    )
    fresh.wait_idle()
    runs = sorted(WorkflowRun.objects.values_list("event_ref", "status"))
    assert runs == sorted([(event.id, "ok") for event in [*mine, slow, later]])
    assert Profile.objects.get(pk=own.pk).traits == {"seen": [event.id for event in mine]}
    assert Profile.objects.get(pk=own.pk).stats == {"counters": {"runs": 3}}
    assert Profile.objects.get(pk=held.pk).stats == {"counters": {"calls": 1}}
    assert Profile.objects.get(pk=last.pk).traits == {"seen": [later.id]}
    # The remote side saw the killed attempt and the real one.
    assert [request["json"] for request in slow_server.requests] == [{"event": slow.id}] * 2
