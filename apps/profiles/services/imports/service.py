"""`profiles_import`: read a file of people, check and type each row, and write the rows in
batches, each batch in its own transaction (see the package's docstring)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from apps.profiles.services.imports.errors import ErrorFile
from apps.profiles.services.imports.fields import (
    Path,
    RowError,
    field_kind,
    flatten,
    parse_path,
    typed_row,
)
from apps.profiles.services.imports.mapping import Mapping
from apps.profiles.services.imports.matching import Match
from apps.profiles.services.imports.readers import ImportFileError, InputFile, open_records
from apps.profiles.services.imports.writing import BatchOutcome, Row, batch_write

# Rows per transaction: enough that each statement's fixed cost is spread over many rows,
# few enough that an interrupted run redoes little and a batch holds its row locks briefly.
BATCH_SIZE = 1_000


@dataclass(slots=True)
class ImportOptions:
    match: Match = field(default_factory=Match)
    mapping: Mapping | None = None
    types: dict[Path, str] = field(default_factory=dict)
    clear_empty: bool = False
    dry_run: bool = False
    sync: bool = True
    format: str | None = None
    batch_size: int = BATCH_SIZE


@dataclass(slots=True)
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    skipped: int = 0
    seconds: float = 0.0
    dry_run: bool = False
    format: str = ""

    @property
    def imported(self) -> int:
        return self.rows - self.skipped


Progress = Callable[[ImportSummary], None]


def profiles_import(
    *,
    input_file: InputFile,
    options: ImportOptions,
    errors: Callable[[list[str] | None, str], ErrorFile],
    summary: ImportSummary | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import the file's rows into profiles; returns the counts. `errors(header, format)`
    opens the error file; `summary` (updated after each committed batch) tells an
    interrupted caller how far the import got. Raises ImportFileError for a file that cannot
    be imported (what earlier batches wrote stays: a re-run is idempotent)."""
    summary = summary if summary is not None else ImportSummary()
    started = time.monotonic()
    fmt = input_file.format(options.format)
    summary.format, summary.dry_run = fmt, options.dry_run
    header, records = open_records(input_file, fmt)
    if header is not None:
        _check_header(header, options, input_file.name)
    error_file = errors(header, fmt)
    try:
        if options.dry_run:
            # Everything in one transaction, rolled back: the counts are exactly those of a
            # real run (later rows see what earlier batches would have written).
            with transaction.atomic():
                _run(records, options, summary, error_file, progress, fmt=fmt, started=started)
                transaction.set_rollback(True)
        else:
            _run(records, options, summary, error_file, progress, fmt=fmt, started=started)
    finally:
        summary.seconds = time.monotonic() - started
        error_file.close()
    return summary


def _run(records, options, summary, error_file, progress, *, fmt: str, started: float) -> None:
    batch: list[Row] = []
    from_text = fmt == "csv"
    # Batches join a transaction the caller holds (a dry run, a test); otherwise they are
    # written by a thread of their own, so that reading and typing the next batch can overlap
    # the database's work on this one (the server waits on PostgreSQL about as long as it
    # computes). On the shared benchmark machine (load 4-5 on 2 cores) the gain was within
    # the run-to-run noise, so measure before relying on it.
    writer = _Writer(options, summary, error_file, threaded=not connection.in_atomic_block)
    column_paths = _ColumnPaths()
    kinds: dict = {}
    try:
        for record in records:
            summary.rows += 1
            if record.error is not None:
                summary.skipped += 1
                error_file.write(record.line, record.error, record.raw)
                continue
            try:
                if options.mapping is not None:
                    fields = options.mapping.render(record.values)
                elif from_text:
                    # CSV: the header's paths, parsed once.
                    fields = {column_paths[name]: value for name, value in record.values.items()}
                else:
                    fields = flatten(record.values, split_keys=False)
                typed = typed_row(
                    fields,
                    types=options.types,
                    clear_empty=options.clear_empty,
                    from_text=from_text,
                    kinds=kinds,
                )
            except RowError as error:
                summary.skipped += 1
                error_file.write(record.line, str(error), _raw(record))
                continue
            batch.append(Row(line=record.line, fields=typed, raw=_raw(record)))
            if len(batch) >= options.batch_size:
                writer.submit(batch)
                batch = []
                summary.seconds = time.monotonic() - started
                if progress is not None:
                    progress(summary)
        if batch:
            writer.submit(batch)
    finally:
        # An interrupted import still accounts for the batch in flight (it commits whole).
        writer.close()
    summary.seconds = time.monotonic() - started
    if progress is not None:
        progress(summary)


def _close_connection() -> None:
    connection.close()


class _ColumnPaths(dict):
    def __missing__(self, name: str):
        path = self[name] = parse_path(name)
        return path


def _raw(record):
    return record.raw if record.raw is not None else record.values


class _Writer:
    """Writes batches one after the other, each in its own transaction: in the caller's thread,
    or in one writer thread with at most one batch in flight. Batches never run concurrently,
    so a row always sees what the rows before it wrote."""

    def __init__(self, options: ImportOptions, summary, error_file, *, threaded: bool) -> None:
        self.options = options
        self.summary = summary
        self.error_file = error_file
        self.executor = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer")
            if threaded
            else None
        )
        self.pending: Future | None = None

    def submit(self, batch: list[Row]) -> None:
        self.wait()
        if self.executor is None:
            self._account(self._write(batch))
        else:
            self.pending = self.executor.submit(self._write, batch)

    def wait(self) -> None:
        if self.pending is not None:
            outcome = self.pending.result()
            self.pending = None
            self._account(outcome)

    def close(self) -> None:
        if self.executor is None:
            return
        try:
            self.wait()
        finally:
            # The thread's database connection is its own: closed here, by that thread.
            self.executor.submit(_close_connection).result()
            self.executor.shutdown(wait=True)

    def _write(self, batch: list[Row]) -> BatchOutcome:
        with transaction.atomic():
            return batch_write(
                batch, match=self.options.match, now=timezone.now(), sync=self.options.sync
            )

    def _account(self, outcome: BatchOutcome) -> None:
        summary = self.summary
        summary.created += len(outcome.created)
        summary.updated += len(outcome.updated)
        summary.unchanged += outcome.unchanged
        summary.merged += outcome.merged
        summary.skipped += len(outcome.errors)
        for row, reason in sorted(outcome.errors, key=lambda item: item[0].line):
            self.error_file.write(row.line, reason, row.raw)
        self.error_file.flush()


def _check_header(header: list[str], options: ImportOptions, name: str) -> None:
    """A CSV header must name profile fields, or the columns the mapping reads."""
    shown = ", ".join(header[:12]) + (", ..." if len(header) > 12 else "")
    if options.mapping is not None:
        missing = [column for column in options.mapping.columns() if column not in header]
        if missing:
            raise ImportFileError(
                f"The mapping reads {', '.join('row@' + c for c in missing)}, but the header "
                f"of {name} (line 1) has no such column (it has: {shown}). Is the header "
                "missing, or the mapping meant for another file?"
            )
        return
    unknown = []
    for column in header:
        try:
            field_kind(parse_path(column), options.types)
        except RowError:
            unknown.append(column)
    if unknown:
        looks_like_data = any("@" in column or column.strip("-.").isdigit() for column in header)
        hint = (
            " The first line looks like data: the file needs a header line naming the fields."
            if looks_like_data
            else " Rename them to profile fields (e.g. data.contact.email.main, traits.plan) "
            "or map them with --mapping FILE."
        )
        raise ImportFileError(
            f"The header of {name} (line 1) names columns that are not profile fields: "
            f"{', '.join(unknown[:12])}.{hint}"
        )
