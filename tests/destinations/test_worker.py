"""Destinations with a real Celery worker (and beat): the debounce end to end, a hanging
destination, a worker killed mid-send, and lost broker state."""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.utils import timezone
from django_redis import get_redis_connection

from apps.destinations.models import Delivery, DeliveryAttempt
from apps.destinations.services import profile_deliveries_schedule
from apps.destinations.tasks import deliveries_dispatch, destination_deliveries_send
from apps.events.models import Event
from apps.profiles.models import Profile
from apps.profiles.services.changes import profile_changed
from apps.tracking.tasks import process_profile_events
from tests.destinations.factories import DestinationFactory, ProfileFactory
from tests.destinations.servers import Reply
from tests.support.celery_worker import ROOT, purge_broker_queue, wait_for, worker_environment
from tests.workflows import factories as workflow_events
from tests.workflows.factories import RuleFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 3
WORKER_ENV = {
    "CDP_DESTINATION_CACHE_SECONDS": "0",
    "CDP_DELIVERY_RETRY_BASE_MS": "50",
    "CDP_DELIVERY_RETRY_MAX_MS": "200",
    "CDP_DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
    "CDP_DELIVERY_DISPATCH_SECONDS": "1",
}


@pytest.fixture(autouse=True)
def _clean_broker(settings):
    settings.CDP_DELIVERY_LEASE_SECONDS = LEASE_SECONDS
    purge_broker_queue()
    yield
    purge_broker_queue()


@pytest.fixture
def celery_beat(transactional_db):
    """`celery beat` with the project's scheduler (django-celery-beat) on the test database."""
    processes = []

    def start():
        log = tempfile.NamedTemporaryFile(prefix="celery-beat-", suffix=".log", delete=False)  # noqa: SIM115
        schedule = Path(tempfile.mkdtemp()) / "schedule"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "cdp",
                "beat",
                "--loglevel",
                "INFO",
                "--pidfile=",
                "-s",
                str(schedule),
            ],
            cwd=ROOT,
            env=worker_environment(WORKER_ENV),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        processes.append(process)
        return process

    yield start
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def test_updates_every_half_second_give_one_send_delay_after_the_last(
    http_server,
    celery_worker_factory,
    celery_beat,
):
    server = http_server([200])
    DestinationFactory(
        url=server.url,
        delay_seconds=2,
        max_delay_seconds=6,
        mapping={"visits": "profile@stats.visits"},
    )
    profile = ProfileFactory(stats={"visits": 0})
    celery_worker_factory(extra_env=WORKER_ENV)
    celery_beat()
    time.sleep(1.5)  # beat is up and ticking

    for visits in range(1, 8):  # 7 updates over 3 seconds
        Profile.objects.filter(pk=profile.pk).update(stats={"visits": visits})
        profile_changed(profile_id=profile.pk, changed_fields=["stats.visits"])
        last_update = time.time()
        time.sleep(0.5)

    wait_for(lambda: server.requests, timeout=10, message="the sync")
    time.sleep(3)  # nothing else comes

    [request] = server.requests
    late = request.received_at - last_update
    assert 2.0 <= late <= 2.0 + 1 + 1.5, f"sent {late:.2f}s after the last update"
    assert request.json() == {"data": {"visits": 7}, "changes": ["stats.visits"]}
    assert list(Delivery.objects.values_list("status", "attempts")) == [("sent", 1)]


def test_a_hanging_destination_does_not_hold_back_another(
    http_server,
    celery_worker_factory,
):
    hanging_server = http_server([Reply(200, delay=5)])
    fast_server = http_server([200])
    hanging = DestinationFactory(url=hanging_server.url, timeout=1)
    for _ in range(3):
        profile_deliveries_schedule(profile_id=ProfileFactory().pk, changed_fields=[])
    fast = DestinationFactory(url=fast_server.url)
    profile_deliveries_schedule(profile_id=ProfileFactory().pk, changed_fields=[])
    assert Delivery.objects.filter(destination=hanging).count() == 4
    assert Delivery.objects.filter(destination=fast).count() == 1
    celery_worker_factory(concurrency=2, extra_env=WORKER_ENV)

    started = time.time()
    for _ in range(3):  # the hanging destination's runs arrive first, several times over
        destination_deliveries_send.delay(hanging.pk)
    destination_deliveries_send.delay(fast.pk)

    wait_for(lambda: fast_server.requests, timeout=10, message="the fast destination")
    assert fast_server.requests[0].received_at - started < 1.5
    assert Delivery.objects.filter(destination=hanging, status="sent").count() == 0
    wait_for(
        lambda: DeliveryAttempt.objects.filter(destination=hanging).exclude(outcome="in_flight"),
        timeout=10,
        message="the hanging destination's first timeout",
    )
    attempt = DeliveryAttempt.objects.filter(destination=hanging).exclude(outcome="in_flight")[0]
    assert (attempt.outcome, attempt.error) == ("retry", "Timed out waiting for the webhook")
    assert 1000 <= attempt.duration_ms < 2000


def test_two_hanging_destinations_hold_back_neither_another_destination_nor_workflows(
    http_server,
    celery_worker_factory,
):
    # As in production: one worker for the default queue (event processing, workflows), one
    # for the deliveries' queue, each with as many processes as there are hanging destinations.
    hanging_servers = [http_server([Reply(200, delay=60)]) for _ in range(2)]
    hanging = [DestinationFactory(url=server.url, timeout=2) for server in hanging_servers]
    for _ in range(10):  # each has enough to keep a send run busy for a long time
        profile_deliveries_schedule(profile_id=ProfileFactory().pk, changed_fields=[])
    healthy_server = http_server([200])
    healthy = DestinationFactory(url=healthy_server.url)
    profile_deliveries_schedule(profile_id=ProfileFactory().pk, changed_fields=[])
    RuleFactory(event_type="purchase")
    event = workflow_events.EventFactory(type="purchase")
    env = {**WORKER_ENV, "CDP_DELIVERY_RUN_SECONDS": "60", "CDP_DELIVERY_SLOW_SEND_MS": "1000"}
    celery_worker_factory(concurrency=2, queues=("celery",), extra_env=env)
    celery_worker_factory(concurrency=2, queues=("destinations",), extra_env=env)

    started = time.time()
    for _ in range(2):
        for destination in hanging:
            destination_deliveries_send.delay(destination.pk)
    wait_for(
        lambda: all(server.requests for server in hanging_servers),
        timeout=20,
        message="both hanging destinations to be sending",
    )
    destination_deliveries_send.delay(healthy.pk)
    process_profile_events.delay(event.profile_id)

    wait_for(
        lambda: Event.objects.get(pk=event.pk).status == Event.Status.PROCESSED,
        timeout=20,
        message="the workflow event",
    )
    processed_after = time.time() - started
    wait_for(
        lambda: Delivery.objects.get(destination=healthy).status == "sent",
        timeout=30,
        message="the healthy destination",
    )
    healthy_after = healthy_server.requests[0].received_at - started
    # Without a queue of their own, the hanging runs held both processes for their 60 s; with
    # it, the workflows never wait for them, and the cap on slow destinations frees a process
    # of the deliveries' worker one send timeout (2 s) after both turned out slow.
    assert processed_after < 10, f"workflow event processed after {processed_after:.1f}s"
    assert healthy_after < 12, f"healthy destination reached after {healthy_after:.1f}s"
    assert len(healthy_server.requests) == 1
    assert Delivery.objects.filter(destination__in=hanging, status="sent").count() == 0


def test_a_worker_killed_mid_send_is_recovered_with_the_same_idempotency_key(
    http_server,
    celery_worker_factory,
):
    server = http_server([Reply(200, delay=30), Reply(200, body="got it")])
    destination = DestinationFactory(url=server.url, timeout=20)
    profile_deliveries_schedule(profile_id=ProfileFactory().pk, changed_fields=["traits.plan"])
    first_worker = celery_worker_factory(extra_env=WORKER_ENV)

    destination_deliveries_send.delay(destination.pk)
    wait_for(lambda: server.requests, timeout=10, message="the first send")
    first_worker.kill()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.in_flight_attempt) == ("sending", 1)
    assert list(DeliveryAttempt.objects.values_list("outcome", flat=True)) == ["in_flight"]

    assert deliveries_dispatch() == []  # within the lease nothing is touched

    celery_worker_factory(extra_env=WORKER_ENV)
    lease_left = (delivery.claimed_at - timezone.now()).total_seconds() + LEASE_SECONDS
    time.sleep(max(0.0, lease_left) + 0.2)
    assert deliveries_dispatch() == [destination.pk]  # the beat job: recovers, starts a run
    wait_for(lambda: Delivery.objects.filter(status="sent").exists(), timeout=10, message="resend")

    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.recoveries, delivery.in_flight_attempt) == (1, 1, None)
    keys = [request.headers["idempotency-key"] for request in server.requests]
    assert keys == [f"{delivery.pk}-1", f"{delivery.pk}-1"]
    assert list(
        DeliveryAttempt.objects.order_by("started", "id").values_list("number", "outcome")
    ) == [(1, "lost"), (1, "sent")]


def test_lost_broker_state_and_restarts_neither_lose_nor_repeat_a_send(
    http_server,
    celery_worker_factory,
):
    server = http_server([200])
    destination = DestinationFactory(url=server.url)
    for _ in range(3):
        profile_deliveries_schedule(profile_id=ProfileFactory().pk, changed_fields=[])

    assert deliveries_dispatch() == [destination.pk]  # enqueued, but no worker is running
    get_redis_connection("default").flushdb()  # Redis restarts empty: queue and markers gone
    worker = celery_worker_factory(extra_env=WORKER_ENV)
    deliveries_dispatch()
    # The worker writes each outcome after its answer: wait for the outcomes, not the requests
    # (on a busy machine the third answer can arrive before its delivery is marked sent).
    wait_for(
        lambda: Delivery.objects.filter(status="sent").count() == 3,
        timeout=30,
        message="three sends recorded",
    )

    worker.kill()
    second = celery_worker_factory(extra_env=WORKER_ENV)
    deliveries_dispatch()
    destination_deliveries_send.delay(destination.pk)  # a duplicated trigger
    destination_deliveries_send.delay(destination.pk)
    second.wait_idle(timeout=30)

    keys = [request.headers["idempotency-key"] for request in server.requests]
    assert len(keys) == 3
    assert len(set(keys)) == 3
    assert Delivery.objects.filter(status="sent").count() == 3
    assert DeliveryAttempt.objects.count() == 3
