"""Issue 17 item 2: events listed by their filters, one event with its lineage, and quarantined
events re-validated."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.destinations.models import Delivery, DeliveryAttempt
from apps.events.models import Event
from apps.workflows.models import WorkflowRun
from tests.destinations.factories import DestinationFactory
from tests.events.factories import EventFactory
from tests.profiles.factories import ProfileFactory, SessionFactory
from tests.workflows.factories import WorkflowFactory

pytestmark = pytest.mark.django_db


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [event["id"] for event in response.json()["results"]]


def test_filters_each_narrow_the_list(client_all):
    now = timezone.now()
    ann, bob = ProfileFactory(id="ann"), ProfileFactory(id="bob")
    session = SessionFactory(id="s-ann", profile=ann)
    EventFactory(id="e1", profile=ann, session=session, type="page-view", inserted=now)
    EventFactory(
        id="e2", profile=ann, session=session, type="purchase", inserted=now - timedelta(hours=2)
    )
    EventFactory(
        id="e3",
        profile=bob,
        type="purchase",
        inserted=now - timedelta(days=3),
        status=Event.Status.INVALID,
    )
    assert _ids(client_all.get("/api/v1/events/")) == ["e1", "e2", "e3"]
    assert _ids(client_all.get("/api/v1/events/?profile=ann")) == ["e1", "e2"]
    assert _ids(client_all.get("/api/v1/events/?session=s-ann&type=purchase")) == ["e2"]
    assert _ids(client_all.get("/api/v1/events/?status=invalid")) == ["e3"]
    since = (now - timedelta(hours=3)).isoformat()
    assert _ids(client_all.get("/api/v1/events/", {"since": since})) == ["e1", "e2"]
    until = (now - timedelta(hours=1)).isoformat()
    assert _ids(client_all.get("/api/v1/events/", {"until": until})) == ["e2", "e3"]


def test_bad_filter_values_are_400_on_the_parameter(client_all):
    status = client_all.get("/api/v1/events/?status=lost")
    assert status.status_code == 400
    assert status.json() == {
        "detail": [
            {
                "loc": ["query", "status"],
                "msg": "One of: collected, processed, invalid, error.",
                "type": "value_error",
            }
        ]
    }
    since = client_all.get("/api/v1/events/?since=yesterday")
    assert since.status_code == 400
    assert since.json()["detail"][0]["loc"] == ["query", "since"]


def test_an_event_with_its_runs_and_deliveries(client_all):
    now = timezone.now()
    event = EventFactory(id="order-1", type="purchase", properties={"total": 120})
    workflow_run = WorkflowRun.objects.create(
        workflow=WorkflowFactory(),
        workflow_version=1,
        event=event,
        event_ref=event.pk,
        event_type="purchase",
        profile=event.profile,
        status=WorkflowRun.Status.OK,
        started=now,
        duration_ms=1.5,
    )
    destination = DestinationFactory(name="CRM")
    delivery = Delivery.objects.create(
        destination=destination,
        event=event,
        status=Delivery.Status.FAILED,
        last_error="HTTP 500",
        due_at=now,
        first_change_at=now,
        latest_due_at=now,
        created=now,
        updated=now,
    )
    DeliveryAttempt.objects.create(
        delivery=delivery,
        destination=destination,
        number=1,
        started=now,
        duration_ms=12,
        outcome=DeliveryAttempt.Outcome.FAILED,
        status_code=500,
    )
    body = client_all.get("/api/v1/events/order-1/").json()
    assert body["event"]["id"] == "order-1"
    assert body["event"]["status"] == "processed"
    assert body["event"]["properties"] == {"total": 120}
    assert [run["id"] for run in body["runs"]] == [workflow_run.pk]
    assert body["runs"][0]["status"] == "ok"
    assert body["deliveries"] == [
        {
            "id": delivery.pk,
            "destination": "CRM",
            "destination_id": destination.pk,
            "status": "failed",
            "last_error": "HTTP 500",
            "attempts": [
                {
                    "number": 1,
                    "started": now.isoformat().replace("+00:00", "Z"),
                    "outcome": "failed",
                    "status_code": 500,
                    "duration_ms": 12,
                }
            ],
        }
    ]
    assert client_all.get("/api/v1/events/nothing/").status_code == 404


def test_revalidate_releases_events_whose_schema_was_fixed(client_all):
    fine = EventFactory(id="q1", type="signup-x", status=Event.Status.INVALID, properties={})
    response = client_all.post(
        "/api/v1/events/revalidate/", {"event_ids": [fine.pk]}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"released": 1, "still_invalid": 0}
    fine.refresh_from_db()
    assert fine.status == Event.Status.PROCESSED
    empty = client_all.post("/api/v1/events/revalidate/", {"event_ids": []}, format="json")
    assert empty.status_code == 400
