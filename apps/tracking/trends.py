"""The admin's trend charts (last 14 days): daily figures counted by each app over its own
tables, stored as apps.core DailyMetric rows by a beat job every ten minutes, and read back
for the index page (templatetags/cdp_trends.py).

Figures: events per type and per source, workflow runs per status and delivery attempts per
destination and outcome, each counted over one day's range of an index on a time column;
segment sizes, a snapshot at each refresh (no history before the first one). New profiles and
visits come from the pipeline's own events (`profile-created`, `visit-started`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from apps.core.metrics import (
    metric_days,
    metric_first_day,
    metric_known,
    metric_series,
    metrics_replace,
)
from apps.destinations.metrics import SEPARATOR, attempt_counts
from apps.destinations.models import DeliveryAttempt, Destination
from apps.events.metrics import event_counts
from apps.profiles.metrics import segment_sizes
from apps.profiles.models import Segment
from apps.tracking.system_events import (
    PROFILE_CREATED,
    SYSTEM_EVENT_TYPES,
    VISIT_STARTED,
)
from apps.workflows.metrics import run_counts

TREND_DAYS = 14
DELIVERY_DAYS = 7
SYSTEM_TYPES = frozenset(SYSTEM_EVENT_TYPES)


def daily_metrics_refresh(*, now: datetime | None = None) -> list[date]:
    """Count today and yesterday again (late rows settle), and any of the last TREND_DAYS days
    never counted (the first run fills the charts). Returns the days counted."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    days = [
        day
        for day in metric_days(last=today, days=TREND_DAYS)
        if day >= today - timedelta(days=1) or not metric_known(name="events.type", day=day)
    ]
    for day in days:
        start, end = _day_range(day)
        for name, values in event_counts(start=start, end=end).items():
            metrics_replace(day=day, name=name, values=values)
        metrics_replace(day=day, name="workflow.runs", values=run_counts(start=start, end=end))
        metrics_replace(
            day=day, name="delivery.attempts", values=attempt_counts(start=start, end=end)
        )
    metrics_replace(day=today, name="segment.members", values=segment_sizes())
    return days


def _day_range(day: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    values: list[int]
    link: str = ""  # a filter of the list it comes from, e.g. "type=page-view"


@dataclass(frozen=True, slots=True)
class DestinationTrend:
    destination_id: str
    name: str
    sent: int
    failed: int  # failed for good, failed and retried, or lost with the worker

    @property
    def rate(self) -> int | None:
        total = self.sent + self.failed
        return round(100 * self.sent / total) if total else None


@dataclass(frozen=True, slots=True)
class Trends:
    days: list[date]
    event_types: list[Series]  # the most frequent types, then "other"
    visitors: list[Series]  # new profiles, returning visits
    segments: list[Series]  # size per day since the first snapshot, largest first
    runs: list[Series]  # completed, error
    destinations: list[DestinationTrend]

    @property
    def counted(self) -> bool:
        return any(any(series.values) for series in (*self.event_types, *self.runs))


def trends_read(*, now: datetime | None = None, top_types: int = 5) -> Trends:
    days = metric_days(last=timezone.localdate(now or timezone.now()), days=TREND_DAYS)
    by_type = metric_series(name="events.type", days=days)
    client_types = sorted(
        (name for name in by_type if name not in SYSTEM_TYPES), key=lambda n: -sum(by_type[n])
    )
    event_types = [Series(name, by_type[name], f"type={name}") for name in client_types[:top_types]]
    rest = client_types[top_types:]
    if rest:
        event_types.append(
            Series("other", [sum(v) for v in zip(*(by_type[n] for n in rest), strict=True)])
        )
    created = by_type.get(PROFILE_CREATED, [0] * len(days))
    visits = by_type.get(VISIT_STARTED, [0] * len(days))
    visitors = [
        Series("new profiles", created),
        Series("returning visits", [max(0, v - c) for v, c in zip(visits, created, strict=True)]),
    ]
    runs = metric_series(name="workflow.runs", days=days)
    return Trends(
        days=days,
        event_types=event_types,
        visitors=visitors,
        segments=_segments(days),
        runs=[
            Series("completed", runs.get("ok", [0] * len(days)), "status__exact=ok"),
            Series("error", runs.get("error", [0] * len(days)), "status__exact=error"),
        ],
        destinations=_destinations(days[-DELIVERY_DAYS:]),
    )


def _segments(days: list[date]) -> list[Series]:
    # Sizes are snapshots: their history starts at the first refresh, not TREND_DAYS ago.
    first = metric_first_day(name="segment.members", since=days[0])
    if first is None:
        return []
    sizes = metric_series(name="segment.members", days=[day for day in days if day >= first])
    names = dict(Segment.objects.filter(slug__in=list(sizes)).values_list("slug", "name"))
    shown = sorted((slug for slug in sizes if slug in names), key=lambda s: -sizes[s][-1])
    return [Series(names[slug], sizes[slug], f"segment={slug}") for slug in shown]


def _destinations(days: list[date]) -> list[DestinationTrend]:
    attempts = metric_series(name="delivery.attempts", days=days)
    totals: dict[str, dict[str, int]] = {}
    for key, values in attempts.items():
        destination_id, _, outcome = key.partition(SEPARATOR)
        totals.setdefault(destination_id, {})[outcome] = sum(values)
    names = dict(Destination.objects.filter(pk__in=list(totals)).values_list("pk", "name"))
    failed = (DeliveryAttempt.Outcome.FAILED, DeliveryAttempt.Outcome.RETRY)
    rows = [
        DestinationTrend(
            destination_id=destination_id,
            name=names.get(destination_id, destination_id),
            sent=outcomes.get(DeliveryAttempt.Outcome.SENT, 0),
            failed=sum(outcomes.get(o, 0) for o in (*failed, DeliveryAttempt.Outcome.LOST)),
        )
        for destination_id, outcomes in totals.items()
    ]
    return sorted(rows, key=lambda row: (-(row.sent + row.failed), row.name))
