"""The services behind the editor: creating, saving a draft, deploying, versions."""

import pytest
from django.core.exceptions import ValidationError

from apps.workflows.models import Workflow, WorkflowVersion
from apps.workflows.services.drafts import (
    DraftShapeError,
    NeverDeployed,
    workflow_deploy,
    workflow_draft_revert,
    workflow_draft_save,
)
from apps.workflows.services.workflows import workflow_add, workflow_create
from tests.workflows.factories import WorkflowFactory
from tests.workflows.graphs import linear_graph

pytestmark = pytest.mark.django_db


def test_workflow_create_deploys_version_one_with_the_same_draft():
    graph = linear_graph(("log_message", {"message": "hi"}))

    workflow = workflow_create(name="Code", graph=graph)

    workflow.refresh_from_db()
    assert (workflow.graph, workflow.draft, workflow.version, workflow.revision) == (
        graph,
        graph,
        1,
        1,
    )
    assert workflow.deployed_at is not None
    assert list(WorkflowVersion.objects.values_list("workflow_id", "version", "graph")) == [
        (workflow.pk, 1, graph)
    ]


def test_workflow_create_still_refuses_a_graph_with_problems():
    with pytest.raises(ValidationError):
        workflow_create(name="Broken", graph={"nodes": [], "edges": []})

    assert not Workflow.objects.exists()


def test_a_draft_keeps_keys_the_server_does_not_know():
    """Nodes imported from Tracardi (or drawn by the editor) carry keys of their own."""
    workflow = WorkflowFactory()
    graph = linear_graph(("log_message", {"message": "hi"}))
    graph["nodes"][1]["data"]["unavailable"] = True
    graph["nodes"][1]["selected"] = False
    graph["edges"][0]["animated"] = True
    graph["viewport"] = {"x": 10, "y": 20, "zoom": 1.5}

    workflow_draft_save(workflow=workflow, graph=graph, revision=1, user=None)

    workflow.refresh_from_db()
    assert workflow.draft == graph


def test_a_graph_without_edges_is_saved_with_an_empty_list():
    workflow = WorkflowFactory()
    nodes = linear_graph()["nodes"]

    saved = workflow_draft_save(workflow=workflow, graph={"nodes": nodes}, revision=1, user=None)

    workflow.refresh_from_db()
    assert (workflow.draft, saved.revision, saved.problems) == (
        {"nodes": nodes, "edges": []},
        2,
        [],
    )


def test_workflow_add_with_a_draft_checks_its_shape_and_does_not_deploy():
    with pytest.raises(DraftShapeError):
        workflow_add(workflow=Workflow(name="Imported"), draft={"nodes": "x"})
    draft = linear_graph(("log_message", {"message": "hi"}))

    workflow = workflow_add(workflow=Workflow(name="Imported"), draft=draft)

    workflow.refresh_from_db()
    assert (workflow.draft, workflow.deployed_at, workflow.revision) == (draft, None, 1)


def test_versions_count_up_from_one_and_each_keeps_its_graph():
    workflow = workflow_add(workflow=Workflow(name="New"))
    with pytest.raises(NeverDeployed):
        workflow_draft_revert(workflow=workflow, revision=1, user=None)

    first = workflow_deploy(workflow=workflow, revision=1, user=None)
    graph = linear_graph(("log_message", {"message": "two"}))
    workflow_draft_save(workflow=workflow, graph=graph, revision=1, user=None)
    second = workflow_deploy(workflow=workflow, revision=2, user=None)

    assert (first.version, second.version) == (1, 2)
    assert list(
        WorkflowVersion.objects.filter(workflow=workflow)
        .order_by("version")
        .values_list("version", "graph")
    ) == [(1, first.graph), (2, graph)]
    workflow.refresh_from_db()
    assert (workflow.version, workflow.graph, workflow.revision) == (2, graph, 2)
