"""The workflow editor (issue 13) in a real browser against the real editor endpoints.

Debian's Chromium driven by Playwright (as tests/tracker) against pytest-django's live server,
logged in as a staff user. Screenshots go to /tmp/editor-shots/ for a person to look at.
"""

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.workflows.models import Rule, Workflow, WorkflowRun
from tests.workflows.factories import EventFactory, WorkflowFactory
from tests.workflows.graphs import edge, graph, linear_graph, node

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/editor-shots")
PASSWORD = "editor-test-password"


@pytest.fixture
def admin_viewport() -> dict[str, int]:
    return {"width": 1280, "height": 800}


# Module scope: Playwright's loop must be gone before other modules' tests use the ORM.


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def open_editor(page: Page, live_server, workflow: Workflow, query: str = "") -> None:
    page.goto(f"{live_server.url}/admin/workflows/workflow/{workflow.pk}/change/{query}")
    page.locator(".cdpwe-root").scroll_into_view_if_needed()
    expect(page.get_by_test_id("editor-status")).not_to_be_empty()
    page.locator(".react-flow__node").first.wait_for()
    # Full screen: the page does not scroll under the pointer while dragging.
    page.get_by_test_id("btn-fullscreen").click()


def start_only() -> dict:
    return graph([node("start", "start", name="Start")], [])


def node_ids(page: Page) -> list[str]:
    return page.locator(".react-flow__node").evaluate_all("els => els.map(e => e.dataset.id)")


def drop_action(page: Page, action_id: str, x: int, y: int) -> str:
    """Drags a palette item onto the canvas at (x, y) of the canvas; the new node's id."""
    before = set(node_ids(page))
    page.get_by_test_id(f"palette-{action_id}").drag_to(
        page.get_by_test_id("editor-canvas"), target_position={"x": x, "y": y}
    )
    expect(page.locator(".react-flow__node")).to_have_count(len(before) + 1)
    [new] = set(node_ids(page)) - before
    return new


def connect(page: Page, source: str, port: str, target: str, target_port: str = "payload"):
    start = page.get_by_test_id(f"handle-{source}-out-{port}").bounding_box()
    end = page.get_by_test_id(f"handle-{target}-in-{target_port}").bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    page.mouse.up()


def select_node(page: Page, node_id: str) -> None:
    page.get_by_test_id(f"node-{node_id}").locator(".cdpwe-node-head").click()
    expect(page.get_by_test_id("node-panel")).to_be_visible()


def draft(workflow: Workflow) -> dict:
    workflow.refresh_from_db()
    return workflow.draft


def test_the_add_page_asks_to_save_first(page, live_server):
    page.goto(f"{live_server.url}/admin/workflows/workflow/add/")

    expect(page.get_by_test_id("editor-placeholder")).to_have_text(
        "Save the workflow to open the editor."
    )
    assert page.locator(".cdpwe-root").count() == 0


def test_build_connect_configure_and_save(page, live_server):
    workflow = WorkflowFactory(name="Big purchases", graph=start_only(), deployed_at=None)
    open_editor(page, live_server, workflow)
    expect(page.get_by_test_id("editor-status")).to_contain_text("Never deployed")

    if_id = drop_action(page, "if", 400, 150)
    segment_id = drop_action(page, "add_segment", 600, 320)
    node_box = page.get_by_test_id(f"node-{if_id}")
    expect(node_box).to_contain_text("If")
    # Ports by name.
    expect(page.get_by_test_id(f"handle-{if_id}-out-true")).to_be_visible()
    expect(page.get_by_test_id(f"handle-{if_id}-out-false")).to_be_visible()
    expect(node_box).to_contain_text("true")
    expect(node_box).to_contain_text("false")

    connect(page, "start", "payload", if_id)
    connect(page, if_id, "true", segment_id)
    expect(page.locator(".react-flow__edge")).to_have_count(2)

    select_node(page, if_id)
    page.get_by_test_id("field-node-name").fill("Spent over 100?")
    condition = page.get_by_test_id("field-condition")
    condition.fill("event@properties.price >> 100")
    error = page.get_by_test_id("field-error-condition")
    expect(error).to_be_visible()
    expect(error).to_contain_text(re.compile(r"column \d+"))
    shot(page, "01-notation-error")
    condition.fill("event@properties.price > 100")
    expect(error).to_have_count(0)

    select_node(page, segment_id)
    page.get_by_test_id("field-segment").fill("big-spenders")
    shot(page, "02-built")

    page.get_by_test_id("btn-save").click()
    expect(page.get_by_test_id("editor-banner")).to_contain_text("Draft saved")
    expect(page.get_by_test_id("editor-status")).to_contain_text("Draft saved")
    saved = draft(workflow)
    by_id = {item["id"]: item for item in saved["nodes"]}
    assert by_id[if_id]["data"]["spec"]["init"] == {"condition": "event@properties.price > 100"}
    assert by_id[if_id]["data"]["metadata"]["name"] == "Spent over 100?"
    assert by_id[segment_id]["data"]["spec"]["init"]["segment"] == "big-spenders"
    assert sorted((e["source"], e["sourceHandle"], e["target"]) for e in saved["edges"]) == sorted(
        [("start", "payload", if_id), (if_id, "true", segment_id)]
    )

    page.get_by_test_id("btn-deploy").click()
    expect(page.get_by_test_id("editor-banner")).to_contain_text("Deployed as version")
    workflow.refresh_from_db()
    assert workflow.graph == saved
    shot(page, "03-deployed")


def test_a_node_with_a_problem_is_marked_and_deploy_is_refused(page, live_server):
    broken = linear_graph(("if", {"condition": "event@properties.price >>"}, "true"))
    workflow = WorkflowFactory(graph=linear_graph(), deployed_at=None)
    Workflow.objects.filter(pk=workflow.pk).update(draft=broken)
    open_editor(page, live_server, workflow)

    marker = page.get_by_test_id("node-problem-n1")
    expect(marker).to_be_visible()
    assert "condition" in marker.get_attribute("title")
    expect(page.get_by_test_id("node-n1")).to_have_class(re.compile("invalid"))

    page.get_by_test_id("btn-deploy").click()
    expect(page.get_by_test_id("editor-banner")).to_contain_text("fix them before deploying")
    select_node(page, "n1")
    expect(page.get_by_test_id("node-panel-problems")).to_contain_text("condition")
    shot(page, "04-invalid-node")

    page.get_by_test_id("field-condition").fill("event@properties.price > 100")
    expect(marker).to_have_count(0)  # the debounced validate clears it
    page.get_by_test_id("btn-save").click()
    expect(page.get_by_test_id("editor-banner")).to_have_text(re.compile("Draft saved"))


def test_undo_redo_copy_paste_and_delete(page, live_server):
    workflow = WorkflowFactory(graph=start_only(), deployed_at=None)
    open_editor(page, live_server, workflow)
    nodes = page.locator(".react-flow__node")

    page.get_by_test_id("palette-log_message").dblclick()
    expect(nodes).to_have_count(2)
    [log_id] = set(node_ids(page)) - {"start"}
    select_node(page, log_id)
    page.get_by_test_id("field-message").fill("Hello there")

    page.get_by_test_id(f"node-{log_id}").locator(".cdpwe-node-head").click()
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    expect(nodes).to_have_count(3)
    [copy_id] = set(node_ids(page)) - {"start", log_id}
    select_node(page, copy_id)
    expect(page.get_by_test_id("field-message")).to_have_value("Hello there")

    # Delete with the keyboard; the start node cannot be deleted.
    page.get_by_test_id(f"node-{copy_id}").locator(".cdpwe-node-head").click()
    page.keyboard.press("Delete")
    expect(nodes).to_have_count(2)
    page.get_by_test_id("node-start").locator(".cdpwe-node-head").click()
    page.keyboard.press("Backspace")
    page.get_by_test_id("btn-delete").click()
    expect(nodes).to_have_count(2)

    page.keyboard.press("Control+z")
    expect(nodes).to_have_count(3)
    page.keyboard.press("Control+Shift+z")
    expect(nodes).to_have_count(2)
    page.get_by_test_id("btn-undo").click()
    expect(nodes).to_have_count(3)
    page.keyboard.press("Control+y")
    expect(nodes).to_have_count(2)
    # Undo down to the empty canvas, then redo it all.
    while page.get_by_test_id("btn-undo").is_enabled():
        page.get_by_test_id("btn-undo").click()
    expect(nodes).to_have_count(1)
    expect(page.get_by_test_id("palette-start")).to_have_count(0)  # one start only
    while page.get_by_test_id("btn-redo").is_enabled():
        page.get_by_test_id("btn-redo").click()
    expect(nodes).to_have_count(2)
    shot(page, "05-undo-redo")


def purchase_graph() -> dict:
    return linear_graph(
        ("if", {"name": "Big?", "condition": "event@properties.price > 100"}, "true"),
        ("add_segment", {"name": "Big spender", "segment": "big-spenders"}),
    )


def test_test_run_shows_the_ports_taken_and_durations(page, live_server):
    workflow = WorkflowFactory(graph=purchase_graph())
    open_editor(page, live_server, workflow)

    page.get_by_test_id("btn-test-run").click()
    panel = page.get_by_test_id("test-run-panel")
    expect(panel).to_be_visible()
    page.get_by_test_id("test-run-mode-sample").click()
    page.get_by_test_id("test-run-sample-type").fill("purchase")
    page.get_by_test_id("test-run-sample-props-value-1").fill("150")
    page.get_by_test_id("btn-run-test").click()

    expect(page.get_by_test_id("test-run-result")).to_contain_text("Completed")
    expect(page.get_by_test_id("run-badge-n1")).to_contain_text(re.compile(r"true.*ms"))
    expect(page.get_by_test_id("run-badge-n2")).to_contain_text("ms")
    expect(page.get_by_test_id("run-badge-start")).to_contain_text("payload")
    expect(page.locator(".react-flow__edge.cdpwe-edge-taken")).to_have_count(2)
    expect(page.get_by_test_id("test-run-result")).to_contain_text("segments")

    select_node(page, "n1")
    details = page.get_by_test_id("run-details")
    expect(details).to_contain_text("payload → true")
    expect(details).to_contain_text("Input")
    shot(page, "06-test-run")


def test_a_past_run_opens_read_only_on_its_version(page, live_server):
    workflow = WorkflowFactory(graph=purchase_graph())
    log = [
        {"node": "start", "name": "start", "action": "start", "in_port": None,
         "port": "payload", "duration_ms": 0.01, "error": None, "messages": []},
        {"node": "n1", "name": "Big?", "action": "if", "in_port": "payload", "port": "false",
         "duration_ms": 0.2, "error": None, "messages": [],
         "input": {"price": 20}, "output": {"price": 20}},
    ]  # fmt: skip
    run = WorkflowRun.objects.create(
        workflow=workflow,
        workflow_version=1,
        event_ref="ev-1",
        event_type="purchase",
        status="ok",
        started=timezone.now(),
        duration_ms=0.5,
        log=log,
    )
    open_editor(page, live_server, workflow, f"?run={run.pk}")

    banner = page.get_by_test_id("editor-banner")
    expect(banner).to_contain_text(f"Run {run.pk} of version 1")
    expect(page.get_by_test_id("run-badge-n1")).to_contain_text("false")
    expect(page.get_by_test_id("run-badge-n2")).to_have_count(0)
    expect(page.get_by_test_id("btn-save")).to_have_count(0)
    expect(page.get_by_test_id("run-summary")).to_contain_text("completed")
    select_node(page, "n1")
    expect(page.get_by_test_id("run-details")).to_contain_text('"price": 20')
    shot(page, "07-past-run")
    banner.get_by_role("link", name="back to the draft").click()
    expect(page.get_by_test_id("btn-save")).to_be_visible()


def test_forms_for_lists_maps_and_numbers(page, live_server):
    workflow = WorkflowFactory(graph=start_only(), deployed_at=None)
    open_editor(page, live_server, workflow)

    copy_id = drop_action(page, "copy_data", 150, 120)
    select_node(page, copy_id)
    page.get_by_test_id("field-traits.set-add").click()
    page.get_by_test_id("field-traits.set-key-0").fill("profile@traits.last_price")
    page.get_by_test_id("field-traits.set-value-0").fill("event@properties.price")
    interest_id = drop_action(page, "increase_interest", 150, 560)
    select_node(page, interest_id)
    page.get_by_test_id("field-interest").fill("sunglasses")
    page.get_by_test_id("field-value").fill("2.5")
    delete_id = drop_action(page, "delete_data", 600, 150)
    select_node(page, delete_id)
    page.get_by_test_id("field-delete-add").click()
    page.get_by_test_id("field-delete.0").fill("profile@traits.old")
    shot(page, "08-forms")
    page.get_by_test_id("btn-save").click()
    expect(page.get_by_test_id("editor-banner")).to_contain_text("Draft saved")

    by_id = {item["id"]: item["data"]["spec"]["init"] for item in draft(workflow)["nodes"]}
    copied = {"profile@traits.last_price": "event@properties.price"}
    assert by_id[copy_id]["traits"] == {"set": copied}
    assert by_id[interest_id]["value"] == 2.5
    assert by_id[delete_id]["delete"] == ["profile@traits.old"]


def side_shot(page: Page, name: str, testid: str) -> None:
    """A screenshot of the side panel (~330px) with `testid` scrolled into view."""
    SHOTS.mkdir(exist_ok=True)
    page.get_by_test_id(testid).scroll_into_view_if_needed()
    page.locator(".cdpwe-side").screenshot(path=str(SHOTS / f"{name}.png"))


def add_template_row(page: Page, path: str, index: int, key: str | None, kind: str, value=None):
    """Adds row `index` to the object template (or list, without a key) at `path` by the form."""
    page.get_by_test_id(f"field-{path}-add").click()
    if key is not None:
        key_field = page.get_by_test_id(f"field-{path}-key-{index}")
        expect(key_field).to_be_focused()  # the new row's key takes the focus
        key_field.fill(key)
    page.get_by_test_id(f"field-{path}-type-{index}").select_option(kind)
    field = page.get_by_test_id(f"field-{path}-value-{index}")
    if kind == "boolean":
        field.select_option(value)
    elif kind in ("text", "number"):
        field.fill(value)


def test_a_request_body_is_built_with_rows_never_json(page, live_server):
    workflow = WorkflowFactory(graph=start_only(), deployed_at=None)
    open_editor(page, live_server, workflow)
    call_id = drop_action(page, "remote_call", 300, 200)
    select_node(page, call_id)
    body = page.get_by_test_id("field-body")
    expect(body).to_contain_text("No body")
    expect(body.locator("textarea")).to_have_count(0)
    shot(page, "forms-01-no-body")

    add_template_row(page, "body", 0, "email", "text", "profile@data.contact.email.main")
    add_template_row(page, "body", 1, "amount", "number", "150")
    add_template_row(page, "body", 2, "vip", "boolean", "true")
    add_template_row(page, "body", 3, "customer", "object")
    add_template_row(page, "body.customer", 0, "id", "text", "profile@id")
    add_template_row(page, "body", 4, "tags", "list")
    add_template_row(page, "body.tags", 0, None, "text", "a")
    add_template_row(page, "body.tags", 1, None, "text", "b")
    expect(body.locator("textarea")).to_have_count(0)  # the JSON escape hatch stays closed
    expect(page.get_by_test_id("field-body-json")).to_have_count(0)
    expect(page.locator("[data-testid^=field-error-]")).to_have_count(0)
    side_shot(page, "forms-02-body-rows", "field-body")
    shot(page, "forms-03-body-built")

    page.get_by_test_id("btn-save").click()
    expect(page.get_by_test_id("editor-banner")).to_contain_text("Draft saved")
    by_id = {item["id"]: item["data"]["spec"]["init"] for item in draft(workflow)["nodes"]}
    stored = by_id[call_id]["body"]
    assert stored == {
        "email": "profile@data.contact.email.main",
        "amount": 150,
        "vip": True,
        "customer": {"id": "profile@id"},
        "tags": ["a", "b"],
    }
    assert type(stored["amount"]) is int and stored["vip"] is True

    # The advanced escape hatch shows the same value as JSON; back to rows, nothing changed.
    page.get_by_test_id("field-body-json-toggle").click()
    json_box = page.get_by_test_id("field-body-json")
    expect(json_box).to_have_value(re.compile(r'"amount": 150,'))
    shot(page, "forms-04-body-as-json")
    page.get_by_test_id("field-body-json-toggle").click()
    expect(page.get_by_test_id("field-body.customer-value-0")).to_have_value("profile@id")
    # A list body, and back to no body.
    page.get_by_test_id("field-body-clear").click()
    expect(body).to_contain_text("No body")
    page.get_by_test_id("field-body-add").click()
    page.get_by_test_id("field-body-shape").select_option("list")
    add_template_row(page, "body", 0, None, "number", "10")
    add_template_row(page, "body", 1, None, "text", "10")
    page.get_by_test_id("btn-save").click()
    expect(page.get_by_test_id("editor-status")).to_contain_text("Draft saved")
    by_id = {item["id"]: item["data"]["spec"]["init"] for item in draft(workflow)["nodes"]}
    assert by_id[call_id]["body"] == [10, "10"]


NESTED_TEMPLATE = {
    "address": {"city": "event@properties.city", "zip": "10115", "floor": 3},
    "score": 10,
    "code": "10",
    "vip": False,
    "note": None,
    "tags?": ["event@properties.tag", {"kind": "x", "weight": 1.5}, True],
}


def test_an_existing_template_shows_its_rows_and_saves_unchanged(page, live_server):
    config = {"target": "profile@traits.summary", "template": NESTED_TEMPLATE, "merge": False}
    workflow = WorkflowFactory(graph=linear_graph(("set_data", config)), deployed_at=None)
    original = draft(workflow)
    open_editor(page, live_server, workflow)
    select_node(page, "n1")

    def row(path, key, kind, value=None):
        """Checks the row of `key` (an object's; stored objects come back in JSONB's key order)
        or of index `key` (a list's); its index."""
        if isinstance(key, str):
            keys = page.locator(f"[data-testid^='field-{path}-key-']")
            expect(keys.first).to_be_visible()
            index = keys.evaluate_all("els => els.map(e => e.value)").index(key)
        else:
            index = key
        expect(page.get_by_test_id(f"field-{path}-type-{index}")).to_have_value(kind)
        if value is not None:
            expect(page.get_by_test_id(f"field-{path}-value-{index}")).to_have_value(value)
        return index

    row("template", "address", "object")
    city_row = row("template.address", "city", "text", "event@properties.city")
    row("template.address", "zip", "text", "10115")
    floor_row = row("template.address", "floor", "number", "3")
    row("template", "score", "number", "10")
    row("template", "code", "text", "10")
    row("template", "vip", "boolean", "false")
    row("template", "note", "null")
    row("template", "tags?", "list")
    row("template.tags?", 0, "text", "event@properties.tag")
    row("template.tags?", 1, "object")
    row("template.tags?.1", "weight", "number", "1.5")
    row("template.tags?", 2, "boolean", "true")
    expect(page.get_by_test_id("field-template").locator("textarea")).to_have_count(0)
    side_shot(page, "forms-05-nested-template", "field-template")

    # A notation mistake in a text leaf shows under its row; fixing it clears it.
    city = page.get_by_test_id(f"field-template.address-value-{city_row}")
    city.fill("event@properties..city")
    error = page.get_by_test_id(f"field-error-template.address-value-{city_row}")
    expect(error).to_contain_text("empty key")
    item = page.get_by_test_id(f"field-template.address-row-{city_row}")
    expect(item.get_by_test_id(f"field-error-template.address-value-{city_row}")).to_have_count(1)
    assert error.bounding_box()["y"] >= city.bounding_box()["y"] + city.bounding_box()["height"]
    side_shot(page, "forms-06-notation-error", f"field-template.address-row-{city_row}")
    city.fill("event@properties.city")
    expect(error).to_have_count(0)
    # A number that does not read as one is shown, not stored.
    floor = page.get_by_test_id(f"field-template.address-value-{floor_row}")
    floor_error = page.get_by_test_id(f"field-error-template.address-value-{floor_row}")
    floor.fill("3 floors")
    expect(floor_error).to_contain_text("number")
    floor.fill("3")
    expect(floor_error).to_have_count(0)

    page.get_by_test_id("btn-save").click()
    expect(page.get_by_test_id("editor-banner")).to_contain_text("Draft saved")
    saved = draft(workflow)
    template = saved["nodes"][1]["data"]["spec"]["init"]["template"]
    assert template == NESTED_TEMPLATE
    assert type(template["score"]) is int and type(template["tags?"][1]["weight"]) is float
    assert saved == original


def test_rules_panel_adds_a_rule(page, live_server):
    workflow = WorkflowFactory(graph=purchase_graph())
    open_editor(page, live_server, workflow)

    page.get_by_test_id("tab-rules").click()
    page.get_by_test_id("rule-event-type").fill("purchase")
    page.get_by_test_id("btn-add-rule").click()

    expect(page.get_by_test_id("rules-list")).to_contain_text("purchase")
    assert list(Rule.objects.values_list("event_type", "source_id", "workflow_id")) == [
        ("purchase", None, workflow.pk)
    ]
    shot(page, "09-rules")


def test_the_admin_save_button_saves_the_draft_first(page, live_server):
    workflow = WorkflowFactory(name="Plans", graph=start_only(), deployed_at=None)
    open_editor(page, live_server, workflow)

    new_id = drop_action(page, "end", 330, 200)
    page.get_by_test_id("btn-fullscreen").click()  # back to the page
    page.fill("#id_description", "Saved with the form")
    with page.expect_navigation():
        page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    workflow.refresh_from_db()
    assert workflow.description == "Saved with the form"
    assert new_id in {item["id"] for item in workflow.draft["nodes"]}


def test_unknown_keys_survive_and_placeholders_are_greyed(page, live_server):
    placeholder = {
        "id": "tr1",
        "type": "flowNode",
        "position": {"x": 300, "y": 60},
        "data": {
            "start": False,
            "debug": False,
            "unavailable": True,
            "spec": {
                "className": "MailChimpAction",
                "module": "tracardi.process_engine.action.v1.connectors.mailchimp",
                "inputs": ["payload"],
                "outputs": ["response", "error"],
                "init": {"api_key": "x"},
            },
            "metadata": {"name": "Mailchimp", "desc": "", "icon": "mail"},
            "tracardiExtra": {"keep": True},
        },
        "custom": 1,
    }
    start = node("start", "start", name="Start")
    start["data"]["metadata"]["icon"] = "start"
    original = {"nodes": [start, placeholder], "edges": [edge("start", "tr1") | {"animated": True}]}
    workflow = WorkflowFactory(graph=start_only(), deployed_at=None)
    Workflow.objects.filter(pk=workflow.pk).update(draft=original)
    open_editor(page, live_server, workflow)

    box = page.get_by_test_id("node-tr1")
    expect(box).to_contain_text("not available")
    expect(page.get_by_test_id("handle-tr1-out-response")).to_be_visible()
    expect(page.get_by_test_id("handle-tr1-out-error")).to_be_visible()
    shot(page, "10-placeholder")

    page.get_by_test_id("palette-end").dblclick()
    expect(page.locator(".react-flow__node")).to_have_count(3)
    page.get_by_test_id("btn-undo").click()
    expect(page.locator(".react-flow__node")).to_have_count(2)
    page.get_by_test_id("btn-save").click()
    expect(page.get_by_test_id("editor-banner")).to_contain_text("Draft saved")
    assert draft(workflow) == original


def test_test_run_on_a_stored_event_picked_by_search(page, live_server):
    workflow = WorkflowFactory(graph=purchase_graph())
    EventFactory(type="page-view")
    event = EventFactory(type="purchase", properties={"price": 20})
    open_editor(page, live_server, workflow)

    page.get_by_test_id("btn-test-run").click()
    page.get_by_test_id("test-run-search").fill("purch")
    events = page.get_by_test_id("test-run-events")
    expect(events.locator("button")).to_have_count(1)
    page.get_by_test_id(f"test-run-event-{event.pk}").click()
    page.get_by_test_id("btn-run-test").click()

    expect(page.get_by_test_id("run-badge-n1")).to_contain_text("false")
    expect(page.get_by_test_id("run-badge-n2")).to_have_count(0)
    shot(page, "11-test-run-stored-event")


def test_a_conflicting_save_keeps_the_canvas_and_shows_the_message(page, live_server):
    workflow = WorkflowFactory(graph=start_only(), deployed_at=None)
    open_editor(page, live_server, workflow)
    page.get_by_test_id("palette-end").dblclick()
    Workflow.objects.filter(pk=workflow.pk).update(revision=F("revision") + 1)

    page.get_by_test_id("btn-save").click()

    banner = page.get_by_test_id("editor-banner")
    expect(banner).to_contain_text("after you opened it")
    expect(page.locator(".react-flow__node")).to_have_count(2)
    expect(page.get_by_test_id("editor-status")).to_contain_text("Unsaved changes")
    assert len(draft(workflow)["nodes"]) == 1
    shot(page, "12-conflict")


def test_leaving_with_unsaved_changes_asks_first(page, live_server):
    workflow = WorkflowFactory(graph=start_only(), deployed_at=None)
    open_editor(page, live_server, workflow)
    page.get_by_test_id("palette-end").dblclick()
    dialogs = []

    def dismiss(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.close(run_before_unload=True)
    page.wait_for_timeout(300)
    assert dialogs == ["beforeunload"]


def test_import_a_tracardi_flow_and_export_it(page, live_server):
    # The import/export endpoints come with the Tracardi flow support (apps.workflows.tracardi).
    flow_file = Path(__file__).parent / "tracardi_flows/tracardi-0.8-flow-record-welcome-mail.json"
    workflow = WorkflowFactory(graph=start_only(), deployed_at=None)
    open_editor(page, live_server, workflow)

    page.get_by_test_id("import-file").set_input_files(str(flow_file))

    banner = page.get_by_test_id("editor-banner")
    expect(banner).to_contain_text("Imported tracardi-0.8-flow-record-welcome-mail.json")
    expect(page.locator(".cdpwe-node.unavailable")).to_have_count(1)
    expect(page.locator(".cdpwe-node.unavailable")).to_contain_text("not available")
    saved = draft(workflow)
    assert len(saved["nodes"]) == page.locator(".react-flow__node").count() > 2
    expect(page.get_by_test_id("editor-status")).not_to_contain_text("Unsaved")
    shot(page, "16-imported")

    with page.expect_download() as download:
        page.get_by_test_id("btn-export").click()
    assert download.value.suggested_filename.endswith(".json")


def test_palette_search_multi_select_and_revert(page, live_server):
    workflow = WorkflowFactory(graph=purchase_graph())
    open_editor(page, live_server, workflow)
    expect(page.get_by_test_id("palette-start")).to_have_count(0)

    page.get_by_test_id("palette-search").fill("segment")
    expect(page.get_by_test_id("palette-add_segment")).to_be_visible()
    expect(page.get_by_test_id("palette-if")).to_have_count(0)
    page.get_by_test_id("palette-search").fill("true or the false")  # in the description
    expect(page.get_by_test_id("palette-if")).to_be_visible()
    page.get_by_test_id("palette-if").click()
    expect(page.get_by_test_id("palette-docs")).to_contain_text("Outputs: true, false")
    page.get_by_test_id("palette-search").fill("")

    # Ctrl-click two nodes, delete both with the toolbar button.
    page.get_by_test_id("node-n1").locator(".cdpwe-node-head").click()
    page.get_by_test_id("node-n2").locator(".cdpwe-node-head").click(modifiers=["Control"])
    expect(page.get_by_test_id("editor-canvas").locator(".cdpwe-node.selected")).to_have_count(2)
    expect(page.locator(".cdpwe-hint")).to_contain_text("2 nodes selected")
    page.get_by_test_id("btn-delete").click()
    expect(page.locator(".react-flow__node")).to_have_count(1)
    expect(page.locator(".react-flow__edge")).to_have_count(0)
    # Enter in a field of the editor does not submit the admin's form.
    page.get_by_test_id("btn-test-run").click()
    page.get_by_test_id("test-run-search").press("Enter")
    page.get_by_test_id("btn-save").click()
    expect(page.get_by_test_id("editor-banner")).to_contain_text("Draft saved")
    expect(page.get_by_test_id("editor-status")).to_contain_text("draft differs from deployed")
    assert len(draft(workflow)["nodes"]) == 1

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("btn-revert").click()
    expect(page.get_by_test_id("editor-banner")).to_contain_text("deployed graph (version 1)")
    expect(page.locator(".react-flow__node")).to_have_count(3)
    expect(page.get_by_test_id("editor-status")).not_to_contain_text("differs")
    assert draft(workflow) == purchase_graph()
    shot(page, "17-reverted")


def test_shift_drag_selects_a_box_and_the_selection_moves_together(page, live_server):
    workflow = WorkflowFactory(graph=purchase_graph(), deployed_at=None)
    open_editor(page, live_server, workflow)
    first = page.get_by_test_id("node-n1").bounding_box()
    second = page.get_by_test_id("node-n2").bounding_box()

    left, top = first["x"] - 20, min(first["y"], second["y"]) - 20
    right = second["x"] + second["width"] + 20
    bottom = max(first["y"] + first["height"], second["y"] + second["height"]) + 20
    page.keyboard.down("Shift")
    page.mouse.move(left, top)
    page.mouse.down()
    page.mouse.move(right, bottom, steps=10)
    page.mouse.up()
    page.keyboard.up("Shift")
    expect(page.locator(".cdpwe-node.selected")).to_have_count(2)

    head = page.get_by_test_id("node-n1").locator(".cdpwe-node-head").bounding_box()
    page.mouse.move(head["x"] + 20, head["y"] + 8)
    page.mouse.down()
    page.mouse.move(head["x"] + 20, head["y"] + 158, steps=10)
    page.mouse.up()
    shot(page, "18-box-selection-moved")
    page.get_by_test_id("btn-save").click()
    expect(page.get_by_test_id("editor-banner")).to_contain_text("Draft saved")

    before = {item["id"]: item["position"] for item in purchase_graph()["nodes"]}
    after = {item["id"]: item["position"] for item in draft(workflow)["nodes"]}
    assert after["start"] == before["start"]
    for node_id in ("n1", "n2"):
        assert abs(after[node_id]["x"] - before[node_id]["x"]) < 15  # snapped to the grid
        assert after[node_id]["y"] > before[node_id]["y"] + 60


def test_every_action_gets_a_form(page, live_server):
    from apps.workflows.actions import ACTIONS

    workflow = WorkflowFactory(graph=start_only(), deployed_at=None)
    open_editor(page, live_server, workflow)
    panel = page.get_by_test_id("node-panel")

    for action in ACTIONS:
        if action.id == "start":
            continue
        before = set(node_ids(page))
        page.get_by_test_id(f"palette-{action.id}").dblclick()
        expect(page.locator(".react-flow__node"), action.id).to_have_count(len(before) + 1)
        [new] = set(node_ids(page)) - before
        expect(panel).to_be_visible()
        expect(panel).to_contain_text(action.name)
        expect(page.get_by_test_id(f"node-{new}")).to_be_visible()
        for name in action.config_schema.get("properties", {}):
            field = panel.get_by_test_id(f"field-{name}")
            expect(field, f"{action.id}: {name}").to_have_count(1)
        page.get_by_test_id("btn-fit").click()
    # Empty required settings are problems of their nodes (the debounced validate).
    expect(page.get_by_test_id("editor-status")).to_contain_text(re.compile(r"\b\d{2,} problems"))
    shot(page, "19-every-action")
    assert page.locator(".react-flow__node").count() == len(ACTIONS)


def test_a_view_only_user_can_look_and_test_but_not_change(browser, live_server, transactional_db):
    from django.contrib.auth.models import Permission

    viewer = get_user_model().objects.create_user("viewer", password=PASSWORD, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_workflow"))
    workflow = WorkflowFactory(graph=purchase_graph())
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "viewer")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    open_editor(page, live_server, workflow)

    expect(page.get_by_test_id("editor-status")).to_contain_text("view only")
    for button in ("btn-save", "btn-deploy", "btn-revert", "btn-undo", "btn-delete"):
        expect(page.get_by_test_id(button)).to_have_count(0)
    select_node(page, "n1")
    expect(page.get_by_test_id("field-condition")).to_be_disabled()
    page.get_by_test_id("node-n1").locator(".cdpwe-node-head").click()
    page.keyboard.press("Delete")
    expect(page.locator(".react-flow__node")).to_have_count(3)

    page.get_by_test_id("btn-test-run").click()
    page.get_by_test_id("test-run-mode-sample").click()
    page.get_by_test_id("btn-run-test").click()
    expect(page.get_by_test_id("run-badge-n1")).to_contain_text("false")
    shot(page, "22-view-only")
    context.close()


def test_the_failing_node_shows_its_error_and_an_edge_deletes_with_the_keyboard(page, live_server):
    failing = linear_graph(("throw_error", {"name": "Stop here", "message": "No plan given"}))
    workflow = WorkflowFactory(graph=failing)
    open_editor(page, live_server, workflow)

    page.get_by_test_id("btn-test-run").click()
    page.get_by_test_id("test-run-mode-sample").click()
    page.get_by_test_id("btn-run-test").click()

    badge = page.get_by_test_id("run-badge-n1")
    expect(badge).to_contain_text("error")
    expect(page.get_by_test_id("node-n1")).to_contain_text("No plan given")
    expect(page.get_by_test_id("node-n1")).to_have_class(re.compile("run-error"))
    expect(page.get_by_test_id("test-run-result")).to_contain_text("Error")
    shot(page, "25-failing-node")

    page.get_by_test_id("test-run-result").get_by_role("button", name="Clear the run").click()
    expect(badge).to_have_count(0)
    page.locator(".react-flow__edge").first.click()
    page.keyboard.press("Delete")
    expect(page.locator(".react-flow__edge")).to_have_count(0)
    page.keyboard.press("Control+z")
    expect(page.locator(".react-flow__edge")).to_have_count(1)
