"""Events that break their type's schema are quarantined (stored `invalid`, no workflow) and can
be checked again once the schema is fixed; valid ones then go on to the workflows."""

import json

import pytest
from django.test import Client

from apps.events.models import Event, EventType, EventTypeMapping
from apps.events.registry import event_type_registry
from apps.events.services import event_type_save
from apps.sources.services import event_source_create
from apps.tracking.revalidate import events_revalidate
from apps.workflows.models import WorkflowRun
from apps.workflows.selectors import workflow_caches_clear
from tests.events.factories import EventFactory
from tests.support.celery_worker import celery_worker, wait_for  # noqa: F401
from tests.workflows.factories import RuleFactory

STRICT = {"type": "object", "required": ["total"], "properties": {"total": {"type": "number"}}}
LENIENT = {"type": "object", "properties": {"total": {"type": ["number", "string"]}}}


def order_type(schema: dict) -> EventType:
    return event_type_save(event_type=EventType(type="order", name="Order", json_schema=schema))


def track(events: list[dict], session: str = "s-1") -> dict:
    body = {"source": {"id": "web"}, "session": {"id": session}, "events": events}
    response = Client().post("/track", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
def test_revalidation_releases_the_events_the_fixed_schema_accepts():
    event_type = order_type(STRICT)
    text_total = EventFactory(type="order", properties={"total": "12"}, status=Event.Status.INVALID)
    no_total = EventFactory(type="order", properties={}, status=Event.Status.INVALID)
    list_total = EventFactory(type="order", properties={"total": [1]}, status=Event.Status.INVALID)
    untouched = EventFactory(type="order", properties={"total": "x"})  # processed already

    event_type.json_schema = LENIENT
    event_type_save(event_type=event_type)
    valid, still_invalid = events_revalidate(
        event_ids=[text_total.pk, no_total.pk, list_total.pk, untouched.pk]
    )

    assert (valid, still_invalid) == (2, 1)
    statuses = dict(Event.objects.values_list("pk", "status"))
    assert statuses == {
        text_total.pk: Event.Status.PROCESSED,
        no_total.pk: Event.Status.PROCESSED,
        list_total.pk: Event.Status.INVALID,
        untouched.pk: Event.Status.PROCESSED,
    }
    list_total.refresh_from_db()
    assert list_total.status_message == (
        "Properties do not match the schema of the event type: properties.total: [1] is not "
        "of type 'number', 'string'"
    )
    text_total.refresh_from_db()
    assert text_total.status_message == ""


@pytest.mark.django_db
def test_a_released_event_whose_type_maps_into_the_profile_waits_for_processing():
    event_type = order_type(STRICT)
    EventTypeMapping.objects.create(
        event_type=event_type, profile_path="stats.orders", operation="increment"
    )
    event = EventFactory(type="order", properties={"total": "12"}, status=Event.Status.INVALID)

    event_type.json_schema = LENIENT
    event_type_save(event_type=event_type)

    assert events_revalidate(event_ids=[event.pk]) == (1, 0)
    event.refresh_from_db()
    assert event.status == Event.Status.COLLECTED


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_quarantined_event_runs_its_workflow_once_released(celery_worker):  # noqa: F811
    event_source_create(name="Web", source_id="web")
    order_type(STRICT)
    RuleFactory(event_type="order")
    workflow_caches_clear()
    event_type_registry.cache_clear()

    answer = track([{"type": "order", "id": "o-1", "properties": {"total": "12"}}])
    quarantined = Event.objects.get(pk="o-1")
    assert quarantined.status == Event.Status.INVALID
    assert quarantined.profile_id == answer["profile"]["id"]

    EventType.objects.filter(type="order").update(json_schema=LENIENT)
    assert events_revalidate(event_ids=["o-1"]) == (1, 0)

    wait_for(
        lambda: Event.objects.get(pk="o-1").status == Event.Status.PROCESSED,
        timeout=20,
        message="the released event to be processed by the worker",
    )
    run = WorkflowRun.objects.get(event_id="o-1")
    assert (run.status, run.profile_id) == (WorkflowRun.Status.OK, answer["profile"]["id"])
