"""Tracardi flows in the admin: download a workflow's draft as a Tracardi flow, upload one into
the editor's draft, or create a new workflow from one (the "Import from Tracardi" page).
The editor's two endpoints answer JSON errors `{"detail": ...}` like the other editor endpoints
(EDITOR_CONTRACT.md, "Tracardi flows").

The views take the WorkflowAdmin as their first argument; `tracardi_urls(model_admin)` gives
their URL patterns for WorkflowAdmin.get_urls.
"""

from __future__ import annotations

import json
from functools import partial

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import slugify

from apps.core.admin_helpers import admin_view_requiring
from apps.workflows.models import Workflow
from apps.workflows.services.drafts import DraftConflict, SuperuserOnly, workflow_draft_save
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
    return [
        path(
            "import/",
            admin_view_requiring(model_admin, partial(tracardi_import_view, model_admin), "add"),
            name="workflows_workflow_tracardi_import",
        ),
        path(
            "<str:object_id>/editor/export/",
            admin_view_requiring(model_admin, partial(tracardi_export_view, model_admin), "view"),
            name="workflows_workflow_tracardi_export",
        ),
        path(
            "<str:object_id>/editor/import/",
            admin_view_requiring(
                model_admin, partial(tracardi_draft_import_view, model_admin), "change"
            ),
            name="workflows_workflow_tracardi_draft_import",
        ),
    ]


# -- download ----------------------------------------------------------------------------------


def tracardi_export_view(model_admin, request: HttpRequest, object_id: str) -> HttpResponse:
    """The draft as a Tracardi flow file (what the editor shows, deployed or not)."""
    if request.method != "GET":
        return _detail(405, "Use GET to download the flow.")
    if not model_admin.has_view_permission(request):
        return _detail(403, "You may not view workflows: ask for the permission to.")
    workflow = Workflow.objects.filter(pk=object_id).first()
    if workflow is None:
        return _detail(404, f"There is no workflow with id {object_id!r}.")
    exported = tracardi_flow_export(
        workflow_id=workflow.pk,
        name=workflow.name,
        description=workflow.description,
        graph=workflow.draft,
    )
    response = HttpResponse(
        json.dumps(exported, indent=2, ensure_ascii=False), content_type="application/json"
    )
    filename = f"{slugify(workflow.name) or 'workflow'}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _detail(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"detail": message, **extra}, status=status)


# -- upload into the editor's draft --------------------------------------------------------------


def tracardi_draft_import_view(model_admin, request: HttpRequest, object_id: str) -> HttpResponse:
    """Replace the draft with an uploaded Tracardi flow, if the draft is still at `revision`."""
    if request.method != "POST":
        return _detail(405, "Use POST to upload a flow.")
    if not model_admin.has_change_permission(request):
        return _detail(403, "You may not change workflows: ask for the permission to.")
    workflow = Workflow.objects.filter(pk=object_id).first()
    if workflow is None:
        return _detail(404, f"There is no workflow with id {object_id!r}.")
    try:
        data, revision = _uploaded_flow(request)
        flow = tracardi_flow_import(data)
    except TracardiFlowError as exc:
        return _detail(400, str(exc))
    try:
        saved = workflow_draft_save(
            workflow=workflow, graph=flow.graph, revision=revision, user=request.user
        )
    except DraftConflict as exc:
        return _detail(409, str(exc), revision=exc.revision)
    except SuperuserOnly as exc:
        return _detail(403, str(exc))
    return JsonResponse(
        {
            "graph": workflow.draft,
            "revision": saved.revision,
            "problems": [problem.as_dict() for problem in saved.problems],
            "notes": flow.notes,
        }
    )


def _uploaded_flow(request: HttpRequest) -> tuple[dict, int]:
    """(the flow, the draft revision it replaces) from a multipart `file` (and `revision`) or
    a JSON body {"flow": {...}, "revision": n}."""
    try:
        if request.content_type == "multipart/form-data":
            upload = request.FILES.get("file")
            if upload is None:
                raise TracardiFlowError("Send the flow file in the field 'file'")
            return _read_upload(upload), _revision(request.POST.get("revision"))
        raw = request.body
    except RequestDataTooBig as exc:
        raise TracardiFlowError("The upload is too large for this server") from exc
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise TracardiFlowError(f"The body is not JSON: {exc}") from exc
    if not isinstance(body, dict) or not isinstance(body.get("flow"), dict):
        raise TracardiFlowError('Send {"flow": <the Tracardi flow>, "revision": <draft revision>}')
    return body["flow"], _revision(body.get("revision"))


def _revision(value) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TracardiFlowError('"revision" must be the revision number the editor loaded.')
    return value


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
        try:
            workflow = workflow_import_tracardi(flow=flow, user=request.user)
        except SuperuserOnly as exc:
            form.add_error("file", str(exc))
        else:
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
        "Its draft is not deployed yet: check it in the editor, then deploy it.",
    )
    if flow.placeholders:
        names = {n["id"]: n["data"]["metadata"].get("name") or n["id"] for n in flow.graph["nodes"]}
        listed = ", ".join(f"“{names[node_id]}” (id {node_id})" for node_id in flow.placeholders)
        messages.warning(
            request,
            f"Not available here, kept as placeholders: {listed}. Replace them before "
            "deploying; the draft cannot be deployed until then.",
        )
    for note in flow.notes:
        messages.warning(request, note)
