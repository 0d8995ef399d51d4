"""Event reshapings are checked at save (condition and templates, with the notation's
message) and edited with a preview on the event type's admin page."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.events.models import EventReshaping, EventType, IndexedProperty
from apps.events.registry import event_reshaped, event_traits
from tests.events.factories import EventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def purchase_type(db) -> EventType:
    return EventType.objects.create(type="purchase", name="Purchase")


@pytest.fixture
def staff_client(client, db):
    client.force_login(get_user_model().objects.create_superuser(username="developer"))
    return client


def errors_of(event_type: EventType, **fields) -> dict[str, list[str]]:
    fields.setdefault("name", "r")
    with pytest.raises(ValidationError) as caught:
        EventReshaping(event_type=event_type, **fields).full_clean()
    return caught.value.message_dict


def test_a_condition_that_does_not_parse_is_refused(purchase_type):
    errors = errors_of(purchase_type, condition="event@properties.x >", properties={"a": "b"})

    assert list(errors) == ["condition"]
    assert errors["condition"][0].startswith("Unexpected end of the condition at column 21")


def test_a_reference_that_does_not_parse_is_refused_with_the_notation_message(purchase_type):
    errors = errors_of(purchase_type, properties={"a": {"b": ["event@prop..x"]}})

    assert errors == {"properties": ["Reference 'event@prop..x' has an empty key at offset 5"]}


def test_a_template_reading_the_profile_is_refused(purchase_type):
    errors = errors_of(purchase_type, context={"email": "profile@data.contact.email.main"})

    assert errors == {
        "context": [
            "'profile@data.contact.email.main' reads profile@, which is not known before the "
            "event is stored; a reshaping reads event@... and session@context...."
        ]
    }


def test_a_template_must_be_an_object(purchase_type):
    errors = errors_of(purchase_type, session=["event@properties.x"])

    assert errors == {"session": ['Write an object, e.g. {"id": "event@properties.sku"}.']}


def test_a_reshaping_with_no_template_is_refused(purchase_type):
    errors = errors_of(purchase_type)

    assert errors == {
        "properties": ["Fill in at least one template: properties, context or session."]
    }


def change_url(event_type: EventType) -> str:
    return f"/admin/events/eventtype/{event_type.pk}/change/"


def form_data(event_type: EventType, **reshaping) -> dict:
    data = {
        "type": event_type.type,
        "name": event_type.name,
        "description": "",
        "journey_state": "",
        "tags": "",
        "json_schema": "",
        "reshapings-TOTAL_FORMS": "1",
        "reshapings-INITIAL_FORMS": "0",
        "reshapings-MIN_NUM_FORMS": "0",
        "reshapings-MAX_NUM_FORMS": "1000",
        "indexed_properties-TOTAL_FORMS": "0",
        "indexed_properties-INITIAL_FORMS": "0",
        "indexed_properties-MIN_NUM_FORMS": "0",
        "indexed_properties-MAX_NUM_FORMS": "1000",
        "mappings-TOTAL_FORMS": "0",
        "mappings-INITIAL_FORMS": "0",
        "mappings-MIN_NUM_FORMS": "0",
        "mappings-MAX_NUM_FORMS": "1000",
    }
    data.update({f"reshapings-0-{key}": value for key, value in reshaping.items()})
    return data


def test_the_admin_saves_a_reshaping_and_previews_the_latest_event(staff_client, purchase_type):
    EventFactory(type="purchase", properties={"sku": "OLD"}, time=timezone.now().replace(year=2020))
    latest = EventFactory(type="purchase", properties={"sku": "A-1", "price": 5})

    response = staff_client.post(
        change_url(purchase_type),
        form_data(
            purchase_type,
            name="Nest the product",
            position="0",
            enabled="on",
            condition="",
            properties='{"product": {"id": "event@properties.sku"}}',
            context="",
            session="",
        ),
    )

    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    saved = EventReshaping.objects.get()
    assert (saved.name, saved.properties, saved.context) == (
        "Nest the product",
        {"product": {"id": "event@properties.sku"}},
        None,
    )
    page = staff_client.get(change_url(purchase_type)).content.decode()
    assert f'title="{latest.pk}"' in page
    assert 'reshaped by "Nest the product"' in page
    assert "&quot;id&quot;: &quot;A-1&quot;" in page
    assert "OLD" not in page


def test_the_admin_refuses_a_broken_template_and_stores_nothing(staff_client, purchase_type):
    response = staff_client.post(
        change_url(purchase_type),
        form_data(
            purchase_type,
            name="Broken",
            position="0",
            enabled="on",
            condition="",
            properties='{"id": "event@properties[0"}',
            context="",
            session="",
        ),
    )

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.errors == [
        {
            "properties": [
                "Reference 'event@properties[0' has an unclosed or malformed [...] at offset "
                '10; write ["key"] or [0]'
            ]
        }
    ]
    assert not EventReshaping.objects.exists()


def test_the_admin_deletes_a_reshaping_and_indexes_a_property_through_the_services(
    staff_client, purchase_type
):
    rule = EventReshaping.objects.create(
        event_type=purchase_type, name="Nest", properties={"product": "event@properties.sku"}
    )
    reshape = {
        "event_type": "purchase",
        "source_id": "web",
        "properties": {"sku": "A-1"},
        "context": {},
        "traits": {},
        "session_context": {},
    }
    assert event_reshaped(**reshape).applied == "Nest"  # the registry holds it
    data = form_data(purchase_type, id=str(rule.pk),
                     name="Nest", position="0", enabled="on", condition="",
                     properties='{"product": "event@properties.sku"}', context="", session="",
                     DELETE="on")  # fmt: skip
    data.update(
        {
            "reshapings-INITIAL_FORMS": "1",
            "reshapings-0-event_type": str(purchase_type.pk),
            "indexed_properties-TOTAL_FORMS": "1",
            "indexed_properties-0-property": "properties.sku",
            "indexed_properties-0-trait": "sku",
            "indexed_properties-0-type": "text",
        }
    )

    response = staff_client.post(change_url(purchase_type), data)

    assert response.status_code == 302
    assert not EventReshaping.objects.exists()
    # Told at once, as the API's writes tell it.
    assert event_reshaped(**reshape) is None
    assert list(IndexedProperty.objects.values_list("property", "trait", "type")) == [
        ("sku", "sku", "text")
    ]
    assert event_traits(event_type="purchase", properties={"sku": "A-1"}, traits={}) == {
        "sku": "A-1"
    }
