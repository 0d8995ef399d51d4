"""What /api/v1/health and /api/v1/stats report: each dependency's state, read cheaply."""

import time
from dataclasses import dataclass
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.models import Count as CountOf
from django.db.models.functions import TruncHour
from django.utils import timezone

from apps.core.db import statement_timeout
from apps.core.heartbeats import BEAT, heartbeat_ages
from apps.core.paginator import bounded_count
from apps.destinations.models import Delivery
from apps.events.models import Event
from apps.profiles.models import Profile

# One per worker tier (settings.CDP_WORKER_QUEUES): workflows, destinations, maintenance.
WORKER_QUEUES = settings.CDP_WORKER_QUEUES
STATS_QUERY_TIMEOUT_MS = 3000


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    lag_seconds: float | None = None

    def as_dict(self) -> dict:
        shown = {"ok": self.ok, "detail": self.detail}
        if self.lag_seconds is not None:
            shown["lag_seconds"] = round(self.lag_seconds, 1)
        return shown


def _timed(probe) -> tuple[bool, str]:
    started = time.perf_counter()
    try:
        probe()
    except Exception as error:  # any failure of a dependency is what the check reports
        return False, f"{type(error).__name__}: {error}".strip()
    return True, f"answered in {(time.perf_counter() - started) * 1000:.1f} ms"


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    cache.set("cdp:health:probe", 1, 10)
    if cache.get("cdp:health:probe") != 1:
        raise RuntimeError("a value written was not read back")


def health_checks() -> list[Check]:
    checks = [Check("database", *_timed(_database)), Check("redis", *_timed(_redis))]
    redis_ok = checks[1].ok
    limit = settings.CDP_HEALTH_MAX_HEARTBEAT_AGE_SECONDS
    names = [BEAT, *(f"queue:{queue}" for queue in WORKER_QUEUES)]
    ages = heartbeat_ages(names) if redis_ok else dict.fromkeys(names)
    for name in names:
        label = "beat" if name == BEAT else f"worker ({name.split(':', 1)[1]} queue)"
        age = ages[name]
        if not redis_ok:
            checks.append(Check(label, False, "unknown: Redis, which holds heartbeats, is down"))
        elif age is None:
            checks.append(Check(label, False, "no heartbeat ever seen: is it running?"))
        elif age > limit:
            checks.append(Check(label, False, f"no heartbeat for {age:.0f} s", age))
        else:
            checks.append(Check(label, True, f"last heartbeat {age:.0f} s ago", age))
    return checks


def queue_depths() -> dict[str, int | None]:
    """Messages waiting in each worker queue (None: the broker did not answer). A queue the
    broker does not know yet (no worker or producer declared it) holds nothing."""
    depths: dict[str, int | None] = dict.fromkeys(WORKER_QUEUES)
    try:
        with current_app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            for queue in WORKER_QUEUES:
                channel = conn.channel()
                try:
                    depths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
                except conn.channel_errors:
                    depths[queue] = 0
                finally:
                    channel.close()
    except Exception:  # a broker that is down or refuses us: depths stay unknown
        return dict.fromkeys(WORKER_QUEUES)
    return depths


def stats() -> dict:
    now = timezone.now()
    since = now - timedelta(hours=24)
    try:
        with statement_timeout(STATS_QUERY_TIMEOUT_MS):
            rows = (
                Event.objects.filter(inserted__gte=since)
                .annotate(hour=TruncHour("inserted"))
                .values("hour", "type")
                .annotate(count=CountOf("id"))
                .order_by("hour", "type")
            )
            hourly = [
                {"hour": row["hour"].isoformat(), "type": row["type"], "count": row["count"]}
                for row in rows
            ]
    except DatabaseError:
        hourly = None
    profiles = bounded_count(Profile.objects.all(), cap=100_000)
    failed = bounded_count(Delivery.objects.filter(status=Delivery.Status.FAILED), cap=100_000)
    return {
        "events_per_hour": hourly,
        "profiles": {"count": profiles.value, "kind": profiles.kind},
        "queue_depth": queue_depths(),
        "failed_deliveries": {"count": failed.value, "kind": failed.kind},
        "at": now.isoformat(),
    }
