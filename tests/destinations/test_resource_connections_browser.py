"""The resource page in a real browser: the credentials of the chosen type, production and test,
and the "Test connection" button (screenshots in /tmp/editor-shots/)."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from apps.destinations.models import Resource
from tests.support.vendor_server import Answer

pytestmark = pytest.mark.browser
PASSWORD = "resource-test-password"


@pytest.fixture
def page(browser, live_server, transactional_db):
    get_user_model().objects.create_superuser("marketer", "m@example.com", PASSWORD)
    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "marketer")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    yield page
    context.close()


def test_a_marketer_adds_a_slack_resource_and_tests_its_connection(
    page, live_server, vendor_server, settings
):
    slack = vendor_server()
    settings.CDP_CONNECTOR_API_URLS = {"slack": slack.url + "/api"}
    slack.route(
        "POST", "/api/auth.test", Answer(200, {"ok": True, "team": "Acme", "user": "cdp-bot"})
    )
    page.goto(f"{live_server.url}/admin/destinations/resource/add/")
    page.fill("#id_name", "Sales Slack")
    page.select_option("#id_type", "slack")
    # Only the fields of the chosen type show.
    expect(page.locator("#id_credentials__slack__token")).to_be_visible()
    expect(page.locator("#id_credentials__telegram__token")).to_be_hidden()
    page.fill("#id_credentials__slack__token", "xoxb-prod-1234")
    page.fill("#id_test_credentials__slack__token", "xoxb-test-5678")
    page.click("input[name=_continue]")

    expect(page.get_by_test_id("connection-test")).to_be_visible()
    page.get_by_test_id("connection-test").click()

    expect(page.locator(".messagelist")).to_contain_text(
        "Production credentials: Slack accepted the token: team 'Acme', user 'cdp-bot'."
    )
    assert "xoxb-prod-1234" not in page.content()
    page.screenshot(path="/tmp/editor-shots/resource-connection-test.png", full_page=True)
    assert Resource.objects.get().test_credentials == {"token": "xoxb-test-5678"}
    assert slack.requests[0].header("Authorization") == "Bearer xoxb-prod-1234"


def test_a_marketer_adds_a_meaningcloud_key_and_tests_it(
    page, live_server, vendor_server, settings
):
    meaningcloud = vendor_server()
    settings.CDP_CONNECTOR_API_URLS = {"meaningcloud": meaningcloud.url}
    ok = {"code": "0", "msg": "OK", "credits": "1", "remaining_credits": "19998"}
    meaningcloud.route("POST", "/sentiment-2.1", Answer(200, {"status": ok, "score_tag": "P"}))
    page.goto(f"{live_server.url}/admin/destinations/resource/add/")
    page.fill("#id_name", "MeaningCloud")
    page.select_option("#id_type", "meaningcloud")
    page.fill("#id_credentials__meaningcloud__key", "mc-prod-key-1")
    page.click("input[name=_continue]")

    page.get_by_test_id("connection-test").click()

    expect(page.locator(".messagelist")).to_contain_text(
        "Production credentials: MeaningCloud accepted the key (19998 credits left)."
    )
    assert "mc-prod-key-1" not in page.content()
    page.screenshot(path="/tmp/editor-shots/resource-meaningcloud.png", full_page=True)
    assert Resource.objects.get().credentials == {"key": "mc-prod-key-1"}
    assert meaningcloud.requests[0].form() == {"key": "mc-prod-key-1", "txt": "Good", "lang": "en"}
