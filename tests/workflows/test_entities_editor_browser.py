"""Issue 23: the Upsert entity node's form in the workflow editor is a form (text fields, a
checkbox, rows for the properties), never JSON; a screenshot to look at."""

import pytest
from playwright.sync_api import expect

from tests.workflows.factories import WorkflowFactory
from tests.workflows.graphs import edge, graph, node
from tests.workflows.test_editor_browser import (
    open_editor,
    select_node,
)

pytestmark = pytest.mark.browser

SHOTS = "/tmp/shots-wt-ent"


def test_the_upsert_entity_form(page, live_server):  # noqa: F811
    workflow = WorkflowFactory(
        graph=graph(
            [
                node("start", "start", name="Start"),
                node(
                    "upsert",
                    "upsert_entity",
                    name="Remember the order",
                    id="{{event@properties.order_id}}",
                    type="order",
                    properties={"total": "event@properties.total", "currency": "EUR"},
                ),
            ],
            [edge("start", "upsert")],
        ),
        deployed_at=None,
    )
    open_editor(page, live_server, workflow)
    select_node(page, "upsert")

    panel = page.get_by_test_id("node-panel")
    for label in ("Entity id", "Entity type", "Belongs to the profile", "Properties", "Traits"):
        expect(panel).to_contain_text(label)
    expect(page.get_by_test_id("field-properties")).to_be_visible()
    expect(page.get_by_test_id("field-properties").locator("textarea")).to_have_count(0)
    expect(page.locator("[data-testid^=field-error-]")).to_have_count(0)
    page.screenshot(path=f"{SHOTS}/editor-upsert-entity-form.png")
