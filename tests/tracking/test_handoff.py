"""The hand-off to the workers: messages leave once the transaction commits."""

import pytest

from apps.tracking import handoff
from apps.tracking.handoff import events_enqueue, unsaved_events_enqueue

pytestmark = pytest.mark.django_db


def test_enqueue_waits_for_the_commit_and_sends_one_message(
    monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(
        "apps.tracking.tasks.process_profile_events.delay", lambda *a: sent.append(("p", a))
    )
    monkeypatch.setattr(
        "apps.tracking.tasks.process_events.delay", lambda *a: sent.append(("e", a))
    )
    monkeypatch.setattr(
        "apps.tracking.tasks.process_unsaved_events.delay", lambda *a: sent.append(("u", a))
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
    monkeypatch.setattr("apps.tracking.tasks.replay_events.delay", lambda ids: sent.append(ids))
    monkeypatch.setattr(handoff, "REPLAY_CHUNK", 2)

    with django_capture_on_commit_callbacks(execute=True):
        assert handoff.events_replay_enqueue(event_ids=["a", "b", "c"]) == 3
        assert sent == []

    assert sent == [["a", "b"], ["c"]]
