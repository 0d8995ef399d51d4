"""The trend charts on the admin index page (templates/admin/index.html), drawn as inline SVG
from the daily figures of apps.tracking.trends."""

from dataclasses import dataclass

from django import template
from django.core.cache import cache
from django.urls import reverse

from apps.tracking.trends import Series, Trends, trends_read

register = template.Library()

CACHE_KEY = "admin-dashboard:trends:v1"  # bump when Trends changes shape
CACHE_SECONDS = 60
PALETTE = ("#417690", "#e0a526", "#70a13b", "#7d5ba6", "#3a9fb0", "#999999")
ERROR_COLOUR = "#ba2121"
BAR_WIDTH, BAR_GAP, HEIGHT = 16, 4, 90
SPARK_WIDTH, SPARK_HEIGHT = 140, 24


@dataclass(frozen=True, slots=True)
class Bar:
    x: int
    y: int
    height: int
    colour: str
    title: str


def _stacked(series: list[Series], colours: list[str], days: list) -> dict:
    totals = [sum(values) for values in zip(*(s.values for s in series), strict=True)] or [0]
    peak = max(totals) or 1
    bars = []
    for index, day in enumerate(days):
        y = HEIGHT
        for one, colour in zip(series, colours, strict=True):
            value = one.values[index]
            height = round(value * HEIGHT / peak)
            if height:
                y -= height
                title = f"{day:%a %d %b} {one.label}: {value:,}"
                bars.append(Bar(index * (BAR_WIDTH + BAR_GAP), y, height, colour, title))
    return {
        "bars": bars,
        "width": len(days) * (BAR_WIDTH + BAR_GAP),
        "height": HEIGHT,
        "bar_width": BAR_WIDTH,
        "peak": max(totals),
        "total": sum(totals),
        "legend": [
            (one.label, colour, one.link, sum(one.values))
            for one, colour in zip(series, colours, strict=True)
        ],
    }


def _sparkline(values: list[int]) -> str:
    peak = max(values) or 1
    step = SPARK_WIDTH / max(1, len(values) - 1)
    return " ".join(
        f"{round(i * step, 1)},{round(SPARK_HEIGHT - value * (SPARK_HEIGHT - 2) / peak - 1, 1)}"
        for i, value in enumerate(values)
    )


@register.inclusion_tag("admin/cdp_trends.html", takes_context=True)
def trend_charts(context) -> dict:
    user = context["request"].user
    if not user.has_perm("events.view_event"):
        return {"shown": False}
    trends: Trends | None = cache.get(CACHE_KEY)
    if trends is None:
        trends = trends_read()
        cache.set(CACHE_KEY, trends, CACHE_SECONDS)
    days = trends.days
    return {
        "shown": True,
        "trends": trends,
        "first_day": days[0],
        "last_day": days[-1],
        "events": _stacked(trends.event_types, list(PALETTE[: len(trends.event_types)]), days),
        "visitors": _stacked(trends.visitors, [PALETTE[0], PALETTE[2]], days),
        "runs": _stacked(trends.runs, [PALETTE[2], ERROR_COLOUR], days),
        "segments": [(one, _sparkline(one.values), one.values[-1]) for one in trends.segments[:8]],
        "spark_width": SPARK_WIDTH,
        "spark_height": SPARK_HEIGHT,
        "urls": {
            "events": reverse("admin:events_event_changelist"),
            "profiles": reverse("admin:profiles_profile_changelist"),
            "runs": reverse("admin:workflows_workflowrun_changelist"),
            "deliveries": reverse("admin:destinations_delivery_changelist"),
        },
    }
