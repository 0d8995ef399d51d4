"""Reading an import file: CSV (with a header), JSON Lines or one JSON array, plain or gzip
(detected by its magic bytes), from a path or standard input (`-`).

Each row comes out as a `Record`: its line number (the line where a CSV record starts; for a
JSON array, the item's number), the row as a dict, or the reason it cannot be read. A bad row
never stops the reading; a file that cannot be read at all (empty, not text, no header, a
compressed stream cut short, a broken JSON array) raises `ImportFileError`, whose message says
what to do.

Memory stays bounded whatever the file: lines are read with a size limit (a longer line is
skipped and reported, never held whole), CSV fields are capped by `csv.field_size_limit`, and
JSON arrays are parsed as a stream (ijson), item by item.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import ijson
import orjson

# A line (and a CSV record, quotes and all) longer than this is skipped as a bad row.
MAX_LINE_BYTES = 1_048_576
FORMATS = ("csv", "jsonl", "json")
GZIP_MAGIC = b"\x1f\x8b"
_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}


class ImportFileError(Exception):
    """The file cannot be imported at all; the message names the problem and the fix."""


@dataclass(slots=True)
class Record:
    line: int
    values: dict | None = None
    error: str | None = None
    # What the error file shows of a bad row: the CSV cells or the line's text.
    raw: list[str] | str | None = None


class _LineTooLong(Exception):
    pass


class _LineUndecodable(Exception):
    pass


class InputFile:
    """The import's input: a path or `-`, decompressed when it is gzip."""

    def __init__(self, path: str, *, encoding: str = "utf-8") -> None:
        self.path = path
        self.encoding = _checked_encoding(encoding)
        if path == "-":
            self._raw: BinaryIO = sys.stdin.buffer
            self.size = None
        else:
            try:
                self._raw = open(path, "rb")  # noqa: SIM115 (closed by close())
            except OSError as error:
                raise ImportFileError(f"Cannot open {path}: {error.strerror}.") from None
            self.size = os.fstat(self._raw.fileno()).st_size
        self._buffered = (
            self._raw if hasattr(self._raw, "peek") else io.BufferedReader(self._raw)  # type: ignore[arg-type]
        )
        self.compressed = self._buffered.peek(2)[:2] == GZIP_MAGIC
        self.stream: BinaryIO = (
            gzip.GzipFile(fileobj=self._buffered, mode="rb")  # type: ignore[assignment]
            if self.compressed
            else self._buffered
        )

    @property
    def name(self) -> str:
        return "standard input" if self.path == "-" else self.path

    def bytes_read(self) -> int | None:
        """How far into the file (compressed bytes for gzip): the progress bar's position."""
        if self.path == "-":
            return None
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        if self.path != "-":
            self._raw.close()

    def format(self, requested: str | None) -> str:
        """The file's format: `requested`, else by extension (.csv, .jsonl, .ndjson, .json,
        each optionally .gz), else by the first character: `[` a JSON array, `{` JSON Lines,
        anything else CSV."""
        if requested:
            return requested
        name = self.path.lower().removesuffix(".gz")
        for extension, kind in _EXTENSIONS.items():
            if name.endswith(extension):
                return kind
        head = self.head_text()
        if head.startswith("["):
            return "json"
        if head.startswith("{"):
            return "jsonl"
        return "csv"

    def head_text(self) -> str:
        """The first characters of the (decompressed) text, without consuming them."""
        if self.compressed:
            # Not seekable on standard input: decompress the first block on the side.
            head = self._buffered.peek(65536)
            try:
                data = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 4096)
            except zlib.error:
                data = b""
        else:
            data = self._buffered.peek(4096)
        return data.decode("latin-1").lstrip("\ufeff\xef\xbb\xbf \t\r\n")


def _checked_encoding(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ImportFileError(f"Unknown encoding {encoding!r} (e.g. utf-8, latin-1).") from None
    if "\n".encode(name) != b"\n" or "a,{".encode(name) != b"a,{":
        raise ImportFileError(
            f"The encoding {encoding} is not read line by line; convert the file to UTF-8 "
            f"first (iconv -f {encoding} -t utf-8 FILE > FILE.utf8)."
        )
    return name


class LineReader:
    """The file's lines as text, each read with a size limit. A line that is too long or not
    in the encoding raises (from `__next__`, which may be called again: reading goes on with
    the next line), so a caller can report it and continue."""

    def __init__(self, input_file: InputFile, *, max_bytes: int = MAX_LINE_BYTES) -> None:
        self.stream = input_file.stream
        self.encoding = input_file.encoding
        self.file_name = input_file.name
        self.max_bytes = max_bytes
        self.line = 0

    def __iter__(self) -> LineReader:
        return self

    def __next__(self) -> str:
        data = self._readline(self.max_bytes + 1)
        if not data:
            raise StopIteration
        self.line += 1
        if self.line == 1:
            if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise ImportFileError(
                    f"{self.file_name} is UTF-16; convert it to UTF-8 first "
                    "(iconv -f UTF-16 -t UTF-8 FILE > FILE.utf8)."
                )
            if data.startswith(codecs.BOM_UTF8):
                data = data[len(codecs.BOM_UTF8) :]
        if len(data) > self.max_bytes and not data.endswith(b"\n"):
            self._skip_rest_of_line()
            raise _LineTooLong(
                f"the line is longer than {self.max_bytes:,} bytes (the limit); skipped"
            )
        try:
            return data.decode(self.encoding)
        except UnicodeDecodeError as error:
            raise _LineUndecodable(
                f"the line is not valid {self.encoding} (byte 0x{data[error.start]:02x} at "
                f"column {error.start + 1}); convert the file to UTF-8 or pass --encoding, "
                "e.g. --encoding latin-1"
            ) from None

    def _readline(self, limit: int) -> bytes:
        try:
            return self.stream.readline(limit)
        except (EOFError, gzip.BadGzipFile, zlib.error) as error:
            raise ImportFileError(
                f"{self.file_name} is a gzip file that is damaged or cut short after line "
                f"{self.line} ({error}); the rows before it were read."
            ) from None

    def _skip_rest_of_line(self) -> None:
        while True:
            chunk = self._readline(65536)
            if not chunk or chunk.endswith(b"\n"):
                return


def open_records(input_file: InputFile, fmt: str) -> tuple[list[str] | None, Iterator[Record]]:
    """The CSV header (None for JSON) and the rows of the file, in order; bad rows come out
    with their reason."""
    if fmt not in FORMATS:
        raise ImportFileError(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
    if not input_file.head_text():
        raise _empty(input_file)
    if fmt == "csv":
        lines, header = csv_header(input_file)
        return header, _csv_records(lines, header)
    if fmt == "jsonl":
        return None, _jsonl_records(input_file)
    return None, _json_array_records(input_file)


def _empty(input_file: InputFile) -> ImportFileError:
    return ImportFileError(f"{input_file.name} is empty: there is nothing to import.")


def csv_header(input_file: InputFile) -> tuple[LineReader, list[str]]:
    """The line reader positioned after the header, and the header's column names."""
    lines = LineReader(input_file)
    while True:
        try:
            first = next(lines)
        except StopIteration:
            raise _empty(input_file) from None
        except (_LineTooLong, _LineUndecodable) as error:
            raise ImportFileError(f"The header (line {lines.line}): {error}.") from None
        if first.strip():
            break
    try:
        header = next(csv.reader([first], strict=True))
    except csv.Error as error:
        raise ImportFileError(f"The header (line {lines.line}) cannot be read: {error}.") from None
    names = [name.strip() for name in header]
    if any(not name for name in names):
        position = names.index("") + 1
        raise ImportFileError(
            f"The header (line {lines.line}) has an empty column name (column {position}); the "
            "first line must name every column, e.g. id,data.contact.email.main,traits.plan."
        )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ImportFileError(
            f"The header (line {lines.line}) names {', '.join(duplicates)} more than once."
        )
    return lines, names


def _csv_records(lines: LineReader, header: list[str]) -> Iterator[Record]:
    csv.field_size_limit(MAX_LINE_BYTES)
    reader = csv.reader(lines, strict=True)
    width = len(header)
    while True:
        start = lines.line + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except (_LineTooLong, _LineUndecodable) as error:
            yield Record(line=lines.line, error=str(error))
            continue
        except csv.Error as error:
            yield Record(line=start, error=_csv_problem(str(error), start, lines.line))
            continue
        if not cells or (len(cells) == 1 and not cells[0].strip() and width > 1):
            continue  # a blank line
        if len(cells) != width:
            yield Record(
                line=start,
                error=f"the row has {len(cells)} value(s), the header has {width} column(s)",
                raw=cells,
            )
            continue
        yield Record(line=start, values=dict(zip(header, cells, strict=True)), raw=cells)


def _csv_problem(message: str, start: int, end: int) -> str:
    if "field larger than field limit" in message or "unexpected end of data" in message:
        return (
            f"a quoted value is not closed (lines {start}-{end}: a stray double quote?), or "
            f"a value is longer than {MAX_LINE_BYTES:,} bytes; the row is skipped"
        )
    return f"the row is not valid CSV ({message}); quote values that hold commas or quotes"


def _jsonl_records(input_file: InputFile) -> Iterator[Record]:
    lines = LineReader(input_file)
    seen_any = False
    while True:
        try:
            text = next(lines)
        except StopIteration:
            break
        except (_LineTooLong, _LineUndecodable) as error:
            seen_any = True
            yield Record(line=lines.line, error=str(error))
            continue
        if not text.strip():
            continue
        seen_any = True
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            yield Record(line=lines.line, error=f"broken JSON: {error}", raw=text.rstrip("\n"))
            continue
        if not isinstance(value, dict):
            yield Record(
                line=lines.line,
                error=f"expected a JSON object ({{...}}), got {type(value).__name__}",
                raw=text.rstrip("\n"),
            )
            continue
        yield Record(line=lines.line, values=value, raw=text.rstrip("\n"))
    if not seen_any:
        raise _empty(input_file)


def _json_array_records(input_file: InputFile) -> Iterator[Record]:
    item = 0
    try:
        for value in ijson.items(input_file.stream, "item", use_float=True):
            item += 1
            if not isinstance(value, dict):
                yield Record(
                    line=item,
                    error=f"expected a JSON object ({{...}}), got {type(value).__name__}",
                    raw=orjson.dumps(value, default=str).decode(),
                )
                continue
            yield Record(line=item, values=value)
    except ijson.IncompleteJSONError as error:
        raise ImportFileError(
            f"{input_file.name} is not a valid JSON array after item {item} "
            f"({str(error).splitlines()[0].strip()}); the "
            "items before it were read. Fix the file, or write it as JSON Lines (one object "
            "per line) so that a bad row is skipped alone."
        ) from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise ImportFileError(
            f"{input_file.name} is a gzip file that is damaged or cut short after item {item} "
            f"({error}); the items before it were read."
        ) from None
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"{input_file.name} is not valid UTF-8 after item {item} ({error.reason}); "
            "convert it to UTF-8."
        ) from None
