"""Waits with real workers (issue 18): the abandoned-basket flow end to end with a worker and
beat, and parked branches surviving killed workers and a Redis that restarts empty."""

import contextlib
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from apps.events.models import Event
from apps.profiles.models import Profile, Session
from apps.tracking.processing import profile_events_process
from apps.tracking.tasks import resume_parked_runs, visits_end_task
from apps.tracking.visits import VISIT_ENDED
from apps.workflows.models import ParkedRun, Rule, WorkflowRun
from apps.workflows.services.workflows import workflow_create
from tests.support.celery_worker import (  # noqa: F401 (fixtures)
    broker_app,
    celery_beat_factory,
    celery_worker_factory,
    purge_broker_queue,
    wait_for,
)
from tests.tracking.conftest import payload
from tests.tracking.redis_server import PrivateRedis
from tests.workflows.factories import EventFactory, ProfileFactory, RuleFactory, WorkflowFactory
from tests.workflows.graphs import edge, graph, node
from tests.workflows.servers import RecordingServer

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# An hour of waiting is 7.2 s here; the beat job looks for due branches every second.
WAIT_SCALE = "0.002"
BASKET_ENV = {"CDP_WORKFLOW_WAIT_SCALE": WAIT_SCALE, "CDP_WORKFLOW_RESUME_EVERY_SECONDS": "1"}


@pytest.fixture
def server():
    started = RecordingServer(status=200, body={"ok": True}).start()
    yield started
    started.stop()


@pytest.fixture(autouse=True)
def _clean_broker():
    purge_broker_queue()
    yield
    purge_broker_queue()


def abandoned_basket_workflow(url: str):
    """visit-ended -> wait up to an hour for checkout -> on timeout, a webhook to `url`."""
    workflow = workflow_create(
        name="Abandoned basket",
        graph=graph(
            [
                node("start", "start"),
                node(
                    "checkout",
                    "wait_for_event",
                    name="Checkout within an hour?",
                    event_type="checkout",
                    amount=1,
                    unit="hours",
                ),
                node("bought", "end"),
                node(
                    "remind",
                    "remote_call",
                    name="Remind",
                    url=f"{url}/basket-reminder",
                    body={"profile": "profile@id", "visit_events": "event@properties.events"},
                    timeout=5,
                ),
            ],
            [
                edge("start", "checkout"),
                edge("checkout", "bought", "event"),
                edge("checkout", "remind", "timeout"),
            ],
        ),
    )
    Rule.objects.create(name="Visit ended", event_type=VISIT_ENDED, workflow=workflow)
    return workflow


def visit(api, session_id: str, types: list[str], profile_id: str | None = None) -> str:
    body = payload(
        events=[{"type": kind} for kind in types], session=session_id, profile=profile_id
    )
    response = api.track(body)
    assert response.status_code == 200
    return response.json()["profile"]["id"]


def end_visit(session_id: str) -> None:
    """The visit went idle past the timeout: the next beat run of visits_end ends it."""
    now = timezone.now()
    Session.objects.filter(pk=session_id).update(
        created=now - timedelta(minutes=45), updated=now - timedelta(minutes=35)
    )
    Event.objects.filter(session_id=session_id).update(time=now - timedelta(minutes=45))


def parked_for(profile_id: str) -> ParkedRun | None:
    return ParkedRun.objects.filter(profile_id=profile_id).first()


def test_abandoned_basket_reminds_after_an_hour_only_without_a_checkout(
    api,
    rest_source,
    settings,
    server,
    celery_worker_factory,  # noqa: F811
    celery_beat_factory,  # noqa: F811
):
    settings.CDP_VISIT_TIMEOUT_MINUTES = 30
    workflow = abandoned_basket_workflow(server.url)
    celery_worker_factory(extra_env=BASKET_ENV)
    celery_beat_factory(extra_env=BASKET_ENV)

    buyer = visit(api, "s-buyer", ["page-view", "product-added-to-basket"])
    end_visit("s-buyer")
    assert visits_end_task() == 1
    wait_for(lambda: parked_for(buyer), timeout=60, message="the buyer's branch parked")
    # The abandoner's visit ends later, so their hour ends after the buyer's.
    abandoner = visit(api, "s-abandoner", ["product-added-to-basket"])
    end_visit("s-abandoner")
    assert visits_end_task() == 1
    wait_for(lambda: parked_for(abandoner), timeout=60, message="the abandoner's branch parked")
    buyer_parked = parked_for(buyer)
    assert (buyer_parked.waiting_for, buyer_parked.node_name) == (
        "checkout",
        "Checkout within an hour?",
    )
    assert buyer_parked.due_at - buyer_parked.created < timedelta(seconds=7.3)

    # The buyer checks out within the hour: their branch goes on from the event port.
    visit(api, "s-buyer", ["checkout"], profile_id=buyer)
    wait_for(
        lambda: parked_for(buyer).outcome == "event",
        timeout=60,
        message="the checkout waking the buyer's branch",
    )
    # The abandoner's reminder comes once their hour is over; the buyer's hour was over
    # before that, and no reminder came for them.
    # (Waiting for the outcome, committed after the webhook's answer, not for the request.)
    wait_for(
        lambda: parked_for(abandoner).outcome == "timeout",
        timeout=60,
        message="the abandoner's branch resumed on timeout",
    )
    abandoner_parked = parked_for(abandoner)
    assert abandoner_parked.finished >= abandoner_parked.due_at
    assert timezone.now() > buyer_parked.due_at
    [request] = server.requests
    assert (request["method"], request["path"]) == ("POST", "/basket-reminder")
    assert request["json"] == {"profile": abandoner, "visit_events": 1}
    runs = {
        run.profile_id: run
        for run in WorkflowRun.objects.filter(workflow=workflow, event_type=VISIT_ENDED)
    }
    assert {runs[buyer].status, runs[abandoner].status} == {"ok"}
    assert [(e["node"], e["port"]) for e in runs[buyer].log] == [
        ("start", "payload"),
        ("checkout", None),
        ("checkout", "event"),
        ("bought", None),
    ]
    assert [(e["node"], e["port"]) for e in runs[abandoner].log] == [
        ("start", "payload"),
        ("checkout", None),
        ("checkout", "timeout"),
        ("remind", "response"),
    ]
    assert ParkedRun.objects.filter(status="parked").count() == 0


def restart_empty(broker: PrivateRedis) -> None:
    """Redis killed and started again without its data. The test process's first call through
    kombu afterwards meets a pooled connection to the old server and fails once (seen even
    with a new app): that call is made here."""
    broker.kill()
    broker.start()
    with contextlib.suppress(redis.exceptions.ConnectionError):
        broker_app(broker.url).control.ping(timeout=0.2)


RESUMED = 40
KILL_ENV = {"CDP_WORKFLOW_RESUME_BATCH_SIZE": "4"}


def test_killed_workers_and_an_emptied_redis_lose_no_parked_branch_and_repeat_none(
    celery_worker_factory,  # noqa: F811
):
    slow = RecordingServer(status=200, body={"ok": True}, delay=0.15).start()
    broker = PrivateRedis().start()
    try:
        workflow = WorkflowFactory(
            graph=graph(
                [
                    node("start", "start"),
                    node("wait", "wait", mode="for a time", amount=1, unit="hours"),
                    node("call", "remote_call", url=f"{slow.url}/hook", timeout=5),
                    node("mark", "append_remove", append={"profile@traits.resumed": "event@id"}),
                ],
                [edge("start", "wait"), edge("wait", "call"), edge("call", "mark", "response")],
            )
        )
        RuleFactory(workflow=workflow, event_type="purchase")
        events = {}
        for _ in range(RESUMED):
            event = EventFactory(profile=ProfileFactory(traits={}), type="purchase")
            profile_events_process(profile_id=event.profile_id)
            events[event.profile_id] = event.pk
        assert ParkedRun.objects.filter(status="parked").count() == RESUMED

        # While parked: the worker dies and Redis restarts empty. Nothing is in Redis to lose.
        first = celery_worker_factory(broker_url=broker.url, extra_env=KILL_ENV)
        first.kill()
        restart_empty(broker)
        assert ParkedRun.objects.filter(status="parked").count() == RESUMED

        # While resuming: killed after a few batches committed, one batch in flight.
        ParkedRun.objects.update(due_at=timezone.now())
        second = celery_worker_factory(broker_url=broker.url, extra_env=KILL_ENV)
        broker_app(broker.url).send_task(resume_parked_runs.name)
        wait_for(
            lambda: ParkedRun.objects.filter(status="resumed").count() >= 8,
            timeout=60,
            message="some batches resumed",
        )
        second.kill()
        restart_empty(broker)
        done_before = ParkedRun.objects.filter(status="resumed").count()
        assert done_before < RESUMED

        celery_worker_factory(broker_url=broker.url, extra_env=KILL_ENV)
        broker_app(broker.url).send_task(resume_parked_runs.name)  # the next beat tick
        wait_for(
            lambda: ParkedRun.objects.filter(status="resumed").count() == RESUMED,
            timeout=120,
            message="every branch resumed",
        )
        # Each batch commits its resumed rows with their runs and profiles: all is written.
        for profile in Profile.objects.filter(pk__in=list(events)):
            assert profile.traits == {"resumed": [events[profile.pk]]}
        runs = WorkflowRun.objects.filter(workflow=workflow)
        assert runs.count() == RESUMED
        for run in runs:
            assert run.status == "ok"
            assert [(e["node"], e["port"]) for e in run.log] == [
                ("start", "payload"),
                ("wait", None),
                ("wait", "payload"),
                ("call", "response"),
                ("mark", "payload"),
            ]
        # The killed batch's calls may have gone out twice, with the same key; no more.
        keys = [request["headers"]["Idempotency-Key"] for request in slow.requests]
        assert len(set(keys)) == RESUMED
        assert len(keys) - RESUMED <= int(KILL_ENV["CDP_WORKFLOW_RESUME_BATCH_SIZE"])
    finally:
        broker.stop()
        slow.stop()
