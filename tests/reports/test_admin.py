import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.reports.models import Report, ReportParameter
from tests.events.factories import EventFactory
from tests.reports.factories import make_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    return client


def form_data(**overrides):
    data = {
        "name": "Purchases by country",
        "description": "",
        "subject": "event",
        "filter": 'event@type == "purchase" AND event@properties.total >= {{min_total}}',
        "window_days": "30",
        "window_from_0": "",
        "window_from_1": "",
        "window_to_0": "",
        "window_to_1": "",
        "group_by": "properties.country",
        "metric": "sum",
        "metric_field": "properties.total",
        "parameters-TOTAL_FORMS": "1",
        "parameters-INITIAL_FORMS": "0",
        "parameters-MIN_NUM_FORMS": "0",
        "parameters-MAX_NUM_FORMS": "1000",
        "parameters-0-name": "min_total",
        "parameters-0-type": "number",
        "parameters-0-default": "10",
    }
    data.update(overrides)
    return data


def test_a_marketer_saves_a_report_with_a_parameter_row(staff_client):
    response = staff_client.post(reverse("admin:reports_report_add"), form_data())
    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.subject, report.group_by, report.metric, report.window_days) == (
        "event",
        "properties.country",
        "sum",
        30,
    )
    assert list(report.parameters.values_list("name", "type", "default")) == [
        ("min_total", "number", "10")
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"filter": "event@type == "},
            "The filter does not parse: Unexpected end of the condition at column 14",
        ),
        (
            {"filter": "lowercase(event@type) == 'a'"},
            "The filter cannot run as a report: use comparisons",
        ),
        (
            {"group_by": "colour"},
            "&#x27;colour&#x27; is not a field of events: use id, type, source, profile",
        ),
        ({"metric_field": ""}, "The sum needs a field to measure, e.g. properties.total."),
        ({"window_days": "0"}, "The last N days must be 1 or more."),
        (
            {"parameters-0-name": "minimum"},
            "The filter uses {{min_total}}, which is not one of the report&#x27;s parameters "
            "(minimum): add it as a parameter.",
        ),
        (
            {"parameters-0-default": "ten"},
            "Parameter min_total must be a number, e.g. 10 or 2.5, not &#x27;ten&#x27;.",
        ),
        ({"parameters-0-name": "min total"}, "Parameter name &#x27;min total&#x27;: use letters"),
    ],
)
def test_bad_input_is_a_form_error_and_stores_nothing(staff_client, overrides, message):
    response = staff_client.post(reverse("admin:reports_report_add"), form_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Report.objects.count() == 0
    assert ReportParameter.objects.count() == 0


def test_the_form_has_the_condition_builder_and_field_suggestions(staff_client):
    page = staff_client.get(reverse("admin:reports_report_add")).content.decode()
    assert 'class="cdp-cond"' in page or "cdp-cond " in page
    assert 'list="report-fields"' in page
    assert '<option value="properties.">events, sessions, entities</option>' in page


@pytest.fixture
def report():
    for country, total in (("PL", 10), ("PL", 25), ("DE", 40), ("<b>XX</b>", 1)):
        EventFactory(type="purchase", properties={"country": country, "total": total})
    return make_report(
        name="Purchases by country",
        subject="event",
        filter='event@type == "purchase" AND event@properties.total >= {{min_total}}',
        group_by="properties.country",
        metric="sum",
        metric_field="properties.total",
        parameters=[{"name": "min_total", "type": "number", "default": "5"}],
    )


def test_the_run_page_shows_a_table_and_a_chart(staff_client, report):
    page = staff_client.get(reverse("admin:reports_report_run", args=[report.pk])).content.decode()
    assert '<tr><td>DE</td><td class="number">40</td></tr>' in page
    assert '<tr><td>PL</td><td class="number">35</td></tr>' in page
    assert "&lt;b&gt;XX&lt;/b&gt;" not in page  # total 1 is below the default 5
    assert page.count("<rect ") == 2
    assert 'width="420.0" height="16"><title>DE: 40</title>' in page
    assert 'width="367.5" height="16"><title>PL: 35</title>' in page
    assert "Events: sum of properties.total by properties.country, all time" in page


def test_the_run_page_takes_parameters_and_escapes_values(staff_client, report):
    url = reverse("admin:reports_report_run", args=[report.pk])
    page = staff_client.get(url, {"min_total": "1", "run": "1"}).content.decode()
    assert '<tr><td>&lt;b&gt;XX&lt;/b&gt;</td><td class="number">1</td></tr>' in page
    assert f'href="{url}csv/?min_total=1"' in page
    bad = staff_client.get(url, {"min_total": "ten"}).content.decode()
    assert "Parameter min_total must be a number, e.g. 10 or 2.5, not &#x27;ten&#x27;." in bad
    assert "<rect " not in bad


def test_csv_download(staff_client, report):
    url = reverse("admin:reports_report_run_csv", args=[report.pk])
    response = staff_client.get(url, {"min_total": "1"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="report-{report.pk}.csv"'
    assert response.content.decode() == (
        "properties.country,sum of properties.total\r\nDE,40\r\nPL,35\r\n<b>XX</b>,1\r\n"
    )
    refused = staff_client.get(url, {"min_total": "x"})
    assert refused.status_code == 400
    assert refused.content.decode() == (
        "Parameter min_total must be a number, e.g. 10 or 2.5, not 'x'."
    )
