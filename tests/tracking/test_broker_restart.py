"""A worker survives its broker being killed and restarted (DESIGN §12), against a private
redis-server that the test kills (never the shared one)."""

import contextlib

import pytest
from django.db import transaction

from apps.events.models import Event
from apps.tracking.processing import profile_lock
from apps.tracking.tasks import process_profile_events
from tests.support.celery_worker import (  # noqa: F401  (fixture)
    broker_app,
    celery_worker_factory,
    wait_for,
)
from tests.tracking.redis_server import PrivateRedis
from tests.workflows.factories import EventFactory, ProfileFactory, RuleFactory, WorkflowFactory
from tests.workflows.graphs import linear_graph

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

HELD_MESSAGES = 6


@pytest.fixture
def broker():
    server = PrivateRedis().start()
    yield server
    server.stop()


def publish(broker: PrivateRedis, profile_id: str) -> None:
    broker_app(broker.url).send_task(process_profile_events.name, args=[profile_id])


def test_the_worker_survives_a_broker_killed_while_it_holds_unacknowledged_messages(
    broker,
    celery_worker_factory,  # noqa: F811
):
    """Seen under load: Redis killed (-9) and restarted, the worker logged `Unrecoverable error:
    AttributeError("'NoneType' object has no attribute 'hostname'")` while restoring its
    unacknowledged messages, and exited. It happens when the connection error is first seen
    on another socket than the pending BRPOP (here: the remote-control subscription, dropped
    just before the kill): the consumer's first clean-up then fails half-way, detaches the
    transport, and the second close restores messages through a transport without a client."""
    RuleFactory(
        workflow=WorkflowFactory(
            graph=linear_graph(("append_remove", {"append": {"profile@traits.seen": "event@id"}}))
        )
    )
    held = ProfileFactory()
    # An event waiting for it: a message for a profile with nothing waiting returns at once
    # (apps.tracking.batches), one for this profile waits for the lock.
    EventFactory(profile=held)
    worker = celery_worker_factory(
        broker_url=broker.url, extra_env={"CDP_WORKFLOW_LOCK_TIMEOUT_SECONDS": "20"}
    )
    with contextlib.ExitStack() as stack:
        # The profile's lock is held here: its tasks wait in the worker, unacknowledged.
        stack.enter_context(transaction.atomic())
        profile_lock(held.id)
        for _ in range(HELD_MESSAGES):
            publish(broker, held.id)
        wait_for(
            lambda: broker.client().hlen("unacked") == HELD_MESSAGES,
            timeout=30,
            message="the worker holding every message unacknowledged",
        )
        broker.client().client_kill_filter(_type="pubsub")
        broker.kill()
        wait_for(
            lambda: "Connection to broker lost" in worker.log(),
            timeout=30,
            message="the worker noticing the lost broker",
        )
        broker.start()
    # The broker lost its data; a new message about a new event reaches the same worker.
    event = EventFactory()
    publish(broker, event.profile_id)
    wait_for(
        lambda: Event.objects.get(pk=event.pk).status == Event.Status.PROCESSED,
        timeout=40,
        message="the event processed by the same worker after the broker restart",
    )
    assert worker.is_running()
    assert "Unrecoverable error" not in worker.log()
