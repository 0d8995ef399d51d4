"""RabbitMQ as the broker (CELERY_BROKER_URL=amqp://...): a /track event travels through it to
a real worker and is processed; results, locks and heartbeats stay on Redis."""

import json
import os

import pytest
import redis
from django.test import Client
from kombu import Connection

from apps.events.models import Event
from apps.profiles.models import Profile
from apps.sources.services import event_source_create
from apps.workflows.models import WorkflowRun
from apps.workflows.services.workflows import workflow_create
from cdp.celery import app
from tests.support.celery_worker import (  # noqa: F401  (fixtures)
    celery_worker_factory,
    purge_broker_queue,
    wait_for,
)
from tests.workflows.factories import RuleFactory
from tests.workflows.graphs import edge, graph, node

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# The machine's RabbitMQ (CI runs one too); another one with CDP_TEST_RABBITMQ_URL.
RABBITMQ_URL = os.environ.get("CDP_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
TIER_QUEUES = ("celery", "destinations", "maintenance")


@pytest.fixture
def rabbitmq_url() -> str:
    """The RabbitMQ broker, its tier queues emptied of an earlier run's messages."""
    try:
        with Connection(RABBITMQ_URL, connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=1, timeout=5)
            for queue in TIER_QUEUES:
                channel = connection.channel()
                try:
                    channel.queue_purge(queue)
                except connection.channel_errors:
                    pass  # not declared yet: nothing to purge
                finally:
                    channel.close()
    except Exception as error:  # any failure to reach it: the test cannot run, say why
        pytest.fail(
            f"RabbitMQ at {RABBITMQ_URL} did not answer ({error!r}). Start it "
            "(`apt-get install -y rabbitmq-server && service rabbitmq-server start`) or set "
            "CDP_TEST_RABBITMQ_URL to a broker this test may use."
        )
    return RABBITMQ_URL


def test_a_track_event_goes_through_rabbitmq_to_a_worker(
    rabbitmq_url,
    celery_worker_factory,  # noqa: F811
    settings,
):
    purge_broker_queue()  # the Redis broker: nothing of this test may arrive there
    # The app's own producer pool stays on Redis for the tests after this one (Celery reads
    # its settings live, and builds that pool on first use): build it before the override.
    assert app.pool.connection.transport.driver_type == "redis"
    settings.CELERY_BROKER_URL = rabbitmq_url  # the request side's hand-off publishes there
    celery_worker_factory(broker_url=rabbitmq_url, queues=("celery",))
    source = event_source_create(name="Web", source_id="rabbit-web")
    workflow = workflow_create(
        name="Plan",
        graph=graph(
            [
                node("start", "start"),
                node(
                    "copy",
                    "copy_data",
                    name="Keep plan",
                    traits={"set": {"profile@traits.plan": "event@properties.plan"}},
                ),
            ],
            [edge("start", "copy")],
        ),
    )
    rule = RuleFactory(workflow=workflow, event_type="purchase", source=source)

    response = Client().post(
        "/track",
        data=json.dumps(
            {
                "source": {"id": "rabbit-web"},
                "session": {"id": "rabbit-session"},
                "events": [{"type": "purchase", "properties": {"plan": "pro"}}],
            }
        ),
        content_type="application/json",
    )

    assert response.status_code == 200
    profile_id = response.json()["profile"]["id"]
    wait_for(
        lambda: Event.objects.get(type="purchase").status == Event.Status.PROCESSED,
        timeout=60,
        message="the purchase event to be processed by the worker on RabbitMQ",
    )
    event = Event.objects.get(type="purchase")
    assert event.metadata["processed_by"] == {"rules": [rule.id], "workflows": [workflow.id]}
    assert Profile.objects.get(pk=profile_id).traits == {"plan": "pro"}
    run = WorkflowRun.objects.get()
    assert (run.event_id, run.profile_id, run.status) == (event.id, profile_id, "ok")
    assert redis.Redis.from_url(settings.REDIS_URL).llen("celery") == 0
    with Connection(rabbitmq_url) as connection:
        assert connection.default_channel.queue_declare("celery", passive=True).message_count == 0
