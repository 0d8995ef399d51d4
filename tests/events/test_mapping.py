import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from apps.events.models import Event, EventType, EventTypeMapping
from apps.events.registry import event_type_has_mapping, event_type_registry, mapping_apply
from apps.events.services import event_mappings_process
from apps.profiles.models import Profile, empty_profile_data
from apps.sources.services import event_source_create
from tests.events.factories import EventFactory
from tests.profiles.factories import ProfileFactory

Op = EventTypeMapping.Operation


def new_profile() -> dict:
    return {
        "id": "p1",
        "segments": [],
        "traits": {},
        "interests": {},
        "stats": {},
        "consents": {},
        "aux": {},
        "metadata": {},
        "data": empty_profile_data(),
    }


def rules(event_type: str, *items: dict) -> EventType:
    kind = EventType.objects.create(type=event_type, name=event_type)
    for position, item in enumerate(items, start=1):
        EventTypeMapping.objects.create(event_type=kind, position=position, **item)
    event_type_registry.cache_clear()
    return kind


@pytest.mark.django_db
def test_identification_fills_the_email_with_no_workflow(predefined_types):
    event_source_create(name="Web", source_id="web")
    body = {
        "source": {"id": "web"},
        "session": {"id": "s-1"},
        "events": [
            {
                "type": "identification",
                "id": "ident-1",
                "properties": {"email": {"main": "jo@example.com"}, "firstname": "Jo"},
            }
        ],
    }
    answer = Client().post("/track", data=json.dumps(body), content_type="application/json")
    profile_id = answer.json()["profile"]["id"]

    event_mappings_process(event_ids=["ident-1"])

    profile = Profile.objects.get(pk=profile_id)
    assert profile.data["contact"]["email"] == {"main": "jo@example.com"}
    assert profile.data["pii"] == {"firstname": "Jo"}
    assert set(profile.metadata["fields"]) == {"data.contact.email.main", "data.pii.firstname"}
    assert profile.metadata["time"]["update"] == profile.metadata["fields"]["data.pii.firstname"]


@pytest.mark.django_db
def test_predefined_identification_takes_a_plain_email_and_phone_as_tracardi_sends_them(
    predefined_types,
):
    profile = new_profile()
    event = {
        "type": "identification",
        "properties": {"email": "jo@example.com", "phone": "+48 600", "login": "jo", "coupon": "A"},
    }

    changed = mapping_apply(profile=profile, event=event, session=None)

    assert changed == [
        "data.contact.email.main",
        "data.identifier.token",
        "data.contact.phone.main",
        "data.identifier.coupons",
    ]
    assert profile["data"]["contact"]["email"] == {"main": "jo@example.com"}
    assert profile["data"]["contact"]["phone"] == {"main": "+48 600"}
    assert profile["data"]["identifier"] == {"token": "jo", "coupons": ["A"]}


@pytest.mark.django_db
def test_predefined_interest_and_checkout_events(predefined_types):
    profile = new_profile()
    for event in (
        {"type": "increase-interest", "properties": {"interest": "sport"}},
        {"type": "increase-interest", "properties": {"interest": "sport", "value": 2.5}},
        {"type": "decrease-interest", "properties": {"interest": "sport"}},
        {"type": "increase-interest", "properties": {"interest": "home & garden"}},
        {"type": "checkout-started", "properties": {"value": 40}},
        {"type": "checkout-started", "properties": {"value": 10}},
        {"type": "checkout-completed", "properties": {"value": 50}},
        {"type": "consent-update", "properties": {"consents": {"marketing": {"revoke": None}}}},
    ):
        mapping_apply(profile=profile, event=event, session=None)

    assert profile["interests"] == {"sport": 2.5, "home & garden": 1}
    assert profile["data"]["metrics"] == {"ltcosv": 50, "ltcosc": 2, "ltcocv": 50, "ltcocc": 1}
    assert profile["consents"] == {"marketing": {"revoke": None}}


@pytest.mark.django_db
def test_operations():
    rules(
        "signup",
        {"profile_path": "traits.plan", "event_path": "properties.plan"},
        {
            "profile_path": "traits.first_plan",
            "event_path": "properties.plan",
            "operation": Op.SET_IF_EMPTY,
        },
        {"profile_path": "traits.tags", "event_path": "properties.tag", "operation": Op.APPEND},
        {"profile_path": "stats.spent", "event_path": "properties.price", "operation": Op.ADD},
        {
            "profile_path": "stats.credit",
            "event_path": "properties.price",
            "operation": Op.SUBTRACT,
        },
        {"profile_path": "stats.signups", "operation": Op.INCREMENT, "amount": 1},
        {"profile_path": "aux.browser", "event_path": "session@app.name"},
    )
    profile = new_profile()
    session = {"id": "s", "app": {"name": "Chrome"}}

    first = mapping_apply(
        profile=profile,
        event={"type": "signup", "properties": {"plan": "free", "tag": "a", "price": 5}},
        session=session,
    )
    second = mapping_apply(
        profile=profile,
        event={"type": "signup", "properties": {"plan": "pro", "tag": ["a", "b"], "price": "2.5"}},
        session=session,
    )

    assert first == [
        "traits.plan",
        "traits.first_plan",
        "traits.tags",
        "stats.spent",
        "stats.credit",
        "stats.signups",
        "aux.browser",
    ]
    assert second == ["traits.plan", "traits.tags", "stats.spent", "stats.credit", "stats.signups"]
    assert profile["traits"] == {"plan": "pro", "first_plan": "free", "tags": ["a", "b"]}
    assert profile["stats"] == {"spent": 7.5, "credit": -7.5, "signups": 2}
    assert profile["aux"] == {"browser": "Chrome"}


@pytest.mark.django_db
def test_conditions_missing_values_and_values_that_do_not_fit_are_skipped():
    rules(
        "purchase",
        {
            "profile_path": "traits.vip",
            "event_path": "properties.vip",
            "condition": "event@properties.total > 100",
        },
        {"profile_path": "stats.total", "event_path": "properties.total", "operation": Op.ADD},
        {"profile_path": "traits.name", "event_path": "properties.name.first"},
    )
    profile = new_profile()
    profile["traits"]["name"] = "kept"

    assert (
        mapping_apply(
            profile=profile,
            event={"type": "purchase", "properties": {"vip": True, "total": "lots", "name": "x"}},
            session=None,
        )
        == []
    )
    assert profile["traits"] == {"name": "kept"}
    assert mapping_apply(
        profile=profile,
        event={"type": "purchase", "properties": {"vip": True, "total": 150}},
        session=None,
    ) == ["traits.vip", "stats.total"]
    assert profile["traits"] == {"name": "kept", "vip": True}
    assert mapping_apply(profile=profile, event={"type": "other"}, session=None) == []


@pytest.mark.django_db
def test_an_unchanged_value_is_not_reported():
    rules("seen", {"profile_path": "traits.color", "event_path": "properties.color"})
    profile = new_profile()
    event = {"type": "seen", "properties": {"color": "red"}}

    assert mapping_apply(profile=profile, event=event, session=None) == ["traits.color"]
    assert mapping_apply(profile=profile, event=event, session=None) == []


@pytest.mark.django_db
def test_has_mapping_is_answered_from_the_cache(django_assert_num_queries):
    rules("seen", {"profile_path": "traits.color", "event_path": "properties.color"})
    assert event_type_has_mapping("seen") is True

    with django_assert_num_queries(0):
        assert [event_type_has_mapping(name) for name in ("seen", "other", "seen")] == [
            True,
            False,
            True,
        ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"profile_path": "metadata.time", "event_path": "properties.x"},
            {
                "profile_path": [
                    "A mapping may write only under data, traits, interests, consents, stats, "
                    "aux; 'metadata' is kept by the platform."
                ]
            },
        ),
        (
            {"profile_path": "profile@traits.x", "event_path": "properties.x"},
            {
                "profile_path": [
                    "Write the profile path without 'profile@', e.g. data.contact.email.main."
                ]
            },
        ),
        (
            {"profile_path": "traits.x", "event_path": "flow@x"},
            {
                "event_path": [
                    "Unknown source 'flow': read from event@, session@ or profile@ (a path "
                    "without a source reads the event)."
                ]
            },
        ),
        (
            {"profile_path": "traits.x", "event_path": "properties.x", "operation": Op.INCREMENT},
            {"event_path": ["'Increment' adds the amount; leave the event path empty."]},
        ),
        (
            {"profile_path": "traits.x", "event_path": ""},
            {"event_path": ["Enter where the value comes from, e.g. properties.email."]},
        ),
    ],
)
def test_rules_are_checked_before_they_are_saved(fields, errors):
    kind = EventType.objects.create(type="seen", name="Seen")
    rule = EventTypeMapping(event_type=kind, **fields)

    with pytest.raises(ValidationError) as caught:
        rule.full_clean()

    assert caught.value.message_dict == errors


@pytest.mark.django_db
def test_a_condition_that_does_not_parse_is_refused_on_the_condition_field():
    kind = EventType.objects.create(type="seen", name="Seen")
    rule = EventTypeMapping(
        event_type=kind,
        profile_path="traits.x",
        event_path="properties.x",
        condition="event@properties.x >",
    )

    with pytest.raises(ValidationError) as caught:
        rule.full_clean()

    assert caught.value.message_dict == {
        "condition": [
            "Unexpected end of the condition at column 21; expected a value (number, string, "
            "field reference, function call)"
        ]
    }


@pytest.mark.django_db
def test_mappings_process_applies_stored_events_in_time_order_and_skips_quarantined_ones():
    rules("seen", {"profile_path": "traits.color", "event_path": "properties.color"})
    profile = ProfileFactory()
    first = EventFactory(profile=profile, type="seen", properties={"color": "red"})
    second = EventFactory(profile=profile, type="seen", properties={"color": "blue"})
    quarantined = EventFactory(
        profile=profile, type="seen", properties={"color": "green"}, status=Event.Status.INVALID
    )

    event_mappings_process(event_ids=[second.pk, first.pk, quarantined.pk])

    profile.refresh_from_db()
    assert profile.traits == {"color": "blue"}
    assert list(profile.metadata["fields"]) == ["traits.color"]


@pytest.mark.django_db
def test_a_rule_broken_in_the_database_is_skipped_not_fatal():
    kind = rules(
        "seen",
        {"profile_path": "traits.a", "event_path": "properties.a"},
        {"profile_path": "traits.b", "event_path": "properties.b"},
    )
    EventTypeMapping.objects.filter(event_type=kind, profile_path="traits.a").update(
        condition="event@properties.a >"
    )
    event_type_registry.cache_clear()
    profile = new_profile()

    changed = mapping_apply(
        profile=profile, event={"type": "seen", "properties": {"a": 1, "b": 2}}, session=None
    )

    assert changed == ["traits.b"]
    assert profile["traits"] == {"b": 2}
