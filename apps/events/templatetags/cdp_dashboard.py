"""The traffic summary on the admin index page (templates/admin/index.html)."""

from dataclasses import dataclass

from django import template
from django.core.cache import cache
from django.db import OperationalError

from apps.core.db import statement_timeout
from apps.events.dashboard import TrafficSummary, traffic_summary

register = template.Library()

CACHE_KEY = "admin-dashboard:traffic-summary:v1"  # bump when TrafficSummary changes shape
CACHE_SECONDS = 30
QUERY_TIMEOUT_MS = 3_000
CHART_TYPES = 5  # the most frequent types get their own colour; the rest are "other"
PALETTE = ("#417690", "#e0a526", "#70a13b", "#b9455b", "#7d5ba6", "#999999")
BAR_WIDTH, BAR_GAP, CHART_HEIGHT = 18, 4, 120


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    height: int
    colour: str
    title: str


def _chart(
    summary: TrafficSummary,
) -> tuple[list[tuple[str, str]], list[Bar], list[dict], int]:
    named = summary.types[:CHART_TYPES]
    series = [*named, "other"] if len(summary.types) > CHART_TYPES else named
    legend = list(zip(series, PALETTE, strict=False))
    peak = max((hour.total for hour in summary.hours), default=0) or 1
    bars: list[Bar] = []
    rows: list[dict] = []
    for index, hour in enumerate(summary.hours):
        values = {name: hour.by_type.get(name, 0) for name in named}
        if "other" in series:
            values["other"] = hour.total - sum(values.values())
        rows.append(
            {"start": hour.start, "values": [values[name] for name in series], "total": hour.total}
        )
        y = CHART_HEIGHT
        for name, colour in legend:
            height = round(values[name] * CHART_HEIGHT / peak)
            if height:
                y -= height
                label = f"{hour.start:%H}:00 {name}: {values[name]}"
                bars.append(Bar(index * (BAR_WIDTH + BAR_GAP), y, height, colour, label))
    return legend, bars, rows, peak


@register.inclusion_tag("admin/cdp_dashboard.html", takes_context=True)
def traffic_dashboard(context) -> dict:
    user = context["request"].user
    if not user.has_perm("events.view_event"):
        return {"shown": False}
    summary = cache.get(CACHE_KEY)
    if summary is None:
        try:
            with statement_timeout(QUERY_TIMEOUT_MS):
                summary = traffic_summary()
        except OperationalError:
            return {"shown": True, "unavailable": True}
        cache.set(CACHE_KEY, summary, CACHE_SECONDS)
    legend, bars, rows, peak = _chart(summary)
    return {
        "shown": True,
        "summary": summary,
        "legend": legend,
        "bars": bars,
        "rows": list(reversed(rows)),
        "chart_width": len(summary.hours) * (BAR_WIDTH + BAR_GAP),
        "chart_height": CHART_HEIGHT,
        "bar_width": BAR_WIDTH,
        "peak": peak,
        "first_hour": summary.hours[0].start,
        "last_hour": summary.hours[-1].start,
        "can_view_profiles": user.has_perm("profiles.view_profile"),
    }
