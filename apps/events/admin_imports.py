"""Event imports from the admin (issue 14): "Event imports" lists them; adding one uploads a
JSON Lines file or JSON array of events (Tracardi's export shape) with its options and starts
it at once; its page (shared with profile imports) follows the job. Imported by
apps.events.admin."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from apps.events.import_jobs import event_import_job_upload
from apps.events.models import EventImportJob
from apps.events.tasks import import_job_start
from apps.profiles.admin.imports import (
    ImportJobAdminMixin,
    admin_context,
    job_or_404,
    job_page,
    job_urls,
)
from apps.profiles.services.imports.columns import field_label
from apps.profiles.services.imports.jobs import ENCODINGS, ImportJobError
from apps.profiles.services.imports.readers import ImportFileError
from apps.sources.models import EventSource

# Profile fields an event may be matched by (with the event path that holds the value).
MATCH_FIELDS = ("data.contact.email.main", "data.contact.phone.main", "data.identifier.id")


class EventUploadForm(forms.Form):
    file = forms.FileField(
        label="File",
        help_text="JSON Lines (one event object per line) or a JSON array of events, as "
        "Tracardi exports them; .gz files too. Events keep their ids and times: importing a "
        "file twice stores nothing twice.",
    )
    encoding = forms.ChoiceField(label="Encoding", choices=ENCODINGS, initial="utf-8")
    source = forms.ChoiceField(
        label="Event source",
        required=False,
        help_text="For events that name no source of their own.",
    )
    match_field = forms.ChoiceField(
        label="Find the profile by",
        required=False,
        help_text="By default an event goes to the profile whose id it names (import the "
        "profiles first; events of profiles not stored are skipped).",
    )
    match_path = forms.CharField(
        label="held by the event at",
        required=False,
        help_text="Where the event holds that value, e.g. properties.email.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "— the source each event names —")] + [
            (source.pk, source.name) for source in EventSource.objects.order_by("name")
        ]
        self.fields["match_field"].choices = [("", "The profile id the event names")] + [
            (path, field_label(path)) for path in MATCH_FIELDS
        ]

    def clean(self):
        data = super().clean()
        if data.get("match_field") and not data.get("match_path", "").strip():
            self.add_error("match_path", "Say where the event holds the value.")
        return data

    def match(self) -> list[str]:
        field = self.cleaned_data.get("match_field")
        return [f"{field}={self.cleaned_data['match_path'].strip()}"] if field else []


@admin.register(EventImportJob)
class EventImportJobAdmin(ImportJobAdminMixin, admin.ModelAdmin):
    add_label = "Import events from a file"

    def get_urls(self):
        return [*job_urls(self), *super().get_urls()]

    def add_view(self, request, form_url="", extra_context=None):
        return _upload_view(self, request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = job_or_404(self, request, object_id)
        source = EventSource.objects.filter(pk=job.source_id).first() if job.source_id else None
        matched = (
            " and ".join(
                f"{field_label(field)} (held by the event at {path})"
                for field, _, path in (pair.partition("=") for pair in job.match)
            )
            or "the profile id each event names"
        )
        details = [
            ("Event source", source.name if source else job.source_id or "each event's own"),
            ("Profile found by", matched),
            ("Workflows", "not run: events are stored as history"),
        ]
        return job_page(self, request, job, details=details)


def _upload_view(model_admin, request: HttpRequest) -> HttpResponse:
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form = EventUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            actor = request.user.get_username()
            try:
                job = event_import_job_upload(
                    uploaded=form.cleaned_data["file"],
                    encoding=form.cleaned_data["encoding"],
                    source_id=form.cleaned_data["source"],
                    match=form.match(),
                    actor=actor,
                )
                import_job_start(job_id=job.pk, actor=actor)
            except (ImportFileError, ImportJobError) as error:
                form.add_error("file", str(error))
            else:
                messages.success(request, f"The import of {job.file_name} has started.")
                return redirect("admin:events_eventimportjob_change", job.pk)
        status = 400
    context = admin_context(
        model_admin,
        request,
        "Import events: upload a file",
        form=form,
        intro="Upload historic events. They are stored with their own ids and times, attached "
        "to the profiles they name (or that hold the value you choose below), as history: no "
        "workflow runs for them. The import starts at once.",
        submit_label="Upload and import",
    )
    return TemplateResponse(request, "admin/profiles/importjob/upload.html", context, status=status)
