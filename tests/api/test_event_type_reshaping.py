"""Issue 23: event reshaping rules in the management API, under their event type: CRUD with the
admin's validation (the notation's message, nothing stored), the preview the admin shows, 404
for an unknown type, scopes."""

import pytest

from apps.events.models import EventReshaping, EventType
from apps.events.registry import event_reshaped
from tests.events.factories import EventFactory
from tests.sources.factories import EventSourceFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/event-types/purchase/reshaping/"
RULE = {
    "name": "Shop to product",
    "condition": "event@properties.sku EXISTS",
    "properties": {"product": {"id": "event@properties.sku"}},
}


@pytest.fixture
def purchase_type(db) -> EventType:
    return EventType.objects.create(type="purchase", name="Purchase")


def test_create_then_read_list_change_and_delete_a_rule(client_all, purchase_type):
    source = EventSourceFactory(id="shop-web")

    created = client_all.post(URL, {**RULE, "source": "shop-web"}, format="json")

    assert created.status_code == 201, created.content
    rule_id = EventReshaping.objects.get().pk
    expected = {
        "id": rule_id,
        "name": "Shop to product",
        "position": 0,
        "enabled": True,
        "source": "shop-web",
        "condition": "event@properties.sku EXISTS",
        "properties": {"product": {"id": "event@properties.sku"}},
        "context": None,
        "session": None,
    }
    assert created.json() == expected
    assert client_all.get(f"{URL}{rule_id}/").json() == expected
    assert client_all.get(URL).json() == {"next": None, "previous": None, "results": [expected]}
    # Saved through the events services: ingestion sees it at once.
    reshaped = event_reshaped(
        event_type="purchase",
        source_id=source.pk,
        properties={"sku": "A-1"},
        context={},
        traits={},
        session_context={},
    )
    assert reshaped.applied == "Shop to product"
    assert reshaped.properties == {"product": {"id": "A-1"}}

    patched = client_all.patch(
        f"{URL}{rule_id}/", {"enabled": False, "source": None}, format="json"
    )
    assert patched.status_code == 200
    assert patched.json() == {**expected, "enabled": False, "source": None}
    assert (
        event_reshaped(
            event_type="purchase",
            source_id=source.pk,
            properties={"sku": "A-1"},
            context={},
            traits={},
            session_context={},
        )
        is None
    )

    replaced = client_all.put(
        f"{URL}{rule_id}/",
        {"name": "Campaign", "session": {"campaign": "event@context.utm.campaign"}},
        format="json",
    )
    assert replaced.status_code == 200
    assert replaced.json() == {
        "id": rule_id,
        "name": "Campaign",
        "position": 0,
        "enabled": True,
        "source": None,
        "condition": "",
        "properties": None,
        "context": None,
        "session": {"campaign": "event@context.utm.campaign"},
    }

    assert client_all.delete(f"{URL}{rule_id}/").status_code == 204
    assert not EventReshaping.objects.exists()
    assert client_all.get(f"{URL}{rule_id}/").status_code == 404


def test_the_list_is_in_the_order_rules_are_tried_and_only_the_types_own(client_all, purchase_type):
    other = EventType.objects.create(type="refund", name="Refund")
    for event_type, name, position in (
        (purchase_type, "second", 5),
        (purchase_type, "first", 1),
        (other, "refund's", 0),
    ):
        EventReshaping.objects.create(
            event_type=event_type, name=name, position=position, properties={"a": "b"}
        )

    names = [rule["name"] for rule in client_all.get(URL).json()["results"]]

    assert names == ["first", "second"]
    refund_rule = EventReshaping.objects.get(name="refund's")
    assert client_all.get(f"{URL}{refund_rule.pk}/").status_code == 404
    assert client_all.delete(f"{URL}{refund_rule.pk}/").status_code == 404
    assert EventReshaping.objects.filter(pk=refund_rule.pk).exists()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"condition": "event@properties.x >"},
            [
                {
                    "loc": ["body", "condition"],
                    "msg": "Unexpected end of the condition at column 21; expected a value "
                    "(number, string, field reference, function call)",
                    "type": "invalid",
                }
            ],
        ),
        (
            {"properties": {"a": {"b": ["event@prop..x"]}}},
            [
                {
                    "loc": ["body", "properties"],
                    "msg": "Reference 'event@prop..x' has an empty key at offset 5",
                    "type": "invalid",
                }
            ],
        ),
        (
            {"properties": None, "context": {"email": "profile@data.contact.email.main"}},
            [
                {
                    "loc": ["body", "context"],
                    "msg": "'profile@data.contact.email.main' reads profile@, which is not "
                    "known before the event is stored; a reshaping reads event@... and "
                    "session@context....",
                    "type": "invalid",
                }
            ],
        ),
        (
            {"session": ["event@properties.x"]},
            [
                {
                    "loc": ["body", "session"],
                    "msg": 'Write an object, e.g. {"id": "event@properties.sku"}.',
                    "type": "invalid",
                }
            ],
        ),
        (
            {"properties": None},
            [
                {
                    "loc": ["body", "properties"],
                    "msg": "Fill in at least one template: properties, context or session.",
                    "type": "invalid",
                }
            ],
        ),
        (
            {"source": "nowhere"},
            [
                {
                    "loc": ["body", "source"],
                    "msg": "There is no event source 'nowhere' (the list is at /api/v1/sources/).",
                    "type": "invalid",
                }
            ],
        ),
        (
            {"name": ""},
            [{"loc": ["body", "name"], "msg": "This field may not be blank.", "type": "blank"}],
        ),
        (
            {"position": -1},
            [
                {
                    "loc": ["body", "position"],
                    "msg": "Ensure this value is greater than or equal to 0.",
                    "type": "min_value",
                }
            ],
        ),
    ],
)
def test_a_rule_that_does_not_validate_is_refused_and_nothing_is_stored(
    client_all, purchase_type, fields, expected
):
    response = client_all.post(URL, {**RULE, **fields}, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": expected}
    assert not EventReshaping.objects.exists()


def test_a_change_that_does_not_validate_leaves_the_rule_as_it_was(client_all, purchase_type):
    rule = EventReshaping.objects.create(event_type=purchase_type, **RULE)

    response = client_all.patch(f"{URL}{rule.pk}/", {"condition": "(("}, format="json")

    assert response.status_code == 400
    assert [entry["loc"] for entry in response.json()["detail"]] == [["body", "condition"]]
    rule.refresh_from_db()
    assert rule.condition == "event@properties.sku EXISTS"


def test_an_unknown_event_type_is_404_before_the_body_is_read(client_all):
    for method, url in (
        ("get", "/api/v1/event-types/nope/reshaping/"),
        ("post", "/api/v1/event-types/nope/reshaping/"),
        ("get", "/api/v1/event-types/nope/reshaping/1/"),
        ("post", "/api/v1/event-types/nope/reshaping/preview/"),
    ):
        response = getattr(client_all, method)(url, {"name": ""}, format="json")
        assert response.status_code == 404, url
        assert response.json() == {
            "detail": "There is no event type 'nope' (the list is at /api/v1/event-types/)."
        }


def test_an_id_that_is_not_a_number_is_404(client_all, purchase_type):
    assert client_all.get(f"{URL}abc/").status_code == 404
    assert client_all.get(f"{URL}%00/").status_code == 404
    assert client_all.get("/api/v1/event-types/%00/reshaping/").status_code == 404


def test_reading_needs_events_read_and_writing_events_write(make_client, purchase_type):
    reader = make_client("events:read")
    assert reader.get(URL).status_code == 200
    refused = reader.post(URL, RULE, format="json")
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "This API key lacks the scope 'events:write' (it has: events:read)."
    }
    assert not EventReshaping.objects.exists()
    assert make_client("profiles:write").get(URL).status_code == 403
    assert make_client("events:write").post(URL, RULE, format="json").status_code == 201


# The preview: the same service as the admin's event type page.


@pytest.fixture
def stored_purchases(purchase_type):
    older = EventFactory(type="purchase", properties={"sku": "OLD"}, context={"page": "/a"})
    newest = EventFactory(
        type="purchase",
        time=older.time.replace(year=older.time.year + 1),
        properties={"sku": "NEW", "price": 9},
        context={"page": "/b"},
    )
    newest.session.context = {"utm": {"campaign": "winter"}}
    newest.session.save()
    return older, newest


def test_preview_of_the_saved_rules_on_the_newest_event(client_all, stored_purchases):
    _, newest = stored_purchases
    EventReshaping.objects.create(
        event_type_id=EventType.objects.get(type="purchase").pk,
        name="Campaign",
        properties={"product": "event@properties.sku"},
        session={"campaign": "session@context.utm.campaign"},
    )

    response = client_all.post(f"{URL}preview/", {}, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "event_id": newest.pk,
        "reshaped_by": "Campaign",
        "message": "Reshaped by 'Campaign'.",
        "as_stored": {"properties": {"sku": "NEW", "price": 9}, "context": {"page": "/b"}},
        "reshaped": {
            "properties": {"product": "NEW"},
            "context": {"page": "/b"},
            "session_context": {"campaign": "winter"},
        },
    }
    # Nothing changed.
    newest.refresh_from_db()
    assert newest.properties == {"sku": "NEW", "price": 9}


def test_preview_of_an_unsaved_rule_on_a_named_event(client_all, stored_purchases):
    older, _ = stored_purchases

    response = client_all.post(
        f"{URL}preview/",
        {"event_id": older.pk, "reshaping": {"context": {"where": "event@context.page"}}},
        format="json",
    )

    assert response.json() == {
        "event_id": older.pk,
        "reshaped_by": "preview",
        "message": "Reshaped by 'preview'.",
        "as_stored": {"properties": {"sku": "OLD"}, "context": {"page": "/a"}},
        "reshaped": {
            "properties": {"sku": "OLD"},
            "context": {"where": "/a"},
            "session_context": {},
        },
    }
    assert not EventReshaping.objects.exists()


def test_preview_of_one_saved_rule_that_does_not_match(client_all, stored_purchases):
    _, newest = stored_purchases
    rule = EventReshaping.objects.create(
        event_type=EventType.objects.get(type="purchase"),
        name="Only B-",
        enabled=False,
        condition='event@properties.sku == "B-1"',
        properties={"a": "b"},
    )

    response = client_all.post(f"{URL}preview/", {"reshaping_id": rule.pk}, format="json")

    assert response.json() == {
        "event_id": newest.pk,
        "reshaped_by": None,
        "message": "No reshaping matches this event (its source or the conditions).",
        "as_stored": {"properties": {"sku": "NEW", "price": 9}, "context": {"page": "/b"}},
        "reshaped": None,
    }


def test_preview_without_an_enabled_rule_says_so(client_all, stored_purchases):
    response = client_all.post(f"{URL}preview/", {}, format="json")

    assert response.json()["message"] == (
        "No enabled reshaping: events of this type are stored as sent."
    )
    assert response.json()["reshaped"] is None


def test_preview_needs_only_the_read_scope(make_client, stored_purchases):
    response = make_client("events:read").post(f"{URL}preview/", {}, format="json")

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"reshaping": {"condition": "((", "properties": {"a": "b"}}},
            [{"loc": ["body", "reshaping", "condition"], "type": "invalid"}],
        ),
        (
            {"reshaping": {"condition": ""}},
            [
                {
                    "loc": ["body", "reshaping", "properties"],
                    "msg": "Fill in at least one template: properties, context or session.",
                    "type": "invalid",
                }
            ],
        ),
        (
            {"reshaping": {"properties": {"a": "b"}}, "reshaping_id": 1},
            [
                {
                    "loc": ["body"],
                    "msg": "Send `reshaping` (a rule to try) or `reshaping_id` (a saved one), "
                    "not both.",
                    "type": "invalid",
                }
            ],
        ),
        (
            {"reshaping_id": 999},
            [
                {
                    "loc": ["body", "reshaping_id"],
                    "msg": "The purchase type has no reshaping rule 999 (its rules are at this "
                    "route's list).",
                    "type": "invalid",
                }
            ],
        ),
        (
            {"event_id": "nope"},
            [
                {
                    "loc": ["body", "event_id"],
                    "msg": "No stored purchase event has the id 'nope'.",
                    "type": "invalid",
                }
            ],
        ),
    ],
)
def test_a_preview_that_cannot_run_says_why(client_all, stored_purchases, body, expected):
    response = client_all.post(f"{URL}preview/", body, format="json")

    assert response.status_code == 400
    detail = response.json()["detail"]
    if "msg" not in expected[0]:  # the notation's own wording, checked in tests/notation
        assert detail[0]["msg"].startswith("Unexpected")
        detail = [{key: value for key, value in entry.items() if key != "msg"} for entry in detail]
    assert detail == expected


def test_a_preview_of_a_type_with_no_stored_event_says_so(client_all, purchase_type):
    response = client_all.post(f"{URL}preview/", {}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "event_id"],
                "msg": "No purchase event is stored yet: send one, then preview.",
                "type": "invalid",
            }
        ]
    }


def test_an_event_of_another_type_is_not_previewed(client_all, stored_purchases):
    page_view = EventFactory(type="page-view")

    response = client_all.post(f"{URL}preview/", {"event_id": page_view.pk}, format="json")

    assert response.status_code == 400
    assert response.json()["detail"][0]["msg"] == (
        f"No stored purchase event has the id {page_view.pk!r}."
    )
