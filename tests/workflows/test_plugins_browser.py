"""Issue 23 item 8 in a real browser: the editor's palette and the actions page show a plugin's
action with its package; the resource form shows a plugin resource type's credential fields.
Screenshots go to /tmp/plugin-shots/ for a person to look at."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from tests.workflows.factories import WorkflowFactory
from tests.workflows.graphs import graph, node

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/plugin-shots")
PASSWORD = "plugin-test-password"


@pytest.fixture
def page(browser, live_server, transactional_db, with_plugins) -> Page:
    get_user_model().objects.create_superuser("ops", "ops@example.com", PASSWORD)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    yield page
    assert page.errors == []
    context.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_the_palette_shows_the_plugin_action_with_its_package(page, live_server):
    workflow = WorkflowFactory(graph=graph([node("start", "start", name="Start")], []))
    page.goto(f"{live_server.url}/admin/workflows/workflow/{workflow.pk}/change/")
    page.locator(".cdpwe-root").scroll_into_view_if_needed()
    page.locator(".react-flow__node").first.wait_for()
    page.get_by_test_id("btn-fullscreen").click()

    page.get_by_test_id("palette-search").fill("cdp-plugin-hello")
    expect(page.get_by_test_id("palette-plugin-hello_greeting")).to_have_text(
        "plugin cdp-plugin-hello 0.1.0"
    )
    expect(page.locator(".cdpwe-palette-item")).to_have_count(1)
    page.get_by_test_id("palette-hello_greeting").click()
    expect(page.get_by_test_id("palette-docs-plugin")).to_have_text(
        "From the plugin package cdp-plugin-hello 0.1.0."
    )
    shot(page, "editor-palette-plugin")

    page.get_by_test_id("palette-hello_greeting").dblclick()
    expect(page.locator(".react-flow__node")).to_have_count(2)
    expect(page.locator(".react-flow__node").nth(1)).to_contain_text("Say hello")


def test_the_actions_page_lists_plugins_and_the_skipped_ones(page, live_server):
    page.goto(f"{live_server.url}/admin/workflows/workflow/actions/")

    expect(page.locator("#plugin-problems li")).to_have_count(6)
    expect(page.locator("#action-hello_greeting .plugin-origin")).to_have_text(
        "plugin cdp-plugin-hello 0.1.0"
    )
    page.locator("#plugins").screenshot(path=str(SHOTS / "actions-page-plugins.png"))


def test_the_resource_form_shows_the_plugin_type_fields(page, live_server):
    page.goto(f"{live_server.url}/admin/destinations/resource/add/")
    token = page.locator(".form-row.field-credentials__hello_inbox__token")
    expect(token).to_be_hidden()

    page.select_option("#id_type", "hello_inbox")

    expect(token).to_be_visible()
    expect(page.locator(".form-row.field-credentials__webhook__headers")).to_be_hidden()
    shot(page, "resource-form-plugin-type")
