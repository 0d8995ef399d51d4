"""The pure-logic actions (issue 19) in the workflow editor: an imported Tracardi flow using
them opens on the canvas, and their forms take rows and fields, never JSON. Screenshots go to
/tmp/editor-shots/ for a person to look at."""

import pytest
from playwright.sync_api import expect

from tests.workflows.factories import WorkflowFactory
from tests.workflows.test_editor_browser import (
    draft,
    drop_action,
    open_editor,
    select_node,
    shot,
    side_shot,
    start_only,
)
from tests.workflows.test_tracardi_flows import imported
from tests.workflows.test_tracardi_logic_flow import FILE

# The editor tests' fixtures: a staff user, and a logged-in page.

pytestmark = pytest.mark.browser


def test_the_imported_logic_flow_opens_with_its_forms(page, live_server):
    workflow = WorkflowFactory(graph=imported(FILE).graph, deployed_at=None)
    open_editor(page, live_server, workflow)

    expect(page.locator(".react-flow__node")).to_have_count(15)
    expect(page.locator(".cdpwe-node-problem")).to_have_count(0)
    shot(page, "logic-01-checkout-flow")
    select_node(page, "country")
    # JSONB keeps an object's keys in its own order (shorter first, then by bytes).
    expect(page.get_by_test_id("field-mapping-key-0")).to_have_value("DE")
    expect(page.get_by_test_id("field-mapping-value-0")).to_have_value("Germany")
    expect(page.get_by_test_id("field-mapping-key-1")).to_have_value("PL")
    side_shot(page, "logic-02-value-mapping-form", "field-mapping-add")
    select_node(page, "fence")
    expect(page.get_by_test_id("field-radius")).to_have_value("600")
    side_shot(page, "logic-03-geo-fence-form", "field-radius")
    select_node(page, "join")
    side_shot(page, "logic-04-join-form", "field-type")


def test_a_value_mapping_is_built_with_rows(page, live_server):
    workflow = WorkflowFactory(graph=start_only(), deployed_at=None)
    open_editor(page, live_server, workflow)

    mapping_id = drop_action(page, "value_mapping", 300, 150)
    select_node(page, mapping_id)
    page.get_by_test_id("field-value").fill("event@properties.country")
    for index, (key, value) in enumerate((("PL", "Poland"), ("DE", "Germany"))):
        page.get_by_test_id("field-mapping-add").click()
        page.get_by_test_id(f"field-mapping-key-{index}").fill(key)
        page.get_by_test_id(f"field-mapping-value-{index}").fill(value)
    shot(page, "logic-05-value-mapping-rows")
    page.get_by_test_id("btn-save").click()
    expect(page.get_by_test_id("editor-banner")).to_contain_text("Draft saved")

    saved = {item["id"]: item["data"]["spec"]["init"] for item in draft(workflow)["nodes"]}
    assert saved[mapping_id] == {
        "value": "event@properties.country",
        "case_sensitive": False,
        "mapping": {"PL": "Poland", "DE": "Germany"},
        "target": None,
    }
