"""Issue 23 item 6: Load report: its ports with exact values, parameters from templates, the
target, config validation, and Tracardi's Load report data plugin."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.profiles.models import Profile
from apps.workflows.actions import action_by_id, action_class_for
from apps.workflows.actions.tracardi_names import tracardi_plugin
from tests.events.factories import EventFactory
from tests.profiles.factories import ProfileFactory
from tests.reports.factories import make_report
from tests.workflows.graphs import make_flow, run_action

pytestmark = pytest.mark.django_db

EVENT = {"id": "e1", "type": "purchase", "properties": {"threshold": 20, "country": "PL"}}


@pytest.fixture
def report():
    for country, total in (("PL", 10), ("PL", 25), ("DE", 40)):
        EventFactory(type="purchase", properties={"country": country, "total": total})
    return make_report(
        name="Purchases by country",
        subject="event",
        filter="event@properties.total >= {{min_total}}",
        group_by="properties.country",
        metric="sum",
        metric_field="properties.total",
        parameters=[{"name": "min_total", "type": "number", "default": "0"}],
    )


def test_result_port_with_parameters_from_the_event(report):
    results, flow = run_action(
        "load_report",
        {
            "report": "Purchases by country",
            "parameters": {"min_total": "event@properties.threshold"},
        },
        event=EVENT,
    )
    assert results == [
        (
            "result",
            {
                "rows": [{"group": "DE", "value": 40}, {"group": "PL", "value": 25}],
                "parameters": {"min_total": 20},
            },
        )
    ]
    assert flow.messages[0]["message"].startswith("Purchases by country: 2 rows in ")


def test_defaults_by_id_and_the_target(report):
    ProfileFactory(id="p1")
    results, flow = run_action(
        "load_report",
        {"report": report.pk, "target": "profile@aux.sales"},
        event=EVENT,
        profile={"id": "p1", "aux": {}},
    )
    expected = {
        "rows": [{"group": "DE", "value": 40}, {"group": "PL", "value": 35}],
        "parameters": {"min_total": 0},
    }
    assert results == [("result", expected)]
    assert flow.profile["aux"]["sales"] == expected
    # Reading ran in a rolled-back savepoint: the database is writable afterwards.
    Profile.objects.filter(pk="p1").update(visit_count=2)


def test_error_port_with_the_reason(report):
    missing, _ = run_action(
        "load_report",
        {"report": report.name, "parameters": {"min_total": "event@properties.nothing"}},
        event=EVENT,
    )
    assert missing[0][0] == "error"
    assert "event@properties.nothing" in missing[0][1]["message"]
    wrong, _ = run_action(
        "load_report", {"report": report.name, "parameters": {"min_total": "lots"}}, event=EVENT
    )
    assert wrong == [
        ("error", {"message": "Parameter min_total must be a number, e.g. 10 or 2.5, not 'lots'."})
    ]


def test_a_deleted_report_goes_to_error(report):
    action = action_by_id("load_report")({"report": report.name})
    report.delete()
    flow = make_flow(event=EVENT)
    result = action.run(EVENT, flow)
    assert (result.port, result.value) == (
        "error",
        {"message": "the report 'Purchases by country' is gone"},
    )


@pytest.mark.parametrize(
    ("config", "errors"),
    [
        ({}, ["'report' is a required property"]),
        ({"report": ""}, ["report: '' should be non-empty"]),
        (
            {"report": "Nope"},
            ["report: there is no report 'Nope'; write the name of one under Understand → Reports"],
        ),
        (
            {"report": "Purchases by country", "parameters": {"colour": "red"}},
            [
                "parameters: Purchases by country has no parameter colour (its parameters: "
                "min_total)"
            ],
        ),
        (
            {"report": "Purchases by country", "parameters": []},
            ["parameters: [] is not of type 'object'"],
        ),
        (
            {"report": "Purchases by country", "target": "session@x"},
            [
                "target: session@ is read-only in workflows; write to one of "
                "event@, memory@, payload@, profile@"
            ],
        ),
        ({"report": "Purchases by country", "parameters": {"min_total": 5}}, []),
    ],
)
def test_config_validation(report, config, errors):
    assert action_by_id("load_report").config_errors(config) == errors


def test_tracardi_load_report_plugin_converts_both_ways(report):
    module = "tracardi.process_engine.action.v1.internal.get_report.plugin"
    plugin = tracardi_plugin(module, "GetReportAction")
    assert action_class_for({"module": module, "className": "GetReportAction"}).id == (
        "load_report"
    )
    assert plugin.outputs == ("result", "error")
    init = {
        "report_config": {
            "report": {"id": "r-1", "name": "Purchases by country"},
            "params": '{"min_total": "event@properties.threshold"}',
        }
    }
    ours = plugin.config_to_ours(init, set(action_by_id("load_report").config_schema["properties"]))
    assert ours == {
        "report": "Purchases by country",
        "parameters": {"min_total": "event@properties.threshold"},
    }
    assert plugin.config_to_tracardi(ours) == {
        "report_config": {
            "report": {"id": "Purchases by country", "name": "Purchases by country"},
            "params": '{"min_total": "event@properties.threshold"}',
        }
    }


def test_the_editor_offers_the_saved_reports_as_a_pick_list(client, report):
    make_report(name="Active profiles", subject="profile")
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    catalogue = client.get(reverse("admin:workflows_workflow_editor_catalogue")).json()
    [load] = [
        action
        for family in catalogue["families"]
        for action in family["actions"]
        if action["id"] == "load_report"
    ]
    assert load["schema"]["properties"]["report"]["enum"] == [
        "Active profiles",
        "Purchases by country",
    ]
    assert load["outputs"] == ["result", "error"]
    # The saved config schema stays open: a report made later is no schema error.
    assert "enum" not in action_by_id("load_report").config_schema["properties"]["report"]
