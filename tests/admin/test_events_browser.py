"""The event list (issue 15) in a real browser: a type's trend and key columns, the Older link
past the paged range, the go-to-date field; the page fits 1400 px. Screenshots go to
/tmp/shots-events/ for a person to look at."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.admin import site
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.core.paginator import LargeTablePaginator
from apps.events.models import Event, EventType
from apps.events.selectors import event_type_caches_clear
from tests.admin.factories import EventFactory, ProfileFactory, SessionFactory
from tests.sources.factories import EventSourceFactory

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-events")
WIDTH = 1400


@pytest.fixture
def admin_viewport() -> dict[str, int]:
    return {"width": WIDTH, "height": 900}


@pytest.fixture
def purchases(transactional_db):
    for event_type in ("purchase", "page-view"):
        event_type_caches_clear(event_type)
    EventType.objects.update_or_create(
        type="purchase",
        defaults={
            "name": "Purchase",
            "json_schema": {
                "type": "object",
                "required": ["order_id", "total"],
                "properties": {
                    "order_id": {"type": "string"},
                    "total": {"type": "number"},
                    "currency": {"type": "string"},
                    "email": {"type": "string"},
                },
            },
        },
    )
    web = EventSourceFactory(id="web", name="Web shop")
    profile = ProfileFactory(id="0b7c6a4e-5b8f-4a57-a3a4-2c1d5f1e9a01")
    session = SessionFactory(id="6f0e1d2c-3b4a-4596-8778-695a4b3c2d1e", profile=profile)
    now = timezone.now()
    n = 0
    for day in range(30):
        for _ in range((day * 7) % 11 + (3 if day < 3 else 0)):
            n += 1
            at = now - timedelta(days=day, minutes=n)
            EventFactory(
                id=f"evt-{n:05d}-{'x' * 20}",
                type="purchase",
                source=web,
                profile=profile,
                session=session,
                status="error" if n % 9 == 0 else "processed",
                time=at,
                inserted=at,
                properties={
                    "order_id": f"A-{1000 + n}",
                    "total": round(19.99 + n, 2),
                    "currency": "EUR",
                    "email": f"customer.with.a.rather.long.address.{n}@example-shop.com",
                },
            )
    yield
    for event_type in ("purchase", "page-view"):
        event_type_caches_clear(event_type)


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def assert_fits(page: Page) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth,"
        " document.querySelector('#changelist-form .results').scrollWidth,"
        " document.querySelector('#changelist-form .results').clientWidth]"
    )
    assert widths[0] <= WIDTH
    assert widths[1] <= widths[2]


def test_a_type_with_its_trend_and_key_columns(page, live_server, purchases):
    page.goto(f"{live_server.url}/admin/events/event/?type=purchase")

    expect(page.locator(".cdp-trend h3")).to_contain_text("purchase: ")
    assert page.locator(".cdp-trend rect").count() == 30
    expect(page.locator("#result_list thead")).to_contain_text("Order_id")

    assert_fits(page)
    shot(page, "1-type-purchase-trend-and-columns")


def test_older_link_past_the_paged_range(page, live_server, purchases, monkeypatch):
    monkeypatch.setattr(LargeTablePaginator, "count_cap", 40)
    monkeypatch.setattr(site._registry[Event], "list_per_page", 20)

    page.goto(f"{live_server.url}/admin/events/event/?type=purchase&status__exact=processed&p=2")
    page.locator("a.cdp-older").scroll_into_view_if_needed()
    shot(page, "2-last-numbered-page-with-older-link")
    page.locator("a.cdp-older").click()

    expect(page.locator("a.cdp-newest")).to_be_visible()
    assert "status__exact=processed" in page.url and "type=purchase" in page.url
    expect(page.locator("#changelist-filter")).to_contain_text("Stored before")

    assert_fits(page)
    shot(page, "3-older-events-same-filters")


def test_go_to_date_and_page_past_the_end(page, live_server, purchases, monkeypatch):
    page.goto(f"{live_server.url}/admin/events/event/?status__exact=processed&stored=30d")
    day = timezone.localtime(timezone.now() - timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%S")
    page.fill("#cdp-goto-before", day)
    page.locator(".cdp-goto input[type=submit]").click()

    expect(page.locator("#changelist-filter")).to_contain_text("Stored before")
    assert "status__exact=processed" in page.url and "stored=" not in page.url
    assert_fits(page)
    shot(page, "4-go-to-date")

    monkeypatch.setattr(site._registry[Event], "list_per_page", 20)
    page.goto(f"{live_server.url}/admin/events/event/?status__exact=processed&p=101")
    expect(page.locator(".messagelist")).to_contain_text("There is no page 101")
    shot(page, "5-page-past-the-end")
