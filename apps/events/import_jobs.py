"""Event imports started from the admin (EventImportJob): the upload of a JSON Lines file or a
JSON array of events with its options, and the run in a worker (`events_import`, as
`manage.py import_events` runs it without --process: stored as history, no workflows), with
the progress, cancel, failure and stalled-job handling of profile imports
(apps.profiles.services.imports.jobs).

Re-running an event import stores nothing twice (events keep their ids), but a job still runs
once: its page tells what that run did.
"""

from __future__ import annotations

import itertools

from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from apps.events.imports import (
    EventImportOptions,
    EventImportSummary,
    event_match_option,
    events_import,
)
from apps.events.models import EventImportJob
from apps.profiles.services.imports.fields import RowError
from apps.profiles.services.imports.jobs import (
    ImportJobError,
    StoredInputFile,
    job_run,
    upload_store,
)
from apps.profiles.services.imports.readers import ImportFileError, open_records
from apps.sources.models import EventSource

Status = EventImportJob.Status
# Rows read at upload to check the file is JSON events.
CHECKED_ROWS = 10


def event_import_job_upload(
    *,
    uploaded: UploadedFile,
    encoding: str,
    source_id: str,
    match: list[str],
    actor: str,
) -> EventImportJob:
    """Store an uploaded file of events as a new draft import with its options. Raises
    ImportFileError (what to do) for a file or options that cannot be imported; nothing is
    stored then."""
    try:
        event_match_option(match or None)
    except RowError as error:
        raise ImportFileError(str(error).replace("--match ", "Match ")) from None
    if source_id and not EventSource.objects.filter(pk=source_id).exists():
        raise ImportFileError(f"No event source has the id {source_id!r}.")

    def create(stored: str, original: str, input_file: StoredInputFile) -> EventImportJob:
        fmt = input_file.format(None)
        if fmt == "csv":
            raise ImportFileError(
                f"{original} is not JSON: events are imported from JSON Lines (one event "
                "object per line, .jsonl) or a JSON array of event objects (.json), e.g. "
                "Tracardi's event export."
            )
        _, records = open_records(input_file, fmt)
        checked = list(itertools.islice(records, CHECKED_ROWS))
        if checked and all(record.error is not None for record in checked):
            raise ImportFileError(
                f"None of the first rows of {original} is an event object: "
                f"line {checked[0].line}: {checked[0].error}."
            )
        return EventImportJob.objects.create(
            file=stored,
            file_name=original,
            file_size=uploaded.size,
            format=fmt,
            encoding=encoding,
            source_id=source_id,
            match=match,
            uploaded_at=timezone.now(),
            uploaded_by=actor,
        )

    return upload_store(  # type: ignore[return-value]
        uploaded=uploaded,
        encoding=encoding,
        create=create,
        binary_hint="export the events as JSON Lines (one event per line) and upload that",
    )


def event_import_job_start(*, job_id: str, actor: str) -> EventImportJob:
    """Mark a draft event import as waiting for a worker (the caller enqueues its run once
    this commits). Raises ImportJobError when it was started already."""
    started = EventImportJob.objects.filter(pk=job_id, status=Status.DRAFT).update(
        status=Status.PENDING, started_by=actor
    )
    if not started:
        raise ImportJobError("This import was started already.")
    return EventImportJob.objects.get(pk=job_id)


def event_import_job_run(
    *, job_id: str, progress_seconds: float | None = None, batch_size: int | None = None
) -> EventImportJob | None:
    """Run a pending event import (apps.profiles.services.imports.jobs.job_run)."""

    def run(job: EventImportJob, input_file, errors, progress) -> None:
        options = EventImportOptions(
            match=event_match_option(job.match or None),
            source_id=job.source_id or None,
            format=job.format,
        )
        if batch_size is not None:
            options.batch_size = batch_size
        events_import(
            input_file=input_file,
            options=options,
            errors=errors,
            summary=summary,
            progress=progress,
        )

    summary = EventImportSummary()
    return job_run(  # type: ignore[return-value]
        model=EventImportJob,
        job_id=job_id,
        summary=summary,
        run=run,
        progress_seconds=progress_seconds,
    )
