"""Issue 23 item 6: the Load report node's form in the workflow editor: the report is picked
from a list of the saved reports, the parameters are rows; a screenshot to look at."""

import pytest
from playwright.sync_api import expect

from tests.reports.factories import make_report
from tests.workflows.factories import WorkflowFactory
from tests.workflows.graphs import edge, graph, node
from tests.workflows.test_editor_browser import (
    open_editor,
    select_node,
)

pytestmark = pytest.mark.browser

SHOTS = "/tmp/shots-wt-reports"


def test_the_load_report_form_picks_a_saved_report(page, live_server):  # noqa: F811
    make_report(
        name="Purchases by country",
        filter="event@properties.total >= {{min_total}}",
        parameters=[{"name": "min_total", "type": "number", "default": "0"}],
    )
    make_report(name="Active profiles", subject="profile")
    workflow = WorkflowFactory(
        graph=graph(
            [
                node("start", "start", name="Start"),
                node(
                    "load",
                    "load_report",
                    name="Sales by country",
                    report="Purchases by country",
                    parameters={"min_total": "event@properties.threshold"},
                    target="profile@aux.sales",
                ),
            ],
            [edge("start", "load")],
        ),
        deployed_at=None,
    )
    open_editor(page, live_server, workflow)
    select_node(page, "load")

    picker = page.locator("select[data-testid=field-report]")
    expect(picker).to_have_count(1)
    expect(picker.locator("option")).to_have_text(["Active profiles", "Purchases by country"])
    expect(picker.locator("option:checked")).to_have_text("Purchases by country")
    expect(page.get_by_test_id("field-parameters").locator("textarea")).to_have_count(0)
    expect(page.locator("[data-testid^=field-error-]")).to_have_count(0)
    page.screenshot(path=f"{SHOTS}/editor-load-report-form.png")
