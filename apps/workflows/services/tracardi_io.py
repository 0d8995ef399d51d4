"""Workflows from Tracardi flow files."""

from __future__ import annotations

from apps.workflows.models import Workflow
from apps.workflows.tracardi import ImportedFlow


def workflow_import_tracardi(*, flow: ImportedFlow) -> Workflow:
    """Create a workflow from an imported Tracardi flow, disabled.

    Its graph is the imported one as it is, placeholders included, so it is not validated: a
    disabled workflow is routed nothing (selectors.routing_table), and the admin refuses to save
    it until every placeholder is replaced. When Workflow gets its draft, the imported graph
    belongs there instead, with the deployed graph left empty.
    """
    workflow = Workflow(
        name=flow.name[: Workflow._meta.get_field("name").max_length],
        description=flow.description,
        enabled=False,
        graph=flow.graph,
    )
    workflow.full_clean()
    workflow.save(force_insert=True)
    return workflow
