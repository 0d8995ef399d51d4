"""Issue 23 item 5: the GeoIP node in the workflow editor, a form with no JSON (a dot path, a
target path and a switch); its screenshot goes to /tmp/editor-shots/ to look at."""

import pytest
from playwright.sync_api import expect

from tests.workflows.factories import WorkflowFactory
from tests.workflows.test_editor_browser import (
    draft,
    drop_action,
    open_editor,
    select_node,
    side_shot,
    start_only,
)

pytestmark = pytest.mark.browser


def test_the_geoip_node_has_a_form_and_saves_its_config(page, live_server):
    workflow = WorkflowFactory(graph=start_only(), deployed_at=None)
    open_editor(page, live_server, workflow)

    new = drop_action(page, "geoip", 420, 200)
    select_node(page, new)
    panel = page.get_by_test_id("node-panel")
    expect(panel).to_contain_text("GeoIP")
    expect(page.get_by_test_id("field-ip")).to_have_value("event@metadata.ip")
    page.get_by_test_id("field-ip").fill("event@request.headers.x-forwarded-for")
    page.get_by_test_id("field-target").fill("profile@traits.geo")
    page.get_by_test_id("field-add_to_profile").check()
    node = page.get_by_test_id(f"node-{new}")
    for port in ("found", "not-found", "error"):
        expect(node).to_contain_text(port)
    side_shot(page, "geoip-form", "field-add_to_profile")
    page.get_by_test_id("btn-save").click()
    expect(page.get_by_test_id("editor-banner")).to_contain_text("Draft saved")

    [saved] = [n for n in draft(workflow)["nodes"] if n["id"] == new]
    assert saved["data"]["spec"]["init"] == {
        "ip": "event@request.headers.x-forwarded-for",
        "target": "profile@traits.geo",
        "add_to_profile": True,
    }
