"""Issue 12 item 4: a workflow's remote call repeated after its worker was killed carries the
same Idempotency-Key, so a remote that honours it does the work once."""

import pytest

from apps.events.models import Event
from apps.tracking.tasks import process_profile_events
from apps.workflows.actions.http import remote_call_idempotency_key
from apps.workflows.models import WorkflowRun
from apps.workflows.services.workflows import workflow_create
from tests.support.celery_worker import (  # noqa: F401  (fixtures)
    celery_worker_factory,
    wait_for,
)
from tests.workflows.factories import EventFactory, RuleFactory
from tests.workflows.graphs import linear_graph
from tests.workflows.servers import RecordingServer

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def slow_remote():
    remote = RecordingServer(hold_first=True).start()
    yield remote
    remote.stop()


def test_the_call_repeated_after_a_killed_worker_has_the_same_key(
    celery_worker_factory,  # noqa: F811
    slow_remote,
):
    call = {"url": slow_remote.url, "timeout": 10, "body": {"event": "event@id"}}
    workflow = workflow_create(
        name="Call twice",
        graph=linear_graph(("remote_call", call, "response"), ("remote_call", call)),
    )
    RuleFactory(workflow=workflow)
    event = EventFactory()
    worker = celery_worker_factory(queues=("idempotency-kill-test",))

    process_profile_events.apply_async(args=[event.profile_id], queue="idempotency-kill-test")
    assert slow_remote.first_arrived.wait(20), "the remote call node never started"
    worker.kill_pool_processes()
    wait_for(
        lambda: Event.objects.get(pk=event.pk).status == Event.Status.PROCESSED,
        message="the redelivered message to be processed",
    )
    worker.wait_idle()

    assert WorkflowRun.objects.count() == 1
    keys = [request["headers"]["Idempotency-Key"] for request in slow_remote.requests]
    first, second = (
        remote_call_idempotency_key(event_id=event.pk, workflow_id=workflow.pk, node_id=node_id)
        for node_id in ("n1", "n2")
    )
    # The killed run's call, then the redelivered run's two calls.
    assert keys == [first, first, second]
