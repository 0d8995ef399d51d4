"""Admin pages of workflows, rules and runs."""

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.events.models import Event
from apps.profiles.models import Profile
from apps.tracking.processing import profile_events_process
from apps.workflows.actions import ACTIONS
from apps.workflows.models import Rule, Workflow, WorkflowRun
from tests.workflows.factories import EventFactory, ProfileFactory, RuleFactory, WorkflowFactory
from tests.workflows.graphs import edge, graph, linear_graph, node

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    return client


def plan_graph(condition='event@properties.plan == "pro"'):
    return graph(
        [
            node("start", "start"),
            node("pro", "if", name="Is pro?", condition=condition),
            node(
                "copy",
                "copy_data",
                name="Keep plan",
                traits={"set": {"profile@traits.plan": "event@properties.plan"}},
            ),
        ],
        [edge("start", "pro"), edge("pro", "copy", "true")],
    )


def form_data(**extra):
    return {
        "name": "Plans",
        "description": "",
        "enabled": "on",
        "rules-TOTAL_FORMS": "0",
        "rules-INITIAL_FORMS": "0",
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
        **extra,
    }


def test_adding_a_workflow_starts_a_draft_with_a_start_node_and_opens_the_editor(staff_client):
    response = staff_client.post(reverse("admin:workflows_workflow_add"), form_data())

    workflow = Workflow.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:workflows_workflow_change", args=[workflow.pk])
    assert workflow.name == "Plans"
    assert workflow.draft == {
        "nodes": [
            {
                "id": "start",
                "type": "startNode",
                "position": {"x": 80, "y": 120},
                "data": {
                    "start": True,
                    "debug": False,
                    "spec": {
                        "className": "StartAction",
                        "module": "apps.workflows.actions.flow",
                        "inputs": [],
                        "outputs": ["payload"],
                        "init": {"event_types": []},
                    },
                    "metadata": {"name": "Start", "desc": ""},
                },
            }
        ],
        "edges": [],
    }
    assert (workflow.deployed_at, workflow.graph, workflow.revision) == (
        None,
        {"nodes": [], "edges": []},
        1,
    )
    assert workflow.draft_saved_by.username == "marketer"
    assert not workflow.versions.exists()


def test_the_add_form_has_no_graph_field(staff_client):
    response = staff_client.get(reverse("admin:workflows_workflow_add"))

    assert list(response.context["adminform"].form.fields) == ["name", "description", "enabled"]


def test_saving_the_form_keeps_the_graphs_and_version_and_saves_rules_inline(staff_client):
    workflow = WorkflowFactory(graph=plan_graph(), version=3)
    source_rule = {
        "rules-TOTAL_FORMS": "1",
        "rules-0-name": "Purchases",
        "rules-0-event_type": "Purchase Made",
        "rules-0-enabled": "on",
    }

    response = staff_client.post(
        reverse("admin:workflows_workflow_change", args=[workflow.pk]),
        form_data(description="Pro plans", **source_rule),
    )

    assert response.status_code == 302
    workflow.refresh_from_db()
    assert (workflow.version, workflow.revision, workflow.description) == (3, 1, "Pro plans")
    assert workflow.graph == plan_graph()
    assert workflow.draft == plan_graph()
    assert list(Rule.objects.values_list("name", "event_type", "source_id", "workflow_id")) == [
        ("Purchases", "purchase-made", None, workflow.pk)
    ]


def test_change_page_hands_the_editor_its_addresses_and_the_run_to_show(staff_client):
    workflow = WorkflowFactory(id="w1")

    response = staff_client.get(
        reverse("admin:workflows_workflow_change", args=[workflow.pk]), {"run": "42"}
    )

    base = "/admin/workflows/workflow/"
    assert response.context["editor_config"] == {
        "workflow_id": "w1",
        "can_change": True,
        "run_id": 42,
        "urls": {
            "catalogue": f"{base}editor/catalogue/",
            "notation": f"{base}editor/notation/",
            "events": f"{base}editor/events/",
            "run": f"{base}editor/runs/",
            "load": f"{base}w1/editor/",
            "validate": f"{base}w1/editor/validate/",
            "save": f"{base}w1/editor/save/",
            "deploy": f"{base}w1/editor/deploy/",
            "revert": f"{base}w1/editor/revert/",
            "test_run": f"{base}w1/editor/test-run/",
            "rules": f"{base}w1/editor/rules/",
        },
    }


def test_change_page_shows_the_draft_and_deployed_status(staff_client):
    workflow = WorkflowFactory(graph=plan_graph(), version=2)
    Workflow.objects.filter(pk=workflow.pk).update(draft=linear_graph())

    response = staff_client.get(reverse("admin:workflows_workflow_change", args=[workflow.pk]))

    assert response.status_code == 200
    form = response.context["adminform"]
    assert list(form.form.fields) == ["name", "description", "enabled"]
    fields = {
        line.field["name"]: line.contents()
        for fieldset in form
        for row in fieldset
        for line in row
        if isinstance(line.field, dict)
    }
    assert fields["deployed_version"] == "2"
    assert 'alt="True"' in fields["draft_status"]


def test_change_page_draws_the_graph_and_links_test_run_and_runs(staff_client):
    workflow = WorkflowFactory(name="Plans", graph=plan_graph())

    response = staff_client.get(reverse("admin:workflows_workflow_change", args=[workflow.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    svg = re.search(
        r'<svg xmlns="http://www.w3.org/2000/svg" class="cdp-workflow-graph".*?</svg>', html, re.S
    )[0]
    assert svg.count('class="node"') == 3
    assert svg.count("marker-end=") == 2  # one arrow per edge
    assert "Is pro?" in svg and "Keep plan" in svg
    assert f"?workflow__id__exact={workflow.pk}" in html


def test_the_picture_escapes_node_names(staff_client):
    hostile = plan_graph()
    hostile["nodes"][1]["data"]["metadata"]["name"] = "<script>alert(1)</script>"
    workflow = WorkflowFactory(graph=hostile)

    html = staff_client.get(
        reverse("admin:workflows_workflow_change", args=[workflow.pk])
    ).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_action_catalogue_lists_every_action_with_docs_ports_and_schema(staff_client):
    response = staff_client.get(reverse("admin:workflows_workflow_actions"))

    html = response.content.decode()
    assert response.status_code == 200
    for action in ACTIONS:
        assert f'id="action-{action.id}"' in html
        assert action.name in html
    assert "Output ports: <code>true</code>, <code>false</code>" in html
    assert "&quot;exclusiveMinimum&quot;: 0" in html  # the remote call's timeout schema


def editor_test_run(client, workflow, body):
    """The editor's test run (the old test-run page is gone: the editor runs them)."""
    return client.post(
        reverse("admin:workflows_workflow_editor_test_run", args=[workflow.pk]),
        data=json.dumps(body),
        content_type="application/json",
    )


def test_test_run_on_a_sample_event_shows_every_node_and_saves_nothing(staff_client):
    workflow = WorkflowFactory(graph=plan_graph())
    sample = {"type": "purchase", "properties": {"plan": "pro"}}

    response = editor_test_run(staff_client, workflow, {"sample": sample})

    assert response.status_code == 200
    result = response.json()
    assert result["status"] == "ok"
    assert [(e["node"], e["port"]) for e in result["log"]] == [
        ("start", "payload"),
        ("pro", "true"),
        ("copy", "payload"),
    ]
    assert result["log"][1]["input"]["properties"] == {"plan": "pro"}
    assert result["changed_fields"] == ["traits.plan"]
    assert result["profile_note"] == "A new, empty profile (the sample names none)."
    assert not WorkflowRun.objects.exists()
    assert not Event.objects.exists()
    assert not Profile.objects.exists()


def test_test_run_on_a_stored_event_uses_its_profile_and_changes_nothing(staff_client):
    profile = ProfileFactory(traits={"plan": "free"})
    event = EventFactory(profile=profile, type="purchase", properties={"plan": "pro"})
    workflow = WorkflowFactory(graph=plan_graph())

    result = editor_test_run(staff_client, workflow, {"event_id": event.pk}).json()

    assert result["changed_fields"] == ["traits.plan"]
    assert result["profile_note"] == f"Stored profile {profile.pk}."
    assert result["log"][1]["input"]["properties"] == {"plan": "pro"}
    profile.refresh_from_db()
    assert profile.traits == {"plan": "free"}
    event.refresh_from_db()
    assert event.status == Event.Status.COLLECTED


def test_test_run_shows_the_failing_node(staff_client):
    workflow = WorkflowFactory(
        graph=linear_graph(("throw_error", {"message": "nope", "name": "Stop here"}))
    )

    result = editor_test_run(staff_client, workflow, {"sample": {"type": "x"}}).json()

    assert (result["status"], result["error_node"]) == ("error", "n1")
    assert result["error"] == "Node 'Stop here' (n1): nope"


def test_test_run_reports_injected_events_without_storing_them(staff_client):
    source = EventFactory().source
    workflow = WorkflowFactory(
        graph=linear_graph(("inject_event", {"type": "Follow up", "source_id": source.pk}))
    )

    result = editor_test_run(
        staff_client, workflow, {"sample": {"type": "signup", "properties": {"a": 1}}}
    ).json()

    [injected] = result["injected"]
    assert (injected["type"], injected["source"], injected["profile"]) == (
        "follow-up",
        {"id": source.pk},
        {"id": "@test-profile"},
    )
    assert Event.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"event_id": "missing"}, "There is no stored event with id 'missing'."),
        ({"sample": {"properties": {}}}, '"type" is required'),
        ({}, "Give a stored event id or write a sample event."),
    ],
)
def test_test_run_input_errors_are_explained(staff_client, body, message):
    workflow = WorkflowFactory(graph=plan_graph())

    response = editor_test_run(staff_client, workflow, body)

    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_rule_admin_lists_source_or_any(staff_client):
    RuleFactory(name="Any purchase", event_type="purchase")

    response = staff_client.get(reverse("admin:workflows_rule_changelist"))

    assert response.status_code == 200
    assert "any source" in response.content.decode()


def test_runs_changelist_filters_by_profile_without_a_full_count(
    staff_client, django_assert_max_num_queries
):
    RuleFactory(workflow=WorkflowFactory(graph=plan_graph()), event_type="purchase")
    events = [EventFactory(type="purchase", properties={"plan": "pro"}) for _ in range(3)]
    for event in events:
        profile_events_process(profile_id=event.profile_id)
    url = reverse("admin:workflows_workflowrun_changelist")

    response = staff_client.get(url, {"profile": events[0].profile_id})

    assert [run.event_ref for run in response.context["cl"].result_list] == [events[0].pk]
    with django_assert_max_num_queries(12):
        response = staff_client.get(url)
    assert len(response.context["cl"].result_list) == 3
    assert response.context["cl"].show_full_result_count is False


def test_run_detail_shows_the_node_log(staff_client):
    RuleFactory(
        workflow=WorkflowFactory(
            graph=linear_graph(("log_message", {"message": "hello {{event@id}}"}))
        )
    )
    event = EventFactory()
    profile_events_process(profile_id=event.profile_id)
    run = WorkflowRun.objects.get()

    html = staff_client.get(
        reverse("admin:workflows_workflowrun_change", args=[run.pk])
    ).content.decode()

    assert f"hello {event.pk}" in html
    assert "payload &rarr; payload" in html
    canvas = reverse("admin:workflows_workflow_change", args=[run.workflow_id])
    assert f'<a href="{canvas}?run={run.pk}">Open on the canvas</a>' in html


def test_run_list_links_each_run_to_the_canvas(staff_client):
    RuleFactory(workflow=WorkflowFactory(graph=plan_graph()), event_type="purchase")
    event = EventFactory(type="purchase", properties={"plan": "pro"})
    profile_events_process(profile_id=event.profile_id)
    run = WorkflowRun.objects.get()

    html = staff_client.get(reverse("admin:workflows_workflowrun_changelist")).content.decode()

    canvas = reverse("admin:workflows_workflow_change", args=[run.workflow_id])
    assert f'<a href="{canvas}?run={run.pk}">Open on the canvas</a>' in html
