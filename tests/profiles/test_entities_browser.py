"""Issue 23: the entity list and the profile page's entity section in Chromium, with
screenshots (SHOTS) to look at."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.profiles.factories import EntityFactory, ProfileFactory

SHOTS = Path("/tmp/shots-wt-ent")
PASSWORD = "entities-test-password"
T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_entity_list_and_the_profile_section_in_the_browser(browser, live_server):
    get_user_model().objects.create_superuser("marketer", "m@example.com", PASSWORD)
    ann = ProfileFactory(
        id="ann",
        data={
            "pii": {"firstname": "Ann", "lastname": "Smith"},
            "contact": {"email": {"main": "ann.smith@example.com"}},
        },
    )
    bob = ProfileFactory(id="bob")
    EntityFactory(
        id="o-1001",
        type="order",
        profile=ann,
        properties={"total": 99.5, "currency": "EUR", "items": 3},
        traits={"status": "paid"},
        updated=T0,
    )
    EntityFactory(
        id="sub-77",
        type="subscription",
        profile=ann,
        properties={"plan": "pro", "renews": "2026-04-01"},
        traits={"active": True},
        updated=T0 + timedelta(hours=1),
    )
    EntityFactory(id="o-1002", type="order", profile=bob, properties={"total": 12}, updated=T0)
    EntityFactory(
        id="store-oslo", type="store", profile=None, properties={"city": "Oslo"}, updated=T0
    )

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/profiles/entity/")
    page.fill("#id_username", "marketer")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/profiles/entity/")

    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(4)
    expect(page.locator("#changelist-filter")).to_contain_text("subscription")
    page.locator("#changelist-filter a", has_text="order").click()
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("items: 3 · total: 99.5 · currency: EUR")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "entity-list-orders.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/profiles/profile/ann/change/")
    section = page.locator('[data-section="entities"]')
    expect(section.locator("h2")).to_have_text("Entities (orders, subscriptions...)")
    section_rows = section.locator("tbody tr")
    expect(section_rows).to_have_count(2)
    expect(section_rows.nth(0)).to_contain_text("order")
    expect(section_rows.nth(0)).to_contain_text("status: paid")
    expect(section_rows.nth(1)).to_contain_text("plan: pro")
    expect(section_rows.nth(1)).to_contain_text("active: true")
    section.scroll_into_view_if_needed()
    section.screenshot(path=str(SHOTS / "profile-entities-section.png"))

    section.locator("a", has_text="All entities of this person").click()
    page.wait_for_url("**/admin/profiles/entity/?profile=ann")
    expect(rows).to_have_count(2)
    context.close()
