"""What tracking adds to the admin of events, quarantined events and event sources."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.workflows.factories import EventFactory, RuleFactory, WorkflowFactory
from tests.workflows.graphs import linear_graph

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    return client


def test_replay_asks_first_and_names_the_workflows_that_call_other_systems(
    staff_client, monkeypatch
):
    queued = []
    monkeypatch.setattr(
        "apps.tracking.admin.events_replay_enqueue",
        lambda *, event_ids: queued.append(list(event_ids)) or len(event_ids),
    )
    events = [EventFactory(status="processed") for _ in range(2)]
    calling = WorkflowFactory(
        name="Tell the CRM",
        graph=linear_graph(("remote_call", {"url": "https://crm.example.com/hook", "timeout": 5})),
    )
    RuleFactory(event_type="page-view", workflow=calling)
    RuleFactory(event_type="page-view", workflow=WorkflowFactory(name="Count views"))
    RuleFactory(event_type="purchase", workflow=WorkflowFactory(name="Not routed here"))
    selected = {
        "action": "replay_events_through_workflows",
        "_selected_action": [e.pk for e in events],
    }

    asked = staff_client.post(reverse("admin:events_event_changelist"), selected)

    assert queued == []
    page = asked.content.decode()
    assert "2 events will run again" in page
    assert "Count views</li>" in page
    assert (
        "Tell the CRM — <strong>calls other systems (HTTP calls, webhooks): they are called, "
        "and sent to, again</strong>" in page
    )
    assert "Not routed here" not in page
    assert page.count('name="_selected_action"') == 2

    response = staff_client.post(
        reverse("admin:events_event_changelist"), {**selected, "confirm": "yes"}, follow=True
    )

    assert sorted(queued[0]) == sorted(e.pk for e in events)
    assert "2 event(s) queued for replay" in response.content.decode()
