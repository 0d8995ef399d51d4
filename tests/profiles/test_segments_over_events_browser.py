"""A segment over the person's events in a real browser: a malformed aggregate is pointed at as
you type and on Preview, the preview counts in the database, and the saved segment says it is
re-evaluated as time passes. Screenshots go to /tmp/shots-segments-over-events/."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.profiles.models import Segment
from tests.events.factories import EventFactory
from tests.profiles.factories import ProfileFactory

pytestmark = [pytest.mark.browser]

SHOTS = Path("/tmp/shots-segments-over-events")
DEADLINE_MS = 30_000


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_segment_over_purchases_in_the_admin(page, live_server):
    # No worker runs the evaluation the save enqueues (a stale message finds no segment later);
    # the worker's sweep is tested in test_segments_over_events.py. This is about the form.
    now = timezone.now()
    for number, purchases in enumerate([0, 1, 3]):
        profile = ProfileFactory(id=f"p{number}")
        for day in range(purchases):
            EventFactory(profile=profile, type="purchase", time=now - timedelta(days=day + 1))

    page.goto(f"{live_server.url}/admin/profiles/segment/add/")
    page.fill("#id_name", "Frequent buyers")
    result = page.locator(".cdp-preview-result")

    page.fill("#id_condition", 'count(events type "purchase" in last 7 dayz) > 2')
    page.get_by_role("button", name="Preview").click()
    expect(result).to_contain_text(
        "Unexpected 'dayz' at column 40; expected a time unit (minutes, hours, days, weeks)"
    )
    shot(page, "1-preview-error")

    page.fill("#id_condition", 'count(events type "purchase" in last 7 days) > 2')
    page.get_by_role("button", name="Preview").click()
    expect(result.locator(".cdp-preview-count")).to_have_text("Matches 1 of 3 profiles.")
    shot(page, "2-preview")

    page.click("input[name=_continue]")
    segment = Segment.objects.get(name="Frequent buyers")
    page.wait_for_url(
        f"{live_server.url}/admin/profiles/segment/{segment.pk}/change/", timeout=DEADLINE_MS
    )
    expect(page.locator(".field-over_time .readonly")).to_have_text(
        "Yes: the condition reads the person's events over time (count, sum, days_since, ...), "
        "so every profile is evaluated again every 15 min, and when an event it counts arrives"
    )
    shot(page, "3-saved")
    page.goto(f"{live_server.url}/admin/profiles/segment/")
    expect(page.locator("td.field-kind_label")).to_have_text("Live, and swept as time passes")
    shot(page, "4-list")
