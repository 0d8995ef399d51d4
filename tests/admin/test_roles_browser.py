"""The admin index as each role sees it in Chromium (screenshots in /tmp/shots-roles/)."""

from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, expect

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots-roles")
PASSWORD = "a-role-password-9"
# What each role's sidebar lists, section by section (the roles table, apps.core.roles).
EXPECTED = {
    "marketer": {
        "Collect": ["Event sources", "Event types", "Redirect links"],
        "Understand": [
            "Profiles",
            "Sessions",
            "Events",
            "Entities",
            "Segments",
            "Consent types",
            "Merge records",
            "Reports",
        ],
        "Activate": [
            "Workflows",
            "Rules",
            "Workflow runs",
            "Workflow schedules",
            "Parked runs",
            "Destinations",
            "Resources",
            "Deliveries",
            "Destination sync runs",
        ],
    },
    "developer": {
        "Collect": [
            "Event sources",
            "Event types",
            "Quarantined events",
            "Identification points",
            "Redirect links",
        ],
        "Understand": ["Events"],
        "Activate": ["Resources"],
        "System": ["API keys"],
    },
    "maintainer": {
        "Collect": ["Imports", "Event imports"],
        "Understand": ["Merge records"],
        "Activate": ["Workflow schedules"],
        "System": [
            "Users",
            "Groups",
            "Erasure records",
            "Purge records",
            "Clocked",
            "Crontabs",
            "Intervals",
            "Periodic tasks",
            "Solar events",
        ],
    },
}


def sign_in(browser: Browser, live_server, username: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return context, page


def listed(page) -> dict[str, list[str]]:
    sections = {}
    for module in page.locator("#content-main .module").all():
        caption = module.locator("caption")
        if caption.count():
            sections[caption.text_content().strip()] = [
                row.text_content().strip() for row in module.locator("th[scope=row]").all()
            ]
    return sections


@pytest.mark.parametrize("role", ["marketer", "developer", "maintainer", "analyst"])
def test_each_role_sees_only_its_models_on_the_admin_index(
    browser: Browser, live_server, transactional_db, role
):
    call_command("create_user", role, role=role, password=PASSWORD)
    context, page = sign_in(browser, live_server, role)
    try:
        expect(page.locator("#content-main caption").first).to_be_visible()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"index-{role}.png"), full_page=True)
        expected = EXPECTED.get(role) or EXPECTED["marketer"]
        assert listed(page) == expected
        add_links = page.locator("#content-main a.addlink").count()
        if role == "analyst":
            assert add_links == 0  # read-only: no "Add" anywhere
        else:
            assert add_links > 0
    finally:
        context.close()
