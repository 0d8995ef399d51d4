"""Workflows from Tracardi flow files."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser

from apps.workflows.models import Workflow
from apps.workflows.services.workflows import workflow_add
from apps.workflows.tracardi import ImportedFlow


def workflow_import_tracardi(
    *, flow: ImportedFlow, user: AbstractBaseUser | None = None
) -> Workflow:
    """Create a workflow whose draft is an imported Tracardi flow, not deployed.

    The draft is the imported graph as it is, placeholders included (a draft may have
    problems); a workflow never deployed is routed nothing, and deploying refuses a draft with
    a placeholder until it is replaced."""
    workflow = Workflow(
        name=flow.name[: Workflow._meta.get_field("name").max_length],
        description=flow.description,
    )
    workflow.full_clean(exclude=["graph", "draft"])
    return workflow_add(workflow=workflow, user=user, draft=flow.graph)
