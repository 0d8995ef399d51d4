import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from apps.events.models import Event, EventType
from apps.events.registry import event_type_registry, event_validation_error
from apps.events.services import event_type_save
from apps.sources.services import event_source_create

ORDER_SCHEMA = {
    "type": "object",
    "required": ["order_id", "total"],
    "properties": {"order_id": {"type": "string"}, "total": {"type": "number", "minimum": 0}},
}


def order_type(schema=ORDER_SCHEMA) -> EventType:
    return event_type_save(event_type=EventType(type="order", name="Order", json_schema=schema))


@pytest.mark.django_db
def test_a_schema_that_is_not_valid_json_schema_is_refused_with_its_location():
    with pytest.raises(ValidationError) as caught:
        order_type({"type": "object", "properties": {"total": {"type": "nummber"}}})

    assert caught.value.message_dict == {
        "json_schema": [
            "Not a valid JSON Schema (draft 2020-12) at properties/total/type: 'nummber' is "
            "not valid under any of the given schemas"
        ]
    }
    assert not EventType.objects.filter(type="order").exists()


@pytest.mark.django_db
def test_a_schema_must_be_an_object():
    with pytest.raises(ValidationError) as caught:
        order_type(["type", "object"])

    assert caught.value.message_dict["json_schema"] == [
        'A JSON schema is an object (or true/false), e.g. {"type": "object"}.'
    ]


@pytest.mark.django_db
def test_the_type_must_be_written_as_stored():
    with pytest.raises(ValidationError) as caught:
        event_type_save(event_type=EventType(type="Order Placed", name="Order placed"))

    assert caught.value.message_dict == {
        "type": ["Event types are stored lower case with '-' for spaces: write 'order-placed'."]
    }


@pytest.mark.django_db
def test_properties_are_checked_against_the_schema_of_their_type():
    order_type()

    assert (
        event_validation_error(event_type="order", properties={"order_id": "A1", "total": 3})
        is None
    )
    assert (
        event_validation_error(event_type="order", properties={"order_id": "A1", "total": 3.5})
        is None
    )
    assert event_validation_error(event_type="order", properties={"order_id": 7, "total": -1}) == (
        "Properties do not match the schema of the event type: properties.order_id: 7 is not "
        "of type 'string'; properties.total: -1 is less than the minimum of 0"
    )
    assert event_validation_error(event_type="order", properties={"order_id": "A1"}) == (
        "Properties do not match the schema of the event type: properties: 'total' is a "
        "required property"
    )
    assert event_validation_error(event_type="page-view", properties={"anything": 1}) is None


@pytest.mark.django_db
def test_validation_runs_no_query_per_event(django_assert_num_queries):
    order_type()
    event_validation_error(event_type="order", properties={})  # loads the registry

    with django_assert_num_queries(0):
        for total in range(50):
            event_validation_error(event_type="order", properties={"order_id": "x", "total": total})
            event_validation_error(event_type="page-view", properties={})


@pytest.mark.django_db
def test_a_schema_change_is_seen_by_the_process_that_made_it_at_once():
    event_type = order_type()
    assert event_validation_error(event_type="order", properties={}) is not None

    event_type.json_schema = None
    event_type_save(event_type=event_type)

    assert event_validation_error(event_type="order", properties={}) is None


@pytest.mark.django_db
def test_a_schema_broken_in_the_database_quarantines_rather_than_passes():
    order_type()
    EventType.objects.filter(type="order").update(json_schema={"type": 12})
    event_type_registry.cache_clear()

    assert event_validation_error(event_type="order", properties={"order_id": "x"}) == (
        "The JSON schema of event type 'order' is invalid: 12 is not valid under any of the "
        "given schemas"
    )


@pytest.mark.django_db
def test_track_stores_an_invalid_event_quarantined_with_its_message():
    order_type()
    event_source_create(name="Web", source_id="web")
    body = {
        "source": {"id": "web"},
        "session": {"id": "s-1"},
        "events": [
            {"type": "order", "id": "bad", "properties": {"order_id": "A1", "total": "10"}},
            {"type": "order", "id": "good", "properties": {"order_id": "A2", "total": 10}},
        ],
    }

    response = Client().post("/track", data=json.dumps(body), content_type="application/json")

    assert response.status_code == 200
    bad, good = Event.objects.get(pk="bad"), Event.objects.get(pk="good")
    assert (bad.status, bad.status_message) == (
        Event.Status.INVALID,
        "Properties do not match the schema of the event type: properties.total: '10' is not "
        "of type 'number'",
    )
    assert (good.status, good.status_message) == (Event.Status.PROCESSED, "")
