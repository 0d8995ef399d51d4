from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from apps.core.db import statement_timeout
from apps.core.paginator import Count
from apps.events.dashboard import traffic_summary
from tests.admin.factories import EventFactory, ProfileFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 10, 14, 30, tzinfo=UTC)


def at(hours_before_now: float) -> datetime:
    return NOW - timedelta(hours=hours_before_now)


@pytest.fixture
def traffic():
    """Eight events stored within the 24 h window (from 2025-06-09 15:00 on), two outside."""
    profile = ProfileFactory()
    ProfileFactory.create_batch(3)

    def event(event_type, when, status="processed"):
        return EventFactory(
            type=event_type, time=when, status=status, profile=profile, session=None
        )

    event("page-view", NOW.replace(minute=5), "collected")
    event("page-view", NOW.replace(minute=6), "collected")
    event("page-view", NOW.replace(minute=7))
    event("session-opened", NOW.replace(minute=0))
    event("bad", NOW.replace(hour=13, minute=0), "invalid")
    event("bad", NOW.replace(hour=13, minute=59), "invalid")
    event("purchase", NOW.replace(hour=12, minute=10), "error")
    event("session-opened", NOW.replace(hour=9))
    event("session-opened", NOW.replace(day=9, hour=10))  # yesterday, before the window
    event("page-view", at(30), "collected")  # before the window, still waiting


def test_traffic_summary_exact_figures(traffic, django_assert_num_queries):
    with django_assert_num_queries(5):
        summary = traffic_summary(now=NOW)

    assert summary.events_in_window == 8
    assert summary.by_status == {"collected": 2, "processed": 3, "invalid": 2, "error": 1}
    assert summary.collected_backlog == Count(3, "exact")
    assert summary.invalid_total == Count(2, "exact")
    assert summary.profiles == Count(4, "exact")
    assert summary.sessions_opened_today == 2
    assert summary.types == ["page-view", "bad", "session-opened", "purchase"]
    assert len(summary.hours) == 24
    assert summary.hours[0].start == datetime(2025, 6, 9, 15, tzinfo=UTC)
    assert summary.hours[-1].start == datetime(2025, 6, 10, 14, tzinfo=UTC)
    by_hour = {hour.start.hour: hour.by_type for hour in summary.hours if hour.total}
    assert by_hour == {
        9: {"session-opened": 1},
        12: {"purchase": 1},
        13: {"bad": 2},
        14: {"page-view": 3, "session-opened": 1},
    }


def test_traffic_summary_of_an_empty_database(db):
    summary = traffic_summary(now=NOW)

    assert summary.events_in_window == 0
    assert summary.by_status == {"collected": 0, "processed": 0, "invalid": 0, "error": 0}
    assert summary.profiles == Count(0, "exact")
    assert [hour.total for hour in summary.hours] == [0] * 24


def test_statement_timeout_cancels_a_slow_query(db):
    with pytest.raises(OperationalError), statement_timeout(20), connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(1)")


def _figure(content: str, name: str) -> str:
    marker = f'data-figure="{name}">'
    start = content.index(marker) + len(marker)
    return content[start : content.index("<", start)]


def test_index_page_shows_the_dashboard_with_exact_numbers(staff_client):
    now = timezone.now()
    profile = ProfileFactory()
    ProfileFactory()
    for status in ("collected", "collected", "processed", "invalid", "error", "error", "error"):
        EventFactory(type="page-view", status=status, profile=profile, session=None, time=now)
    EventFactory(type="session-opened", status="processed", profile=profile, session=None, time=now)
    EventFactory(type="signup", status="invalid", time=now - timedelta(days=3))

    response = staff_client.get(reverse("admin:index"))

    content = response.content.decode()
    assert response.status_code == 200
    assert _figure(content, "events-24h") == "8"
    assert _figure(content, "status-collected") == "2"
    assert _figure(content, "status-processed") == "2"
    assert _figure(content, "status-invalid") == "1"
    assert _figure(content, "status-error") == "3"
    assert _figure(content, "collected-backlog") == "2"
    assert _figure(content, "invalid-total") == "2"
    assert _figure(content, "profiles") == "3"  # two here and one for the old signup event
    assert _figure(content, "sessions-today") == "1"
    assert "<title>" in content  # the chart's bars
    # The default index stays below the dashboard.
    assert reverse("admin:events_event_changelist") in content
    assert 'id="recent-actions-module"' in content


def test_dashboard_is_cached_briefly(staff_client):
    EventFactory(status="error")
    staff_client.get(reverse("admin:index"))
    EventFactory(status="error")

    response = staff_client.get(reverse("admin:index"))

    assert _figure(response.content.decode(), "status-error") == "1"


def test_staff_without_event_permission_sees_no_dashboard(client, db):
    user = get_user_model().objects.create_user(username="staff", is_staff=True)
    client.force_login(user)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert 'id="traffic-dashboard"' not in response.content.decode()
