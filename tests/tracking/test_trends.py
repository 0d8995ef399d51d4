"""The admin's trend charts: daily figures counted per app and stored (apps.tracking.trends),
and the index page that draws them."""

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache

from apps.core.models import DailyMetric
from apps.destinations.models import Delivery, DeliveryAttempt
from apps.tracking.templatetags.cdp_trends import CACHE_KEY
from apps.tracking.trends import daily_metrics_refresh, trends_read
from apps.workflows.models import WorkflowRun
from tests.destinations.factories import DestinationFactory
from tests.profiles.factories import ProfileFactory, SegmentFactory
from tests.sources.factories import EventSourceFactory
from tests.workflows.factories import EventFactory, WorkflowFactory

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
TODAY, YESTERDAY = date(2026, 12, 3), date(2026, 12, 2)


def _events(count: int, *, at: datetime, **fields) -> None:
    for _ in range(count):
        EventFactory(inserted=at, time=at, **fields)


def _run(status: str, at: datetime, workflow) -> None:
    WorkflowRun.objects.create(
        workflow=workflow,
        workflow_version=1,
        event_ref=str(uuid.uuid4()),
        event_type="page-view",
        status=status,
        started=at,
        duration_ms=1.0,
    )


def _attempt(destination, outcome: str, at: datetime, *, is_test: bool = False) -> None:
    profile = ProfileFactory()
    delivery = Delivery.objects.create(
        destination=destination,
        profile=profile,
        due_at=at,
        first_change_at=at,
        latest_due_at=at,
        created=at,
        updated=at,
        is_test=is_test,
    )
    DeliveryAttempt.objects.create(
        delivery=delivery,
        destination=destination,
        number=1,
        started=at,
        outcome=outcome,
        is_test=is_test,
    )


@pytest.fixture
def traffic():
    web = EventSourceFactory(name="Web")
    shop = EventSourceFactory(name="Shop")
    _events(3, at=NOW - timedelta(hours=1), type="page-view", source=web)
    _events(2, at=NOW - timedelta(hours=2), type="purchase", source=shop)
    _events(1, at=NOW - timedelta(hours=3), type="profile-created", source=web)
    _events(2, at=NOW - timedelta(hours=3), type="visit-started", source=web)
    _events(4, at=NOW - timedelta(days=1), type="page-view", source=web)
    _events(1, at=NOW - timedelta(days=20), type="page-view", source=web)  # out of the window
    workflow = WorkflowFactory(name="Score")
    _run("ok", NOW - timedelta(hours=1), workflow)
    _run("ok", NOW - timedelta(days=1), workflow)
    _run("error", NOW - timedelta(days=1), workflow)
    crm = DestinationFactory(name="CRM")
    for outcome in ("sent", "sent", "sent", "failed", "retry", "in_flight"):
        _attempt(crm, outcome, NOW - timedelta(hours=1))
    _attempt(crm, "sent", NOW - timedelta(hours=1), is_test=True)  # a test send: not traffic
    vip = SegmentFactory(name="VIP", slug="vip")
    SegmentFactory(name="Empty", slug="empty")
    ProfileFactory.create_batch(2, segments=["vip"])
    ProfileFactory(segments=["vip", "gone"])
    return {"web": web, "shop": shop, "crm": crm, "vip": vip}


def _figures(day: date, name: str) -> dict[str, int]:
    return dict(DailyMetric.objects.filter(day=day, name=name).values_list("dimension", "value"))


def test_the_refresh_counts_each_day_per_app_and_fills_the_window_once(traffic, settings):
    settings.TIME_ZONE = "UTC"
    counted = daily_metrics_refresh(now=NOW)

    assert counted == [TODAY - timedelta(days=n) for n in range(13, -1, -1)]
    assert _figures(TODAY, "events.type") == {
        "page-view": 3,
        "purchase": 2,
        "profile-created": 1,
        "visit-started": 2,
    }
    assert _figures(YESTERDAY, "events.type") == {"page-view": 4}
    assert _figures(TODAY, "events.source") == {
        str(traffic["web"].pk): 6,
        str(traffic["shop"].pk): 2,
    }
    assert _figures(TODAY, "workflow.runs") == {"ok": 1}
    assert _figures(YESTERDAY, "workflow.runs") == {"ok": 1, "error": 1}
    crm = traffic["crm"].pk
    assert _figures(TODAY, "delivery.attempts") == {
        f"{crm}|sent": 3,
        f"{crm}|failed": 1,
        f"{crm}|retry": 1,
        f"{crm}|in_flight": 1,
    }
    assert _figures(TODAY, "segment.members") == {"vip": 3, "empty": 0}
    assert not DailyMetric.objects.filter(day__lt=TODAY - timedelta(days=13)).exists()

    # Later refreshes count today and yesterday again, and days never counted (no events).
    _events(1, at=NOW - timedelta(minutes=5), type="page-view", source=traffic["web"])
    again = daily_metrics_refresh(now=NOW)
    assert YESTERDAY in again and TODAY in again
    assert TODAY - timedelta(days=5) in again  # still nothing counted that day
    assert _figures(TODAY, "events.type")["page-view"] == 4


def test_trends_read_back_the_figures_for_the_charts(traffic, settings):
    settings.TIME_ZONE = "UTC"
    daily_metrics_refresh(now=NOW)

    trends = trends_read(now=NOW, top_types=1)

    assert trends.days[0] == TODAY - timedelta(days=13) and trends.days[-1] == TODAY
    assert [(s.label, s.values[-2:], s.link) for s in trends.event_types] == [
        ("page-view", [4, 3], "type=page-view"),
        ("other", [0, 2], ""),
    ]
    assert [(s.label, s.values[-1]) for s in trends.visitors] == [
        ("new profiles", 1),
        ("returning visits", 1),
    ]
    assert [(s.label, s.values[-2:]) for s in trends.runs] == [
        ("completed", [1, 1]),
        ("error", [1, 0]),
    ]
    # Sizes are snapshots: their history starts at the first refresh.
    assert [(s.label, s.values, s.link) for s in trends.segments] == [
        ("VIP", [3], "segment=vip"),
        ("Empty", [0], "segment=empty"),
    ]
    [crm] = trends.destinations
    assert (crm.name, crm.sent, crm.failed, crm.rate) == ("CRM", 3, 2, 60)


def test_the_index_page_draws_the_charts_with_links_to_the_lists(client, traffic, settings):
    settings.TIME_ZONE = "UTC"
    daily_metrics_refresh()
    cache.delete(CACHE_KEY)
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))

    page = client.get("/admin/").content.decode()

    assert 'id="trend-charts"' in page
    assert '<a href="/admin/events/event/?type=page-view">page-view</a> (7)' in page
    assert '<a href="/admin/workflows/workflowrun/?status__exact=error">error</a> (1)' in page
    assert '<a href="/admin/profiles/profile/?segment=vip">VIP</a>' in page
    assert '<td class="cdp-number" data-figure="segment-vip">3</td>' in page
    assert page.count("history from today") == 2
    crm = traffic["crm"].pk
    assert (
        f'<a href="/admin/destinations/delivery/?destination__id__exact={crm}&amp;'
        'status__exact=failed">2</a>' in page
    )
    assert '<i style="width: 60%"></i></span> 60%' in page


def test_before_the_first_refresh_the_page_says_when_figures_come(client):
    cache.delete(CACHE_KEY)
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    page = client.get("/admin/").content.decode()
    assert "No figures yet: they are counted every ten minutes" in page


def test_beat_refreshes_the_figures_every_ten_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["tracking-daily-metrics"]
    assert (entry["task"], entry["schedule"]) == ("tracking.daily_metrics_refresh", 600.0)


def test_a_segment_with_days_of_history_gets_its_line(client, settings):
    settings.TIME_ZONE = "UTC"
    SegmentFactory(name="VIP", slug="vip")
    today = date.today()
    for days_ago, members in ((2, 10), (1, 15), (0, 20)):
        DailyMetric.objects.create(
            day=today - timedelta(days=days_ago),
            name="segment.members",
            dimension="vip",
            value=members,
        )
    DailyMetric.objects.create(day=today, name="events.type", dimension="page-view", value=1)
    assert [(s.label, s.values) for s in trends_read().segments] == [("VIP", [10, 15, 20])]
    cache.delete(CACHE_KEY)
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    page = client.get("/admin/").content.decode()
    assert '<polyline points="0.0,12.0 70.0,6.5 140.0,1.0"' in page
