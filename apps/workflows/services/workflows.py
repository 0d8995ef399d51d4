"""Writing workflows: creating one (deployed at once, for code and imports, or as a draft with
a start node, from the admin) and saving its name, description and switch. The graph changes
through the draft and deploys (services/drafts.py)."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.workflows.graph import graph_problems
from apps.workflows.models import Workflow, WorkflowVersion
from apps.workflows.services.drafts import draft_shape_check, start_graph, superuser_only_check


def workflow_graph_validate(*, graph: object) -> None:
    """Raise ValidationError({"graph": [...]}) with one message per problem, each naming the
    node (its name and id) it is about."""
    problems = graph_problems(graph)
    if problems:
        raise ValidationError({"graph": [ValidationError(str(problem)) for problem in problems]})


def workflow_create(
    *,
    name: str,
    graph: dict,
    description: str = "",
    enabled: bool = True,
    user: AbstractBaseUser | None = None,
) -> Workflow:
    """A workflow that runs `graph` at once: deployed as version 1, with the same draft."""
    workflow_graph_validate(graph=graph)
    superuser_only_check(graph=graph, user=user)
    now = timezone.now()
    workflow = Workflow(
        name=name,
        graph=graph,
        draft=graph,
        description=description,
        enabled=enabled,
        version=1,
        deployed_at=now,
        draft_saved=now,
        draft_saved_by=user,
    )
    workflow.full_clean()
    with transaction.atomic():
        workflow.save(force_insert=True)
        WorkflowVersion.objects.create(
            workflow=workflow, version=1, graph=graph, deployed_at=now, deployed_by=user
        )
    return workflow


def workflow_add(
    *, workflow: Workflow, user: AbstractBaseUser | None = None, draft: dict | None = None
) -> Workflow:
    """Store a new workflow (the admin's form holds its name, description, switch) with `draft`
    (by default one start node), problems and all. It is not deployed, so no rule routes
    events to it until its first deploy."""
    if draft is not None:
        draft_shape_check(draft)
        superuser_only_check(graph=draft, user=user)
    workflow.draft = start_graph() if draft is None else draft
    workflow.graph = {"nodes": [], "edges": []}
    workflow.version, workflow.revision, workflow.deployed_at = 1, 1, None
    workflow.draft_saved, workflow.draft_saved_by = timezone.now(), user
    workflow.save(force_insert=True)
    return workflow


def workflow_details_save(*, workflow: Workflow) -> Workflow:
    """Save a workflow's name, description and switch; its graphs are left as they are."""
    workflow.save(update_fields=["name", "description", "enabled", "updated"])
    return workflow
