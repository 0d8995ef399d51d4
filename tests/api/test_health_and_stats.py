"""Issue 17 item 2: /api/v1/health (no key; 503 naming what is down) and /api/v1/stats."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.utils import timezone
from kombu import Queue
from rest_framework.test import APIClient

from apps.api import health
from apps.core.heartbeats import BEAT, heartbeat_ages, heartbeat_record
from apps.destinations.models import Delivery
from apps.events.models import Event
from tests.destinations.factories import DestinationFactory
from tests.events.factories import EventFactory
from tests.profiles.factories import ProfileFactory
from tests.support.celery_worker import (  # noqa: F401 - celery_worker_factory: a fixture
    ROOT,
    broker_app,
    celery_worker_factory,
    wait_for,
    worker_environment,
)

NAMES = [BEAT, "queue:celery", "queue:destinations", "queue:maintenance"]


@pytest.fixture
def heartbeats():
    """The heartbeats as a test sets them; the real ones are put back afterwards."""
    keys = [f"cdp:heartbeat:{name}" for name in NAMES]
    saved = cache.get_many(keys)
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)
    cache.set_many(saved, 7 * 24 * 3600)


@pytest.mark.django_db
def test_all_up_is_200_with_each_check(heartbeats):
    for name in NAMES:
        heartbeat_record(name)
    response = APIClient().get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert list(body["checks"]) == [
        "database",
        "redis",
        "beat",
        "worker (celery queue)",
        "worker (destinations queue)",
        "worker (maintenance queue)",
    ]
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["beat"]["lag_seconds"] < 5
    assert body["checks"]["database"]["detail"].startswith("answered in ")


@pytest.mark.django_db
def test_a_stale_worker_and_a_beat_never_seen_are_503_naming_them(
    heartbeats, settings, monkeypatch
):
    settings.CDP_HEALTH_MAX_HEARTBEAT_AGE_SECONDS = 90
    # The ages are read at a fixed instant: on a busy machine the request may come a second
    # after the heartbeats were written.
    now = time.time()
    monkeypatch.setattr("apps.core.heartbeats.time", SimpleNamespace(time=lambda: now))
    heartbeat_record("queue:celery", at=now - 300)
    heartbeat_record("queue:destinations")
    heartbeat_record("queue:maintenance")
    response = APIClient().get("/api/v1/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["detail"] == (
        "Down: beat (no heartbeat ever seen: is it running?); "
        "worker (celery queue) (no heartbeat for 300 s)"
    )
    assert body["checks"]["worker (celery queue)"] == {
        "ok": False,
        "detail": "no heartbeat for 300 s",
        "lag_seconds": 300.0,
    }
    assert body["checks"]["worker (destinations queue)"]["ok"] is True


@pytest.mark.django_db
def test_a_database_that_fails_is_named(heartbeats, monkeypatch):
    for name in NAMES:
        heartbeat_record(name)

    def refuse():
        raise ConnectionError("connection refused")

    monkeypatch.setattr(health, "_database", refuse)
    response = APIClient().get("/api/v1/health")
    assert response.status_code == 503
    assert response.json()["detail"] == "Down: database (ConnectionError: connection refused)"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_running_beat_records_its_heartbeat(heartbeats, tmp_path):
    """The real `celery beat` with the project's scheduler, on the test database."""
    beat = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cdp",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(tmp_path / "beat-schedule"),
        ],
        cwd=ROOT,
        env=worker_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(
            lambda: (heartbeat_ages([BEAT])[BEAT] or 99) < 30,
            timeout=60,
            message="beat's heartbeat",
        )
    finally:
        os.killpg(beat.pid, signal.SIGTERM)
        beat.wait(timeout=30)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_the_heartbeat_of_its_queue(celery_worker_factory):  # noqa: F811
    queue = f"health-{time.monotonic_ns()}"
    celery_worker_factory(queues=(queue,))
    broker_app().send_task("core.heartbeat", args=[queue], queue=queue)
    wait_for(
        lambda: (heartbeat_ages([f"queue:{queue}"])[f"queue:{queue}"] or 99) < 60,
        timeout=60,
        message="the worker's heartbeat",
    )


@pytest.mark.django_db
def test_stats_count_events_by_hour_and_type_profiles_and_failed_deliveries(client_all):
    now = timezone.now().replace(minute=30, second=0, microsecond=0)
    hour = now.replace(minute=0)
    person = ProfileFactory()
    ProfileFactory()
    for kind, count in (("page-view", 3), ("purchase", 1)):
        for _ in range(count):
            EventFactory(type=kind, inserted=now, profile=person)
    EventFactory(type="page-view", inserted=now - timedelta(days=2), profile=person)
    destination = DestinationFactory()
    for status in (Delivery.Status.FAILED, Delivery.Status.SENT):
        Delivery.objects.create(
            destination=destination,
            profile=person,
            status=status,
            due_at=now,
            first_change_at=now,
            latest_due_at=now,
            created=now,
            updated=now,
        )

    body = client_all.get("/api/v1/stats").json()

    assert body["events_per_hour"] == [
        {"hour": hour.isoformat(), "type": "page-view", "count": 3},
        {"hour": hour.isoformat(), "type": "purchase", "count": 1},
    ]
    assert Event.objects.count() == 5
    assert body["profiles"] == {"count": 2, "kind": "exact"}
    assert body["failed_deliveries"] == {"count": 1, "kind": "exact"}
    assert set(body["queue_depth"]) == {"celery", "destinations", "maintenance"}
    assert all(isinstance(depth, int) for depth in body["queue_depth"].values())


def test_queue_depth_counts_the_waiting_messages(monkeypatch):
    queue_name = f"depth-{time.monotonic_ns()}"
    monkeypatch.setattr(health, "WORKER_QUEUES", (queue_name,))
    app = broker_app()
    with app.connection_for_write() as conn:
        queue = Queue(queue_name, channel=conn.default_channel)
        queue.declare()
        try:
            producer = conn.Producer()
            for n in range(3):
                producer.publish({"n": n}, routing_key=queue_name, declare=[queue])
            assert health.queue_depths() == {queue_name: 3}
        finally:
            queue.delete()


@pytest.mark.django_db
def test_stats_need_a_key(db):
    assert APIClient().get("/api/v1/stats").status_code == 401
