"""The hand-off to the workers: messages leave once the transaction commits; a broker that
is down or frozen never turns a committed request into a 5xx or a hang (DESIGN §6)."""

import logging
import time

import pytest

from apps.events.models import Event
from apps.tracking import handoff
from apps.tracking.handoff import events_enqueue, unsaved_events_enqueue
from apps.tracking.processing import collected_events_requeue
from tests.tracking.conftest import payload
from tests.tracking.redis_server import PrivateRedis
from tests.workflows.factories import RuleFactory

pytestmark = pytest.mark.django_db


def test_enqueue_waits_for_the_commit_and_sends_one_message(
    monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(
        "apps.tracking.tasks.process_profile_events.apply_async",
        lambda args, **options: sent.append(("p", tuple(args))),
    )
    monkeypatch.setattr(
        "apps.tracking.tasks.process_events.apply_async",
        lambda args, **options: sent.append(("e", tuple(args))),
    )
    monkeypatch.setattr(
        "apps.tracking.tasks.process_unsaved_events.apply_async",
        lambda args, **options: sent.append(("u", tuple(args))),
    )

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        events_enqueue(event_ids=["a", "b"], profile_id="p1")
        events_enqueue(event_ids=["c"], profile_id=None)
        events_enqueue(event_ids=[], profile_id="p1")
        unsaved_events_enqueue(events=[{"id": "u"}], profile_id="p2")
        unsaved_events_enqueue(events=[], profile_id="p2")
        assert sent == []

    assert len(callbacks) == 3
    assert sent == [("p", ("p1",)), ("e", (["c"],)), ("u", ([{"id": "u"}], "p2"))]


def test_replay_enqueue_sends_chunks_after_commit(monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(
        "apps.tracking.tasks.replay_events.apply_async",
        lambda args, **options: sent.append(*args),
    )
    monkeypatch.setattr(handoff, "REPLAY_CHUNK", 2)

    with django_capture_on_commit_callbacks(execute=True):
        assert handoff.events_replay_enqueue(event_ids=["a", "b", "c"]) == 3
        assert sent == []

    assert sent == [["a", "b"], ["c"]]


@pytest.fixture
def broker(settings):
    """A private Redis as the hand-off's broker, for the test to kill or freeze."""
    server = PrivateRedis().start()
    settings.CELERY_BROKER_URL = server.url
    yield server
    server.stop()


def track_routed(api) -> tuple[dict, float]:
    """POST /track with one event a rule routes to a worker; the answer and its duration."""
    started = time.monotonic()
    response = api.track(payload(session="s-broker", events=[{"type": "purchase"}]))
    return response, time.monotonic() - started


@pytest.mark.django_db(transaction=True)
def test_a_committed_request_answers_200_when_the_broker_is_down(broker, api, rest_source):
    RuleFactory(event_type="purchase")
    broker.kill()

    response, seconds = track_routed(api)

    assert response.status_code == 200
    profile_id = response.json()["profile"]["id"]
    assert list(Event.objects.filter(type="purchase").values_list("status", flat=True)) == [
        "collected"
    ]
    # Refused at once, not retried: well under the test's generous bound.
    assert seconds < 5
    # The sweep is the recovery path: it finds the event once it is old enough.
    assert collected_events_requeue(older_than_seconds=0).profile_ids == [profile_id]


@pytest.mark.django_db(transaction=True)
def test_a_frozen_broker_does_not_hold_the_request(broker, api, rest_source):
    """Seen: a SIGSTOPped Redis held /track for 30 s, until gunicorn killed the worker."""
    RuleFactory(event_type="purchase")
    # A first request opens the hand-off's broker connection; the freeze leaves it open.
    assert track_routed(api)[0].status_code == 200
    assert broker.client().llen("celery") == 1
    broker.freeze()
    try:
        response, seconds = track_routed(api)
    finally:
        broker.thaw()

    assert response.status_code == 200
    assert seconds < 5
    assert Event.objects.filter(type="purchase", status="collected").count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_hand_off_publishes_to_the_broker_once_it_is_back(broker, api, rest_source, settings):
    settings.CDP_HANDOFF_PAUSE_SECONDS = 0
    RuleFactory(event_type="purchase")
    broker.kill()
    assert track_routed(api)[0].status_code == 200
    broker.start()

    response, _ = track_routed(api)

    assert response.status_code == 200
    assert broker.client().llen("celery") == 1


@pytest.mark.django_db(transaction=True)
def test_after_a_failure_the_hand_off_leaves_messages_to_the_sweep_for_a_while(
    broker, api, rest_source, settings, caplog
):
    """A frozen broker costs each attempt the whole timeout: with three sync web workers
    trying on every request, /track stalled (bench/faults.py: p99 7 s while Redis was frozen).
    After one failure the process does not try that broker for CDP_HANDOFF_PAUSE_SECONDS."""
    settings.CDP_HANDOFF_PAUSE_SECONDS = 3600
    RuleFactory(event_type="purchase")
    broker.kill()
    assert track_routed(api)[0].status_code == 200
    broker.start()
    caplog.clear()

    with caplog.at_level(logging.INFO, logger="apps.tracking.handoff"):
        response, _ = track_routed(api)

    assert response.status_code == 200
    assert broker.client().llen("celery") == 0
    assert [record.getMessage() for record in caplog.records] == [
        "Hand-off of workflows.process_profile_events skipped (the broker failed just now), "
        "left to the sweep"
    ]
    assert Event.objects.filter(type="purchase", status="collected").count() == 2
