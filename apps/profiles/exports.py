"""Streamed exports of documents (`manage.py export_profiles`, and `export_events` in the events
app, which sits above this one and shares it): JSON Lines of the Tracardi-shaped documents, or
CSV (or JSON Lines) of chosen columns, filtered by a condition in the logic notation, written
to a file (gzip when its name ends in .gz) or to stdout.

Documents come from a generator that reads pages (apps.core.rows.values_stream), so an export
holds one page in memory whatever its size. A file is written as `<name>.part` and renamed
when complete, so a failed export never leaves a file that looks whole.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

import orjson
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from apps import notation
from apps.core.durations import DurationError, duration_parse
from apps.core.progress import Progress
from apps.notation.dot import lookup

FORMATS = ("jsonl", "csv")
# Rows written per write() call: the sink sees large writes, the memory stays small.
WRITE_ROWS = 1000


class ExportError(ValueError):
    """Bad export options, worded for the operator."""


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    reference: notation.Reference


def export_format(*, output: str | None, chosen: str | None) -> str:
    """The chosen format, else the one the file name says (.csv, .csv.gz), else JSON Lines."""
    if chosen:
        if chosen not in FORMATS:
            raise ExportError(f"--format {chosen!r}: choose jsonl or csv.")
        return chosen
    name = (output or "").lower().removesuffix(".gz")
    return "csv" if name.endswith(".csv") else "jsonl"


def columns_parse(text: str | None, *, source: str) -> list[Column]:
    """`id,data.contact.email.main,traits.plan`: dot paths into the document (`source@` may be
    written or left out)."""
    if text is None:
        return []
    names = [name.strip() for name in text.split(",")]
    if not any(names):
        raise ExportError("--columns: name at least one column, e.g. --columns id,traits.plan")
    columns = []
    for number, name in enumerate(names, start=1):
        if not name:
            raise ExportError(f"--columns: column {number} is empty (two commas in a row?).")
        path = name.removeprefix(f"{source}@")
        try:
            reference = notation.parse_reference(f"{source}@{path}")
        except notation.NotationError as error:
            raise ExportError(f"--columns: column {number} ({name!r}): {error}") from None
        if reference is None:
            raise ExportError(f"--columns: column {number} ({name!r}) is not a path.")
        columns.append(Column(path, reference))
    return columns


def condition_parse(text: str | None, *, source: str) -> notation.Condition | None:
    """The `--where` condition, which may read `source@...` only (the export's documents)."""
    if text is None:
        return None
    try:
        condition = notation.compile_condition(text)
    except notation.NotationError as error:
        raise ExportError(f"--where: {error}") from None
    if condition.uses_history:
        raise ExportError(
            f"--where: {condition.history[0].text} reads stored events; an export's condition "
            f"tests {source}@... fields only."
        )
    others = [ref for ref in condition.references if not ref.startswith(f"{source}@")]
    if others:
        raise ExportError(
            f"--where reads {', '.join(others)}; an export of {source}s can test "
            f"{source}@... fields only."
        )
    return condition


def documents_where(
    documents: Iterable[dict], *, source: str, condition: notation.Condition | None
) -> Iterator[dict]:
    """The documents on which `condition` holds (a condition that cannot be evaluated on one,
    e.g. a function of a missing value, does not hold on it)."""
    if condition is None:
        yield from documents
        return
    for document in documents:
        try:
            holds = condition.evaluate({source: document})
        except notation.NotationError:
            holds = False
        if holds:
            yield document


def export_write(
    documents: Iterable[dict],
    *,
    sink: IO[bytes],
    fmt: str,
    columns: list[Column],
    source: str,
    on_rows: Callable[[int], None] | None = None,
) -> int:
    """Write the documents to `sink` as JSON Lines (whole documents, or {column: value} with
    columns) or CSV (a header, then one line per document); returns how many."""
    count = 0
    pending = 0
    if fmt == "csv":
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow([column.name for column in columns])
        for document in documents:
            data = {source: document}
            writer.writerow([csv_value(lookup(data, column.reference)) for column in columns])
            count += 1
            pending += 1
            if pending == WRITE_ROWS:
                _flush_text(text, sink, on_rows, pending)
                pending = 0
        _flush_text(text, sink, on_rows, pending)
        return count
    lines: list[bytes] = []
    for document in documents:
        if columns:
            data = {source: document}
            document = {
                column.name: _json_value(lookup(data, column.reference)) for column in columns
            }
        lines.append(orjson.dumps(document))
        count += 1
        if len(lines) == WRITE_ROWS:
            sink.write(b"\n".join(lines) + b"\n")
            if on_rows is not None:
                on_rows(len(lines))
            lines = []
    if lines:
        sink.write(b"\n".join(lines) + b"\n")
        if on_rows is not None:
            on_rows(len(lines))
    return count


def lines_write(
    lines: Iterable[bytes], *, sink: IO[bytes], on_rows: Callable[[int], None] | None = None
) -> int:
    """Write ready JSON lines (rendered by the database), a thousand per write()."""
    count = 0
    pending: list[bytes] = []
    for line in lines:
        pending.append(line)
        if len(pending) == WRITE_ROWS:
            sink.write(b"\n".join(pending) + b"\n")
            count += len(pending)
            if on_rows is not None:
                on_rows(len(pending))
            pending = []
    if pending:
        sink.write(b"\n".join(pending) + b"\n")
        count += len(pending)
        if on_rows is not None:
            on_rows(len(pending))
    return count


def csv_value(value: Any) -> str:
    """A cell: text as is, numbers as written in JSON, true/false, objects and lists as JSON,
    missing and null as empty."""
    if value is notation.MISSING or value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _json_value(value: Any) -> Any:
    return None if value is notation.MISSING else value


def _flush_text(
    text: io.StringIO, sink: IO[bytes], on_rows: Callable[[int], None] | None, rows: int
) -> None:
    sink.write(text.getvalue().encode())
    text.seek(0)
    text.truncate()
    if on_rows is not None and rows:
        on_rows(rows)


class _TextSink:
    """Bytes written to a text stream (stdout captured by a test, a StringIO)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, data: bytes) -> int:
        return self.stream.write(data.decode())


@contextmanager
def export_output(path: str | None, *, stdout: IO) -> Iterator[IO[bytes]]:
    """A binary sink: stdout for None or "-", else the file (gzip when the name ends in .gz),
    written as `<path>.part` and renamed to `path` once complete."""
    if path in (None, "-"):
        buffer = getattr(stdout, "buffer", None)
        yield buffer if buffer is not None else _TextSink(stdout)
        if buffer is not None:
            buffer.flush()
        return
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ExportError(f"-o {path}: the directory {directory} does not exist.")
    partial = f"{path}.part"
    try:
        if path.endswith(".gz"):
            # Level 6, gzip's own default: level 9 costs several times the CPU for ~2% less.
            sink = gzip.open(partial, "wb", compresslevel=6)  # noqa: SIM115 (closed below)
        else:
            sink = open(partial, "wb", buffering=1024 * 1024)  # noqa: SIM115 (closed below)
    except OSError as error:
        raise ExportError(f"-o {path}: {error.strerror}.") from None
    try:
        with sink:
            yield sink
    except BaseException:
        os.unlink(partial)
        raise
    os.replace(partial, path)


def moment_parse(option: str, text: str, *, now: datetime) -> datetime:
    """`--since`/`--until`: a date (2026-05-01, midnight UTC), a date and time (a time without
    a zone is UTC), or a duration ago (30d, 12h: now minus that)."""
    try:
        return now - duration_parse(text)
    except DurationError:
        pass
    moment = parse_datetime(text.strip())
    if moment is None:
        day = parse_date(text.strip())
        moment = datetime(day.year, day.month, day.day) if day is not None else None
    if moment is None:
        raise ExportError(
            f"{option} {text!r}: write a date (2026-05-01), a date and time "
            "(2026-05-01T12:00:00+02:00; UTC without a zone) or a duration ago (30d, 12h)."
        )
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class ExportCommand(BaseCommand):
    """The options and the run shared by export_profiles and export_events; a subclass says
    what it exports (`source`), adds its filters and gives the documents."""

    source = ""
    default_columns = ""
    where_example = ""

    def add_arguments(self, parser):
        parser.add_argument(
            "-o",
            "--output",
            default="-",
            metavar="PATH",
            help="The file to write (gzip when it ends in .gz); '-' for stdout (the default).",
        )
        parser.add_argument(
            "--format",
            choices=FORMATS,
            help="jsonl (whole documents, or the --columns) or csv (the --columns). Default: csv "
            "for a .csv or .csv.gz file, else jsonl.",
        )
        parser.add_argument(
            "--columns",
            metavar="PATHS",
            help="Comma-separated dot paths into the document, e.g. "
            f"{self.default_columns}. CSV default: {self.default_columns}.",
        )
        parser.add_argument(
            "--where",
            metavar="CONDITION",
            help=f"Only documents on which this logic-notation condition holds, e.g. "
            f"{self.where_example}",
        )
        parser.add_argument(
            "--since", metavar="WHEN", help="At or after: 2026-05-01, an ISO time, or 30d (ago)."
        )
        parser.add_argument("--until", metavar="WHEN", help="Before: as --since.")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=5000,
            metavar="N",
            help="Rows read per query (memory holds one such page).",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress on stderr.")

    def documents(self, options, *, since, until) -> tuple[Iterable[dict], int | None]:
        """The documents to export and how many there are (None: unknown)."""
        raise NotImplementedError

    def document_lines(self, options, *, since, until) -> tuple[Iterable[bytes], int | None]:
        """The same documents as JSON text rendered by the database, for a plain JSON Lines
        export (no --columns, no --where); None if this export has no such fast path."""
        return None

    def handle(self, *args, **options):
        try:
            self._export(options)
        except ExportError as error:
            raise CommandError(str(error)) from None

    def _export(self, options) -> None:
        output = options["output"]
        fmt = export_format(output=output, chosen=options["format"])
        columns_text = options["columns"]
        if fmt == "csv" and columns_text is None:
            columns_text = self.default_columns
        columns = columns_parse(columns_text, source=self.source)
        condition = condition_parse(options["where"], source=self.source)
        if options["chunk_size"] < 1:
            raise ExportError("--chunk-size must be at least 1.")
        now = timezone.now()
        since = until = None
        if options["since"]:
            since = moment_parse("--since", options["since"], now=now)
        if options["until"]:
            until = moment_parse("--until", options["until"], now=now)
        if since is not None and until is not None and since >= until:
            raise ExportError("--since must be before --until.")
        plain = fmt == "jsonl" and not columns and condition is None
        lines = self.document_lines(options, since=since, until=until) if plain else None
        if lines is None:
            documents, total = self.documents(options, since=since, until=until)
            if condition is not None:
                total = None
            documents = documents_where(documents, source=self.source, condition=condition)
        else:
            lines, total = lines
        with (
            export_output(output, stdout=self.stdout._out) as sink,
            Progress(
                description=f"export {self.source}s",
                total=total,
                stream=self.stderr,
                enabled=not options["no_progress"],
            ) as progress,
        ):
            if lines is not None:
                count = lines_write(lines, sink=sink, on_rows=progress.update)
            else:
                count = export_write(
                    documents,
                    sink=sink,
                    fmt=fmt,
                    columns=columns,
                    source=self.source,
                    on_rows=progress.update,
                )
        if output not in (None, "-"):
            # Information, not an error: not in the error style of a terminal's stderr.
            self.stderr.write(f"{count} {self.source}(s) written to {output}.", style_func=str)
