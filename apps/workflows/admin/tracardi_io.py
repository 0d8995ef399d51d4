"""Tracardi flows in the admin: download a workflow as a Tracardi flow, upload one into the
editor's draft, or create a new workflow from one (the "Import from Tracardi" page).

The views take the WorkflowAdmin as their first argument; `tracardi_urls(model_admin)` gives
their URL patterns for WorkflowAdmin.get_urls.
"""

from __future__ import annotations

import json
from functools import partial

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import slugify

from apps.workflows.graph import graph_problems
from apps.workflows.models import Workflow
from apps.workflows.services.tracardi_io import workflow_import_tracardi
from apps.workflows.tracardi import (
    MAX_FLOW_BYTES,
    ImportedFlow,
    TracardiFlowError,
    tracardi_flow_export,
    tracardi_flow_import,
    tracardi_flow_read,
)


def tracardi_urls(model_admin) -> list:
    view = model_admin.admin_site.admin_view
    return [
        path(
            "import/",
            view(partial(tracardi_import_view, model_admin)),
            name="workflows_workflow_tracardi_import",
        ),
        path(
            "<path:object_id>/editor/export/",
            view(partial(tracardi_export_view, model_admin)),
            name="workflows_workflow_tracardi_export",
        ),
        path(
            "<path:object_id>/editor/import/",
            view(partial(tracardi_draft_import_view, model_admin)),
            name="workflows_workflow_tracardi_draft_import",
        ),
    ]


def _workflow_draft(workflow: Workflow) -> dict:
    # The draft is being added to Workflow; until then the saved graph is the one to export.
    return getattr(workflow, "draft", None) or workflow.graph


def workflow_draft_replace(*, workflow: Workflow, graph: dict, revision: int | None) -> bool:
    """Where an uploaded flow replaces the editor's draft: to be wired to the draft service
    (apps.workflows.services.drafts.workflow_draft_save) when it lands. Until then nothing is
    saved and the answer says so (`"saved": false`)."""
    return False


# -- download ----------------------------------------------------------------------------------


def tracardi_export_view(model_admin, request: HttpRequest, object_id: str) -> HttpResponse:
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    workflow = get_object_or_404(Workflow, pk=object_id)
    if not model_admin.has_view_permission(request, workflow):
        raise PermissionDenied
    exported = tracardi_flow_export(
        workflow_id=workflow.pk,
        name=workflow.name,
        description=workflow.description,
        graph=_workflow_draft(workflow),
    )
    response = HttpResponse(
        json.dumps(exported, indent=2, ensure_ascii=False), content_type="application/json"
    )
    filename = f"{slugify(workflow.name) or 'workflow'}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# -- upload into the editor's draft --------------------------------------------------------------


def tracardi_draft_import_view(model_admin, request: HttpRequest, object_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    workflow = get_object_or_404(Workflow, pk=object_id)
    if not model_admin.has_change_permission(request, workflow):
        raise PermissionDenied
    try:
        data, revision = _uploaded_flow(request)
        flow = tracardi_flow_import(data)
    except TracardiFlowError as exc:
        return JsonResponse({"detail": str(exc)}, status=400)
    saved = workflow_draft_replace(workflow=workflow, graph=flow.graph, revision=revision)
    return JsonResponse(
        {
            "graph": flow.graph,
            "notes": flow.notes,
            "problems": [str(problem) for problem in graph_problems(flow.graph)],
            "saved": saved,
        }
    )


def _uploaded_flow(request: HttpRequest) -> tuple[dict, int | None]:
    """(the flow, the draft revision it replaces) from a multipart `file` (and `revision`) or
    a JSON body {"flow": {...}, "revision": n}."""
    if request.content_type == "multipart/form-data":
        upload = request.FILES.get("file")
        if upload is None:
            raise TracardiFlowError("Send the flow file in the field 'file'")
        return _read_upload(upload), _revision(request.POST.get("revision"))
    if len(request.body) > MAX_FLOW_BYTES:
        raise TracardiFlowError(f"The flow is larger than {MAX_FLOW_BYTES // 1_000_000} MB")
    try:
        body = json.loads(request.body)
    except ValueError as exc:
        raise TracardiFlowError(f"The body is not JSON: {exc}") from exc
    if not isinstance(body, dict) or not isinstance(body.get("flow"), dict):
        raise TracardiFlowError('Send {"flow": <the Tracardi flow>, "revision": <draft revision>}')
    return body["flow"], _revision(body.get("revision"))


def _revision(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise TracardiFlowError(f"revision must be a number, not {value!r}") from exc


def _read_upload(upload) -> dict:
    if upload.size > MAX_FLOW_BYTES:
        raise TracardiFlowError(f"The file is larger than {MAX_FLOW_BYTES // 1_000_000} MB")
    return tracardi_flow_read(upload.read())


# -- the "Import from Tracardi" page ---------------------------------------------------------------


class TracardiImportForm(forms.Form):
    file = forms.FileField(
        label="Tracardi flow file",
        help_text=(
            "A workflow exported from Tracardi (0.8 or 0.9): its flow JSON, its stored flow "
            "record, or a graph of nodes and edges; plain, gzipped or base64 of gzip. Nodes of "
            "plugins this CDP does not have are kept as placeholders to replace."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            self.cleaned_data["flow"] = tracardi_flow_import(_read_upload(upload))
        except TracardiFlowError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return upload


def tracardi_import_view(model_admin, request: HttpRequest) -> HttpResponse:
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    if request.method == "POST":
        form = TracardiImportForm(request.POST, request.FILES)
    else:
        form = TracardiImportForm()
    if request.method == "POST" and form.is_valid():
        flow: ImportedFlow = form.cleaned_data["flow"]
        workflow = workflow_import_tracardi(flow=flow)
        _report(request, workflow, flow)
        return redirect(reverse("admin:workflows_workflow_change", args=[workflow.pk]))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Import a workflow from Tracardi",
        "form": form,
    }
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(request, "admin/workflows/workflow/import.html", context, status=status)


def _report(request: HttpRequest, workflow: Workflow, flow: ImportedFlow) -> None:
    nodes = len(flow.graph["nodes"])
    messages.success(
        request,
        f"Imported “{workflow.name}” from Tracardi ({nodes} node{'s' if nodes != 1 else ''}). "
        "It is disabled: check it, add a rule and enable it to deploy it.",
    )
    if flow.placeholders:
        names = {n["id"]: n["data"]["metadata"].get("name") or n["id"] for n in flow.graph["nodes"]}
        listed = ", ".join(f"“{names[node_id]}” (id {node_id})" for node_id in flow.placeholders)
        messages.warning(
            request,
            f"Not available here, kept as placeholders: {listed}. Replace them before "
            "deploying; the workflow cannot be saved until then.",
        )
    for note in flow.notes:
        messages.info(request, note)
