import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.core.paginator import LargeTablePaginator
from tests.admin.factories import EventFactory, ProfileFactory, SessionFactory
from tests.sources.factories import EventSourceFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:events_event_changelist")


def _result_ids(response) -> list[str]:
    return [str(event.pk) for event in response.context["cl"].result_list]


def _event_counts(queries) -> list[str]:
    return [
        query["sql"]
        for query in queries
        if "COUNT(" in query["sql"].upper() and '"events_event"' in query["sql"]
    ]


@pytest.fixture
def events():
    web = EventSourceFactory(id="web", name="Web")
    app = EventSourceFactory(id="app", name="App")
    profile = ProfileFactory(id="p1")
    session = SessionFactory(id="s1", profile=profile)
    return {
        "view": EventFactory(
            id="e-view", type="page-view", source=web, profile=profile, session=session
        ),
        "buy": EventFactory(
            id="e-buy",
            type="purchase",
            source=app,
            profile=profile,
            session=session,
            status="processed",
        ),
        "bad": EventFactory(
            id="e-bad", type="page-view", source=web, status="invalid", is_bot=True
        ),
        "anon": EventFactory(id="e-anon", type="signup", source=web, profile=None, session=None),
    }


@pytest.mark.parametrize(
    "params",
    [{}, {"status": "invalid"}, {"type": "page-view"}, {"q": "p1"}, {"source__id__exact": "web"}],
)
def test_changelist_never_counts_the_whole_events_table(staff_client, events, params):
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(CHANGELIST, params)

    assert response.status_code == 200
    counts = _event_counts(queries.captured_queries)
    # One bounded count (a LIMIT inside the COUNT) and no other count over events.
    assert len(counts) == 1
    assert re.search(r"LIMIT 10001\) subquery", counts[0])


def test_unfiltered_list_past_the_cap_shows_the_table_estimate(staff_client, events, monkeypatch):
    monkeypatch.setattr(LargeTablePaginator, "count_cap", 2)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE events_event")

    response = staff_client.get(CHANGELIST)

    assert response.context["cl"].result_count == 4
    assert response.context["cl"].paginator.count_kind == "estimate"
    assert "about 4 events" in response.content.decode()


def test_filtered_list_past_the_cap_says_more_than(staff_client, events, monkeypatch):
    monkeypatch.setattr(LargeTablePaginator, "count_cap", 2)

    response = staff_client.get(CHANGELIST, {"source__id__exact": "web"})

    assert response.context["cl"].paginator.count_kind == "more"
    assert len(_result_ids(response)) == 3
    content = response.content.decode()
    assert "more than 2 events" in content
    assert "more than 2 results" in content


def test_newest_stored_first(staff_client, events):
    response = staff_client.get(CHANGELIST)

    assert _result_ids(response) == ["e-anon", "e-bad", "e-buy", "e-view"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "invalid"}, ["e-bad"]),
        ({"type": "page-view"}, ["e-bad", "e-view"]),
        ({"source__id__exact": "app"}, ["e-buy"]),
        ({"is_bot__exact": "1"}, ["e-bad"]),
        ({"profile": "p1"}, ["e-buy", "e-view"]),
        ({"session": "s1"}, ["e-buy", "e-view"]),
        ({"q": "e-anon"}, ["e-anon"]),
        ({"q": " p1 "}, ["e-buy", "e-view"]),
        ({"q": "s1"}, ["e-buy", "e-view"]),
        ({"q": "p"}, []),
    ],
)
def test_filters_and_exact_search(staff_client, events, params, expected):
    response = staff_client.get(CHANGELIST, params)

    assert response.status_code == 200
    assert _result_ids(response) == expected


def test_type_filter_lists_the_distinct_types(staff_client, events):
    response = staff_client.get(CHANGELIST)

    type_filter = next(spec for spec in response.context["cl"].filter_specs if spec.title == "type")
    assert type_filter.lookup_choices == [
        ("page-view", "page-view"),
        ("purchase", "purchase"),
        ("signup", "signup"),
    ]


def test_list_rows_need_no_query_per_row(staff_client, events):
    for n in range(20):
        EventFactory(id=f"more-{n}")
    staff_client.get(CHANGELIST)  # warm the session and content types

    with CaptureQueriesContext(connection) as few:
        staff_client.get(CHANGELIST, {"q": "p1"})
    with CaptureQueriesContext(connection) as many:
        staff_client.get(CHANGELIST)

    assert len(many.captured_queries) == len(few.captured_queries)


def test_change_page_is_read_only_with_readable_json(staff_client, events):
    event = events["view"]
    event.properties = {"page": {"url": "/a", "title": "<b>A</b>"}}
    event.save()
    url = reverse("admin:events_event_change", args=["e-view"])

    response = staff_client.get(url)

    content = response.content.decode()
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert (
        '<pre class="cdp-json">{\n  &quot;page&quot;: {\n    &quot;title&quot;: '
        "&quot;&lt;b&gt;A&lt;/b&gt;&quot;,\n    &quot;url&quot;: &quot;/a&quot;\n  }\n}</pre>"
    ) in content
    assert f'href="{reverse("admin:profiles_profile_change", args=["p1"])}"' in content
    assert f'href="{reverse("admin:profiles_session_change", args=["s1"])}"' in content
    assert staff_client.post(url, {"type": "changed"}).status_code == 403
    assert staff_client.get(reverse("admin:events_event_add")).status_code == 403
    event.refresh_from_db()
    assert event.type == "page-view"
