"""A destination's mapping as a table with a preview on a real profile (MappingTableWidget,
DestinationAdmin.preview_mapping_view)."""

import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from tests.destinations.factories import DestinationFactory, ProfileFactory, ResourceFactory

SHOTS = Path("/tmp/shots-destinations")
URL = "/admin/destinations/destination/preview-mapping/"


@pytest.fixture
def staff_client(client, db):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    return client


def _preview(client, body) -> tuple[int, dict]:
    response = client.post(URL, json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def test_the_preview_renders_the_mapping_on_the_profile_asked_for(staff_client):
    ann = ProfileFactory(
        id="p-ann",
        ids=["p-old"],
        data={"contact": {"email": {"main": "ann@example.com"}}, "pii": {"firstname": "Ann"}},
        traits={"plan": "pro"},
    )
    ProfileFactory(id="p-bob")
    mapping = {
        "email": "profile@data.contact.email.main",
        "name": "profile@data.pii.firstname",
        "plan": "profile@traits.plan",
        "missing": "profile@traits.nothing",
        "source": "crm",
        "vip": True,
    }

    assert _preview(staff_client, {"mapping": mapping, "profile_id": "p-old"}) == (
        200,
        {
            "profile_id": ann.pk,
            "payload": {
                "email": "ann@example.com",
                "name": "Ann",
                "plan": "pro",
                "missing": None,
                "source": "crm",
                "vip": True,
            },
        },
    )


def test_without_an_id_the_latest_updated_profile_is_used(staff_client):
    ProfileFactory(id="p-1")
    latest = ProfileFactory(id="p-2", traits={"plan": "team"})
    latest.save()  # the newest `updated`
    status, answer = _preview(staff_client, {"mapping": {"plan": "profile@traits.plan"}})
    assert (status, answer) == (200, {"profile_id": "p-2", "payload": {"plan": "team"}})


def test_the_preview_says_what_is_wrong(staff_client):
    ProfileFactory(id="p-1")
    assert _preview(staff_client, {"mapping": {}, "profile_id": "nobody"}) == (
        404,
        {"error": "No profile has the id nobody."},
    )
    assert _preview(staff_client, {"profile_id": "p-1"}) == (
        400,
        {"error": 'Send {"mapping": {...}, "profile_id": "..."}.'},
    )
    assert _preview(staff_client, {"mapping": {"a": "profile@data..x"}}) == (
        400,
        {
            "error": "The mapping does not render: Reference 'profile@data..x' has an empty key "
            "at offset 5"
        },
    )


def test_the_preview_is_for_staff_only(client, db):
    response = client.post(URL, "{}", content_type="application/json")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.browser
def test_the_mapping_is_edited_as_a_table_and_previewed(page: Page, live_server):  # noqa: F811
    ProfileFactory(
        id="p-ann",
        data={"contact": {"email": {"main": "ann@example.com"}}, "pii": {"firstname": "Ann"}},
    )
    destination = DestinationFactory(
        name="CRM",
        resource=ResourceFactory(type="webhook"),
        settings={"url": "https://example.com/hook"},
        mapping={"email": "profile@data.contact.email.main"},
    )
    page.goto(f"{live_server.url}/admin/destinations/destination/{destination.pk}/change/")
    table = page.locator(".field-mapping .cdp-map-table")
    expect(table.locator(".cdp-map-key")).to_have_count(1)
    expect(table.locator(".cdp-map-key")).to_have_value("email")
    expect(table.locator(".cdp-map-value")).to_have_value("profile@data.contact.email.main")
    expect(page.locator("#id_mapping")).to_be_hidden()

    page.locator(".field-mapping .cdp-map-add").click()
    table.locator(".cdp-map-key").nth(1).fill("name")
    table.locator(".cdp-map-value").nth(1).fill("profile@data.pii.firstname")
    page.locator(".field-mapping .cdp-map-profile").fill("p-ann")
    page.locator(".field-mapping .cdp-map-preview-button").click()
    output = page.locator(".field-mapping .cdp-map-output")
    expect(output).to_have_text(
        'Sent for profile p-ann:\n{\n  "email": "ann@example.com",\n  "name": "Ann"\n}'
    )
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "mapping-table.png"), full_page=True)

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    destination.refresh_from_db()
    assert destination.mapping == {
        "email": "profile@data.contact.email.main",
        "name": "profile@data.pii.firstname",
    }


@pytest.mark.browser
def test_a_nested_mapping_is_edited_as_json(page: Page, live_server):  # noqa: F811
    destination = DestinationFactory(
        resource=ResourceFactory(type="webhook"),
        settings={"url": "https://example.com/hook"},
        mapping={"contact": {"email": "profile@data.contact.email.main"}},
    )
    page.goto(f"{live_server.url}/admin/destinations/destination/{destination.pk}/change/")
    expect(page.locator(".field-mapping .cdp-map-notice")).to_have_text(
        "This mapping has nested objects or lists: it is edited as JSON below."
    )
    expect(page.locator(".field-mapping .cdp-map-table")).to_be_hidden()
    expect(page.locator("#id_mapping")).to_be_visible()
