"""The resource picker of connector actions: the catalogue lists the resources of each action's
types (names shown, ids stored), and the editor shows it as a select (browser test, with a
screenshot in /tmp/editor-shots/)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.workflows.connectors import resource
from tests.workflows.factories import WorkflowFactory
from tests.workflows.test_editor_browser import (
    draft,
    node_ids,
    open_editor,
    select_node,
    shot,
    start_only,
)


def _catalogue_action(client, action_id):
    response = client.get(reverse("admin:workflows_workflow_editor_catalogue"))
    assert response.status_code == 200
    actions = [a for family in response.json()["families"] for a in family["actions"]]
    return next(action for action in actions if action["id"] == action_id)


@pytest.mark.django_db
def test_the_catalogue_fills_the_picker_with_the_resources_of_the_actions_type(admin_client):
    sales = resource("slack", {"token": "xoxb-1"}, name="Sales Slack")
    ops = resource("slack", {"token": "xoxb-2"}, name="Ops Slack")
    resource("slack_webhook", {"webhook_url": "https://hooks.slack.com/x"}, name="Hook")

    picker = _catalogue_action(admin_client, "slack_post_message")["schema"]["properties"][
        "resource"
    ]

    assert picker["enum"] == [ops.pk, sales.pk]
    assert picker["x-enum-labels"] == ["Ops Slack", "Sales Slack"]
    assert picker["x-resource-types"] == ["slack"]
    assert "xoxb" not in str(_catalogue_action(admin_client, "slack_post_message"))


@pytest.mark.django_db
def test_a_picker_with_no_resource_says_where_to_add_one(admin_client):
    picker = _catalogue_action(admin_client, "telegram_send_message")["schema"]["properties"][
        "resource"
    ]

    assert picker["enum"] == []
    assert picker["description"] == (
        "A Telegram bot resource (Destinations → Resources keeps its credentials). None exists "
        "yet: add one there first."
    )


@pytest.mark.browser
def test_the_editor_shows_the_picker_by_name_and_saves_the_id(page, live_server):  # noqa: F811
    resource("slack", {"token": "xoxb-1"}, name="Ops Slack")
    sales = resource("slack", {"token": "xoxb-2"}, name="Sales Slack")
    workflow = WorkflowFactory(graph=start_only(), deployed_at=None)
    open_editor(page, live_server, workflow)

    page.get_by_test_id("palette-slack_post_message").dblclick()
    [slack_id] = set(node_ids(page)) - {"start"}
    select_node(page, slack_id)
    picker = page.get_by_test_id("field-resource")
    # Nothing is picked for the marketer: "—" until a resource is chosen.
    expect(picker.locator("option")).to_have_text(["—", "Ops Slack", "Sales Slack"])
    picker.select_option(label="Sales Slack")
    page.get_by_test_id("field-channel").fill("#sales")
    page.get_by_test_id("field-message").fill("New order from {{profile@data.pii.firstname}}")
    shot(page, "connector-resource-picker")

    page.get_by_test_id("btn-save").click()
    expect(page.get_by_test_id("editor-banner")).to_contain_text("Draft saved")
    [saved] = [n for n in draft(workflow)["nodes"] if n["id"] == slack_id]
    assert saved["data"]["spec"]["init"] == {
        "resource": sales.pk,
        "channel": "#sales",
        "message": "New order from {{profile@data.pii.firstname}}",
        "timeout": 10,
    }


@pytest.mark.browser
def test_the_meaningcloud_sentiment_node_offers_languages_by_name(page, live_server):  # noqa: F811
    account = resource("meaningcloud", {"key": "mc-key-1"}, name="MeaningCloud")
    workflow = WorkflowFactory(graph=start_only(), deployed_at=None)
    open_editor(page, live_server, workflow)

    page.get_by_test_id("palette-meaningcloud_sentiment").dblclick()
    [node_id] = set(node_ids(page)) - {"start"}
    select_node(page, node_id)
    page.get_by_test_id("field-resource").select_option(label="MeaningCloud")
    page.get_by_test_id("field-text").fill("{{event@properties.review}}")
    language = page.get_by_test_id("field-language")
    expect(language.locator("option")).to_have_text(
        ["Detect it", "English", "Spanish", "French", "Italian", "Portuguese", "Catalan", "German"]
    )
    language.select_option(label="Spanish")
    shot(page, "meaningcloud-sentiment-node")

    page.get_by_test_id("btn-save").click()
    expect(page.get_by_test_id("editor-banner")).to_contain_text("Draft saved")
    [saved] = [n for n in draft(workflow)["nodes"] if n["id"] == node_id]
    assert saved["data"]["spec"]["init"] == {
        "resource": account.pk,
        "text": "{{event@properties.review}}",
        "language": "es",
        "target": None,
        "timeout": 10,
    }
