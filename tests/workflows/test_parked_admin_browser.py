"""Parked runs in the admin, in a real browser: the list with its actions and the profile page's
section. Screenshots go to /tmp/editor-shots/ for a person to look at."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from apps.workflows.models import ParkedRun
from tests.workflows.factories import ProfileFactory
from tests.workflows.test_editor_browser import shot
from tests.workflows.test_parked_admin import parked

pytestmark = pytest.mark.browser


def test_the_parked_runs_list_and_the_profile_section(page, live_server):  # noqa: F811
    profile = ProfileFactory()
    parked(profile)
    row = parked(
        profile,
        event_ref="ev-2",
        node_id="n5",
        node_name="Wait two days",
        waiting_for="",
        due_port="payload",
        due_at=datetime(2031, 5, 8, 9, 0, tzinfo=UTC),
    )
    page.goto(f"{live_server.url}/admin/workflows/parkedrun/")
    expect(page.get_by_test_id("parked-help")).to_contain_text("Resume now")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    expect(page.locator("#result_list")).to_contain_text("event checkout (else timeout)")
    shot(page, "parked-runs-list")

    page.locator(f"input[name=_selected_action][value='{row.pk}']").check()
    page.select_option("select[name=action]", "cancel_parked")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("1 waiting branch(es) cancelled.")
    assert ParkedRun.objects.get(pk=row.pk).status == "cancelled"

    page.goto(f"{live_server.url}/admin/profiles/profile/{profile.pk}/change/")
    section = page.locator("[data-section=parked_runs]")
    expect(section).to_contain_text("Wait for checkout (n2)")
    expect(section.locator("tbody tr")).to_have_count(1)  # the cancelled one is gone
    section.scroll_into_view_if_needed()
    shot(page, "profile-parked-runs")
