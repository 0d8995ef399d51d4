"""The JSON endpoints of the workflow editor (the contract: issue 13's EDITOR_CONTRACT.md).

Thin views under WorkflowAdmin: they read the body, check the admin's permissions (view for
reads and test runs, change for writes), call a selector or a service and answer JSON. Every
error is JSON `{"detail": ...}` (400, 403, 404, 405, 409), never an HTML page; domain errors
become answers in one place (`_DOMAIN_ERRORS`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.core.exceptions import RequestDataTooBig
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, path, reverse

from apps.core.admin_helpers import admin_view_requiring
from apps.workflows.actions import actions_by_group, plugin_origin
from apps.workflows.actions.connectors.base import resource_choices, with_resource_choices
from apps.workflows.admin.docs import docs_html
from apps.workflows.engine import loggable
from apps.workflows.graph import GraphInvalid, graph_problems
from apps.workflows.models import Rule, Workflow, WorkflowRun
from apps.workflows.notation_check import notation_check
from apps.workflows.selectors import (
    editor_events_search,
    event_type_suggestions,
    rule_sources,
    workflow_rules,
    workflow_run_with_graph,
    workflow_versions,
)
from apps.workflows.services.drafts import (
    DeployRefused,
    DraftConflict,
    DraftShapeError,
    NeverDeployed,
    SuperuserOnly,
    draft_shape_check,
    workflow_deploy,
    workflow_draft_revert,
    workflow_draft_save,
)
from apps.workflows.services.rules import RuleInputError, workflow_rule_add
from apps.workflows.services.test_run import TestRunError, workflow_test_run

# The colour of each family of actions on the canvas and in the palette.
FAMILY_COLOURS = {
    "Flow": "#4a6fa5",
    "Data": "#2e8b57",
    "Text": "#8a6d3b",
    "Math": "#6a5acd",
    "Lists": "#3f7f7f",
    "Time": "#b8860b",
    "Profiles": "#c0392b",
    "Segments": "#d35400",
    "Interests": "#a0522d",
    "Counters": "#7f8c8d",
    "Consents": "#16a085",
    "Privacy": "#8e44ad",
    "Identifiers": "#2c3e50",
    "Devices": "#5d6d7e",
    "Events": "#1f618d",
    "Connectors": "#b03a2e",
    "UX": "#ad1457",
    "Entities": "#117a65",
    "Memory": "#7d3c98",
    "Text analysis": "#9a7d0a",
    # The pure-logic families (issue 19 item 3).
    "Converters": "#5b7065",
    "Validation": "#7d5a50",
    "Location": "#227093",
}
DEFAULT_COLOUR = "#666666"
SUMMARY_LENGTH = 120


class _Answer(Exception):
    """Stop a view with a JSON error answer."""

    def __init__(self, status: int, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.body = status, {"detail": detail, **extra}


def _problems(problems) -> list[dict]:
    return [problem.as_dict() for problem in problems]


# One place where domain errors become answers.
_DOMAIN_ERRORS: tuple[tuple[type[Exception], Callable[[Any], _Answer]], ...] = (
    (DraftConflict, lambda exc: _Answer(409, str(exc), revision=exc.revision)),
    (DeployRefused, lambda exc: _Answer(400, str(exc), problems=_problems(exc.problems))),
    (NeverDeployed, lambda exc: _Answer(400, str(exc))),
    (SuperuserOnly, lambda exc: _Answer(403, str(exc))),
    (DraftShapeError, lambda exc: _Answer(400, str(exc))),
    (RuleInputError, lambda exc: _Answer(400, str(exc))),
    (TestRunError, lambda exc: _Answer(400, str(exc))),
    (
        GraphInvalid,
        lambda exc: _Answer(
            400,
            f"The draft has {len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''}"
            "; fix them before a test run.",
            problems=_problems(exc.problems),
        ),
    ),
)


_DOMAIN_ERROR_TYPES = tuple(kind for kind, _ in _DOMAIN_ERRORS)


class _Encoder(DjangoJSONEncoder):
    """Run logs may hold values JSON has no type for: they go out as text."""

    def default(self, o: Any) -> Any:
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def _json(body: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, encoder=_Encoder, safe=False)


def _endpoint(*, method: str, permission: str):
    def decorate(handler):
        @functools.wraps(handler)
        def view(self: EditorViews, request: HttpRequest, **kwargs: Any) -> JsonResponse:
            if request.method != method:
                response = _json({"detail": f"Use {method} for this address."}, 405)
                response["Allow"] = method
                return response
            try:
                self.check_permission(request, permission)
                return handler(self, request, **kwargs)
            except _Answer as answer:
                return _json(answer.body, answer.status)
            except _DOMAIN_ERROR_TYPES as exc:
                answer = next(make(exc) for kind, make in _DOMAIN_ERRORS if isinstance(exc, kind))
                return _json(answer.body, answer.status)

        return view

    return decorate


def _body(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body or b"null")
    except RequestDataTooBig as exc:
        raise _Answer(400, "The request body is too large.") from exc
    except ValueError as exc:
        raise _Answer(400, f"The body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise _Answer(400, "The body must be a JSON object.")
    return body


def _revision(body: dict) -> int:
    revision = body.get("revision")
    if isinstance(revision, bool) or not isinstance(revision, int):
        raise _Answer(400, '"revision" must be the revision number the editor loaded.')
    return revision


def _plugin(action) -> dict | None:
    """The package a plugin action comes from ({"package", "version"}), None if built in."""
    origin = plugin_origin(action)
    return None if origin is None else {"package": origin.package, "version": origin.version}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _user_name(user) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


def rule_document(rule: Rule) -> dict:
    return {
        "id": rule.id,
        "name": rule.name,
        "event_type": rule.event_type,
        "source_id": rule.source_id,
        "source_name": rule.source.name if rule.source_id else None,
        "enabled": rule.enabled,
        "admin_url": reverse("admin:workflows_rule_change", args=[rule.pk]),
    }


class EditorViews:
    def __init__(self, model_admin: admin.ModelAdmin) -> None:
        self.model_admin = model_admin

    def urls(self) -> list[URLPattern]:
        # (route, view, name, what the user must be allowed to do with workflows: as each
        # view's _endpoint says; a test run saves nothing, so viewing is enough)
        routes = (
            ("editor/catalogue/", self.catalogue, "catalogue", "view"),
            ("editor/notation/", self.notation, "notation", "view"),
            ("editor/events/", self.events, "events", "view"),
            ("editor/runs/<int:run_id>/", self.run, "run", "view"),
            ("<str:object_id>/editor/", self.load, "load", "view"),
            ("<str:object_id>/editor/validate/", self.validate, "validate", "view"),
            ("<str:object_id>/editor/save/", self.save, "save", "change"),
            ("<str:object_id>/editor/deploy/", self.deploy, "deploy", "change"),
            ("<str:object_id>/editor/revert/", self.revert, "revert", "change"),
            ("<str:object_id>/editor/test-run/", self.test_run, "test_run", "view"),
            ("<str:object_id>/editor/rules/", self.rules, "rules", "change"),
        )
        return [
            path(
                route,
                admin_view_requiring(self.model_admin, view, action, answer_json=True),
                name=f"workflows_workflow_editor_{name}",
            )
            for route, view, name, action in routes
        ]

    def page_config(self, request: HttpRequest, workflow_id: str) -> dict:
        """What the change page hands the editor (json_script): its addresses, whether this
        user may write, and the run to show when the page was opened with ?run=<id>."""
        run = request.GET.get("run", "")
        per_workflow = ("load", "validate", "save", "deploy", "revert", "test_run", "rules")
        return {
            "workflow_id": workflow_id,
            "can_change": self.model_admin.has_change_permission(request),
            "run_id": int(run) if run.isdecimal() else None,
            "urls": {
                **{name: url(name) for name in ("catalogue", "notation", "events")},
                "run": url("run", 0).removesuffix("0/"),
                **{name: url(name, workflow_id) for name in per_workflow},
            },
        }

    def check_permission(self, request: HttpRequest, permission: str) -> None:
        if permission == "change" and not self.model_admin.has_change_permission(request):
            raise _Answer(403, "You may not change workflows: ask for the permission to.")
        if permission == "view" and not self.model_admin.has_view_permission(request):
            raise _Answer(403, "You may not view workflows: ask for the permission to.")

    @staticmethod
    def _workflow(object_id: str) -> Workflow:
        workflow = Workflow.objects.filter(pk=object_id).first()
        if workflow is None:
            raise _Answer(404, f"There is no workflow with id {object_id!r}.")
        return workflow

    # -- reads -------------------------------------------------------------------------------

    @_endpoint(method="GET", permission="view")
    def catalogue(self, request: HttpRequest) -> JsonResponse:
        resources = resource_choices()
        families = [
            {
                "name": group,
                "colour": FAMILY_COLOURS.get(group, DEFAULT_COLOUR),
                "actions": [
                    {
                        "id": action.id,
                        "name": action.name,
                        "group": action.group,
                        "description": action.description,
                        "superuser_only": action.superuser_only,
                        "docs_html": str(docs_html(action.docs)),
                        "inputs": list(action.inputs),
                        "outputs": list(action.outputs),
                        "schema": with_resource_choices(action.editor_schema(), resources),
                        "spec": action.spec(),
                        "plugin": _plugin(action),
                    }
                    for action in actions
                ],
            }
            for group, actions in actions_by_group().items()
        ]
        return _json({"families": families})

    @_endpoint(method="POST", permission="view")
    def notation(self, request: HttpRequest) -> JsonResponse:
        body = _body(request)
        kind, text = body.get("kind"), body.get("text")
        if not isinstance(text, str):
            raise _Answer(400, '"text" must be a string.')
        try:
            check = notation_check(kind=kind, text=text)
        except ValueError as exc:
            raise _Answer(400, str(exc)) from exc
        return _json(check.as_dict())

    @_endpoint(method="GET", permission="view")
    def events(self, request: HttpRequest) -> JsonResponse:
        events = editor_events_search(text=request.GET.get("q", ""))
        return _json(
            {
                "events": [
                    {
                        "id": event.pk,
                        "type": event.type,
                        "time": _iso(event.time),
                        "profile_id": event.profile_id,
                        "source_id": event.source_id,
                        "summary": _summary(event.properties),
                    }
                    for event in events
                ]
            }
        )

    @_endpoint(method="GET", permission="view")
    def run(self, request: HttpRequest, run_id: int) -> JsonResponse:
        found = workflow_run_with_graph(run_id=run_id)
        if found is None:
            raise _Answer(404, f"There is no workflow run with id {run_id}.")
        run: WorkflowRun = found.run
        return _json(
            {
                "run": {
                    "id": run.pk,
                    "workflow_id": run.workflow_id,
                    "workflow_version": run.workflow_version,
                    "status": run.status,
                    "error": run.error,
                    "error_node": run.error_node,
                    "started": _iso(run.started),
                    "duration_ms": run.duration_ms,
                    "event_ref": run.event_ref,
                    "event_type": run.event_type,
                    "profile_id": run.profile_id,
                    "log": run.log,
                },
                "graph": found.graph,
                "note": found.note,
            }
        )

    @_endpoint(method="GET", permission="view")
    def load(self, request: HttpRequest, object_id: str) -> JsonResponse:
        workflow = self._workflow(object_id)
        deployed = workflow.deployed_at is not None
        return _json(
            {
                "workflow": {"id": workflow.pk, "name": workflow.name, "enabled": workflow.enabled},
                "draft": workflow.draft,
                "revision": workflow.revision,
                "draft_saved": _iso(workflow.draft_saved),
                "draft_saved_by": _user_name(workflow.draft_saved_by),
                "deployed": workflow.graph if deployed else None,
                "deployed_version": workflow.version if deployed else None,
                "deployed_at": _iso(workflow.deployed_at),
                "draft_differs": workflow.draft_differs,
                "problems": _problems(graph_problems(workflow.draft)),
                "rules": [rule_document(rule) for rule in workflow_rules(workflow_id=workflow.pk)],
                "sources": [{"id": pk, "name": name} for pk, name in rule_sources()],
                "event_types": event_type_suggestions(),
                "versions": [
                    {
                        "version": row.version,
                        "deployed_at": _iso(row.deployed_at),
                        "deployed_by": _user_name(row.deployed_by),
                    }
                    for row in workflow_versions(workflow_id=workflow.pk)
                ],
            }
        )

    @_endpoint(method="POST", permission="view")
    def validate(self, request: HttpRequest, object_id: str) -> JsonResponse:
        self._workflow(object_id)
        graph = _body(request).get("graph")
        draft_shape_check(graph)
        return _json({"problems": _problems(graph_problems(graph))})

    @_endpoint(method="POST", permission="view")
    def test_run(self, request: HttpRequest, object_id: str) -> JsonResponse:
        workflow = self._workflow(object_id)
        body = _body(request)
        event_id, sample = body.get("event_id"), body.get("sample")
        if event_id is not None and not isinstance(event_id, str):
            raise _Answer(400, '"event_id" must be the id of a stored event.')
        profile_less = body.get("profile_less", False)
        if not isinstance(profile_less, bool):
            raise _Answer(400, '"profile_less" must be true or false.')
        result = workflow_test_run(
            workflow=workflow,
            event_id=(event_id or "").strip() or None,
            sample=sample,
            profile_less=profile_less,
        )
        outcome = result.outcome
        return _json(
            {
                "status": outcome.status,
                "error": outcome.error,
                "error_node": outcome.error_node,
                "duration_ms": outcome.duration_ms,
                "log": outcome.log,
                "changed_fields": result.changed_fields,
                "injected": result.injected,
                "profile_note": result.profile_note,
                "response": loggable(result.response),
                "ux": loggable(result.ux),
            }
        )

    # -- writes ------------------------------------------------------------------------------

    @_endpoint(method="POST", permission="change")
    def save(self, request: HttpRequest, object_id: str) -> JsonResponse:
        workflow = self._workflow(object_id)
        body = _body(request)
        revision = _revision(body)
        saved = workflow_draft_save(
            workflow=workflow, graph=body.get("graph"), revision=revision, user=request.user
        )
        return _json(
            {
                "revision": saved.revision,
                "problems": _problems(saved.problems),
                "deployable": not saved.problems,
                "draft_differs": workflow.draft_differs,
            }
        )

    @_endpoint(method="POST", permission="change")
    def deploy(self, request: HttpRequest, object_id: str) -> JsonResponse:
        workflow = self._workflow(object_id)
        deployed = workflow_deploy(
            workflow=workflow, revision=_revision(_body(request)), user=request.user
        )
        return _json({"version": deployed.version, "deployed_at": _iso(deployed.deployed_at)})

    @_endpoint(method="POST", permission="change")
    def revert(self, request: HttpRequest, object_id: str) -> JsonResponse:
        workflow = self._workflow(object_id)
        saved = workflow_draft_revert(
            workflow=workflow, revision=_revision(_body(request)), user=request.user
        )
        return _json(
            {
                "graph": workflow.draft,
                "revision": saved.revision,
                "problems": _problems(saved.problems),
            }
        )

    @_endpoint(method="POST", permission="change")
    def rules(self, request: HttpRequest, object_id: str) -> JsonResponse:
        workflow = self._workflow(object_id)
        body = _body(request)
        rule = workflow_rule_add(
            workflow=workflow,
            event_type=body.get("event_type"),
            source_id=body.get("source_id"),
            name=body.get("name"),
        )
        return _json({"rule": rule_document(rule)}, status=201)


def url(name: str, *args: Any) -> str:
    return reverse(f"admin:workflows_workflow_editor_{name}", args=args)


def _summary(properties: Any) -> str:
    text = json.dumps(properties, ensure_ascii=False, default=str, sort_keys=True)
    return text if len(text) <= SUMMARY_LENGTH else f"{text[: SUMMARY_LENGTH - 1]}…"
