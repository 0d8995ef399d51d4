"""Profile imports for marketers (issue 14): "Imports" lists them; adding one is three steps.

1. Upload (the add page): a file and its encoding; the format and the columns are detected, a
   file that cannot be imported is refused with what to do, and nothing is kept.
2. Columns (`<id>/mapping/`): a profile field for each column (suggested from its name), how
   rows find their profile, what an empty cell does, and the first rows as they would be
   stored; "Refresh preview" keeps the choices and shows them applied.
3. Start: the job is queued for a worker, and its page (the change page) follows it: progress,
   counts, the error file, Cancel, and why it failed or was cancelled. The page polls
   `<id>/status.json`; everything it shows is in the job row, so it survives a reload.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.core.admin_helpers import admin_view_requiring
from apps.profiles.models import ImportJob, ImportJobBase
from apps.profiles.services.imports.columns import (
    IGNORE,
    field_choices,
    field_label,
    match_choices,
    trait_for,
)
from apps.profiles.services.imports.fields import SCHEMA, parse_path
from apps.profiles.services.imports.jobs import (
    ENCODINGS,
    QUIET_AFTER,
    ImportJobError,
    import_job_cancel,
    import_job_configure,
    import_job_preview,
    import_job_samples,
    import_job_upload,
    import_jobs_delete,
    job_stalled,
)
from apps.profiles.services.imports.readers import ImportFileError
from apps.profiles.tasks import import_job_start

Status = ImportJob.Status
ACTIVE = (Status.PENDING, Status.RUNNING)
# Fields a row may be matched by even before a column goes there (shown in the match select).
_MATCH_FIELDS = ("data.contact.email.main", "data.contact.phone.main", "data.identifier.id")


class UploadForm(forms.Form):
    file = forms.FileField(
        label="File",
        help_text="A CSV file with a header line naming the columns (e.g. exported from a CRM "
        "or a spreadsheet), or JSON Lines / a JSON array of objects; .gz files too.",
    )
    encoding = forms.ChoiceField(
        label="Encoding",
        choices=ENCODINGS,
        initial="utf-8",
        help_text="How the text is written. UTF-8 unless the file comes from an old Excel: "
        "if accented letters come out wrong in the preview, upload again with Windows.",
    )


class MappingForm(forms.Form):
    """One select per column of the file (`column_<n>`), then the match and empty options."""

    def __init__(self, *args, job: ImportJob, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.job = job
        schema_choices = field_choices()
        for index, column in enumerate(job.columns):
            current = job.mapping.get(column, IGNORE)
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=column,
                choices=_column_choices(column, current, schema_choices),
                initial=current,
                required=False,
            )
        possible = {column: job.mapping.get(column, IGNORE) for column in job.columns}
        possible.update({f"_{path}": path for path in _MATCH_FIELDS})
        for index, column in enumerate(job.columns):
            trait = trait_for(column)
            if trait:
                possible[f"_trait_{index}"] = trait
        self.fields["match"] = forms.ChoiceField(
            label="Find existing profiles by",
            choices=match_choices(possible),
            initial=job.match,
            help_text="A row updates the profile found by this field; a row whose value no "
            "profile has becomes a new profile. Profiles that share the value are merged.",
        )
        self.fields["empty"] = forms.ChoiceField(
            label="An empty cell",
            choices=ImportJob.Empty.choices,
            initial=job.empty,
            widget=forms.RadioSelect,
            help_text="Keep: an empty cell leaves what the profile has. Clear: it removes it.",
        )

    def column_fields(self) -> list[tuple[str, forms.BoundField]]:
        return [(column, self[f"column_{n}"]) for n, column in enumerate(self.job.columns)]

    def mapping(self) -> dict[str, str]:
        data = self.cleaned_data if self.is_bound else {}
        return {
            column: data.get(f"column_{n}", self.job.mapping.get(column, IGNORE)) or IGNORE
            for n, column in enumerate(self.job.columns)
        }


def _column_choices(column: str, current: str, schema_choices) -> list:
    choices: list = [(IGNORE, "— Ignore this column —")]
    extra = []
    trait = trait_for(column)
    if trait:
        extra.append((trait, f"New trait “{trait.removeprefix('traits.')}”"))
    if current and current != trait and parse_path(current) not in SCHEMA and current != "id":
        extra.append((current, f"{field_label(current)} ({current})"))
    if extra:
        choices.append(("Traits and other fields", extra))
    choices.extend(schema_choices)
    return choices


class ImportJobAdminMixin:
    """The list of an import model (any ImportJobBase) and its job page; the ModelAdmin adds
    the upload (add_view) and, for a draft, what comes before the start."""

    list_display = ("file_link", "status_shown", "progress_shown", "counts", "started", "by")
    list_filter = ("status",)
    search_fields = ("file_name",)
    search_help_text = "The name of the uploaded file."
    ordering = ("-uploaded_at",)
    list_per_page = 50
    change_list_template = "admin/profiles/importjob/change_list.html"

    @admin.display(description="file", ordering="file_name")
    def file_link(self, job: ImportJobBase) -> str:
        url = reverse(f"admin:{_prefix(type(job))}_change", args=[job.pk])
        return format_html('<a href="{}">{}</a>', url, job.file_name)

    @admin.display(description="status", ordering="status")
    def status_shown(self, job: ImportJobBase) -> str:
        return format_html(
            '<span class="cdp-import-status cdp-import-{}">{}</span>', job.status, _status(job)
        )

    @admin.display(description="rows")
    def progress_shown(self, job: ImportJobBase) -> str:
        if job.status in (Status.DRAFT, Status.PENDING):
            return "-"
        if job.status == Status.RUNNING and job.rows_total:
            return f"{job.rows:,} of {job.rows_total:,}"
        return f"{job.rows:,}"

    @admin.display(description="result")
    def counts(self, job: ImportJobBase) -> str:
        if job.status in (Status.DRAFT, Status.PENDING):
            return "-"
        counts = [(getattr(job, name), name.replace("_", " ")) for name in job.COUNTS]
        counts.append((job.skipped, "skipped"))
        return ", ".join(f"{count:,} {name}" for count, name in counts if count) or "nothing"

    @admin.display(description="started", ordering="started_at")
    def started(self, job: ImportJobBase):
        return job.started_at or "-"

    @admin.display(description="by", ordering="started_by")
    def by(self, job: ImportJobBase) -> str:
        return job.started_by or job.uploaded_by

    def changelist_view(self, request, extra_context=None):
        context = {
            "title": self.model._meta.verbose_name_plural.capitalize(),
            "add_label": self.add_label,
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def delete_model(self, request, obj: ImportJobBase) -> None:
        import_jobs_delete(job_ids=[obj.pk], model=self.model)

    def delete_queryset(self, request, queryset) -> None:
        import_jobs_delete(job_ids=list(queryset.values_list("pk", flat=True)), model=self.model)

    def has_change_permission(self, request, obj=None) -> bool:
        # The change page is the job's page; nothing is edited through a ModelForm.
        return self.has_view_permission(request, obj)


@admin.register(ImportJob)
class ImportJobAdmin(ImportJobAdminMixin, admin.ModelAdmin):
    add_label = "Import profiles from a file"

    def get_urls(self):
        return [
            path(
                "<str:object_id>/mapping/",
                admin_view_requiring(self, partial(_mapping_view, self), "add"),
                name="profiles_importjob_mapping",
            ),
            *job_urls(self),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return _upload_view(self, request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return _job_view(self, request, object_id)


def _status(job: ImportJobBase) -> str:
    if job_stalled(job):
        return "Stalled (no progress)"
    if job.status == Status.RUNNING and job.cancel_requested_by:
        return "Cancelling…"
    return job.get_status_display()


def admin_context(model_admin, request, title: str, **extra) -> dict:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "changelist_url": reverse(f"admin:{_prefix(model_admin.model)}_changelist"),
        **extra,
    }


# -- step 1: upload ------------------------------------------------------------------------------


def _upload_view(model_admin, request: HttpRequest) -> HttpResponse:
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                job = import_job_upload(
                    uploaded=form.cleaned_data["file"],
                    encoding=form.cleaned_data["encoding"],
                    actor=request.user.get_username(),
                )
            except ImportFileError as error:
                form.add_error("file", str(error))
            else:
                return redirect("admin:profiles_importjob_mapping", job.pk)
        status = 400
    context = admin_context(
        model_admin,
        request,
        "Import profiles: upload a file",
        form=form,
        step=1,
        steps=True,
        intro="Upload a file of people. Next you choose which profile field each column goes "
        "to and see the first rows as they will be stored; nothing is imported before you "
        "start it.",
        submit_label="Upload and continue",
    )
    return TemplateResponse(request, "admin/profiles/importjob/upload.html", context, status=status)


# -- step 2: columns and preview ----------------------------------------------------------------


def _mapping_view(model_admin, request: HttpRequest, object_id: str) -> HttpResponse:
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    job = get_object_or_404(ImportJob, pk=object_id)
    if job.status != Status.DRAFT:
        return redirect("admin:profiles_importjob_change", job.pk)
    form = MappingForm(request.POST or None, job=job)
    problems: list[str] = []
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_configure(
                job_id=job.pk,
                mapping=form.mapping(),
                match=form.cleaned_data["match"],
                empty=form.cleaned_data["empty"],
            )
            if "start" in request.POST:
                import_job_start(job_id=job.pk, actor=request.user.get_username())
                messages.success(request, f"The import of {job.file_name} has started.")
                return redirect("admin:profiles_importjob_change", job.pk)
        except ImportJobError as error:
            problems.append(str(error))
            status = 400
    elif request.method == "POST":
        status = 400
    mapping = form.mapping() if form.is_bound and form.is_valid() else job.mapping
    empty = form.cleaned_data["empty"] if form.is_bound and form.is_valid() else job.empty
    try:
        preview = import_job_preview(job=job, mapping=mapping, empty=empty)
        samples = import_job_samples(job=job)
    except ImportFileError as error:
        preview, samples, problems = [], {}, [*problems, str(error)]
    # In the file's column order (a JSON object column keeps no order of its keys).
    fields = [path for path in dict.fromkeys(mapping.get(c) for c in job.columns) if path]
    match = form.cleaned_data["match"] if form.is_bound and form.is_valid() else job.match
    warnings = []
    if match == "id" and "id" not in fields:
        warnings.append(
            "No column goes to Profile id and rows find their profile by id: every row "
            "becomes a new profile. To update people already stored, find them by their "
            "e-mail address (or another identifier column)."
        )
    context = admin_context(
        model_admin,
        request,
        f"Import profiles: columns of {job.file_name}",
        job=job,
        form=form,
        step=2,
        problems=problems,
        warnings=warnings,
        preview_fields=[(path, field_label(path)) for path in fields],
        preview_rows=[
            {
                "line": row.line,
                "error": _labelled(row.error, fields),
                "cells": [_cell(row.values.get(path)) for path in fields],
            }
            for row in preview
        ],
        columns=[
            (column, field, samples.get(column, [])) for column, field in form.column_fields()
        ],
    )
    return TemplateResponse(
        request, "admin/profiles/importjob/mapping.html", context, status=status
    )


def _labelled(error: str | None, fields: list[str]) -> str | None:
    """A row error as a person reads it: "E-mail address: expected ..." for the reader's
    "data.contact.email.main: expected ..." (the error file keeps the field path)."""
    if error is None:
        return None
    path, separator, reason = error.partition(": ")
    if separator and path in fields:
        return f"{field_label(path)}: {reason}"
    return error


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return str(value)


# -- step 3: the job page ----------------------------------------------------------------------


def _job_view(model_admin, request: HttpRequest, object_id: str) -> HttpResponse:
    job = job_or_404(model_admin, request, object_id)
    if job.status == Status.DRAFT and model_admin.has_add_permission(request):
        return redirect("admin:profiles_importjob_mapping", job.pk)
    details = [
        (
            "Rows find their profile by",
            "Profile id" if job.match == "id" else field_label(job.match),
        ),
        ("An empty cell", job.get_empty_display()),
    ]
    for column in job.columns:
        target = job.mapping.get(column, "")
        details.append(
            (
                f"Column “{column}”",
                format_html(
                    '{} <small class="cdp-quiet-text">{}</small>', field_label(target), target
                )
                if target
                else format_html("<em>ignored</em>"),
            )
        )
    return job_page(model_admin, request, job, details=details, steps=True)


def job_urls(model_admin) -> list:
    """The job page's endpoints (JSON state, cancel, error file) of an import ModelAdmin."""
    prefix = _prefix(model_admin.model)
    return [
        path(
            "<str:object_id>/status.json",
            admin_view_requiring(
                model_admin, partial(_status_view, model_admin), "view", answer_json=True
            ),
            name=f"{prefix}_status",
        ),
        path(
            "<str:object_id>/cancel/",
            admin_view_requiring(model_admin, partial(_cancel_view, model_admin), "change"),
            name=f"{prefix}_cancel",
        ),
        path(
            "<str:object_id>/errors/",
            admin_view_requiring(model_admin, partial(_errors_view, model_admin), "view"),
            name=f"{prefix}_errors",
        ),
    ]


def _prefix(model) -> str:
    return f"{model._meta.app_label}_{model._meta.model_name}"


COUNT_LABELS = {
    "created": "created",
    "updated": "updated",
    "unchanged": "unchanged",
    "merged": "merged",
    "stored": "stored",
    "already_stored": "already stored",
    "queued": "queued for workflows",
    "skipped": "skipped (bad rows)",
}


def job_page(
    model_admin, request: HttpRequest, job, *, details: list, steps: bool = False
) -> HttpResponse:
    """The page of an import job (any ImportJobBase): status, progress, counts, the error
    file, Cancel, and `details` [(label, value)] about what is imported."""
    prefix = _prefix(type(job))
    state = job_state(job)
    context = admin_context(
        model_admin,
        request,
        f"Import of {job.file_name}",
        job=job,
        state=state,
        steps=steps,
        counts=[
            (name, COUNT_LABELS[name], state["text"][name]) for name in (*job.COUNTS, "skipped")
        ],
        details=details,
        status_url=reverse(f"admin:{prefix}_status", args=[job.pk]),
        cancel_url=reverse(f"admin:{prefix}_cancel", args=[job.pk]),
        add_url=reverse(f"admin:{prefix}_add"),
        can_cancel=model_admin.has_add_permission(request) and job.status in ACTIVE,
    )
    return TemplateResponse(request, "admin/profiles/importjob/job.html", context)


def job_state(job: ImportJobBase, *, now=None) -> dict:
    """What the job page shows, as its JSON endpoint answers it."""
    now = now or timezone.now()
    rate = job.rows / job.seconds if job.seconds else 0.0
    percent = None
    if job.status == Status.DONE:
        percent = 100
    elif job.rows_total:
        percent = min(100, int(job.rows * 100 / job.rows_total))
    quiet = (
        job.status == Status.RUNNING
        and job.progress_at is not None
        and now - job.progress_at > QUIET_AFTER
    )
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": _status(job),
        "active": job.status in ACTIVE,
        "rows": job.rows,
        "rows_total": job.rows_total,
        "percent": percent,
        "rate": round(rate, 1),
        "seconds": round(job.seconds, 1),
        **{name: getattr(job, name) for name in job.COUNTS},
        "skipped": job.skipped,
        "error": job.error,
        "cancel_requested_by": job.cancel_requested_by,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "progress_at": job.progress_at.isoformat() if job.progress_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "quiet_seconds": int((now - job.progress_at).total_seconds()) if quiet else None,
        "stalled": job_stalled(job, now=now),
        # As the page shows them (the JSON's numbers and times are for programs).
        "text": {
            **{name: f"{getattr(job, name):,}" for name in ("rows", "skipped", *job.COUNTS)},
            "rows_total": f"{job.rows_total:,}" if job.rows_total is not None else "",
            "percent": f"{percent}%" if percent is not None else "",
            "rate": f"{rate:,.0f}",
            "seconds": f"{job.seconds:,.1f}",
            "progress_at": (
                f"{timezone.localtime(job.progress_at):%H:%M:%S}" if job.progress_at else ""
            ),
            "quiet_seconds": f"{int((now - job.progress_at).total_seconds())}" if quiet else "",
        },
        "error_file_url": (
            reverse(f"admin:{_prefix(type(job))}_errors", args=[job.pk]) if job.error_file else None
        ),
    }


def job_or_404(model_admin, request: HttpRequest, object_id: str):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    job = model_admin.model.objects.filter(pk=object_id).first()
    if job is None:
        raise Http404(f"There is no import with id {object_id!r}.")
    return job


def _status_view(model_admin, request: HttpRequest, object_id: str) -> HttpResponse:
    return JsonResponse(job_state(job_or_404(model_admin, request, object_id)))


def _cancel_view(model_admin, request: HttpRequest, object_id: str) -> HttpResponse:
    job = job_or_404(model_admin, request, object_id)
    page = f"admin:{_prefix(model_admin.model)}_change"
    if request.method != "POST":
        return redirect(page, job.pk)
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    try:
        job = import_job_cancel(
            job_id=job.pk, actor=request.user.get_username(), model=model_admin.model
        )
    except ImportJobError as error:
        messages.error(request, str(error))
    else:
        if job.status == Status.CANCELLED:
            messages.success(request, "The import is cancelled.")
        else:
            messages.info(request, "The import stops after the batch it is writing.")
    return redirect(page, job.pk)


def _errors_view(model_admin, request: HttpRequest, object_id: str) -> HttpResponse:
    job = job_or_404(model_admin, request, object_id)
    if not job.error_file:
        raise Http404("This import skipped no row: there is no error file.")
    try:
        handle = job.error_file.open("rb")
    except FileNotFoundError:
        raise Http404("The error file is no longer on the server.") from None
    extension = job.error_file.name.rsplit(".", 1)[-1]
    stem = job.file_name.rsplit(".", 1)[0] if "." in job.file_name else job.file_name
    return FileResponse(handle, as_attachment=True, filename=f"{stem}.errors.{extension}")
