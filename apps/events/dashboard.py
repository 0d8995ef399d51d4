"""Reads behind the traffic summary on the admin index page.

Each query is served by an index, so the page stays cheap however large the tables grow:
- events of the last 24 h by hour, type and status: a range over the index on -inserted;
- the collected backlog and the quarantined (invalid) events: their partial indexes, counted up
  to a cap;
- profiles: counted up to a cap, then PostgreSQL's row estimate (apps.profiles.selectors);
- sessions opened today: the pipeline stores one `session-opened` event per new session, found
  through the (type, time) index. (Session has no index on `created`; counting its rows would
  read the whole sessions table.)
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count as CountRows
from django.db.models.functions import TruncHour
from django.utils import timezone

from apps.core.paginator import Count, bounded_count
from apps.events.models import Event
from apps.profiles.selectors import profiles_count

WINDOW_HOURS = 24
SESSION_OPENED = "session-opened"


@dataclass(frozen=True)
class HourlyTraffic:
    start: datetime
    by_type: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_type.values())


@dataclass(frozen=True)
class TrafficSummary:
    hours: list[HourlyTraffic]  # WINDOW_HOURS buckets, oldest first; the last is the current hour
    types: list[str]  # event types seen in the window, most frequent first
    by_status: dict[str, int]  # events stored in the window, per status (all statuses present)
    collected_backlog: Count  # events of any age still waiting for their workflows
    invalid_total: Count  # events of any age quarantined as invalid
    profiles: Count
    sessions_opened_today: int

    @property
    def events_in_window(self) -> int:
        return sum(self.by_status.values())


def traffic_summary(*, now: datetime | None = None) -> TrafficSummary:
    now = now or timezone.now()
    current_hour = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)
    hour_starts = [current_hour - timedelta(hours=n) for n in range(WINDOW_HOURS - 1, -1, -1)]

    rows = (
        Event.objects.filter(inserted__gte=hour_starts[0], inserted__lte=now)
        .annotate(hour=TruncHour("inserted"))
        .values("hour", "type", "status")
        .annotate(n=CountRows("pk"))
        .order_by()
    )
    by_hour: dict[datetime, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_type: dict[str, int] = defaultdict(int)
    by_status = dict.fromkeys(Event.Status.values, 0)
    for row in rows:
        by_hour[row["hour"]][row["type"]] += row["n"]
        by_type[row["type"]] += row["n"]
        by_status[row["status"]] += row["n"]

    start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return TrafficSummary(
        hours=[HourlyTraffic(start, dict(by_hour.get(start, {}))) for start in hour_starts],
        types=sorted(by_type, key=lambda event_type: (-by_type[event_type], event_type)),
        by_status=by_status,
        collected_backlog=bounded_count(Event.objects.filter(status=Event.Status.COLLECTED)),
        invalid_total=bounded_count(Event.objects.filter(status=Event.Status.INVALID)),
        profiles=profiles_count(),
        sessions_opened_today=Event.objects.filter(
            type=SESSION_OPENED, time__gte=start_of_day
        ).count(),
    )
