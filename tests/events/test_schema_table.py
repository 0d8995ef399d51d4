"""An event type's schema generated from its recent events and edited as a table of properties
(event_type_schema_suggestion, SchemaTableWidget)."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.events.models import EventType
from apps.events.selectors import event_type_schema_suggestion
from tests.workflows.factories import EventFactory

SHOTS = Path("/tmp/shots-event-types")
URL = "/admin/events/eventtype/schema-suggestion/"


def _orders() -> None:
    now = timezone.now()
    for number, properties in enumerate(
        [
            {
                "order_id": "A-1",
                "total": 19.9,
                "paid": True,
                "items": ["x"],
                "customer": {"email": "a@x.io"},
            },
            {"order_id": "A-2", "total": 5, "paid": False, "customer": {"email": "b@x.io"}},
            {"order_id": "A-3", "coupon": "SPRING", "placed": "2026-12-01T10:00:00Z"},
        ]
    ):
        EventFactory(
            type="order-placed", properties=properties, time=now - timedelta(minutes=number)
        )
    EventFactory(type="page-view", properties={"url": "https://x.io/"})


@pytest.mark.django_db
def test_the_schema_has_every_property_seen_and_requires_those_every_event_has():
    _orders()

    assert event_type_schema_suggestion("order-placed") == {
        "sampled": 3,
        "schema": {
            "type": "object",
            "properties": {
                "order_id": {"type": "string"},
                "total": {"type": "number"},
                "paid": {"type": "boolean"},
                "customer": {"type": "object", "properties": {"email": {"type": "string"}}},
                "items": {"type": "array"},
                "coupon": {"type": "string"},
                "placed": {"type": "string"},
            },
            "required": ["order_id"],
        },
    }
    assert event_type_schema_suggestion("nothing-yet") == {
        "sampled": 0,
        "schema": {"type": "object", "properties": {}},
    }


@pytest.mark.django_db
def test_the_suggestion_endpoint_is_for_staff_and_needs_a_type(client):
    assert client.get(URL, {"type": "order-placed"}).status_code == 302
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    _orders()
    answer = client.get(URL, {"type": "order-placed"}).json()
    assert (answer["sampled"], answer["schema"]["required"]) == (3, ["order_id"])
    missing = client.get(URL, {"type": " "})
    assert (missing.status_code, missing.json()) == (
        400,
        {"error": "Fill in the event type first."},
    )


@pytest.mark.browser
def test_the_schema_is_generated_and_edited_as_a_table(page: Page, live_server):  # noqa: F811
    now = timezone.now()
    for number, properties in enumerate([{"order_id": "A-1", "total": 19.9}, {"order_id": "A-2"}]):
        EventFactory(
            type="order-placed", properties=properties, time=now - timedelta(minutes=number)
        )
    EventType.objects.filter(type="order-placed").delete()

    page.goto(f"{live_server.url}/admin/events/eventtype/add/")
    page.fill("#id_type", "order-placed")
    page.fill("#id_name", "Order placed")
    expect(page.locator(".cdp-schema-empty")).to_be_visible()
    page.get_by_role("button", name="Generate from recent events").click()
    expect(page.locator(".cdp-schema-status")).to_have_text(
        "Made from the 2 most recent event(s); check it, then save."
    )
    names = page.locator(".cdp-schema-name")
    expect(names).to_have_count(2)
    expect(names.nth(0)).to_have_value("order_id")
    expect(page.locator(".cdp-schema-required").nth(0)).to_be_checked()
    expect(page.locator(".cdp-schema-required").nth(1)).not_to_be_checked()
    page.locator(".cdp-schema-type").nth(1).select_option("integer")
    page.locator(".cdp-schema-required").nth(1).check()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "schema-table.png"), full_page=True)
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert EventType.objects.get(type="order-placed").json_schema == {
        "type": "object",
        "properties": {"order_id": {"type": "string"}, "total": {"type": "integer"}},
        "required": ["order_id", "total"],
    }


@pytest.mark.browser
def test_a_schema_with_more_than_types_is_edited_as_json(page: Page, live_server):  # noqa: F811
    event_type = EventType.objects.create(
        type="signed-up",
        name="Signed up",
        json_schema={
            "type": "object",
            "properties": {"email": {"type": "string", "format": "email"}},
        },
    )
    page.goto(f"{live_server.url}/admin/events/eventtype/{event_type.pk}/change/")
    expect(page.locator(".cdp-schema-notice")).to_contain_text("it is edited as JSON below")
    expect(page.locator("#id_json_schema")).to_be_visible()
    expect(page.locator(".cdp-schema-table")).to_be_hidden()
