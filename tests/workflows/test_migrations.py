"""The data migration that gives workflows saved before drafts their draft and deployed version."""

import importlib
from datetime import UTC, datetime

import pytest
from django.apps import apps

from apps.workflows.models import Workflow, WorkflowVersion
from tests.workflows.graphs import linear_graph

migration = importlib.import_module("apps.workflows.migrations.0004_workflow_draft_versions")

pytestmark = pytest.mark.django_db


def test_existing_workflows_run_their_graph_as_a_deployed_version():
    saved = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    graph = linear_graph(("log_message", {"message": "hi"}))
    Workflow.objects.create(id="w1", name="Old", graph=graph, version=7)
    Workflow.objects.filter(pk="w1").update(updated=saved)

    migration.deployed_as_they_are(apps, None)

    workflow = Workflow.objects.get(pk="w1")
    assert (workflow.draft, workflow.deployed_at, workflow.version) == (graph, saved, 7)
    assert workflow.draft_differs is False
    assert list(
        WorkflowVersion.objects.values_list("workflow_id", "version", "graph", "deployed_at")
    ) == [("w1", 7, graph, saved)]
