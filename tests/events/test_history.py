"""Aggregates over stored events: the provider's exact values, its cache, and the SQL path of
segments agreeing with it (and with the notation's reference provider) on the same rows."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection

from apps import notation
from apps.events.history import StoredEventHistory, documents_history
from apps.events.models import Event
from apps.notation import EventListHistory, HistoryQuery
from apps.profiles.models import Profile
from apps.profiles.segment_sql import condition_sql
from tests.events.factories import EventFactory
from tests.notation.conformance import case_parameters, load_corpus
from tests.profiles.factories import ProfileFactory

pytestmark = pytest.mark.django_db

CORPUS = load_corpus("history.json")
NOW = datetime.fromisoformat(CORPUS["now"])


def _store_corpus_events(profile: Profile) -> None:
    for raw in CORPUS["events"]:
        EventFactory(
            id=f"{profile.pk}-{raw['id']}",
            profile=profile,
            type=raw["type"],
            time=datetime.fromisoformat(raw["time"]),
            properties=raw["properties"],
        )


@pytest.fixture
def buyer() -> Profile:
    profile = ProfileFactory(id="buyer")
    _store_corpus_events(profile)
    # Another profile's events are never counted.
    EventFactory(type="purchase", time=NOW, properties={"price": 1000})
    return profile


def _aggregate(profile_id: str, text: str):
    query = notation.compile_condition(f"{text} IS NULL").history[0]
    return StoredEventHistory(profile_id, now=NOW).aggregate(query)


@pytest.mark.parametrize(
    ("aggregate", "expected"),
    [
        ("count(events)", 7),
        ('count(events type "purchase")', 4),
        # e2 is exactly 7 days old: the window's start is inside it.
        ('count(events type "purchase" in last 7 days)', 3),
        ('count(events type "purchase" in last 168 hours)', 3),
        ('count(events type "purchase" in last 10079 minutes)', 2),
        ('count(events type ["purchase", "refund"] last 1 week)', 4),
        ('count(events type "checkout")', 0),
        ('sum(event@properties.price type "purchase" last 30 days)', 300.5),
        ('sum(event@properties.price type "purchase" last 29 days)', 100.5),
        ('sum(event@properties.price type "checkout")', 0),
        ('avg(event@properties.price type "purchase" last 7 days)', 50.25),
        ("min(event@properties.price)", 40),
        ("max(event@properties.price)", 200),
        ('max(event@properties.price type "checkout")', None),
        ('first(events type "page-view")@properties.url', "/basket"),
        ('last(events type "page-view")@properties.url', "/checkout"),
        ('last(events type "purchase")@properties.sku', "D"),
        ("last(events)@type", "page-view"),
        ("first(events)@id", "buyer-e1"),
        ('last(events type "purchase")@properties.missing', None),
        ('last(events type "checkout")@properties.url', None),
        ('days_since(events type "purchase")', 0.25),
        ('days_since(events type "refund")', 6.0),
        ('days_since(events type "checkout")', None),
    ],
)
def test_each_aggregate_has_its_exact_value(buyer, aggregate, expected):
    value = _aggregate(buyer.pk, aggregate)

    assert value == expected
    assert type(value) is type(expected)


def test_a_profile_without_events_and_no_profile_at_all():
    ProfileFactory(id="new")
    for history in (StoredEventHistory("new", now=NOW), StoredEventHistory(None, now=NOW)):
        assert history.aggregate(HistoryQuery("count")) == 0
        assert history.aggregate(HistoryQuery("sum", ("properties", "price"))) == 0
        assert history.aggregate(HistoryQuery("avg", ("properties", "price"))) is None
        assert history.aggregate(HistoryQuery("last", ("properties", "url"))) is None
        assert history.aggregate(HistoryQuery("days_since")) is None


def test_the_window_moves_with_now(buyer):
    query = HistoryQuery("count", (), ("purchase",), timedelta(days=7))
    just_after = NOW + timedelta(microseconds=1)

    assert StoredEventHistory(buyer.pk, now=NOW).aggregate(query) == 3
    assert StoredEventHistory(buyer.pk, now=just_after).aggregate(query) == 2


def test_each_aggregate_is_queried_once_per_provider(buyer, django_assert_num_queries):
    history = StoredEventHistory(buyer.pk, now=NOW)
    condition = (
        'count(events type "purchase" last 7 days) > 2 '
        'AND count(events type "purchase" in last 7 days) < 9 '
        'AND days_since(events type "purchase") < 1'
    )
    with django_assert_num_queries(2):
        assert notation.evaluate(condition, {}, history=history) is True
        assert notation.evaluate(condition, {}, history=history) is True
    assert history.queries == 2


def test_documents_history_reads_the_profile_of_the_documents(buyer):
    history = documents_history({"profile": {"id": buyer.pk}, "event": {}}, now=NOW)
    assert notation.evaluate('count(events type "purchase") == 4', {}, history=history)
    nobody = documents_history({"event": {}}, now=NOW)
    assert notation.evaluate("count(events) == 0", {}, history=nobody)


# STARTS WITH, and EXISTS on a path outside the profile's JSON columns, do not translate: the
# preview samples those in Python instead.
UNTRANSLATED = {
    'last(events type "page-view")@properties.url STARTS WITH "/check"',
    'NOT count(events type "purchase") < 4 AND profile@missing NOT EXISTS',
}


def _members_in_sql(condition: str) -> set[str] | None:
    translated = condition_sql(condition, now=NOW)
    if translated is None:
        return None
    where, params = translated
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {Profile._meta.db_table} WHERE {where}", params)
        return {row[0] for row in cursor.fetchall()}


def _members_in_python(condition: str, profiles: list[Profile]) -> set[str]:
    members = set()
    for profile in profiles:
        try:
            if notation.evaluate(condition, {}, history=StoredEventHistory(profile.pk, now=NOW)):
                members.add(profile.pk)
        except notation.NotationError:
            pass  # does not hold, as in segmentation
    return members


def _members_by_reference(condition: str, profiles: list[Profile]) -> set[str]:
    members = set()
    for profile in profiles:
        documents = [
            {"id": row.pk, "type": row.type, "time": row.time, "properties": row.properties}
            for row in Event.objects.filter(profile=profile)
        ]
        try:
            if notation.evaluate(condition, {}, history=EventListHistory(documents, now=NOW)):
                members.add(profile.pk)
        except notation.NotationError:
            pass
    return members


AGREEMENT_CASES = [
    case
    for case in case_parameters("history.json", "condition")
    if case.values[0]["expected"] in (True, False)
] + [
    pytest.param({"condition": condition}, id=condition)
    for condition in (
        'count(events type "purchase" in last 7 days) > 2',
        "count(events) == 0",
        'count(events type "purchase") != 4',
        'sum(event@properties.price type "purchase") >= 100',
        'sum(event@properties.price type "purchase") < 100',
        "avg(event@properties.price) == null",
        "avg(event@properties.price) IS NOT NULL",
        "max(event@properties.price) <= 60.5",
        'last(events)@properties.url == "/checkout"',
        'last(events)@properties.url != "/checkout"',
        'last(events)@properties.url > "/b"',
        'last(events type "purchase")@properties.price == "15"',
        'last(events type "purchase")@properties.price > 10',
        "days_since(events) > 0.03",
        'days_since(events type "purchase") IS NULL OR days_since(events type "purchase") > 30',
        'NOT days_since(events type "purchase") > 30',
        "last(events)@properties EMPTY",
    )
]


@pytest.mark.parametrize("case", AGREEMENT_CASES)
def test_sql_and_python_paths_agree(buyer, case):
    # Four profiles: the buyer; one with a single old purchase; one with no events; one whose
    # only event is a page view with no url.
    ProfileFactory(id="empty")
    lapsed = ProfileFactory(id="lapsed")
    EventFactory(profile=lapsed, type="purchase", time=NOW - timedelta(days=40),
                 properties={"price": 30})  # fmt: skip
    bare = ProfileFactory(id="bare")
    EventFactory(profile=bare, type="page-view", time=NOW - timedelta(hours=2), properties={})
    profiles = list(Profile.objects.all())
    condition = case["condition"]

    in_python = _members_in_python(condition, profiles)

    assert in_python == _members_by_reference(condition, profiles)
    in_sql = _members_in_sql(condition)
    assert in_sql == (None if condition in UNTRANSLATED else in_python)
    if case.get("expected") is not None:
        assert ("buyer" in in_python) is case["expected"]
