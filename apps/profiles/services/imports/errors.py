"""The error file of an import: each skipped row with its line number and the reason, in a
shape the operator can fix and import again (CSV: `line`, `error`, then the row's own columns;
JSON: one object per line with `line`, `error` and the row as read). Created with the first
bad row only."""

from __future__ import annotations

import contextlib
import csv
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson


def default_errors_path(input_path: str, fmt: str, *, now: datetime) -> str:
    """Next to the input (`people.csv` -> `people.csv.errors.csv`) when that directory is
    writable, else in the current directory; for standard input, in the current directory."""
    extension = "csv" if fmt == "csv" else "jsonl"
    if input_path == "-":
        return f"import-errors-{now:%Y%m%d-%H%M%S}.{extension}"
    candidate = Path(f"{input_path}.errors.{extension}")
    if os.access(candidate.parent, os.W_OK):
        return str(candidate)
    return candidate.name


class ErrorFile:
    def __init__(self, path: str, *, header: list[str] | None) -> None:
        self.path = path
        self.header = header
        self.count = 0
        self._handle = None
        self._writer: Any = None

    def write(self, line: int, reason: str, raw: Any) -> None:
        if self._handle is None:
            self._open()
        self.count += 1
        if self.header is not None:
            cells = raw if isinstance(raw, list) else [] if raw is None else [str(raw)]
            self._writer.writerow([line, reason, *cells])
        else:
            if isinstance(raw, str):
                with contextlib.suppress(orjson.JSONDecodeError):
                    raw = orjson.loads(raw)
            record = {"line": line, "error": reason, "row": raw}
            self._handle.write(orjson.dumps(record, default=str).decode() + "\n")

    def _open(self) -> None:
        self._handle = open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        if self.header is not None:
            self._writer = csv.writer(self._handle)
            self._writer.writerow(["line", "error", *self.header])

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
