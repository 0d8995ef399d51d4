"""A destination's sender settings are form fields made from the resource type's schema
(apps.core.schema_forms), never JSON typed by hand."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import Page, expect

from apps.destinations.models import Destination, Resource
from tests.destinations.factories import DestinationFactory, ResourceFactory

SHOTS = Path("/tmp/shots-destinations")


@pytest.fixture
def staff_client(client, db):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    return client


def _form(resource, **fields) -> dict:
    return {
        "name": "Mail the team",
        "description": "",
        "enabled": "on",
        "kind": "profile",
        "resource": resource.pk,
        "condition": "",
        "mapping": "{}",
        "delay_seconds": "0",
        "max_delay_seconds": "60",
        "event_type": "",
        "source": "",
        "sync_segment": "",
        "sync_every": "",
        "sync_time": "",
        "sync_interval_hours": "",
        "sync_crontab": "",
        "removal_mapping": "{}",
        **fields,
    }


def test_the_fields_of_the_resource_type_make_the_settings(staff_client):
    smtp = ResourceFactory(type="smtp", credentials={"host": "mail.example.com"})

    response = staff_client.post(
        reverse("admin:destinations_destination_add"),
        _form(
            smtp,
            settings__smtp__from="crm@example.com",
            settings__smtp__to="{{profile@data.contact.email.main}}",
            settings__smtp__subject="Hello",
            settings__smtp__body="Hi {{profile@data.pii.firstname}},\nwelcome.",
            settings__smtp__html="false",
            settings__smtp__reply_to="",
            settings__smtp__timeout="",
            # Another type's fields are ignored.
            settings__webhook__url="https://example.com/hook",
        ),
    )

    assert response.status_code == 302
    assert Destination.objects.get().settings == {
        "from": "crm@example.com",
        "to": "{{profile@data.contact.email.main}}",
        "subject": "Hello",
        "body": "Hi {{profile@data.pii.firstname}},\nwelcome.",
        "html": False,
    }


def test_headers_are_lines_of_name_and_value(staff_client):
    webhook = ResourceFactory(type="webhook")
    fields = {
        "settings__webhook__url": "https://example.com/hook",
        "settings__webhook__method": "PUT",
        "settings__webhook__headers": "X-Team: growth\n\nX-Env: test ",
        "settings__webhook__batch_size": "50",
    }

    staff_client.post(reverse("admin:destinations_destination_add"), _form(webhook, **fields))

    destination = Destination.objects.get()
    assert destination.settings == {
        "url": "https://example.com/hook",
        "method": "PUT",
        "headers": {"X-Team": "growth", "X-Env": "test"},
        "batch_size": 50,
    }
    html = staff_client.get(
        reverse("admin:destinations_destination_change", args=[destination.pk])
    ).content.decode()
    # JSONB keeps an object's keys in its own order (shorter first).
    assert "X-Env: test\nX-Team: growth</textarea>" in html
    assert 'name="settings__webhook__url" value="https://example.com/hook"' in html
    assert '<option value="PUT" selected>PUT</option>' in html
    assert "Settings shape" not in html and "additionalProperties" not in html


def test_a_header_line_without_a_colon_is_refused_on_its_field(staff_client):
    webhook = ResourceFactory(type="webhook")

    response = staff_client.post(
        reverse("admin:destinations_destination_add"),
        _form(
            webhook,
            settings__webhook__url="https://example.com/hook",
            settings__webhook__headers="X-Team growth",
        ),
    )

    assert response.context["adminform"].form.errors["settings__webhook__headers"] == [
        "Line 1 is not 'Name: value': 'X-Team growth'"
    ]
    assert Destination.objects.count() == 0


def test_a_required_setting_left_empty_is_named(staff_client):
    webhook = ResourceFactory(type="webhook")

    response = staff_client.post(reverse("admin:destinations_destination_add"), _form(webhook))

    assert response.context["adminform"].form.errors["settings__webhook__url"] == [
        "Required for this resource type."
    ]


@pytest.mark.browser
def test_the_page_shows_the_settings_of_the_selected_resources_type(page: Page, live_server):  # noqa: F811
    webhook = ResourceFactory(name="Team webhook", type="webhook")
    ResourceFactory(name="Office mail", type="smtp", credentials={"host": "mail.example.com"})
    destination = DestinationFactory(
        name="Notify", resource=webhook, settings={"url": "https://example.com/hook"}
    )

    page.goto(f"{live_server.url}/admin/destinations/destination/{destination.pk}/change/")
    url = page.locator("#id_settings__webhook__url")
    subject = page.locator("#id_settings__smtp__subject")
    expect(url).to_be_visible()
    expect(url).to_have_value("https://example.com/hook")
    expect(subject).to_be_hidden()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "webhook-settings.png"), full_page=True)

    page.select_option("#id_resource", label="Office mail (smtp)")
    expect(subject).to_be_visible()
    expect(url).to_be_hidden()
    page.fill("#id_settings__smtp__from", "crm@example.com")
    page.fill("#id_settings__smtp__to", "{{profile@data.contact.email.main}}")
    page.fill("#id_settings__smtp__subject", "Hello")
    page.fill("#id_settings__smtp__body", "Welcome")
    page.screenshot(path=str(SHOTS / "smtp-settings.png"), full_page=True)
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    destination.refresh_from_db()
    assert destination.settings == {
        "from": "crm@example.com",
        "to": "{{profile@data.contact.email.main}}",
        "subject": "Hello",
        "body": "Welcome",
    }


@pytest.mark.browser
def test_picking_a_mailchimp_resource_shows_its_audience_settings(page: Page, live_server):  # noqa: F811
    webhook = ResourceFactory(name="Team webhook", type="webhook")
    ResourceFactory(name="Newsletter", type="mailchimp", credentials={"api_key": "k-us21"})
    destination = DestinationFactory(
        name="Audience",
        resource=webhook,
        settings={"url": "https://example.com/hook"},
        mapping={"email": "profile@data.contact.email.main"},
    )

    page.goto(f"{live_server.url}/admin/destinations/destination/{destination.pk}/change/")
    list_id = page.locator("#id_settings__mailchimp__list_id")
    expect(list_id).to_be_hidden()

    page.select_option("#id_resource", label="Newsletter (mailchimp)")
    expect(list_id).to_be_visible()
    expect(page.locator("#id_settings__webhook__url")).to_be_hidden()
    page.fill("#id_settings__mailchimp__list_id", "a1b2c3")
    page.select_option("#id_settings__mailchimp__status_if_new", "pending")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "mailchimp-settings.png"), full_page=True)
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    destination.refresh_from_db()
    assert destination.resource.type == "mailchimp"
    assert destination.settings == {"list_id": "a1b2c3", "status_if_new": "pending"}


@pytest.mark.browser
def test_the_resource_page_shows_the_credentials_of_the_chosen_type(page: Page, live_server):  # noqa: F811
    page.goto(f"{live_server.url}/admin/destinations/resource/add/")
    host = page.locator("#id_credentials__smtp__host")
    url = page.locator("#id_credentials__rabbitmq__url")
    headers = page.locator("#id_credentials__webhook__headers")
    page.fill("#id_name", "Office mail")
    page.select_option("#id_type", "smtp")
    expect(host).to_be_visible()
    expect(url).to_be_hidden()
    expect(headers).to_be_hidden()
    page.fill("#id_credentials__smtp__host", "mail.example.com")
    page.fill("#id_credentials__smtp__password", "s3cret")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "resource-smtp.png"), full_page=True)
    page.get_by_role("button", name="Save and continue editing").click()

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert Resource.objects.get().credentials == {
        "host": "mail.example.com",
        "password": "s3cret",
    }
    expect(page.locator("#id_credentials__smtp__password")).to_have_value("")
