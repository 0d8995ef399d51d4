"""Progress of long operator commands (exports, purges) on stderr: a tqdm bar with rows/s on
a terminal, and plain lines every few seconds otherwise (logs, pipes, cron mails), so that
the output of a redirected run stays readable."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm import tqdm

LINE_SECONDS = 5.0


class Progress:
    """`update(n)` as rows are done, `close()` at the end (also as a context manager)."""

    def __init__(
        self,
        *,
        description: str,
        total: int | None = None,
        unit: str = "rows",
        stream: TextIO | None = None,
        enabled: bool = True,
        line_seconds: float = LINE_SECONDS,
    ) -> None:
        self.stream = stream or sys.stderr
        self.description = description
        self.total = total
        self.unit = unit
        self.enabled = enabled
        self.count = 0
        self.started = time.monotonic()
        self._line_seconds = line_seconds
        self._last_line = self.started
        self._bar = None
        if enabled and _is_terminal(self.stream):
            # A command's OutputWrapper ends every write with a newline; tqdm redraws its line
            # with carriage returns, so it writes to the stream underneath.
            self._bar = tqdm(
                total=total,
                desc=description,
                unit=f" {unit}",
                unit_scale=True,
                file=getattr(self.stream, "_out", self.stream),
            )

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def update(self, count: int) -> None:
        self.count += count
        if self._bar is not None:
            self._bar.update(count)
        elif self.enabled:
            now = time.monotonic()
            if now - self._last_line >= self._line_seconds:
                self._last_line = now
                self._line(now)

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.count / elapsed if elapsed > 0 else 0.0

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.enabled:
            self._line(time.monotonic(), final=True)
            self.enabled = False

    def _line(self, now: float, *, final: bool = False) -> None:
        elapsed = now - self.started
        rate = self.count / elapsed if elapsed > 0 else 0.0
        of_total = f" of {self.total:,}" if self.total is not None else ""
        state = "done" if final else "…"
        line = (
            f"{self.description}: {self.count:,}{of_total} {self.unit} in {elapsed:.1f} s "
            f"({rate:,.0f} {self.unit}/s) {state}\n"
        )
        if hasattr(self.stream, "style_func"):  # a command's OutputWrapper: no error style
            self.stream.write(line, style_func=str)
        else:
            self.stream.write(line)
        self.stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
