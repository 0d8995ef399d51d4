import pytest

from apps.reports.models import Report, ReportParameter
from tests.events.factories import EventFactory

pytestmark = pytest.mark.django_db

BODY = {
    "name": "Purchases by country",
    "subject": "event",
    "filter": 'event@type == "purchase" AND event@properties.total >= {{min_total}}',
    "group_by": "properties.country",
    "metric": "sum",
    "metric_field": "properties.total",
    "parameters": [{"name": "min_total", "type": "number", "default": "5"}],
}


@pytest.fixture
def purchases():
    for country, total in (("PL", 10), ("PL", 25), ("DE", 40), ("DE", 1)):
        EventFactory(type="purchase", properties={"country": country, "total": total})


def test_create_get_list_and_run(client_all, purchases):
    created = client_all.post("/api/v1/reports/", BODY, format="json")
    assert created.status_code == 201, created.json()
    report_id = created.json()["id"]
    assert created.json()["parameters"] == [
        {"name": "min_total", "type": "number", "default": "5", "required": False}
    ]
    got = client_all.get(f"/api/v1/reports/{report_id}/").json()
    assert {key: got[key] for key in BODY} == {
        **BODY,
        "parameters": [{**BODY["parameters"][0], "required": False}],
    }
    listed = client_all.get("/api/v1/reports/").json()
    assert [item["name"] for item in listed["results"]] == ["Purchases by country"]
    run = client_all.post(f"/api/v1/reports/{report_id}/run/", {}, format="json").json()
    assert run["rows"] == [{"group": "DE", "value": 40}, {"group": "PL", "value": 35}]
    assert run["parameters"] == {"min_total": 5}
    again = client_all.post(
        f"/api/v1/reports/{report_id}/run/", {"parameters": {"min_total": 0}}, format="json"
    ).json()
    assert again["rows"] == [{"group": "DE", "value": 41}, {"group": "PL", "value": 35}]


def test_replace_changes_fields_and_parameters(client_all):
    report_id = client_all.post("/api/v1/reports/", BODY, format="json").json()["id"]
    replaced = client_all.put(
        f"/api/v1/reports/{report_id}/",
        {"name": "Events by type", "subject": "event", "group_by": "type"},
        format="json",
    )
    assert replaced.status_code == 200, replaced.json()
    report = Report.objects.get()
    assert (report.name, report.filter, report.metric, report.group_by) == (
        "Events by type",
        "",
        "count",
        "type",
    )
    assert ReportParameter.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"subject": "orders"}, "subject", '"orders" is not a valid choice.'),
        (
            {"filter": "event@type =="},
            "filter",
            "The filter does not parse: Unexpected end of the condition at column 14; expected "
            "a value (number, string, field reference, function call)",
        ),
        (
            {"group_by": "properties"},
            "group_by",
            "'properties' is not a field of events: use id, type, source, profile, session, "
            "status, is_bot, properties.<key>, context.<key>, traits.<key>, metadata.<key>, "
            "request.<key>, tags.<key>.",
        ),
        (
            {"parameters": []},
            "filter",
            "The filter uses {{min_total}}, which is not one of the report's parameters "
            "(none): add it as a parameter.",
        ),
        (
            {"parameters": [{"name": "min_total", "type": "number", "default": "x"}]},
            "parameters",
            "Parameter min_total must be a number, e.g. 10 or 2.5, not 'x'.",
        ),
        ({"window_days": 0}, "window_days", "The last N days must be 1 or more."),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(
    client_all, changes, field, message
):
    response = client_all.post("/api/v1/reports/", {**BODY, **changes}, format="json")
    assert response.status_code == 400
    assert message in str(response.json())
    assert field in str(response.json())
    assert Report.objects.count() == 0
    assert ReportParameter.objects.count() == 0


def test_a_taken_name_is_refused(client_all):
    assert client_all.post("/api/v1/reports/", BODY, format="json").status_code == 201
    again = client_all.post("/api/v1/reports/", BODY, format="json")
    assert again.status_code == 400
    assert "A report named 'Purchases by country' exists already." in str(again.json())
    assert Report.objects.count() == 1


def test_run_errors_are_400_with_the_reason(client_all, purchases, settings):
    report_id = client_all.post("/api/v1/reports/", BODY, format="json").json()["id"]
    bad = client_all.post(
        f"/api/v1/reports/{report_id}/run/",
        {"parameters": {"min_total": "lots"}},
        format="json",
    )
    assert bad.status_code == 400
    assert "Parameter min_total must be a number, e.g. 10 or 2.5, not 'lots'." in str(bad.json())
    settings.CDP_REPORT_ROW_LIMIT = 1
    limited = client_all.post(f"/api/v1/reports/{report_id}/run/", {}, format="json")
    assert limited.status_code == 400
    assert "more than 1 groups (CDP_REPORT_ROW_LIMIT)" in str(limited.json())
    missing = client_all.post("/api/v1/reports/nope/run/", {}, format="json")
    assert missing.status_code == 404


def test_scopes_read_may_run_but_not_write(make_client, client_all, purchases):
    report_id = client_all.post("/api/v1/reports/", BODY, format="json").json()["id"]
    reader = make_client("reports:read")
    assert reader.post(f"/api/v1/reports/{report_id}/run/", {}, format="json").status_code == 200
    assert reader.get("/api/v1/reports/").status_code == 200
    refused = reader.post("/api/v1/reports/", {**BODY, "name": "Other"}, format="json")
    assert refused.status_code == 403
    assert "lacks the scope 'reports:write'" in str(refused.json())
    other = make_client("events:write")
    assert other.get("/api/v1/reports/").status_code == 403


def test_the_openapi_schema_has_the_report_routes(client_all):
    schema = client_all.get("/api/schema/?format=json").json()
    assert "/api/v1/reports/{id}/run/" in schema["paths"]
    assert "post" in schema["paths"]["/api/v1/reports/{id}/run/"]
