"""Profile imports started from the admin (ImportJob): upload, column mapping, start, the run in
a worker, cancel, and stalled jobs. The parts that do not depend on the kind of import (the
stored upload, `job_run`, cancel, delete, the stalled sweep) take the job model, so that event
imports (apps.events.import_jobs, EventImportJob) share them.

The run is `profiles_import` over the stored file with the job's options. Progress (rows read,
counts, the time of the last progress) is written to the job row after each batch, at most
every PROGRESS_SECONDS; the same call reads the cancel flag, and a cancelled job stops before
its next batch (the batches committed before stay, the batch in flight commits whole).

A job runs at most once: a second run of a half-done import would create new profiles again
for its rows without an id. So its message is acknowledged on receipt (tasks.py) and a job
whose worker died is not restarted: its progress stops, and `import_jobs_fail_stalled` marks it
failed after STALLED_AFTER, with how far it got.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path as FilePath

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from apps.profiles.models import ImportJob, ImportJobBase
from apps.profiles.services.imports.columns import (
    PreviewRow,
    column_samples,
    file_columns,
    importer_mapping,
    mapping_errors,
    preview_rows,
    suggested_mapping,
    suggested_match,
)
from apps.profiles.services.imports.errors import ErrorFile
from apps.profiles.services.imports.fields import RowError
from apps.profiles.services.imports.matching import match_option
from apps.profiles.services.imports.readers import ImportFileError, InputFile
from apps.profiles.services.imports.service import ImportOptions, ImportSummary, profiles_import

log = logging.getLogger(__name__)

Status = ImportJob.Status
ENCODINGS = (
    ("utf-8", "UTF-8 (most files)"),
    ("cp1252", "Windows (Excel, Western)"),
    ("latin-1", "Latin-1 (ISO-8859-1)"),
)
PROGRESS_SECONDS = 0.5
# Progress is written after every batch (about a second of work); this long without any is a
# job whose worker stopped.
STALLED_AFTER = timedelta(minutes=10)
# Shown on the job page as "no progress for ..." before the job counts as stalled.
QUIET_AFTER = timedelta(seconds=60)
JobModel = type[ImportJobBase]


class ImportJobError(Exception):
    """A request about a job that cannot be done now; the message says why."""


class ImportCancelled(Exception):
    def __init__(self, actor: str) -> None:
        super().__init__(actor)
        self.actor = actor


class StoredInputFile(InputFile):
    """An uploaded file on the server, named in messages by the name it was uploaded with."""

    def __init__(self, path: str, *, encoding: str, display_name: str) -> None:
        super().__init__(path, encoding=encoding)
        self.display_name = display_name

    @property
    def name(self) -> str:
        return self.display_name


def job_input(job: ImportJobBase) -> StoredInputFile:
    """The job's file, opened (the caller closes it). ImportFileError when it is gone."""
    try:
        path = job.file.path
    except ValueError:
        raise ImportFileError(f"The import {job.pk} has no file.") from None
    if not FilePath(path).exists():
        raise ImportFileError(
            f"The uploaded file {job.file_name} is no longer on the server ({job.file.name} is "
            "missing under the media directory, which web and workers must share); upload it "
            "again."
        )
    return StoredInputFile(path, encoding=job.encoding, display_name=job.file_name)


def admin_wording(message: str) -> str:
    """The reader's messages name the command's options; the admin has a select instead."""
    return message.replace(
        "convert the file to UTF-8 or pass --encoding, e.g. --encoding latin-1",
        "choose the file's encoding when uploading (e.g. Windows or Latin-1), or save it as UTF-8",
    )


# -- upload and mapping -------------------------------------------------------------------------


def upload_store(
    *,
    uploaded: UploadedFile,
    encoding: str,
    create: Callable[[str, str, StoredInputFile], ImportJobBase],
    binary_hint: str = "save it as CSV (comma-separated, with a header line) and upload that",
) -> ImportJobBase:
    """Store an uploaded file and create its job with `create(stored name, original name,
    the file opened)`, which reads what it needs and raises ImportFileError for a file that
    cannot be imported: nothing is kept then."""
    original = FilePath(uploaded.name or "upload").name
    if not uploaded.size:
        raise ImportFileError(f"{original} is empty: there is nothing to import.")
    stored = default_storage.save(f"imports/{timezone.now():%Y/%m}/{original}", uploaded)
    try:
        input_file = StoredInputFile(
            default_storage.path(stored), encoding=encoding, display_name=original
        )
        try:
            if b"\x00" in input_file.head_text().encode("latin-1")[:4096]:
                raise ImportFileError(
                    f"{original} is not a text file (it holds binary data, e.g. a spreadsheet): "
                    f"{binary_hint}."
                )
            return create(stored, original, input_file)
        finally:
            input_file.close()
    except ImportFileError as error:
        default_storage.delete(stored)
        raise ImportFileError(admin_wording(str(error))) from None
    except BaseException:
        default_storage.delete(stored)
        raise


def import_job_upload(*, uploaded: UploadedFile, encoding: str, actor: str) -> ImportJob:
    """Store an uploaded file as a new draft import, its columns read and a mapping suggested.
    Raises ImportFileError (with what to do) for a file that cannot be imported; nothing is
    stored then."""

    def create(stored: str, original: str, input_file: StoredInputFile) -> ImportJob:
        fmt = input_file.format(None)
        columns = file_columns(input_file, fmt)
        mapping = suggested_mapping(columns)
        return ImportJob.objects.create(
            file=stored,
            file_name=original,
            file_size=uploaded.size,
            format=fmt,
            encoding=encoding,
            columns=columns,
            mapping=mapping,
            match=suggested_match(mapping),
            uploaded_at=timezone.now(),
            uploaded_by=actor,
        )

    return upload_store(uploaded=uploaded, encoding=encoding, create=create)  # type: ignore[return-value]


def import_job_preview(*, job: ImportJob, mapping: dict[str, str], empty: str) -> list[PreviewRow]:
    """The first rows of the job's file as they would be stored with `mapping`."""
    input_file = job_input(job)
    try:
        return preview_rows(
            input_file,
            fmt=job.format,
            mapping=mapping,
            clear_empty=empty == ImportJob.Empty.CLEAR,
        )
    finally:
        input_file.close()


def import_job_samples(*, job: ImportJob) -> dict[str, list[str]]:
    """{column: a few of its values} from the first rows of the job's file."""
    input_file = job_input(job)
    try:
        return column_samples(input_file, job.format)
    finally:
        input_file.close()


def import_job_configure(
    *, job_id: str, mapping: dict[str, str], match: str, empty: str
) -> ImportJob:
    """Keep the column mapping and options of a draft import. Raises ImportJobError."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status != Status.DRAFT:
            raise ImportJobError(
                f"This import is {job.get_status_display().lower()}: its "
                "mapping can no longer change."
            )
        errors = mapping_errors(mapping)
        if set(mapping) != set(job.columns):
            errors.append("The mapping must name each column of the file once.")
        try:
            match_option([match])
        except RowError as error:
            errors.append(str(error))
        if match != "id" and match not in mapping.values():
            errors.append(f"Rows are matched by {match}, but no column goes to that field.")
        if errors:
            raise ImportJobError(" ".join(errors))
        job.mapping = {column: mapping[column] for column in job.columns}
        job.match = match
        job.empty = empty
        job.save(update_fields=["mapping", "match", "empty"])
    return job


def import_job_start(*, job_id: str, actor: str) -> ImportJob:
    """Mark a draft import as waiting for a worker (the caller enqueues its run once this
    commits). Raises ImportJobError when it is not a draft any more."""
    job = ImportJob.objects.get(pk=job_id)
    errors = mapping_errors(job.mapping)
    if errors:
        raise ImportJobError(" ".join(errors))
    started = ImportJob.objects.filter(pk=job_id, status=Status.DRAFT).update(
        status=Status.PENDING, started_by=actor
    )
    if not started:
        raise ImportJobError("This import was started already.")
    return ImportJob.objects.get(pk=job_id)


def import_job_cancel(
    *, job_id: str, actor: str, now: datetime | None = None, model: JobModel = ImportJob
) -> ImportJobBase:
    """Cancel an import: at once when it has not started (or its worker stopped), else after
    the batch it is writing. Raises ImportJobError when it is over."""
    now = now or timezone.now()
    with transaction.atomic():
        job = model.objects.select_for_update().get(pk=job_id)
        if job.status in (Status.DRAFT, Status.PENDING):
            job.status = Status.CANCELLED
            job.cancel_requested_by = actor
            job.finished_at = now
            job.error = f"Cancelled by {actor} before it started; nothing was imported."
            job.save(update_fields=["status", "cancel_requested_by", "finished_at", "error"])
        elif job.status == Status.RUNNING:
            if job_stalled(job, now=now):
                job.status = Status.CANCELLED
                job.finished_at = now
                job.error = (
                    f"Cancelled by {actor} after {job.rows:,} rows; its worker had stopped "
                    f"(no progress since {_when(job.progress_at)}). The rows counted were "
                    "imported."
                )
                job.cancel_requested_by = actor
                job.save(update_fields=["status", "cancel_requested_by", "finished_at", "error"])
            elif not job.cancel_requested_by:
                job.cancel_requested_by = actor
                job.save(update_fields=["cancel_requested_by"])
        else:
            raise ImportJobError(f"This import is {job.get_status_display().lower()} already.")
    return job


def import_jobs_delete(*, job_ids: list[str], model: JobModel = ImportJob) -> int:
    """Delete imports and their files (the upload, the error file). A running import stops at
    its next batch, when its progress finds no row."""
    deleted = 0
    for job in model.objects.filter(pk__in=job_ids):
        for stored in (job.file, job.error_file):
            if stored:
                stored.storage.delete(stored.name)
        deleted += model.objects.filter(pk=job.pk).delete()[0]
    return deleted


def job_stalled(job: ImportJobBase, *, now: datetime | None = None) -> bool:
    moment = job.progress_at or job.started_at
    return (
        job.status == Status.RUNNING
        and moment is not None
        and (now or timezone.now()) - moment > STALLED_AFTER
    )


def _when(moment: datetime | None) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}" if moment else "its start"


def import_jobs_fail_stalled(
    *, now: datetime | None = None, model: JobModel = ImportJob
) -> list[str]:
    """Mark failed the running imports that wrote no progress for STALLED_AFTER (their worker
    died); the ids."""
    now = now or timezone.now()
    failed = []
    cutoff = now - STALLED_AFTER
    for job in model.objects.filter(status=Status.RUNNING, progress_at__lt=cutoff):
        updated = model.objects.filter(
            pk=job.pk, status=Status.RUNNING, progress_at__lt=cutoff
        ).update(
            status=Status.FAILED,
            finished_at=now,
            error=(
                f"The worker running this import stopped after {job.rows:,} rows (no progress "
                f"since {_when(job.progress_at)}). The rows counted were imported; to import "
                f"the rest, upload the file again ({model.AGAIN})."
            ),
        )
        if updated:
            failed.append(job.pk)
    return failed


def import_job_fail(*, job_id: str, error: str, model: JobModel = ImportJob) -> None:
    """Mark an import failed that never ran (e.g. its message could not be sent)."""
    model.objects.filter(pk=job_id, status=Status.PENDING).update(
        status=Status.FAILED, error=error, finished_at=timezone.now()
    )


# -- the run ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _JobProgress:
    model: JobModel
    job_id: str
    every: float
    last: float = 0.0

    def __call__(self, summary) -> None:
        now = time.monotonic()
        if self.last and now - self.last < self.every:
            return
        self.last = now
        jobs = self.model.objects.filter(pk=self.job_id)
        jobs.update(progress_at=timezone.now(), **_counts(self.model, summary))
        actor = jobs.values_list("cancel_requested_by", flat=True).first()
        if actor is None:
            raise ImportCancelled("the deletion of the import")
        if actor:
            raise ImportCancelled(actor)


def _counts(model: JobModel, summary) -> dict:
    return {name: getattr(summary, name) for name in ("rows", "skipped", "seconds", *model.COUNTS)}


# run(job, input_file, errors, progress): the importer's call (it raises to stop).
Runner = Callable[[ImportJobBase, InputFile, Callable, Callable], object]


def job_run(
    *,
    model: JobModel,
    job_id: str,
    summary,
    run: Runner,
    progress_seconds: float | None = None,
) -> ImportJobBase | None:
    """Run a pending import of `model` to its end (done, failed or cancelled), `run` calling
    the importer with `summary`; None when the job is not pending (cancelled before it
    started, or run already)."""
    claimed = model.objects.filter(pk=job_id, status=Status.PENDING).update(
        status=Status.RUNNING, started_at=timezone.now(), progress_at=timezone.now()
    )
    if not claimed:
        return None
    job = model.objects.get(pk=job_id)
    opened: list[ErrorFile] = []
    status, error = Status.DONE, ""
    try:
        job.rows_total = _rows_in(job)
        model.objects.filter(pk=job_id).update(rows_total=job.rows_total)
        input_file = job_input(job)
        try:
            run(
                job,
                input_file,
                lambda header, fmt: _error_file(job, header, fmt, opened),
                _JobProgress(
                    model,
                    job_id,
                    PROGRESS_SECONDS if progress_seconds is None else progress_seconds,
                ),
            )
        finally:
            input_file.close()
    except ImportCancelled as cancelled:
        status = Status.CANCELLED
        error = (
            f"Cancelled by {cancelled.actor} after {summary.rows:,} rows; the rows imported "
            "before that stay."
        )
    except (ImportFileError, RowError) as failure:
        status, error = Status.FAILED, admin_wording(str(failure))
        if summary.rows:
            error += " The counts show the rows written before it stopped (in whole batches)."
    except Exception as failure:
        log.exception("Import %s failed", job_id)
        status = Status.FAILED
        error = (
            f"The import stopped on an unexpected error after {summary.rows:,} rows "
            f"({type(failure).__name__}: {failure}). The rows counted were imported."
        )
    counts = _counts(model, summary)
    if status == Status.DONE:
        counts["rows_total"] = summary.rows
    error_file = opened[0] if opened else None
    now = timezone.now()
    model.objects.filter(pk=job_id).update(
        status=status,
        error=error,
        finished_at=now,
        progress_at=now,
        error_file=_media_name(error_file.path) if error_file and error_file.count else "",
        **counts,
    )
    return model.objects.get(pk=job_id)


def import_job_run(
    *, job_id: str, progress_seconds: float | None = None, batch_size: int | None = None
) -> ImportJob | None:
    """Run a pending profile import (job_run over profiles_import)."""

    def run(job: ImportJob, input_file, errors, progress) -> None:
        options = ImportOptions(
            match=match_option([job.match]),
            mapping=importer_mapping(job.mapping, fmt=job.format),
            clear_empty=job.empty == ImportJob.Empty.CLEAR,
            format=job.format,
        )
        if batch_size is not None:
            options.batch_size = batch_size
        profiles_import(
            input_file=input_file,
            options=options,
            errors=errors,
            summary=summary,
            progress=progress,
        )

    summary = ImportSummary()
    return job_run(  # type: ignore[return-value]
        model=ImportJob,
        job_id=job_id,
        summary=summary,
        run=run,
        progress_seconds=progress_seconds,
    )


def _error_file(job: ImportJobBase, header, fmt: str, opened: list[ErrorFile]) -> ErrorFile:
    extension = "csv" if fmt == "csv" else "jsonl"
    path = FilePath(settings.MEDIA_ROOT) / "imports" / "errors" / f"{job.pk}.errors.{extension}"
    path.parent.mkdir(parents=True, exist_ok=True)
    opened.append(ErrorFile(str(path), header=header))
    return opened[0]


def _media_name(path: str) -> str:
    return str(FilePath(path).relative_to(FilePath(settings.MEDIA_ROOT)))


def _rows_in(job: ImportJobBase) -> int | None:
    """The rows of a CSV or JSON Lines file, counted as non-blank lines before the import (a
    CSV value spanning lines counts more than once); None for a JSON array."""
    if job.format not in ("csv", "jsonl"):
        return None
    input_file = job_input(job)
    lines = 0
    try:
        stream = input_file.stream
        pending = b""
        while chunk := stream.read(1 << 20):
            data = pending + chunk
            parts = data.split(b"\n")
            pending = parts.pop()
            lines += sum(1 for part in parts if part.strip())
        if pending.strip():
            lines += 1
    except (OSError, EOFError, zlib.error):
        return None
    finally:
        input_file.close()
    return max(0, lines - 1) if job.format == "csv" else lines
