"""What a marketer (no superuser) sees of the widgets in the admin: the UX actions' forms in the
workflow editor (texts, enums as drop-downs, colours), the HTML/JavaScript tag refused on save
with the reason in the editor's banner, and the snippet's note on the answer's response."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from playwright.sync_api import Browser, expect

from apps.sources.services import event_source_create
from tests.tracker.test_widgets_browser import SHOTS
from tests.workflows.factories import WorkflowFactory
from tests.workflows.graphs import graph, node
from tests.workflows.test_editor_browser import node_ids, open_editor

pytestmark = pytest.mark.browser
PASSWORD = "marketer-password"


@pytest.fixture
def marketer_page(browser: Browser, live_server, transactional_db):
    marketer = get_user_model().objects.create_user("marketer", password=PASSWORD, is_staff=True)
    marketer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_workflow", "change_workflow"])
    )
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "marketer")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    yield page
    context.close()


def add_from_palette(page, action_id: str) -> str:
    before = set(node_ids(page))
    page.get_by_test_id(f"palette-{action_id}").dblclick()
    expect(page.locator(".react-flow__node")).to_have_count(len(before) + 1)
    [new] = set(node_ids(page)) - before
    return new


def test_a_marketer_configures_a_widget_but_may_not_save_an_html_tag(marketer_page, live_server):
    page = marketer_page
    workflow = WorkflowFactory(graph=graph([node("start", "start", name="Start")], []))
    open_editor(page, live_server, workflow)

    expect(page.get_by_test_id("palette-ux_html_tag")).to_contain_text(
        "HTML/JavaScript tag (admins only)"
    )
    add_from_palette(page, "ux_rating_popup")
    panel = page.get_by_test_id("node-panel")
    panel.get_by_test_id("field-subject").fill("Checkout")
    expect(panel.get_by_test_id("field-position")).to_have_value("0")  # bottom-right
    panel.get_by_test_id("field-button_colour").fill("#0b7a4b")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "editor-rating-form.png"))

    add_from_palette(page, "ux_html_tag")
    page.get_by_test_id("node-panel").get_by_test_id("field-html").fill("<script>x()</script>")
    page.get_by_test_id("btn-save").click()

    banner = page.get_by_test_id("editor-banner")
    expect(banner).to_contain_text(
        "Only an admin (superuser) may save or deploy a workflow with the node "
        "'HTML/JavaScript tag (admins only)': its code runs in visitors' browsers."
    )
    page.screenshot(path=str(SHOTS / "editor-html-tag-refused.png"))
    workflow.refresh_from_db()
    assert workflow.revision == 1


def test_the_source_page_says_how_the_page_gets_the_answer(marketer_page, live_server):
    source = event_source_create(name="Shop website", source_id="shop-web")
    marketer = get_user_model().objects.get(username="marketer")
    marketer.user_permissions.add(Permission.objects.get(codename="view_eventsource"))
    page = marketer_page

    page.goto(f"{live_server.url}/admin/sources/eventsource/{source.pk}/change/")
    hint = page.get_by_text("Workflows whose rule answers in the request")
    hint.scroll_into_view_if_needed()

    assert hint.inner_text() == (
        "Workflows whose rule answers in the request can show widgets on the page (consent "
        "bar, popups, messages) and send data to the page's code: "
        "window.tracker.onResponse(function (response) { ... }) receives each answer's "
        "response (see docs/tracker.md)."
    )
    page.screenshot(path=str(SHOTS / "admin-source-snippet.png"))
