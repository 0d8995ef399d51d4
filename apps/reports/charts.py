"""A report's rows as horizontal bars for a server-rendered SVG (no chart library, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass

LABEL_WIDTH = 180
BAR_AREA = 420
VALUE_WIDTH = 90
ROW_HEIGHT = 24
BAR_HEIGHT = 16
# The chart shows the largest groups; the table below it has every row.
MAX_BARS = 30


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | int
    y: int
    text_y: int
    width: float
    value_x: float


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    label_width: int = LABEL_WIDTH
    label_x: int = LABEL_WIDTH - 8
    hidden: int = 0


def bar_chart(rows: list[tuple[str | None, int | float | None]]) -> BarChart | None:
    """None when no row has a positive value to draw."""
    drawable = [(label, value) for label, value in rows if value is not None and value > 0]
    if not drawable:
        return None
    shown = drawable[:MAX_BARS]
    peak = max(value for _, value in shown)
    bars = [
        Bar(
            label=_label(label),
            value=value,
            y=index * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) // 2,
            text_y=index * ROW_HEIGHT + ROW_HEIGHT // 2 + 5,
            width=round(BAR_AREA * value / peak, 1),
            value_x=round(LABEL_WIDTH + BAR_AREA * value / peak + 6, 1),
        )
        for index, (label, value) in enumerate(shown)
    ]
    return BarChart(
        bars=bars,
        width=LABEL_WIDTH + BAR_AREA + VALUE_WIDTH,
        height=len(bars) * ROW_HEIGHT,
        hidden=len(drawable) - len(shown),
    )


def _label(label: str | None) -> str:
    if label is None:
        return "(none)"
    return label if len(label) <= 28 else label[:27] + "…"
