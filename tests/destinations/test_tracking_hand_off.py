"""The ingestion pipeline's hand-off: /track schedules event deliveries in its transaction, and
costs no destinations query when no event destination exists."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.destinations.models import Delivery
from apps.events.models import Event
from apps.sources.services import event_source_create
from tests.destinations.factories import DestinationFactory

pytestmark = pytest.mark.django_db


def track(client, source, *events, session="s-1"):
    body = {"source": {"id": source.pk}, "session": {"id": session}, "events": list(events)}
    return client.post("/track", data=json.dumps(body), content_type="application/json")


def test_track_schedules_one_delivery_per_matching_stored_event(
    django_capture_on_commit_callbacks,
):
    source = event_source_create(name="Web", source_id="web")
    purchases = DestinationFactory(kind="event", event_type="purchase")
    client = Client()

    with django_capture_on_commit_callbacks(execute=True):
        response = track(
            client,
            source,
            {"type": "purchase", "properties": {"total": 10}},
            {"type": "page-view", "properties": {}},
        )

    assert response.status_code == 200
    purchase = Event.objects.get(type="purchase")
    assert list(Delivery.objects.values_list("destination_id", "event_id", "profile_id")) == [
        (purchases.pk, purchase.pk, response.json()["profile"]["id"])
    ]


def test_track_deliveries_do_not_wait_for_on_commit_callbacks(django_capture_on_commit_callbacks):
    """A process that dies right after the commit (its on_commit callbacks never run) still
    leaves the deliveries of the events it stored."""
    source = event_source_create(name="Web", source_id="web")
    purchases = DestinationFactory(kind="event", event_type="purchase")

    with django_capture_on_commit_callbacks(execute=False):
        response = track(Client(), source, {"type": "purchase", "properties": {"total": 10}})

    assert response.status_code == 200
    purchase = Event.objects.get(type="purchase")
    assert list(Delivery.objects.values_list("destination_id", "event_id")) == [
        (purchases.pk, purchase.pk)
    ]


def test_track_runs_no_destinations_query_without_event_destinations(
    django_capture_on_commit_callbacks,
):
    source = event_source_create(name="Web", source_id="web")
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        track(client, source, {"type": "page-view"})  # fills the per-process cache

    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        for _ in range(3):
            assert track(client, source, {"type": "page-view"}).status_code == 200

    touched = [q["sql"] for q in queries.captured_queries if "destinations_" in q["sql"]]
    assert touched == []
    assert Delivery.objects.count() == 0
