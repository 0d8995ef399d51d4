"""The segment form in a real browser: Preview, save, the evaluation's progress reaching done
on a real Celery worker, and the member count. Debian's Chromium driven by Playwright against
pytest-django's live server; screenshots go to /tmp/shots-segments/ for a person to look at."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from apps.profiles.models import Profile, Segment
from tests.profiles.factories import ProfileFactory
from tests.support.celery_worker import celery_worker  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.worker]

SHOTS = Path("/tmp/shots-segments")
# Generous: the machine is shared; the evaluation of 5 profiles takes milliseconds.
DEADLINE_MS = 30_000


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_preview_save_and_watch_the_evaluation(page, live_server, celery_worker):  # noqa: F811
    for number, visits in enumerate([0, 1, 2, 3, 5]):
        ProfileFactory(id=f"p{number}", stats={"visits": visits, "views": 2 * visits})

    page.goto(f"{live_server.url}/admin/profiles/segment/add/")
    page.fill("#id_name", "Returning visitors")
    result = page.locator(".cdp-preview-result")

    page.fill("#id_condition", "profile@stats.visits >")
    page.get_by_role("button", name="Preview").click()
    expect(result).to_contain_text("Unexpected end of the condition at column 23")
    expect(result.locator("pre")).to_have_text("profile@stats.visits >\n" + " " * 22 + "^")
    shot(page, "1-preview-error")

    page.fill("#id_condition", "profile@stats.visits > 1 AND profile@stats.visitz > 0")
    page.get_by_role("button", name="Preview").click()
    expect(result.locator(".cdp-preview-count")).to_have_text("Matches 0 of 5 profiles.")
    expect(result.locator(".warning")).to_contain_text("No stored profile has profile@stats.visitz")
    shot(page, "2-preview-warning")

    page.fill("#id_condition", "profile@stats.visits > 1")
    page.get_by_role("button", name="Preview").click()
    expect(result.locator(".cdp-preview-count")).to_have_text("Matches 3 of 5 profiles.")
    # The condition builder has read the text back into its rows (its check is debounced).
    expect(page.locator(".cdp-cond-error")).to_be_hidden()
    expect(page.locator(".cdp-cond-builder input")).to_have_count(2)
    shot(page, "3-preview")

    page.click("input[name=_continue]")
    segment = Segment.objects.get(name="Returning visitors")
    page.wait_for_url(f"{live_server.url}/admin/profiles/segment/{segment.pk}/change/")
    progress = page.locator(".field-evaluation .cdp-evaluation")
    expect(progress).to_have_attribute("data-status", "done", timeout=DEADLINE_MS)
    expect(progress).to_contain_text("Done: 5 profiles evaluated, finished ")
    expect(page.locator(".field-members .readonly")).to_have_text("3 profile(s)")
    shot(page, "4-evaluated")
    assert sorted(
        Profile.objects.filter(segments__contains=["returning-visitors"]).values_list(
            "pk", flat=True
        )
    ) == ["p2", "p3", "p4"]

    # How a long evaluation looks while it runs (set by hand: 5 profiles take milliseconds).
    running = Segment.objects.create(
        name="Big spenders",
        slug="big-spenders",
        condition="profile@stats.views >= 10",
        evaluation_run="by-hand",
        evaluation_status="running",
        evaluation_total=1000,
        evaluation_done=400,
    )
    page.goto(f"{live_server.url}/admin/profiles/segment/{running.pk}/change/")
    expect(page.locator(".field-evaluation .cdp-evaluation")).to_have_text(
        "Evaluating… 40% (400 of about 1,000 profiles)"
    )
    shot(page, "5-evaluating")

    page.goto(f"{live_server.url}/admin/profiles/segment/")
    row = page.locator("#result_list tbody tr").nth(1)
    expect(row).to_contain_text("3 profile(s)")
    expect(row).to_contain_text("Done: 5 profiles evaluated")
    shot(page, "6-list")
