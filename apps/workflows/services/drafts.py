"""The draft a marketer edits in the workflow editor, and deploying it.

A draft is saved as often as the editor likes, problems and all; deploying copies it to the
graph the worker runs, refused while it has problems. Every write of the draft bumps
`revision`, and every write names the revision it was based on: a conditional UPDATE (or a row
lock for deploys) refuses a write based on an older one, so of two people saving at once
exactly one wins and the other is told who saved and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.workflows.actions import action_class_for
from apps.workflows.actions.flow import StartAction
from apps.workflows.graph import GraphProblem, graph_problems
from apps.workflows.models import Workflow, WorkflowVersion

_DRAFT_FIELDS = ("draft", "revision", "draft_saved", "draft_saved_by", "updated", "deployed_at")


class DraftShapeError(ValueError):
    """The graph is not an object with "nodes" and "edges" lists: nothing is saved."""


class DraftConflict(Exception):
    """The draft was written after the revision the caller was based on."""

    def __init__(self, workflow: Workflow) -> None:
        self.revision = workflow.revision
        who = _user_name(workflow.draft_saved_by) or "Someone"
        when = ""
        if workflow.draft_saved is not None:
            saved = timezone.localtime(workflow.draft_saved)
            day = "" if saved.date() == timezone.localdate() else f" on {saved:%Y-%m-%d}"
            when = f"{day} at {saved:%H:%M}"
        super().__init__(
            f"{who} saved this workflow{when}, after you opened it. Your changes are still "
            "in this page: copy what you need, then reload."
        )


class SuperuserOnly(PermissionError):
    """The graph has a node only a superuser may save (code that runs in visitors' pages)."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        nodes = "the node" if len(names) == 1 else "the nodes"
        super().__init__(
            f"Only an admin (superuser) may save or deploy a workflow with {nodes} "
            f"{', '.join(repr(name) for name in names)}: its code runs in visitors' browsers. "
            "Remove it, or ask an admin to make this change."
        )


def superuser_only_check(*, graph: Any, user: AbstractBaseUser | None) -> None:
    """SuperuserOnly when `user` is not a superuser and `graph` has a superuser-only node.
    No user is code (imports, management commands, tests), which is trusted."""
    if user is None or getattr(user, "is_superuser", False) or not isinstance(graph, dict):
        return
    names = []
    for node in graph.get("nodes") or []:
        spec = ((node or {}).get("data") or {}).get("spec") if isinstance(node, dict) else None
        action = action_class_for(spec) if isinstance(spec, dict) else None
        if action is not None and action.superuser_only:
            metadata = (node.get("data") or {}).get("metadata") or {}
            names.append(str(metadata.get("name") or action.name))
    if names:
        raise SuperuserOnly(names)


class DeployRefused(Exception):
    def __init__(self, problems: list[GraphProblem]) -> None:
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"The draft has {count}; fix them before deploying.")


class NeverDeployed(Exception):
    def __init__(self) -> None:
        super().__init__("This workflow was never deployed: there is no version to revert to.")


@dataclass(frozen=True, slots=True)
class DraftSaved:
    revision: int
    problems: list[GraphProblem]


def start_graph() -> dict:
    """The draft of a new workflow: one start node."""
    return {
        "nodes": [
            {
                "id": "start",
                "type": "startNode",
                "position": {"x": 80, "y": 120},
                "data": {
                    "start": True,
                    "debug": False,
                    "spec": StartAction.spec(),
                    "metadata": {"name": "Start", "desc": ""},
                },
            }
        ],
        "edges": [],
    }


def draft_shape_check(graph: Any) -> None:
    if (
        not isinstance(graph, dict)
        or not isinstance(graph.get("nodes"), list)
        or not isinstance(graph.get("edges", []), list)
    ):
        raise DraftShapeError(
            '"graph" must be an object {"nodes": [...], "edges": [...]} with two lists'
        )


def workflow_draft_save(
    *, workflow: Workflow, graph: dict, revision: int, user: AbstractBaseUser | None
) -> DraftSaved:
    """Save `graph` as the draft if `revision` is still the current one (DraftConflict if
    not). A draft with problems is saved; the problems come back."""
    draft_shape_check(graph)
    superuser_only_check(graph=graph, user=user)
    graph = {**graph, "edges": graph.get("edges", [])}
    if not _draft_write(workflow=workflow, revision=revision, user=user, draft=graph):
        raise DraftConflict(workflow)
    return DraftSaved(revision=workflow.revision, problems=graph_problems(workflow.draft))


def workflow_draft_revert(
    *, workflow: Workflow, revision: int, user: AbstractBaseUser | None
) -> DraftSaved:
    """The draft becomes the deployed graph again. NeverDeployed, DraftConflict."""
    if not _draft_write(workflow=workflow, revision=revision, user=user, draft=F("graph")):
        if workflow.deployed_at is None:
            raise NeverDeployed
        raise DraftConflict(workflow)
    return DraftSaved(revision=workflow.revision, problems=graph_problems(workflow.draft))


def workflow_deploy(
    *, workflow: Workflow, revision: int, user: AbstractBaseUser | None
) -> WorkflowVersion:
    """Make the draft at `revision` the graph the worker runs, as a new version. Refused
    (DeployRefused) while the draft has problems; DraftConflict if the draft has moved on."""
    with transaction.atomic():
        locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
        if locked.revision != revision:
            raise DraftConflict(locked)
        superuser_only_check(graph=locked.draft, user=user)
        problems = graph_problems(locked.draft)
        if problems:
            raise DeployRefused(problems)
        now = timezone.now()
        deployed = WorkflowVersion.objects.create(
            workflow=locked,
            version=locked.version + 1 if locked.deployed_at is not None else 1,
            graph=locked.draft,
            deployed_at=now,
            deployed_by=user,
        )
        locked.graph, locked.version, locked.deployed_at = locked.draft, deployed.version, now
        # save() (not update()): the post_save signal clears this process's routing cache.
        locked.save(update_fields=["graph", "version", "deployed_at", "updated"])
    for name in ("graph", "version", "deployed_at", "updated"):
        setattr(workflow, name, getattr(locked, name))
    return deployed


def _draft_write(
    *, workflow: Workflow, revision: int, user: AbstractBaseUser | None, draft: Any
) -> bool:
    now = timezone.now()
    filters = {"pk": workflow.pk, "revision": revision}
    if isinstance(draft, F):
        filters["deployed_at__isnull"] = False
    # One statement: of two saves based on the same revision, the second waits for the
    # first's row lock, then finds the revision changed and updates nothing.
    written = Workflow.objects.filter(**filters).update(
        draft=draft,
        revision=F("revision") + 1,
        draft_saved=now,
        draft_saved_by=user,
        updated=now,
    )
    workflow.refresh_from_db(fields=_DRAFT_FIELDS)
    return bool(written)


def _user_name(user: AbstractBaseUser | None) -> str:
    if user is None:
        return ""
    full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return full_name or user.get_username()
