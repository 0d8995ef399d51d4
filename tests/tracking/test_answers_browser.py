"""Answering rules in the admin, in a real browser: the rule's switch and its help, the runs
made in the request marked in the run history, and the test run showing the response."""

from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.workflows.models import Rule, WorkflowRun
from tests.workflows.factories import EventFactory, ProfileFactory, RuleFactory, WorkflowFactory
from tests.workflows.graphs import linear_graph
from tests.workflows.test_editor_browser import (
    open_editor,
)

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots-wt-answers")
HELP = (
    "Run this rule's workflow while the visitor's request waits, so it can answer the page: "
    "personalisation, widgets. Keep such workflows short."
)


def shot(screen: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    screen.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def offer_graph() -> dict:
    return linear_graph(
        (
            "create_response",
            {
                "name": "Offer",
                "key": "offer.banner",
                "body": {"code": "event@properties.coupon", "percent": 10},
            },
        ),
        ("end", {}),
    )


def test_a_marketer_marks_a_rule_to_answer_in_the_request(page: Page, live_server):  # noqa: F811
    workflow = WorkflowFactory(name="Spring offer", graph=offer_graph())
    rule = RuleFactory(name="Offer on purchase", event_type="purchase", workflow=workflow)

    page.goto(f"{live_server.url}/admin/workflows/rule/{rule.pk}/change/")
    switch = page.locator("#id_answers_in_request")
    expect(switch).not_to_be_checked()
    expect(page.locator("#id_answers_in_request_helptext")).to_have_text(HELP)
    expect(page.locator("label[for=id_answers_in_request]")).to_have_text("Answers in the request")
    switch.check()
    shot(page, "01-rule-form")
    page.locator("input[name=_save]").click()

    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert Rule.objects.get(pk=rule.pk).answers_in_request is True
    page.goto(f"{live_server.url}/admin/workflows/rule/?answers_in_request__exact=1")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list thead")).to_contain_text("Answers in the request")
    shot(page, "02-rule-list-filtered")


def test_runs_made_in_the_request_are_marked_in_the_run_history(page: Page, live_server):  # noqa: F811
    workflow = WorkflowFactory(name="Spring offer", graph=offer_graph())
    profile = ProfileFactory()
    now = timezone.now()
    for index, (status, in_request, error) in enumerate(
        [
            ("ok", True, ""),
            ("timeout", True, "Node 'Call' (n1): stopped at the time budget (ReadTimeout)"),
            ("ok", False, ""),
        ]
    ):
        event = EventFactory(profile=profile, type="purchase")
        WorkflowRun.objects.create(
            workflow=workflow,
            workflow_version=1,
            event=event,
            event_ref=event.pk,
            event_type="purchase",
            profile=profile,
            in_request=in_request,
            status=status,
            error=error,
            started=now - timezone.timedelta(seconds=index),
            duration_ms=3.5,
        )

    page.set_viewport_size({"width": 1600, "height": 800})
    page.goto(f"{live_server.url}/admin/workflows/workflowrun/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#result_list thead")).to_contain_text("Ran in")
    expect(rows.locator("td.field-ran_in")).to_have_text(["request", "request", "worker"])
    expect(page.locator("#changelist-filter")).to_contain_text("By where it ran")
    expect(rows.nth(1)).to_contain_text("Timed out")
    shot(page, "03-run-history")

    page.get_by_role("link", name="In the visitor's request").click()
    expect(rows).to_have_count(2)
    assert "ran_in=request" in page.url
    rows.nth(1).locator("th a").first.click()
    expect(page.locator(".field-status")).to_contain_text("Timed out")
    expect(page.locator(".field-ran_in .readonly")).to_have_text("request")
    shot(page, "04-run-timeout")


def test_the_test_run_shows_the_response_to_the_page(page: Page, live_server):  # noqa: F811
    workflow = WorkflowFactory(name="Spring offer", graph=offer_graph())
    open_editor(page, live_server, workflow)

    page.get_by_test_id("btn-test-run").click()
    page.get_by_test_id("test-run-mode-sample").click()
    page.get_by_test_id("test-run-sample-type").fill("purchase")
    page.get_by_test_id("test-run-sample-props-key-1").fill("coupon")
    page.get_by_test_id("test-run-sample-props-value-1").fill("SPRING")
    page.get_by_test_id("btn-run-test").click()

    result = page.get_by_test_id("test-run-result")
    expect(result).to_contain_text("Completed")
    response = page.get_by_test_id("test-run-response")
    expect(response).to_contain_text("Response to the page")
    expect(response.locator("pre")).to_have_text(
        '{\n  "offer": {\n    "banner": {\n      "code": "SPRING",\n      "percent": 10\n'
        "    }\n  }\n}"
    )
    shot(page, "05-test-run-response")
