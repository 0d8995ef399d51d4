"""A scheduled sync end to end: celery beat fires the destination's django-celery-beat entry, a
real worker queues the audience and sends it to a local HTTP server; after a member leaves the
segment, the next sync sends exactly one removal rendered with the removal mapping."""

import json

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.destinations.models import Delivery, DestinationSyncRun
from apps.destinations.selectors import sync_runs_with_deliveries
from apps.destinations.services import destination_create
from apps.profiles.models import Profile, Segment
from tests.destinations.factories import ProfileFactory, ResourceFactory
from tests.destinations.test_worker import WORKER_ENV, celery_beat  # noqa: F401  (a fixture)
from tests.profiles.factories import SegmentFactory
from tests.support.celery_worker import purge_broker_queue, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _clean_broker():
    purge_broker_queue()
    yield
    purge_broker_queue()


def body(data):
    return json.dumps({"data": data, "changes": []}, sort_keys=True)


def fire_once(task: PeriodicTask) -> None:
    """Make beat run the destination's entry about now, once (instead of at 02:00)."""
    task.interval, _ = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    task.crontab = None
    task.one_off = True
    task.enabled = True
    # A one-off entry that ran before is disabled again by beat unless its count is reset.
    task.total_run_count = 0
    task.last_run_at = None
    task.save()


def settled_runs():
    runs = sync_runs_with_deliveries(DestinationSyncRun.objects.order_by("started"))
    return [
        (run.status, run.members_queued, run.removals_queued, run.deliveries_sent) for run in runs
    ]


def test_a_scheduled_sync_sends_the_audience_then_a_removal_to_a_local_http_server(
    http_server,
    celery_worker_factory,
    celery_beat,  # noqa: F811
):
    server = http_server([200])
    vip = SegmentFactory(name="VIP", kind=Segment.Kind.SCHEDULED)
    destination = destination_create(
        name="Ads audience",
        resource=ResourceFactory(),
        settings={"url": server.url, "timeout": 5},
        delay_seconds=0,
        mapping={"email": "profile@data.contact.email.main"},
        sync_segment_id=vip.pk,
        sync_every="day",
        sync_time="02:00",
        removal_mapping={"action": "remove", "email": "profile@data.contact.email.main"},
    )
    emails = ["ann@x.io", "bob@x.io", "cid@x.io"]
    profiles = {
        email: ProfileFactory(segments=["vip"], data={"contact": {"email": {"main": email}}})
        for email in emails
    }
    ProfileFactory(segments=["newsletter"], data={"contact": {"email": {"main": "no@x.io"}}})
    task = PeriodicTask.objects.get(pk=destination.sync_periodic_task_id)
    assert task.crontab.hour == "2"
    fire_once(task)
    celery_worker_factory(extra_env=WORKER_ENV)
    beat = celery_beat()

    wait_for(lambda: settled_runs() == [("queued", 3, 0, 3)], timeout=60, message="the first sync")
    assert sorted(json.dumps(r.json(), sort_keys=True) for r in server.requests) == sorted(
        body({"email": email}) for email in emails
    )
    assert all(r.headers["idempotency-key"].endswith("-1") for r in server.requests)

    Profile.objects.filter(pk=profiles["bob@x.io"].pk).update(segments=["newsletter"])
    # Beat keeps the entries in memory and writes them back when it likes: stopped first (it
    # saves the one-off entry as run and disabled), the entry re-armed, a new beat reads it.
    beat.terminate()
    beat.wait(timeout=60)
    fire_once(PeriodicTask.objects.get(pk=task.pk))
    celery_beat()

    wait_for(
        lambda: settled_runs() == [("queued", 3, 0, 3), ("queued", 2, 1, 3)],
        timeout=60,
        message="the second sync",
    )
    second = sorted(json.dumps(r.json(), sort_keys=True) for r in server.requests[3:])
    assert second == sorted(
        [
            body({"email": "ann@x.io"}),
            body({"email": "cid@x.io"}),
            body({"action": "remove", "email": "bob@x.io"}),
        ]
    )
    assert len(server.requests) == 6
    removal = Delivery.objects.get(is_removal=True)
    assert (removal.profile_id, removal.status, removal.attempts) == (
        profiles["bob@x.io"].pk,
        "sent",
        1,
    )
    assert [run.trigger for run in DestinationSyncRun.objects.order_by("started")] == [
        "schedule",
        "schedule",
    ]
