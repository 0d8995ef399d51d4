import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.paginator import (
    Count,
    FirstPageFirstPaginator,
    LargeTablePaginator,
    bounded_count,
    table_row_estimate,
)
from apps.events.models import Event
from tests.admin.factories import EventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_events():
    return [EventFactory(type="a" if n < 2 else "b") for n in range(5)]


def _analyze():
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE events_event")


def test_exact_up_to_the_cap(five_events):
    assert bounded_count(Event.objects.all(), cap=5) == Count(5, "exact")
    assert bounded_count(Event.objects.filter(type="a"), cap=2) == Count(2, "exact")


def test_filtered_past_the_cap_is_a_lower_bound(five_events):
    count = bounded_count(Event.objects.filter(type="b"), cap=2)

    assert count == Count(3, "more")
    assert count.label == "more than 2"


def test_unfiltered_past_the_cap_uses_the_table_estimate(five_events):
    _analyze()

    count = bounded_count(Event.objects.all(), cap=2)

    assert count == Count(5, "estimate")
    assert count.label == "about 5"
    assert table_row_estimate(Event) == 5


def test_paginator_pages_only_up_to_the_cap(five_events, monkeypatch):
    _analyze()
    monkeypatch.setattr(LargeTablePaginator, "count_cap", 2)
    paginator = LargeTablePaginator(Event.objects.order_by("pk"), per_page=1)

    assert paginator.count == 5
    assert paginator.count_kind == "estimate"
    assert paginator.num_pages == 2
    assert len(paginator.page(2).object_list) == 1


def test_paginator_exact_count(five_events):
    paginator = LargeTablePaginator(Event.objects.order_by("pk"), per_page=2)

    assert (paginator.count, paginator.count_kind, paginator.num_pages) == (5, "exact", 3)


def test_the_bounded_count_has_no_order(five_events):
    with CaptureQueriesContext(connection) as queries:
        count = bounded_count(Event.objects.filter(type="b").order_by("-inserted", "-pk"), cap=2)

    assert count == Count(3, "more")
    assert queries.captured_queries[-1]["sql"] == (
        'SELECT COUNT(*) FROM (SELECT "events_event"."id" AS "col1" FROM "events_event" '
        """WHERE "events_event"."type" = 'b' LIMIT 3) subquery"""
    )


def test_first_page_first_paginator_counts_only_past_a_page(five_events):
    with CaptureQueriesContext(connection) as one_page:
        paginator = FirstPageFirstPaginator(Event.objects.order_by("pk"), per_page=5)
        rows = list(paginator.page(1).object_list)
    with CaptureQueriesContext(connection) as more:
        more_pages = FirstPageFirstPaginator(Event.objects.order_by("pk"), per_page=2)
        first = list(more_pages.page(1).object_list)

    assert (paginator.count, paginator.count_kind, len(rows)) == (5, "exact", 5)
    assert len(one_page.captured_queries) == 1  # the rows, no COUNT
    assert (more_pages.count, more_pages.num_pages) == (5, 3)
    assert first == sorted(five_events, key=lambda event: event.pk)[:2]
    assert len(more.captured_queries) == 2  # three rows, then the bounded count
