"""Issue 17 item 2: workflows (create, draft with revisions, validate, test run, deploy,
Tracardi import and export) and rules through the API."""

import json
from pathlib import Path

import pytest

from apps.workflows.models import Rule, Workflow
from tests.events.factories import EventFactory
from tests.workflows.graphs import linear_graph, node

pytestmark = pytest.mark.django_db

FLOWS = Path(__file__).resolve().parents[1] / "workflows" / "tracardi_flows"
COPY_PLAN = ("copy_data", {"traits": {"set": {"profile@traits.plan": "event@properties.plan"}}})


def test_create_save_the_draft_test_run_and_deploy(client_all):
    made = client_all.post("/api/v1/workflows/", {"name": "Plan"}, format="json")
    assert made.status_code == 201
    workflow = made.json()
    assert workflow["deployed_at"] is None
    assert [n["id"] for n in workflow["draft"]["nodes"]] == ["start"]
    url = f"/api/v1/workflows/{workflow['id']}"

    saved = client_all.put(
        f"{url}/draft/",
        {"graph": linear_graph(COPY_PLAN), "revision": workflow["revision"]},
        format="json",
    )
    assert saved.status_code == 200
    assert saved.json() == {"revision": workflow["revision"] + 1, "problems": []}

    stale = client_all.put(
        f"{url}/draft/",
        {"graph": linear_graph(), "revision": workflow["revision"]},
        format="json",
    )
    assert stale.status_code == 409
    assert "after you opened it" in stale.json()["detail"]

    event = EventFactory(type="purchase", properties={"plan": "gold"})
    run = client_all.post(f"{url}/test-run/", {"event_id": event.pk}, format="json")
    assert run.status_code == 200
    assert run.json()["status"] == "ok"
    assert run.json()["profile_changed_fields"] == ["traits.plan"]
    assert run.json()["profile_after"]["traits"]["plan"] == "gold"

    deployed = client_all.post(
        f"{url}/deploy/", {"revision": workflow["revision"] + 1}, format="json"
    )
    assert deployed.status_code == 200
    assert deployed.json()["version"] == 1
    stored = Workflow.objects.get(pk=workflow["id"])
    assert stored.graph == stored.draft
    assert stored.deployed_at is not None


def test_deploy_refuses_a_draft_with_problems_naming_the_node(client_all):
    graph = linear_graph(COPY_PLAN)
    graph["nodes"][1]["data"]["spec"]["init"] = {"traits": {"set": {}}}
    made = client_all.post("/api/v1/workflows/", {"name": "Broken", "draft": graph}, format="json")
    assert made.status_code == 201
    workflow = made.json()
    assert [problem["node_id"] for problem in workflow["problems"]] == ["n1"]
    refused = client_all.post(
        f"/api/v1/workflows/{workflow['id']}/deploy/",
        {"revision": workflow["revision"]},
        format="json",
    )
    assert refused.status_code == 400
    detail = refused.json()["detail"]
    assert [entry["loc"] for entry in detail] == [["draft", "nodes", "n1"]]
    assert detail[0]["msg"].startswith("Node 'n1' (id n1): ")
    assert Workflow.objects.get(pk=workflow["id"]).deployed_at is None


def test_validate_reports_problems_without_saving(client_all):
    fine = client_all.post(
        "/api/v1/workflows/validate/", {"graph": linear_graph(COPY_PLAN)}, format="json"
    )
    assert fine.json() == {"problems": []}
    two_starts = {"nodes": [node("a", "start"), node("b", "start")], "edges": []}
    problems = client_all.post(
        "/api/v1/workflows/validate/", {"graph": two_starts}, format="json"
    ).json()["problems"]
    assert len(problems) == 1
    assert "start" in problems[0]["message"].lower()
    assert Workflow.objects.count() == 0


def test_tracardi_import_and_export(client_all):
    flow = json.loads((FLOWS / "tracardi-0.9-flow-pro-signups.json").read_text())
    imported = client_all.post("/api/v1/workflows/import/", flow, format="json")
    assert imported.status_code == 201, imported.content
    workflow = imported.json()
    assert workflow["deployed_at"] is None
    assert isinstance(workflow["import_notes"], list)
    exported = client_all.get(f"/api/v1/workflows/{workflow['id']}/export/").json()
    assert exported["name"] == workflow["name"]
    assert len(exported["flowGraph"]["nodes"]) == len(workflow["draft"]["nodes"])
    refused = client_all.post("/api/v1/workflows/import/", {"hello": 1}, format="json")
    assert refused.status_code == 400


def test_rules_crud_and_event_type_spelling(client_all):
    workflow = Workflow.objects.create(name="W")
    made = client_all.post(
        "/api/v1/rules/",
        {"name": "Purchases", "event_type": "purchase", "workflow": workflow.pk},
        format="json",
    )
    assert made.status_code == 201
    rule = Rule.objects.get()
    assert (rule.event_type, rule.source_id, rule.workflow_id) == ("purchase", None, workflow.pk)
    bad = client_all.patch(f"/api/v1/rules/{rule.pk}/", {"event_type": "Page View"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["detail"] == [
        {
            "loc": ["body", "event_type"],
            "msg": "Write the event type as stored: 'page-view'.",
            "type": "invalid",
        }
    ]
    assert client_all.delete(f"/api/v1/rules/{rule.pk}/").status_code == 204
