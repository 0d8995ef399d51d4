"""Writing workflows: every save validates the graph and bumps the version."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from apps.workflows.graph import graph_problems
from apps.workflows.models import Workflow


def workflow_graph_validate(*, graph: object) -> None:
    """Raise ValidationError({"graph": [...]}) with one message per problem, each naming the
    node (its name and id) it is about."""
    problems = graph_problems(graph)
    if problems:
        raise ValidationError({"graph": [ValidationError(str(problem)) for problem in problems]})


def workflow_create(
    *, name: str, graph: dict, description: str = "", enabled: bool = True
) -> Workflow:
    workflow_graph_validate(graph=graph)
    workflow = Workflow(name=name, graph=graph, description=description, enabled=enabled)
    workflow.full_clean()
    workflow.save(force_insert=True)
    return workflow


def workflow_save(*, workflow: Workflow) -> Workflow:
    """Save a new or changed workflow (the admin's form already holds the new values)."""
    workflow_graph_validate(graph=workflow.graph)
    with transaction.atomic():
        if workflow._state.adding:
            workflow.version = 1
            workflow.save(force_insert=True)
        else:
            workflow.version = F("version") + 1
            workflow.save()
            workflow.refresh_from_db(fields=["version"])
    return workflow
