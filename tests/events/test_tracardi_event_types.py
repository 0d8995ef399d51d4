"""The 31 predefined event types of Tracardi's that issue 19 adds: all installed (by the data
migration, and by the install function), and mapping onto the profile as Tracardi's `copy` +
`profile` do, including Tracardi's `delete` operation."""

import pytest
from django.core.exceptions import ValidationError

from apps.events.models import EventType, EventTypeMapping
from apps.events.predefined import PREDEFINED_EVENT_TYPES, TRACARDI_MORE_TYPES
from apps.events.registry import mapping_apply
from tests.events.test_mapping import new_profile, rules

Op = EventTypeMapping.Operation

ADDED = [
    "order-dispatch-in-transit",
    "order-awaiting-pickup",
    "account-payable",
    "account-receivable",
    "payment-sent",
    "payment-received",
    "payable-overdue",
    "receivable-overdue",
    "account-deleted",
    "visit-ended",
    "profile-inactive",
    "profile-archived",
    "loyalty-card-added",
    "loyalty-card-removed",
    "promotion-viewed",
    "promotion-clicked",
    "messaging-started",
    "message-sent",
    "message-status",
    "message-received",
    "message-opened",
    "messaging-ended",
    "add-color-preference",
    "add-size-preference",
    "add-brand-preference",
    "add-channel-preference",
    "add-payment-preference",
    "rating",
    "product-search-result",
    "page-print",
    "location",
]


def test_the_31_types_are_listed_once_among_66():
    assert [item["type"] for item in TRACARDI_MORE_TYPES] == ADDED
    types = [item["type"] for item in PREDEFINED_EVENT_TYPES]
    assert len(types) == len(set(types)) == 35 + 31


@pytest.mark.django_db
def test_the_migration_installed_all_31_with_their_rules():
    """The test database is migrated: the rows come from migration 0011."""
    installed = EventType.objects.filter(type__in=ADDED, predefined=True)

    assert sorted(installed.values_list("type", flat=True)) == sorted(ADDED)
    counts = {kind.type: kind.mappings.count() for kind in installed}
    assert counts == {item["type"]: len(item["mappings"]) for item in TRACARDI_MORE_TYPES}
    assert sum(counts.values()) == 4 + 4 + 5 * 7 + 5 + 3
    loyalty = EventType.objects.get(type="loyalty-card-added")
    assert (loyalty.name, loyalty.journey_state, loyalty.tags) == (
        "Loyalty Card Added",
        "retention",
        ["event:operational"],
    )
    assert list(
        loyalty.mappings.values_list("position", "profile_path", "event_path", "operation")
    ) == [
        (1, "data.loyalty.card.id", "properties.id", "set"),
        (2, "data.loyalty.card.name", "properties.name", "set"),
        (3, "data.loyalty.card.issuer", "properties.issuer", "set"),
        (4, "data.loyalty.card.expires", "properties.expires", "set"),
    ]


@pytest.mark.django_db
def test_loyalty_card_added_then_removed(predefined_types):
    profile = new_profile()
    added = {
        "type": "loyalty-card-added",
        "properties": {"id": "C-1", "name": "Gold", "issuer": "Shop", "expires": "2027-01-01"},
    }

    assert mapping_apply(profile=profile, event=added, session=None) == [
        "data.loyalty.card.id",
        "data.loyalty.card.name",
        "data.loyalty.card.issuer",
        "data.loyalty.card.expires",
    ]
    assert profile["data"]["loyalty"]["card"] == {
        "id": "C-1",
        "name": "Gold",
        "issuer": "Shop",
        "expires": "2027-01-01",
    }

    removed = {"type": "loyalty-card-removed", "properties": {"id": "C-1"}}
    assert mapping_apply(profile=profile, event=removed, session=None) == [
        "data.loyalty.card.id",
        "data.loyalty.card.name",
        "data.loyalty.card.issuer",
        "data.loyalty.card.expires",
    ]
    assert profile["data"]["loyalty"]["card"] == {}
    # Nothing left to delete: nothing changes.
    assert mapping_apply(profile=profile, event=removed, session=None) == []


@pytest.mark.django_db
def test_messaging_fills_contacts_only_where_the_profile_has_none(predefined_types):
    profile = new_profile()
    profile["data"]["contact"]["email"] = {"main": "kept@example.com"}
    event = {
        "type": "message-received",
        "properties": {
            "id": "m-1",
            "identity": {
                "email": {"main": "new@example.com", "business": "jo@work.example"},
                "phone": {"mobile": "+48600100200"},
            },
        },
    }

    changed = mapping_apply(profile=profile, event=event, session=None)

    assert changed == ["data.contact.email.business", "data.contact.phone.mobile"]
    assert profile["data"]["contact"]["email"] == {
        "main": "kept@example.com",
        "business": "jo@work.example",
    }
    assert profile["data"]["contact"]["phone"]["mobile"] == "+48600100200"


@pytest.mark.django_db
def test_preferences_append_and_location_sets_the_device_geo(predefined_types):
    profile = new_profile()
    for event in (
        {"type": "add-color-preference", "properties": {"color": "white"}},
        {"type": "add-color-preference", "properties": {"color": "red"}},
        {"type": "add-color-preference", "properties": {"color": "white"}},
        {"type": "add-channel-preference", "properties": {"channel": "email"}},
        {"type": "add-payment-preference", "properties": {"payment": "card"}},
        {"type": "location", "properties": {"location": [21.01, 52.23]}},
        {"type": "promotion-clicked", "properties": {"id": "promo-1", "name": "Sale"}},
    ):
        mapping_apply(profile=profile, event=event, session=None)

    assert profile["data"]["preferences"]["colors"] == ["white", "red"]
    assert profile["data"]["preferences"]["channels"] == ["email"]
    assert profile["data"]["preferences"]["payments"] == ["card"]
    assert profile["data"]["devices"]["last"]["geo"] == {
        "latitude": 52.23,
        "longitude": 21.01,
        "location": [21.01, 52.23],
    }
    # Tracardi maps a promotion onto the event's traits only, not onto the profile.
    assert "marketing" not in profile["data"]


@pytest.mark.django_db
def test_the_delete_operation_takes_no_event_path():
    kind = EventType.objects.create(type="gone", name="Gone")
    rule = EventTypeMapping(
        event_type=kind, profile_path="traits.x", event_path="properties.x", operation=Op.DELETE
    )

    with pytest.raises(ValidationError) as caught:
        rule.full_clean()

    assert caught.value.message_dict == {
        "event_path": ["'Delete' removes the profile field; leave the event path empty."]
    }


@pytest.mark.django_db
def test_delete_removes_a_nested_field_and_a_list_item():
    rules(
        "forget",
        {"profile_path": "traits.plan", "operation": Op.DELETE},
        {"profile_path": "traits.tags.0", "operation": Op.DELETE},
        {"profile_path": "traits.never.there", "operation": Op.DELETE},
    )
    profile = new_profile()
    profile["traits"] = {"plan": "pro", "tags": ["a", "b"], "keep": 1}

    changed = mapping_apply(profile=profile, event={"type": "forget"}, session=None)

    assert changed == ["traits.plan", "traits.tags.0"]
    assert profile["traits"] == {"tags": ["b"], "keep": 1}
