"""Issue 23 item 6: a marketer builds a report in the admin (no JSON), runs it with a parameter,
sees the chart and the table, and downloads the CSV, in Chromium, with screenshots (SHOTS)."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from apps.reports.models import Report
from tests.events.factories import EventFactory

SHOTS = Path("/tmp/shots-wt-reports")
PASSWORD = "reports-test-password"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_marketer_builds_runs_and_downloads_a_report(browser, live_server):
    get_user_model().objects.create_superuser("marketer", "m@example.com", PASSWORD)
    sales = (("PL", 120), ("PL", 80), ("DE", 150), ("FR", 40), ("FR", 35), ("ES", 9))
    for country, total in sales:
        EventFactory(type="purchase", properties={"country": country, "total": total})
    EventFactory(type="page-view", properties={"country": "PL"})

    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/reports/report/add/")
    page.fill("#id_username", "marketer")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/reports/report/add/")

    page.fill("#id_name", "Revenue by country")
    page.select_option("#id_subject", "event")
    page.fill(
        "#id_filter",
        'event@type == "purchase" AND event@properties.total >= "{{min_total}}"',
    )
    page.fill("#id_window_days", "30")
    page.fill("#id_group_by", "properties.country")
    page.select_option("#id_metric", "sum")
    page.fill("#id_metric_field", "properties.total")
    page.fill("#id_parameters-0-name", "min_total")
    page.select_option("#id_parameters-0-type", "number")
    page.fill("#id_parameters-0-default", "10")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "report-form.png"), full_page=True)
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    report = Report.objects.get()
    # The condition builder shows the filter as rows; the parameter is the value of one.
    builder_rows = page.locator(".cdp-cond-rule")
    expect(builder_rows).to_have_count(2)
    expect(builder_rows.nth(1).locator(".cdp-cond-value").first).to_have_value("{{min_total}}")
    expect(page.locator(".cdp-cond-error")).to_be_hidden()
    page.screenshot(path=str(SHOTS / "report-saved.png"), full_page=True)

    page.get_by_role("link", name="Run", exact=True).click()
    page.wait_for_url(f"**/admin/reports/report/{report.pk}/run/")
    table_rows = page.get_by_test_id("report-table").locator("tbody tr")
    expect(table_rows).to_have_count(3)
    expect(table_rows.nth(0)).to_have_text("PL200")
    expect(table_rows.nth(1)).to_have_text("DE150")
    expect(table_rows.nth(2)).to_have_text("FR75")
    expect(page.get_by_test_id("report-chart").locator("rect")).to_have_count(3)

    page.fill("#id_min_total", "5")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(table_rows).to_have_count(4)
    expect(table_rows.nth(3)).to_have_text("ES9")
    page.screenshot(path=str(SHOTS / "report-run.png"), full_page=True)

    with page.expect_download() as download_info:
        page.get_by_test_id("report-csv").click()
    download = download_info.value
    assert Path(download.path()).read_bytes().decode() == (
        "properties.country,sum of properties.total\r\nPL,200\r\nDE,150\r\nFR,75\r\nES,9\r\n"
    )
    context.close()
