"""The event type page's reshaping and its preview, in a real browser: a developer adds a
reshaping in the inline form, saves, and reads the latest stored event before and after.
Screenshots go to /tmp/shots-reshaping/ for a person to look at."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from apps.events.models import EventReshaping, EventType
from tests.events.factories import EventFactory

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-reshaping")


@pytest.fixture
def page(page: Page) -> Page:
    page.set_default_timeout(15_000)
    return page


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_a_reshaping_added_in_the_form_is_previewed_on_the_latest_event(page, live_server):
    purchase = EventType.objects.create(type="purchase", name="Purchase")
    latest = EventFactory(type="purchase", properties={"sku": "SH-42", "price": 59.9})

    page.goto(f"{live_server.url}/admin/events/eventtype/{purchase.pk}/change/")
    expect(page.locator(".field-reshaping_preview .readonly")).to_have_text(
        "No enabled reshaping: events of this type are stored as sent."
    )
    page.locator("#reshapings-group .add-row a").click()
    page.fill("#id_reshapings-0-name", "Nest the product")
    page.fill(
        "#id_reshapings-0-properties",
        '{"product": {"id": "event@properties.sku", "price": "event@properties.price"}}',
    )
    page.locator("#reshapings-group").scroll_into_view_if_needed()
    shot(page, "01-form")
    page.click("input[name=_continue]")

    expect(page.locator(".messagelist .success")).to_be_visible()
    preview = page.locator(".field-reshaping_preview .readonly")
    expect(preview).to_contain_text('reshaped by "Nest the product"')
    expect(preview.locator("a")).to_have_attribute("title", latest.pk)
    reshaped = preview.locator(".cdp-reshaping-preview > div").nth(1)
    expect(reshaped.locator("pre")).to_contain_text('"id": "SH-42"')
    expect(reshaped.locator("pre")).to_contain_text('"price": 59.9')
    preview.scroll_into_view_if_needed()
    shot(page, "02-preview")
    saved = EventReshaping.objects.get()
    assert (saved.name, saved.properties, saved.context, saved.session) == (
        "Nest the product",
        {"product": {"id": "event@properties.sku", "price": "event@properties.price"}},
        None,
        None,
    )


def test_a_template_that_does_not_parse_is_shown_on_its_field(page, live_server):
    purchase = EventType.objects.create(type="purchase", name="Purchase")

    page.goto(f"{live_server.url}/admin/events/eventtype/{purchase.pk}/change/")
    page.locator("#reshapings-group .add-row a").click()
    page.fill("#id_reshapings-0-name", "Broken")
    page.fill("#id_reshapings-0-context", '{"page": "event@context..page"}')
    page.click("input[name=_continue]")

    error = page.locator("#reshapings-group .errorlist").first
    expect(error).to_have_text("Reference 'event@context..page' has an empty key at offset 8")
    error.scroll_into_view_if_needed()
    shot(page, "03-error")
    assert not EventReshaping.objects.exists()
