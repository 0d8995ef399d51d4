"""What tracking adds to the admin of events, quarantined events and event sources."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.workflows.factories import EventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    return client


def test_replay_action_queues_the_selected_events(staff_client, monkeypatch):
    queued = []
    monkeypatch.setattr(
        "apps.tracking.admin.events_replay_enqueue",
        lambda *, event_ids: queued.append(list(event_ids)) or len(event_ids),
    )
    events = [EventFactory(status="processed") for _ in range(2)]

    response = staff_client.post(
        reverse("admin:events_event_changelist"),
        {"action": "replay_events_through_workflows", "_selected_action": [e.pk for e in events]},
        follow=True,
    )

    assert sorted(queued[0]) == sorted(e.pk for e in events)
    assert "2 event(s) queued for replay" in response.content.decode()
