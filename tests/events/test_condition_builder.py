"""The condition builder's endpoints (fields from real rows, the check) and its widget on the
event type page's mapping rows."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.events.models import EventType, EventTypeMapping
from apps.profiles.models import Profile
from tests.events.factories import EventFactory
from tests.events.test_admin import event_type_form
from tests.profiles.factories import ProfileFactory

FIELDS_URL = "/admin/events/eventtype/condition-fields/"
CHECK_URL = "/admin/events/eventtype/condition-check/"


@pytest.fixture(autouse=True)
def _no_cached_fields():
    cache.delete_pattern("condition-fields:*")
    yield
    cache.delete_pattern("condition-fields:*")


@pytest.fixture
def staff_client(client, db):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    return client


@pytest.fixture
def profiles(db):
    now = timezone.now()
    ProfileFactory(
        id="p1",
        updated=now,
        stats={"visits": 3},
        traits={"plan": "pro", "vip": True},
        data={"contact": {"email": {"main": "ann@example.com"}}, "pii": {}},
        metadata={"time": {"insert": "2024-05-01T10:00:00+00:00"}, "fields": {}},
        segments=["vip"],
    )
    ProfileFactory(
        id="p2",
        updated=now - timedelta(hours=1),
        stats={"visits": 1},
        traits={"plan": "free", "nickname": None},
        data={"contact": {"email": {"main": "bob@example.com"}}},
    )


def known(source: str, *rows: tuple[str, str]) -> list[dict]:
    return [
        {"path": f"{source}@{path}", "type": type_, "count": 0, "example": ""}
        for path, type_ in rows
    ]


def test_profile_fields_are_the_paths_of_real_profiles_with_their_types(staff_client, profiles):
    response = staff_client.get(FIELDS_URL, {"sources": "profile"})

    assert response.status_code == 200
    assert response.json()["fields"] == [
        {"path": "profile@active", "type": "boolean", "count": 2, "example": "true"},
        {
            "path": "profile@data.contact.email.main",
            "type": "string",
            "count": 2,
            "example": '"ann@example.com"',
        },
        {"path": "profile@id", "type": "string", "count": 2, "example": '"p1"'},
        {"path": "profile@ids", "type": "array", "count": 2, "example": "[]"},
        {"path": "profile@segments", "type": "array", "count": 2, "example": '["vip"]'},
        {"path": "profile@stats.visits", "type": "number", "count": 2, "example": "3"},
        {"path": "profile@traits.plan", "type": "string", "count": 2, "example": '"pro"'},
        {
            "path": "profile@metadata.time.insert",
            "type": "date",
            "count": 1,
            "example": '"2024-05-01T10:00:00+00:00"',
        },
        {"path": "profile@traits.vip", "type": "boolean", "count": 1, "example": "true"},
        *known(
            "profile",
            ("data.contact.email.business", "string"),
            ("data.contact.email.private", "string"),
            ("data.contact.phone.main", "string"),
            ("data.contact.phone.mobile", "string"),
            ("data.contact.address.town", "string"),
            ("data.contact.address.country", "string"),
            ("data.pii.firstname", "string"),
            ("data.pii.lastname", "string"),
            ("data.pii.gender", "string"),
            ("data.pii.birthday", "date"),
            ("data.preferences.language", "string"),
            ("data.job.company.name", "string"),
            ("stats.views", "number"),
            ("metadata.time.create", "date"),
            ("metadata.time.update", "date"),
            ("metadata.time.visit.last", "date"),
            ("metadata.time.visit.count", "number"),
        ),
    ]


def test_event_fields_come_from_recent_events_of_the_type(staff_client, profiles):
    now = timezone.now()
    ann = Profile.objects.get(id="p1")
    EventFactory(
        profile=ann,
        type="purchase",
        time=now,
        properties={"email": "ann@example.com", "plan": "pro", "amount": 10, "odd key": "x"},
    )
    EventFactory(
        profile=ann, type="purchase", time=now - timedelta(minutes=1), properties={"plan": "free"}
    )
    EventFactory(profile=ann, type="page-view", properties={"url": "https://shop.example/"})

    response = staff_client.get(FIELDS_URL, {"sources": "event", "event_type": "purchase"})

    assert response.json()["fields"] == [
        {"path": "event@properties.plan", "type": "string", "count": 2, "example": '"pro"'},
        {"path": "event@properties.amount", "type": "number", "count": 1, "example": "10"},
        {
            "path": "event@properties.email",
            "type": "string",
            "count": 1,
            "example": '"ann@example.com"',
        },
        {
            "path": 'event@properties["odd key"]',
            "type": "string",
            "count": 1,
            "example": '"x"',
        },
        *known(
            "event",
            ("type", "string"),
            ("time", "date"),
            ("source.id", "string"),
            ("session.id", "string"),
            ("profile.id", "string"),
            ("metadata.time.insert", "date"),
            ("context.page.url", "string"),
            ("context.page.title", "string"),
            ("properties", "object"),
        ),
    ]
    both = staff_client.get(FIELDS_URL, {"sources": "event,profile", "event_type": "purchase"})
    paths = [field["path"] for field in both.json()["fields"]]
    assert paths[:2] == ["event@properties.plan", "event@properties.amount"]
    assert paths[13:15] == ["profile@active", "profile@data.contact.email.main"]
    assert len(paths) == 13 + 26


def test_fields_are_cached_for_a_minute(staff_client, profiles, django_assert_num_queries):
    # The session, the user, one query per source, and the event type's indexed traits.
    with django_assert_num_queries(5):
        staff_client.get(FIELDS_URL, {"sources": "event,profile", "event_type": "purchase"})
    with django_assert_num_queries(3):
        staff_client.get(FIELDS_URL, {"sources": "profile"})
    ProfileFactory(id="p3", traits={"late": 1})

    with django_assert_num_queries(2):  # the session and the user, no paths
        response = staff_client.get(FIELDS_URL, {"sources": "profile"})

    assert "profile@traits.late" not in [field["path"] for field in response.json()["fields"]]


def test_fields_of_unknown_sources_are_ignored(staff_client, profiles):
    response = staff_client.get(FIELDS_URL, {"sources": "payload,nope"})

    assert response.json() == {"fields": []}


def test_check_answers_ok_with_the_builder_model(staff_client):
    response = staff_client.post(
        CHECK_URL, {"condition": "event@properties.email EXISTS AND event@properties.plan = 'pro'"}
    )

    assert response.json() == {
        "ok": True,
        "builder": {
            "op": "and",
            "items": [
                {"field": "event@properties.email", "op": "exists"},
                {"field": "event@properties.plan", "op": "=", "value": "pro"},
            ],
        },
    }


def test_check_answers_ok_without_a_model_for_what_the_builder_cannot_show(staff_client):
    response = staff_client.post(CHECK_URL, {"condition": "NOT event@properties.email EXISTS"})

    assert response.json() == {"ok": True, "builder": None}


def test_check_answers_the_notation_error_with_its_column(staff_client):
    response = staff_client.post(CHECK_URL, {"condition": "event@properties.plan = 'pro' AND OR"})

    assert response.json() == {
        "ok": False,
        "message": "Unexpected 'OR' at column 35; expected a condition (field reference, value, "
        "function call, NOT or '(')",
        "line": 1,
        "column": 35,
        "position": 34,
        "expected": ["a condition (field reference, value, function call, NOT or '(')"],
    }


def test_check_answers_the_line_of_a_multi_line_condition(staff_client):
    response = staff_client.post(CHECK_URL, {"condition": "profile@a EXISTS\nAND profile@b =="})

    body = response.json()
    assert (body["line"], body["column"], body["position"]) == (2, 17, 33)
    assert body["message"] == (
        "Unexpected end of the condition at line 2, column 17; expected a value (number, string, "
        "field reference, function call)"
    )


def test_check_names_an_unknown_function(staff_client):
    response = staff_client.post(CHECK_URL, {"condition": "profile@a = upper('x')"})

    body = response.json()
    assert (body["ok"], body["column"]) == (False, 13)
    assert body["message"].startswith("Unknown function 'upper' at column 13; known functions: ")


@pytest.mark.parametrize("url", [FIELDS_URL, CHECK_URL])
def test_the_endpoints_are_for_staff_only(client, db, url):
    anonymous = client.get(url) if url == FIELDS_URL else client.post(url, {"condition": "x"})
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/admin/login/")

    client.force_login(get_user_model().objects.create_user(username="visitor"))
    visitor = client.get(url) if url == FIELDS_URL else client.post(url, {"condition": "x"})
    assert visitor.status_code == 302
    assert visitor["Location"].startswith("/admin/login/")


def test_check_needs_the_csrf_token_and_a_post(db):
    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))

    assert client.post(CHECK_URL, {"condition": "profile@a EXISTS"}).status_code == 403
    assert client.get(CHECK_URL).status_code == 405


def test_the_urls_have_names_the_widget_reverses():
    assert reverse("admin:events_eventtype_condition_fields") == FIELDS_URL
    assert reverse("admin:events_eventtype_condition_check") == CHECK_URL


def test_mapping_rows_carry_the_compact_builder(staff_client):
    event_type = EventType.objects.create(type="order", name="Order")

    page = staff_client.get(reverse("admin:events_eventtype_change", args=[event_type.pk]))

    html = page.content.decode()
    assert (
        '<div class="cdp-cond cdp-cond-compact" data-fields-url="/admin/events/eventtype/'
        'condition-fields/" data-check-url="/admin/events/eventtype/condition-check/" '
        'data-sources="event,profile" data-event-type-input="id_type">'
    ) in html
    assert '<script src="/static/core/condition-builder.js" type="module"></script>' in html
    assert 'href="/static/core/condition-builder.css"' in html


def test_the_form_still_refuses_a_bad_condition_and_stores_a_good_one(staff_client):
    url = reverse("admin:events_eventtype_add")
    refused = staff_client.post(url, event_type_form(**{"mappings-0-condition": "event@x ="}))

    errors = refused.context["inline_admin_formsets"][2].formset.errors[0]
    assert errors["condition"] == [
        "Unexpected end of the condition at column 10; expected a value (number, string, "
        "field reference, function call)"
    ]

    condition = "event@properties.email EXISTS AND event@properties.plan = 'pro'"
    staff_client.post(url, event_type_form(**{"mappings-0-condition": condition}))

    assert EventTypeMapping.objects.get(event_type__type="order").condition == condition
