"""A marketer's whole path through the workflow editor (issue 13), in a real browser:
build "on purchase with price > 100, add segment big-spender, then call a webhook" by drag and
drop, fill the forms, save and see the broken condition on its node, fix it, deploy, add the
rule, then a real /track request processed by a real Celery worker puts the profile in the
segment and calls the local webhook; the run opens on the canvas."""

import json
import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from apps.profiles.models import Profile
from apps.sources.services import event_source_create
from apps.workflows.models import Rule, WorkflowRun
from tests.support.celery_worker import celery_worker, wait_for  # noqa: F401  (fixture)
from tests.workflows.factories import WorkflowFactory
from tests.workflows.servers import RecordingServer
from tests.workflows.test_editor_browser import (
    connect,
    draft,
    drop_action,
    open_editor,
    select_node,
    shot,
    start_only,
)

pytestmark = [pytest.mark.browser, pytest.mark.worker]


@pytest.fixture
def webhook():
    server = RecordingServer(status=200, body={"ok": True}).start()
    yield server
    server.stop()


def track_purchase(session_id: str, price: float) -> dict:
    body = {
        "source": {"id": "shop-web"},
        "session": {"id": session_id},
        "events": [{"type": "purchase", "properties": {"price": price}}],
    }
    response = Client().post("/track", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def test_build_deploy_and_watch_a_purchase_workflow_run(
    page,  # noqa: F811
    live_server,
    celery_worker,  # noqa: F811
    webhook,
):
    event_source_create(name="Shop website", source_id="shop-web")
    workflow = WorkflowFactory(name="Big spenders", graph=start_only(), deployed_at=None)
    open_editor(page, live_server, workflow)

    # Build by drag and drop.
    if_id = drop_action(page, "if", 300, 140)
    segment_id = drop_action(page, "add_segment", 540, 60)
    call_id = drop_action(page, "remote_call", 540, 330)
    connect(page, "start", "payload", if_id)
    connect(page, if_id, "true", segment_id)
    connect(page, segment_id, "payload", call_id)
    expect(page.locator(".react-flow__edge")).to_have_count(3)

    # Fill both forms; the condition first with a mistake.
    select_node(page, if_id)
    page.get_by_test_id("field-node-name").fill("Price over 100?")
    page.get_by_test_id("field-condition").fill("event@properties.price >> 100")
    expect(page.get_by_test_id("field-error-condition")).to_contain_text("column 25")
    select_node(page, segment_id)
    page.get_by_test_id("field-segment").fill("big-spender")
    select_node(page, call_id)
    page.get_by_test_id("field-url").fill(f"{webhook.url}/hooks/big-spender")
    page.get_by_test_id("field-method").select_option("POST")

    # Saving keeps the draft and marks the broken node; deploying is refused.
    page.get_by_test_id("btn-save").click()
    expect(page.get_by_test_id("editor-banner")).to_contain_text("Draft saved")
    marker = page.get_by_test_id(f"node-problem-{if_id}")
    expect(marker).to_be_visible()
    assert "condition" in marker.get_attribute("title")
    shot(page, "20-e2e-broken-condition")
    page.get_by_test_id("btn-deploy").click()
    expect(page.get_by_test_id("editor-banner")).to_contain_text("fix them before deploying")
    workflow.refresh_from_db()
    assert workflow.deployed_at is None

    # Fix, save, deploy, route purchases to it.
    select_node(page, if_id)
    page.get_by_test_id("field-condition").fill("event@properties.price > 100")
    expect(page.get_by_test_id("field-error-condition")).to_have_count(0)
    page.get_by_test_id("btn-save").click()
    expect(page.get_by_test_id("editor-banner")).to_contain_text("Draft saved")
    expect(page.locator("[data-testid^=node-problem-]")).to_have_count(0)
    page.get_by_test_id("btn-deploy").click()
    expect(page.get_by_test_id("editor-banner")).to_contain_text("Deployed as version")
    page.get_by_test_id("tab-rules").click()
    page.get_by_test_id("rule-event-type").fill("Purchase")
    page.get_by_test_id("btn-add-rule").click()
    expect(page.get_by_test_id("rules-list")).to_contain_text("purchase")
    shot(page, "21-e2e-deployed")

    workflow.refresh_from_db()
    assert workflow.graph == draft(workflow)
    by_id = {item["id"]: item["data"]["spec"]["init"] for item in workflow.graph["nodes"]}
    assert by_id[if_id] == {"condition": "event@properties.price > 100"}
    assert by_id[segment_id] == {"segment": "big-spender"}
    assert by_id[call_id]["url"] == f"{webhook.url}/hooks/big-spender"
    assert list(Rule.objects.values_list("event_type", "workflow_id")) == [
        ("purchase", workflow.pk)
    ]

    # A small purchase takes the false port: no segment, no call.
    small = track_purchase("session-small", 40)
    big = track_purchase("session-big", 150)
    wait_for(
        lambda: WorkflowRun.objects.filter(workflow=workflow).count() == 2,
        timeout=60,
        message="both purchases to run the deployed workflow",
    )
    assert Profile.objects.get(pk=big["profile"]["id"]).segments == ["big-spender"]
    assert Profile.objects.get(pk=small["profile"]["id"]).segments == []
    wait_for(lambda: len(webhook.requests) == 1, timeout=30, message="the webhook call")
    assert webhook.requests[0]["method"] == "POST"
    assert webhook.requests[0]["path"] == "/hooks/big-spender"
    run = WorkflowRun.objects.get(workflow=workflow, profile_id=big["profile"]["id"])
    assert (run.status, run.workflow_version) == ("ok", workflow.version)
    assert [(entry["node"], entry["port"]) for entry in run.log] == [
        ("start", "payload"),
        (if_id, "true"),
        (segment_id, "payload"),
        (call_id, "response"),
    ]

    # The run on the canvas: the ports it took.
    open_editor(page, live_server, workflow, f"?run={run.pk}")
    expect(page.get_by_test_id("editor-banner")).to_contain_text(f"Run {run.pk} of version")
    expect(page.get_by_test_id(f"run-badge-{if_id}")).to_contain_text(re.compile(r"true.*ms"))
    expect(page.get_by_test_id(f"run-badge-{call_id}")).to_contain_text("response")
    expect(page.locator(".react-flow__edge.cdpwe-edge-taken")).to_have_count(3)
    shot(page, "22-e2e-run-on-canvas")
