"""The workflow schedule form and the profile page's "Upcoming scheduled work" in a real
browser (Debian's Chromium through Playwright, pytest-django's live server); screenshots go to
/tmp/shots-schedules/ for a person to look at."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from apps.profiles.models import Segment
from apps.workflows.models import Rule, WorkflowSchedule
from tests.profiles.factories import SegmentFactory
from tests.workflows.factories import ProfileFactory, WorkflowFactory

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-schedules")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_set_a_schedule_in_the_form_and_see_it_on_the_profile_page(page, live_server):
    workflow = WorkflowFactory(name="Re-score")
    SegmentFactory(name="VIP", kind=Segment.Kind.SCHEDULED)
    ann = ProfileFactory(segments=["vip"], traits={"plan": "pro"})

    page.goto(f"{live_server.url}/admin/workflows/workflowschedule/add/")
    page.fill("#id_name", "Pro customers every Monday")
    page.select_option("#id_workflow", label="Re-score")
    # Only the fields of the choices made show (every day at 08:00, a segment by default).
    expect(page.locator(".form-row.field-at_time")).to_be_visible()
    expect(page.locator(".form-row.field-interval")).to_be_hidden()
    expect(page.locator(".form-row.field-crontab")).to_be_hidden()
    expect(page.locator(".form-row.field-condition")).to_be_hidden()
    page.get_by_role("radio", name="Crontab").check()
    expect(page.locator(".form-row.field-at_time")).to_be_hidden()
    page.fill("#id_crontab", "0 8 * *")
    page.get_by_role("radio", name="Profiles matching a condition").check()
    expect(page.locator(".form-row.field-segment")).to_be_hidden()
    page.fill("#id_condition", 'profile@traits.plan == "pro"')
    # The condition builder reads the text back into its rows.
    expect(page.locator(".cdp-cond-builder input")).to_have_count(2)
    page.click("input[name=_continue]")
    expect(page.locator(".field-crontab .errorlist")).to_have_text(
        "Five fields separated by spaces (minute hour day-of-month month day-of-week), "
        "e.g. '0 2 * * *'; got 4."
    )
    shot(page, "1-schedule-form-error")

    page.fill("#id_crontab", "0 8 * * 1")
    page.click("input[name=_continue]")
    schedule = WorkflowSchedule.objects.get(name="Pro customers every Monday")
    page.wait_for_url(f"{live_server.url}/admin/workflows/workflowschedule/{schedule.pk}/change/")
    expect(page.locator(".field-last_run .readonly")).to_have_text("Never run.")
    shot(page, "2-schedule-saved")
    assert (schedule.workflow_id, schedule.every, schedule.audience) == (
        workflow.pk,
        "crontab",
        "condition",
    )

    page.goto(f"{live_server.url}/admin/profiles/profile/{ann.pk}/change/")
    section = page.locator('[data-section="upcoming-scheduled-work"]')
    expect(section.locator("tbody tr")).to_have_count(1)
    expect(section.locator("tbody td").nth(1)).to_have_text("Pro customers every Monday")
    expect(section.locator("tbody td").nth(3)).to_have_text('matches profile@traits.plan == "pro"')
    section.scroll_into_view_if_needed()
    section.screenshot(path=str(SHOTS / "3-profile-upcoming-work.png"))


def test_a_rule_watches_a_segment_picked_in_its_form(page, live_server):
    workflow = WorkflowFactory(name="Tell sales")
    vip = SegmentFactory(name="VIP")

    page.goto(f"{live_server.url}/admin/workflows/rule/add/")
    page.fill("#id_name", "VIP entered")
    page.fill("#id_event_type", "segment-entered")
    page.select_option("#id_workflow", label="Tell sales")
    page.select_option("#id_segment", label=str(vip))
    shot(page, "4-rule-form-segment")
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/workflows/rule/")

    rule = Rule.objects.get(name="VIP entered")
    assert (rule.event_type, rule.segment_id, rule.workflow_id) == (
        "segment-entered",
        vip.pk,
        workflow.pk,
    )
