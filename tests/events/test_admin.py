import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from apps.events.models import Event, EventType
from tests.events.factories import EventFactory


@pytest.fixture
def staff_client(client, db):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    return client


def event_type_form(**overrides) -> dict:
    form = {
        "type": "order",
        "name": "Order",
        "description": "",
        "journey_state": "purchase",
        "tags": "shop",
        "json_schema": "",
        "reshapings-TOTAL_FORMS": "0",
        "reshapings-INITIAL_FORMS": "0",
        "reshapings-MIN_NUM_FORMS": "0",
        "reshapings-MAX_NUM_FORMS": "1000",
        "indexed_properties-TOTAL_FORMS": "0",
        "indexed_properties-INITIAL_FORMS": "0",
        "indexed_properties-MIN_NUM_FORMS": "0",
        "indexed_properties-MAX_NUM_FORMS": "1000",
        "mappings-TOTAL_FORMS": "1",
        "mappings-INITIAL_FORMS": "0",
        "mappings-MIN_NUM_FORMS": "0",
        "mappings-MAX_NUM_FORMS": "1000",
        "mappings-0-position": "1",
        "mappings-0-profile_path": "stats.orders",
        "mappings-0-operation": "increment",
        "mappings-0-event_path": "",
        "mappings-0-amount": "1",
        "mappings-0-condition": "",
        "mappings-0-enabled": "on",
    }
    form.update(overrides)
    return form


@pytest.mark.django_db
def test_an_event_type_is_saved_with_its_mapping_rows(staff_client):
    response = staff_client.post(
        reverse("admin:events_eventtype_add"),
        event_type_form(json_schema='{"type": "object", "required": ["id"]}'),
    )

    assert response.status_code == 302
    event_type = EventType.objects.get(type="order")
    assert (event_type.tags, event_type.json_schema) == (
        ["shop"],
        {"type": "object", "required": ["id"]},
    )
    assert list(event_type.mappings.values_list("profile_path", "operation")) == [
        ("stats.orders", "increment")
    ]


@pytest.mark.django_db
def test_schema_and_rule_errors_are_shown_on_their_fields(staff_client):
    response = staff_client.post(
        reverse("admin:events_eventtype_add"),
        event_type_form(json_schema='{"type": "objekt"}', **{"mappings-0-condition": "event@x =="}),
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "json_schema": [
            "Not a valid JSON Schema (draft 2020-12) at type: 'objekt' is not valid under any "
            "of the given schemas"
        ]
    }
    assert list(response.context["inline_admin_formsets"][2].formset.errors[0]) == ["condition"]
    assert not EventType.objects.filter(type="order").exists()


@pytest.mark.django_db
def test_quarantined_events_are_listed_and_released_by_the_action(staff_client):
    EventType.objects.create(type="order", name="Order", json_schema={"required": ["id"]})
    stuck = EventFactory(type="order", status=Event.Status.INVALID, status_message="no id")
    fixed = EventFactory(
        type="order", properties={"id": 1}, status=Event.Status.INVALID, status_message="no id"
    )
    EventFactory(type="order")  # processed: not in the quarantine
    url = reverse("admin:events_quarantinedevent_changelist")

    listing = staff_client.get(url)
    assert sorted(event.pk for event in listing.context["cl"].result_list) == sorted(
        [stuck.pk, fixed.pk]
    )

    response = staff_client.post(
        url,
        {"action": "revalidate_events", ACTION_CHECKBOX_NAME: [stuck.pk, fixed.pk]},
        follow=True,
    )

    assert [str(message) for message in response.context["messages"]] == [
        "1 event(s) now valid and released to processing; 1 still break their type's schema "
        "(see their message)."
    ]
    assert dict(Event.objects.filter(type="order").values_list("pk", "status")) == {
        stuck.pk: Event.Status.INVALID,
        fixed.pk: Event.Status.PROCESSED,
        Event.objects.exclude(pk__in=[stuck.pk, fixed.pk]).get().pk: Event.Status.PROCESSED,
    }


@pytest.mark.django_db
def test_re_validating_needs_the_permission_to_change_quarantined_events(client):
    viewer = get_user_model().objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.set(
        Permission.objects.filter(codename__in=["view_event", "view_quarantinedevent"])
    )
    client.force_login(viewer)
    EventType.objects.create(type="order", name="Order", json_schema={"required": ["id"]})
    fixed = EventFactory(
        type="order", properties={"id": 1}, status=Event.Status.INVALID, status_message="no id"
    )

    response = client.post(
        reverse("admin:events_quarantinedevent_changelist"),
        {"action": "revalidate_events", ACTION_CHECKBOX_NAME: [fixed.pk]},
        follow=True,
    )

    assert [str(message) for message in response.context["messages"]] == [
        "Re-validating events needs the permission to change quarantined events."
    ]
    fixed.refresh_from_db()
    assert (fixed.status, fixed.status_message) == (Event.Status.INVALID, "no id")
