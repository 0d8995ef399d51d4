"""Takes the manual's screenshots (docs/images/) from a live CDP in headless Chromium.

Not collected with the tests (its name does not start with test_): `python3 run.py docs
--screenshots` runs it, so the pictures follow the admin as it changes. It builds a small
shop's data through the CDP's own front doors where it can (/track for the events) and
factories for the rest, logs in as a marketer and photographs each step at a modest
viewport, so the PNGs stay small."""

from datetime import time
from pathlib import Path

import pytest
import requests
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from apps.destinations.models import Destination
from apps.profiles.models import Segment
from apps.workflows.models import Workflow
from tests.destinations.factories import DestinationFactory, ResourceFactory
from tests.profiles.factories import ProfileFactory
from tests.sources.factories import EventSourceFactory
from tests.workflows.factories import WorkflowFactory
from tests.workflows.graphs import edge, graph, node

IMAGES = Path(__file__).resolve().parent.parent.parent / "docs" / "images"
PASSWORD = "manual-screenshots"
VIEWPORT = {"width": 1200, "height": 720}
SOURCE_ID = "3f0c2a9e-8d1b-4c55-9a0e-5b7d2e4f6a10"


@pytest.fixture
def page(browser, live_server, transactional_db) -> Page:
    get_user_model().objects.create_superuser("marketer", "marketer@example.com", PASSWORD)
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "marketer")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    # The admin's navigation sidebar closed (the browser remembers it): the pages get the width.
    page.goto(f"{live_server.url}/admin/events/event/")
    page.locator("#toggle-nav-sidebar").click()
    yield page
    context.close()


def shot(page: Page, name: str) -> None:
    IMAGES.mkdir(exist_ok=True)
    page.screenshot(path=str(IMAGES / f"{name}.png"))


def visits(live_server) -> None:
    """Three visitors through /track, one of them twice."""
    for session, url in [("s-1", "/"), ("s-2", "/shoes"), ("s-3", "/"), ("s-3", "/cart")]:
        answer = requests.post(
            f"{live_server.url}/track",
            json={
                "source": {"id": SOURCE_ID},
                "session": {"id": session},
                "events": [
                    {"type": "page-view", "properties": {"url": f"https://shop.example{url}"}}
                ],
            },
            timeout=30,
        )
        answer.raise_for_status()


def test_site_owner(page, live_server):
    EventSourceFactory(id=SOURCE_ID, name="Web shop")
    page.goto(f"{live_server.url}/admin/sources/eventsource/{SOURCE_ID}/change/")
    page.get_by_text("const options").first.scroll_into_view_if_needed()
    shot(page, "site-owner-source")
    visits(live_server)
    page.goto(f"{live_server.url}/admin/events/event/")
    expect(page.locator("#result_list tbody tr")).to_have_count(13)
    shot(page, "site-owner-events")


def test_marketer(page, live_server):
    for number, visit_count in enumerate([1, 1, 2, 3, 5, 8]):
        ProfileFactory(id=f"p{number}", stats={"visits": visit_count, "views": 2 * visit_count})
    page.goto(f"{live_server.url}/admin/profiles/segment/add/")
    page.fill("#id_name", "Returning visitors")
    page.fill("#id_condition", "profile@stats.visits > 1")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".cdp-preview-count")).to_contain_text("Matches")
    expect(page.locator(".cdp-cond-builder input")).to_have_count(2)
    page.locator("#id_name").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 150)")
    shot(page, "marketer-segment")

    nodes = [
        node("start", "start", "Start"),
        node("consent", "if", "Gave consent?", condition="event@properties.consent == true"),
        node("segment", "add_segment", "Newsletter", segment="newsletter"),
        node("interest", "increase_interest", "Interest: news", interest="news", value=1),
    ]
    workflow_graph = graph(
        nodes,
        [
            edge("start", "consent"),
            edge("consent", "segment", "true"),
            edge("segment", "interest"),
        ],
    )
    workflow = WorkflowFactory(name="Newsletter sign-up", graph=workflow_graph)
    page.goto(f"{live_server.url}/admin/workflows/workflow/{workflow.pk}/change/")
    page.locator(".react-flow__node").first.wait_for()
    page.locator(".cdpwe-root").scroll_into_view_if_needed()
    page.locator(".react-flow__node", has_text="Gave consent?").click()
    shot(page, "marketer-workflow")

    page.goto(f"{live_server.url}/admin/workflows/rule/add/")
    page.fill("#id_name", "Newsletter sign-ups")
    page.fill("#id_event_type", "newsletter-signup")
    page.select_option("#id_workflow", label=Workflow.objects.get().name)
    shot(page, "marketer-rule")


def test_developer(page, live_server):
    page.goto(f"{live_server.url}/api/docs/")
    page.locator(".opblock-tag-section").first.wait_for()
    shot(page, "developer-api-docs")


def test_operator(page, live_server):
    audience = Segment.objects.create(
        name="Pro customers", slug="pro-customers", condition='profile@traits.plan == "pro"'
    )
    destination = DestinationFactory(
        name="CRM: pro customers",
        resource=ResourceFactory(name="CRM webhook"),
        url="https://crm.example.com/hooks/cdp",
        mapping={"email": "profile@data.contact.email.main", "plan": "profile@traits.plan"},
        sync_segment=audience,
        sync_every=Destination.SyncEvery.DAY,
        sync_time=time(2, 0),
    )
    page.goto(f"{live_server.url}/admin/destinations/destination/{destination.pk}/change/")
    page.locator("#id_sync_every").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 200)")
    shot(page, "operator-destination-schedule")
