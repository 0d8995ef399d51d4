"""The Wait nodes in the workflow editor: their forms (from the config schema) in a real browser.
Screenshots go to /tmp/editor-shots/ for a person to look at."""

import pytest
from playwright.sync_api import expect

from tests.workflows.factories import WorkflowFactory
from tests.workflows.graphs import edge, graph, node
from tests.workflows.test_editor_browser import (
    draft,
    open_editor,
    select_node,
    shot,
)

pytestmark = pytest.mark.browser


def test_the_wait_form_offers_the_due_time_options_and_saves_them(page, live_server):  # noqa: F811
    workflow = WorkflowFactory(
        graph=graph(
            [
                node("start", "start", name="Start"),
                node("wait", "wait", name="Wait", mode="for a time", amount=2, unit="days"),
                node("checkout", "wait_for_event", name="Checkout?", event_type="checkout"),
            ],
            [edge("start", "wait"), edge("wait", "checkout")],
        )
    )
    open_editor(page, live_server, workflow)
    select_node(page, "wait")
    mode = page.get_by_test_id("field-mode")
    expect(mode.locator("option")).to_have_text(
        ["for a time", "until a date from the data", "until the next weekday and time"]
    )
    expect(page.get_by_test_id("field-amount")).to_have_value("2")
    expect(page.get_by_test_id("field-unit").locator("option")).to_have_text(
        ["minutes", "hours", "days", "weeks"]
    )
    expect(page.get_by_test_id("field-weekday").locator("option")).to_have_count(7)
    expect(page.get_by_test_id("node-panel")).to_contain_text("profile's time zone")
    shot(page, "wait-node-form")

    mode.select_option(label="until the next weekday and time")
    page.get_by_test_id("field-weekday").select_option(label="friday")
    page.get_by_test_id("field-time").fill("18:30")
    page.get_by_test_id("btn-save").click()
    expect(page.get_by_test_id("editor-banner")).to_contain_text("Draft saved")
    [saved] = [n for n in draft(workflow)["nodes"] if n["id"] == "wait"]
    init = saved["data"]["spec"]["init"]
    assert (init["mode"], init["weekday"], init["time"]) == (
        "until the next weekday and time",
        "friday",
        "18:30",
    )

    select_node(page, "checkout")
    expect(page.get_by_test_id("field-event_type")).to_have_value("checkout")
    expect(page.get_by_test_id("handle-checkout-out-event")).to_be_visible()
    expect(page.get_by_test_id("handle-checkout-out-timeout")).to_be_visible()
    shot(page, "wait-for-event-node-form")
