import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.admin import site
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.core.paginator import LargeTablePaginator
from apps.events.admin import parse_before
from apps.events.models import Event, EventType
from apps.events.selectors import event_type_caches_clear, event_type_key_properties
from apps.events.services import event_type_save
from tests.admin.factories import EventFactory, ProfileFactory, SessionFactory
from tests.sources.factories import EventSourceFactory
from tests.support.partitions import scanned_parent_indexes

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
    ("params", "bounded_counts"),
    [
        ({}, 1),
        ({"status": "invalid"}, 0),
        ({"type": "page-view"}, 1),
        ({"q": "p1"}, 1),
        ({"source__id__exact": "web"}, 1),
    ],
)
def test_changelist_never_counts_the_whole_events_table(
    staff_client, events, monkeypatch, params, bounded_counts
):
    monkeypatch.setattr(site._registry[Event], "list_per_page", 1)

    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(CHANGELIST, params)

    assert response.status_code == 200
    counts = _event_counts(queries.captured_queries)
    # One bounded count (a LIMIT inside the COUNT) and no other count over events; none when
    # the first page's rows (read first, one more than a page) are all the rows.
    assert len(counts) == bounded_counts
    assert all(re.search(r"LIMIT 10001\) subquery", count) for count in counts)


def test_a_list_of_one_page_is_read_once(staff_client, events):
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(CHANGELIST, {"type": "page-view"})

    event_queries = [q["sql"] for q in queries.captured_queries if '"events_event"' in q["sql"]]
    assert _result_ids(response) == ["e-bad", "e-view"]
    assert response.context["cl"].result_count == 2
    assert len(event_queries) == 1
    assert event_queries[0].endswith("LIMIT 101")


def test_unfiltered_list_past_the_cap_shows_the_table_estimate(staff_client, events, monkeypatch):
    monkeypatch.setattr(LargeTablePaginator, "count_cap", 2)
    monkeypatch.setattr(site._registry[Event], "list_per_page", 2)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE events_event")

    response = staff_client.get(CHANGELIST)

    assert response.context["cl"].result_count == 4
    assert response.context["cl"].paginator.count_kind == "estimate"
    assert "about 4 events" in response.content.decode()


def test_filtered_list_past_the_cap_says_more_than(staff_client, events, monkeypatch):
    monkeypatch.setattr(LargeTablePaginator, "count_cap", 2)
    monkeypatch.setattr(site._registry[Event], "list_per_page", 2)

    response = staff_client.get(CHANGELIST, {"source__id__exact": "web"})

    assert response.context["cl"].paginator.count_kind == "more"
    assert _result_ids(response) == ["e-anon", "e-bad"]
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


# ---- issue 15: find and see -----------------------------------------------------------------

NOW = timezone.now()


def _at(**delta) -> datetime:
    return NOW - timedelta(**delta)


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 2 and an exact count up to 4: page numbers stop at page 2."""
    monkeypatch.setattr(LargeTablePaginator, "count_cap", 4)
    monkeypatch.setattr(site._registry[Event], "list_per_page", 2)


@pytest.fixture
def stream():
    """Processed page views stored a minute apart (pv-0 the newest), with others between; pv-3
    and pv-3b stored in the same request (the same time)."""
    web = EventSourceFactory(id="web", name="Web")
    rows = {}
    for n in range(8):
        rows[f"pv-{n}"] = EventFactory(
            id=f"pv-{n}", source=web, type="page-view", status="processed", inserted=_at(minutes=n)
        )
        rows[f"x-{n}"] = EventFactory(
            id=f"x-{n}", source=web, type="purchase", status="processed", inserted=_at(minutes=n)
        )
        rows[f"err-{n}"] = EventFactory(
            id=f"err-{n}", source=web, type="page-view", status="error", inserted=_at(minutes=n)
        )
    rows["pv-3b"] = EventFactory(
        id="pv-3b", source=web, type="page-view", status="processed", inserted=_at(minutes=3)
    )
    return rows


def _older_link(response) -> str:
    match = re.search(r'<a href="([^"]+)" class="cdp-older"', response.content.decode())
    assert match, "no Older link"
    return html.unescape(match[1])


def test_older_link_continues_past_the_last_page_with_the_same_filters(
    staff_client, stream, small_pages
):
    filters = {"status__exact": "processed", "type": "page-view"}

    first = staff_client.get(CHANGELIST, filters)
    last_page = staff_client.get(CHANGELIST, {**filters, "p": "2"})

    assert _result_ids(first) == ["pv-0", "pv-1"]
    assert first.context["cl"].paginator.count_kind == "more"
    assert 'class="cdp-older"' not in first.content.decode()  # page numbers go on
    assert _result_ids(last_page) == ["pv-2", "pv-3b"]
    older_url = _older_link(last_page)
    query = parse_qs(urlsplit(older_url).query)
    assert query == {
        "before": [f"{_at(minutes=3).astimezone(UTC).isoformat()},pv-3b"],
        "status__exact": ["processed"],
        "type": ["page-view"],
    }

    older = staff_client.get(CHANGELIST + older_url)

    # pv-3, stored in the same request as pv-3b, is not skipped.
    assert _result_ids(older) == ["pv-3", "pv-4"]
    assert 'class="cdp-newest"' in older.content.decode()
    older_still = staff_client.get(
        CHANGELIST + _older_link(staff_client.get(CHANGELIST + older_url + "&p=2"))
    )
    assert _result_ids(older_still) == ["pv-7"]
    assert 'class="cdp-older"' not in older_still.content.decode()  # the end: an exact count


def test_a_page_past_the_end_keeps_the_filters(staff_client, stream, small_pages):
    response = staff_client.get(
        CHANGELIST, {"status__exact": "error", "type": "page-view", "p": "101"}
    )

    assert response.status_code == 200
    cl = response.context["cl"]
    assert cl.page_num == 2
    assert _result_ids(response) == ["err-2", "err-3"]
    assert [str(message) for message in response.context["messages"]] == [
        "There is no page 101 of this list: showing page 2, the last one, with the same filters."
    ]


def test_a_page_past_the_end_of_an_exact_list(staff_client, stream):
    response = staff_client.get(CHANGELIST, {"status__exact": "error", "p": "3"})

    assert response.status_code == 200
    assert _result_ids(response) == [f"err-{n}" for n in range(8)]


@pytest.fixture
def ages():
    web = EventSourceFactory(id="web", name="Web")
    for name, delta in [
        ("30min", {"minutes": 30}),
        ("2h", {"hours": 2}),
        ("3d", {"days": 3}),
        ("10d", {"days": 10}),
        ("40d", {"days": 40}),
    ]:
        EventFactory(id=f"age-{name}", source=web, inserted=_at(**delta), time=_at(**delta))


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("1h", ["age-30min"]),
        ("24h", ["age-30min", "age-2h"]),
        ("7d", ["age-30min", "age-2h", "age-3d"]),
        ("30d", ["age-30min", "age-2h", "age-3d", "age-10d"]),
    ],
)
def test_stored_in_filter(staff_client, ages, stored, expected):
    assert _result_ids(staff_client.get(CHANGELIST, {"stored": stored})) == expected


def test_go_to_date(staff_client, ages):
    day = timezone.localtime(_at(days=5)).strftime("%Y-%m-%dT%H:%M")

    response = staff_client.get(CHANGELIST, {"before": day, "type": "page-view"})

    assert _result_ids(response) == ["age-10d", "age-40d"]
    before_filter = next(
        s for s in response.context["cl"].filter_specs if s.title == "stored before"
    )
    assert before_filter.lookup_choices == [(day, f"{day.replace('T', ' ')}:00 (UTC)")]


def test_go_to_date_form_keeps_the_other_filters(staff_client, ages):
    response = staff_client.get(
        CHANGELIST, {"status__exact": "processed", "type": "page-view", "stored": "7d", "p": "1"}
    )

    form = re.search(
        r'<form method="get" class="cdp-goto">(.*?)</form>', response.content.decode(), re.S
    )[1]
    assert re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]+)">', form) == [
        ("status__exact", "processed"),
        ("type", "page-view"),
    ]
    assert 'name="before"' in form


def test_a_date_that_is_not_one_is_said_and_ignored(staff_client, ages):
    response = staff_client.get(CHANGELIST, {"before": "yesterday", "stored": "1h"})

    assert response.status_code == 200
    assert _result_ids(response) == ["age-30min"]
    assert [str(message) for message in response.context["messages"]] == [
        "“yesterday” is not a date and time (e.g. 2026-12-01 or 2026-12-01T14:30): the list is "
        "not narrowed by it."
    ]


@pytest.fixture
def orders():
    web = EventSourceFactory(id="web", name="Web")
    for event_id, delta, properties in [
        ("o-new", {"days": 1}, {"order_id": "A-1001", "total": 19.99}),
        ("o-old", {"days": 10}, {"order_id": "A-1001", "total": 5}),
        ("o-other", {"days": 2}, {"order_id": "A-1002", "customer": {"email": "ann@example.com"}}),
        ("o-mail", {"days": 3}, {"email": "ann@example.com"}),
    ]:
        EventFactory(
            id=event_id, source=web, type="purchase", inserted=_at(**delta), properties=properties
        )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "order_id=A-1001"}, ["o-new"]),  # the last 7 days
        ({"q": " order_id = A-1001 "}, []),  # a key has no spaces
        ({"q": 'order_id="A-1001"', "stored": "30d"}, ["o-new", "o-old"]),
        ({"q": "order_id=A-1001", "stored": "1h"}, []),
        ({"q": "order_id=A-1001", "before": _at(days=5).isoformat()}, ["o-old"]),
        ({"q": "total=19.99"}, ["o-new"]),
        ({"q": "email=ann@example.com"}, ["o-mail"]),
        ({"q": "customer.email=ann@example.com"}, ["o-other"]),
        ({"q": "o-new"}, ["o-new"]),  # an exact id, in any period
        ({"q": "o-old"}, ["o-old"]),
    ],
)
def test_property_search(staff_client, orders, params, expected):
    assert _result_ids(staff_client.get(CHANGELIST, params)) == expected


def test_search_help_text_says_the_window(staff_client):
    response = staff_client.get(CHANGELIST)

    assert response.context["cl"].search_help_text == (
        "An exact event id, profile id or session id; or a property as key=value "
        "(order_id=A-1001, email=ann@example.com) or an indexed trait as traits.name=value "
        "(traits.order_total=19.99), looked for among the events stored in the "
        'period chosen under "Stored in" (the last 7 days when none is chosen).'
    )


@pytest.fixture(autouse=True)
def _fresh_type_caches():
    types = ("page-view", "purchase", "signup")
    for event_type in types:
        event_type_caches_clear(event_type)
    yield
    for event_type in types:
        event_type_caches_clear(event_type)


def _headers(response) -> list[str]:
    head = re.search(r'<table id="result_list">(.*?)</thead>', response.content.decode(), re.S)[1]
    return [
        re.sub(r"<[^>]+>", "", header).strip()
        for header in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', head, re.S)
    ]


def test_key_property_columns_from_the_schema(staff_client, orders):
    EventType.objects.update_or_create(
        type="purchase",
        defaults={
            "name": "Purchase",
            "json_schema": {
                "type": "object",
                "required": ["total", "order_id"],
                "properties": {
                    "order_id": {"type": "string"},
                    "currency": {"type": "string"},
                    "total": {"type": "number"},
                    "items": {"type": "array"},
                    "coupon": {"type": "string"},
                },
            },
        },
    )

    response = staff_client.get(CHANGELIST, {"type": "purchase", "stored": "7d"})

    # Required first, then jsonb's key order (by length, then by name); time, source and
    # session make room for them.
    assert _headers(response) == [
        "", "Inserted", "Total", "Order_id", "Items", "Profile", "Status", "Bot"
    ]  # fmt: skip
    content = response.content.decode()
    assert '<td class="field-property_total"><span title="19.99">19.99</span></td>' in content
    assert '<td class="field-property_order_id"><span title="A-1001">A-1001</span></td>' in content
    assert '<td class="field-property_items">-</td>' in content


def test_key_property_columns_from_recent_events_in_one_query_per_page(staff_client):
    web = EventSourceFactory(id="web", name="Web")
    EventFactory(id="s-0", source=web, type="signup", properties={"email": "a@x", "plan": "pro"})
    for n in range(1, 4):
        EventFactory(
            id=f"s-{n}",
            source=web,
            type="signup",
            properties={"email": f"{n}@x", "referrer": {"nested": 1}, "long": "y" * 60},
        )
    staff_client.get(CHANGELIST, {"type": "signup"})  # warm the session and the caches

    with CaptureQueriesContext(connection) as few:
        response = staff_client.get(CHANGELIST, {"type": "signup"})
    for n in range(4, 30):
        EventFactory(id=f"s-{n}", source=web, type="signup", properties={"email": f"{n}@x"})
    with CaptureQueriesContext(connection) as many:
        staff_client.get(CHANGELIST, {"type": "signup"})

    # Commonest scalar keys first, then by name; the nested one is left out.
    assert _headers(response)[2:6] == ["Email", "Long", "Plan", "Profile"]
    assert len(many.captured_queries) == len(few.captured_queries)
    assert (
        '<td class="field-property_long"><span title="' + "y" * 60 + '">' + "y" * 39 + "…</span>"
    ) in response.content.decode()


def test_trend_per_day_of_a_type(staff_client):
    web = EventSourceFactory(id="web", name="Web")
    today = timezone.localdate()
    midnight = datetime.combine(today, datetime.min.time(), tzinfo=timezone.get_current_timezone())
    for event_id, day, event_type in [
        ("t-1", 0, "page-view"),
        ("t-2", 1, "page-view"),
        ("t-3", 1, "page-view"),
        ("t-4", 29, "page-view"),
        ("t-5", 30, "page-view"),  # before the 30 days
        ("t-6", 1, "purchase"),
    ]:
        at = midnight - timedelta(days=day) + timedelta(minutes=1)
        EventFactory(id=event_id, source=web, type=event_type, time=at, inserted=at)

    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(CHANGELIST, {"type": "page-view"})

    trend = response.context["type_trend"]
    counts = {bar["day"]: bar["count"] for bar in trend["bars"]}
    assert len(counts) == 30
    assert {day: count for day, count in counts.items() if count} == {
        today: 1,
        today - timedelta(days=1): 2,
        today - timedelta(days=29): 1,
    }
    assert (trend["first"], trend["last"], trend["total"], trend["peak"]) == (
        today - timedelta(days=29),
        today,
        4,
        2,
    )
    content = response.content.decode()
    assert re.findall(r'data-count="(\d+)"', content) == [
        "1", *["0"] * 27, "2", "1"
    ]  # fmt: skip
    assert "page-view</strong>: 4 events in the last 30 days" in content
    trend_queries = [q["sql"] for q in queries.captured_queries if "GROUP BY day" in q["sql"]]
    assert len(trend_queries) == 1
    assert "type_trend" not in staff_client.get(CHANGELIST).context


def test_the_filters_indexes(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events_event' "
            "AND indexname IN ('event_error_inserted', 'event_bot_inserted') ORDER BY indexname"
        )
        assert cursor.fetchall() == [
            (
                "event_bot_inserted",
                "CREATE INDEX event_bot_inserted ON ONLY public.events_event USING btree "
                "(inserted DESC) WHERE is_bot",
            ),
            (
                "event_error_inserted",
                "CREATE INDEX event_error_inserted ON ONLY public.events_event USING btree "
                "(inserted DESC) WHERE ((status)::text = 'error'::text)",
            ),
        ]


@pytest.mark.parametrize(
    ("params", "index"),
    [
        ({"status__exact": "error"}, "event_error_inserted"),
        ({"is_bot__exact": "1"}, "event_bot_inserted"),
    ],
)
def test_the_filters_queries_use_their_index(staff_client, stream, small_pages, params, index):
    Event.objects.filter(id__startswith="err-").update(is_bot=True)  # more than a page
    with CaptureQueriesContext(connection) as queries:
        staff_client.get(CHANGELIST, params)
    event_queries = [
        q["sql"] for q in queries.captured_queries if 'FROM "events_event"' in q["sql"]
    ]
    page = next(sql for sql in event_queries if "ORDER BY" in sql)
    count = next(sql for sql in event_queries if "COUNT(" in sql)

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in (page, count):
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert scanned_parent_indexes(plan) == {index}, plan


def test_page_zero_shows_the_first_page(staff_client, stream, small_pages):
    response = staff_client.get(CHANGELIST, {"type": "purchase", "p": "0"})

    assert response.status_code == 200
    assert _result_ids(response) == ["x-0", "x-1"]
    assert [str(message) for message in response.context["messages"]] == [
        "There is no page 0 of this list: showing page 1, the first one, with the same filters."
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-01", (datetime(2026, 12, 1, tzinfo=UTC), None)),
        ("2026-12-01T14:30", (datetime(2026, 12, 1, 14, 30, tzinfo=UTC), None)),
        (
            "2026-12-01T14:30:05.123456+01:00,ev-1,2",
            (datetime(2026, 12, 1, 13, 30, 5, 123456, tzinfo=UTC), "ev-1,2"),
        ),
        ("2026-13-01", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_parse_before(value, expected):
    assert parse_before(value) == expected


def test_a_schema_edit_changes_the_key_property_columns_at_once():
    event_type_caches_clear("order-placed")  # the cache outlives the test database
    event_type = EventType.objects.create(
        type="order-placed",
        name="Order placed",
        json_schema={"type": "object", "required": ["order_id"], "properties": {"order_id": {}}},
    )
    assert event_type_key_properties("order-placed") == ["order_id"]

    event_type.json_schema = {
        "type": "object",
        "required": ["total"],
        "properties": {"total": {}, "order_id": {}},
    }
    event_type_save(event_type=event_type)

    assert event_type_key_properties("order-placed") == ["total", "order_id"]


def test_change_page_shows_the_events_hit(staff_client, events):
    event = events["view"]
    event.hit = {"name": "Sun glasses", "url": "https://shop.example/g", "referer": "news.example"}
    event.save()

    response = staff_client.get(reverse("admin:events_event_change", args=["e-view"]))

    content = response.content.decode()
    assert "<label>Hit (the page):</label>" in content
    assert (
        '<pre class="cdp-json">{\n  &quot;name&quot;: &quot;Sun glasses&quot;,\n'
        "  &quot;referer&quot;: &quot;news.example&quot;,\n"
        "  &quot;url&quot;: &quot;https://shop.example/g&quot;\n}</pre>"
    ) in content
