"""The trend charts on the admin index in a real browser: drawn, readable at 1400 px, and each
legend leading to its filtered list."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.tracking.templatetags.cdp_trends import CACHE_KEY
from apps.tracking.trends import daily_metrics_refresh
from tests.profiles.factories import ProfileFactory, SegmentFactory
from tests.workflows.factories import EventFactory

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots-dashboard")


def test_the_index_draws_the_trends_and_links_them(page: Page, live_server):  # noqa: F811
    now = timezone.now()
    for days_ago, count in ((0, 3), (1, 5), (2, 2)):
        for _ in range(count):
            at = now - timedelta(days=days_ago)
            EventFactory(type="page-view", inserted=at, time=at)
    SegmentFactory(name="VIP", slug="vip")
    ProfileFactory(segments=["vip"])
    daily_metrics_refresh()
    cache.delete(CACHE_KEY)

    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{live_server.url}/admin/")
    events = page.locator('[data-chart="events"] svg rect')
    expect(events).to_have_count(3)
    expect(page.locator('[data-chart="events"] .cdp-legend')).to_contain_text("page-view (10)")
    expect(page.locator('[data-figure="segment-vip"]')).to_have_text("1")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "index.png"), full_page=True)

    page.locator('[data-chart="events"] .cdp-legend a', has_text="page-view").click()
    expect(page).to_have_url(f"{live_server.url}/admin/events/event/?type=page-view")
