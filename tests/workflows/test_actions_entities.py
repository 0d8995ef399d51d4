"""Issue 23: Upsert entity, Load entity and Delete entity: every port with exact values, the
limits on whose entity a node may touch, config validation, and the Tracardi names."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.profiles.models import Entity
from apps.workflows.actions import action_by_id, action_class_for
from apps.workflows.actions.tracardi_names import tracardi_plugin
from tests.profiles.factories import EntityFactory, ProfileFactory
from tests.workflows.graphs import run_action

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
ISO = NOW.isoformat()
ORDER_EVENT = {
    "id": "e1",
    "type": "purchase",
    "properties": {"order_id": "o-1001", "total": 99.5, "status": "paid"},
}
UPSERT = {
    "id": "{{event@properties.order_id}}",
    "type": "Order",
    "properties": {"total?": "event@properties.total", "currency": "EUR"},
    "traits": {"status": "event@properties.status"},
}


def entity_doc(entity_id, *, profile="p1", created=ISO, updated=ISO, **fields):
    return {
        "id": entity_id,
        "type": "order",
        "profile": {"id": profile} if profile else None,
        "properties": {},
        "traits": {},
        "metadata": {"time": {"insert": created, "create": created, "update": updated}},
        **fields,
    }


def test_upsert_creates_the_entity_of_the_profile_then_replaces_its_data():
    ProfileFactory(id="p1")

    created, _ = run_action(
        "upsert_entity", UPSERT, event=ORDER_EVENT, profile={"id": "p1"}, now=NOW
    )
    later = NOW + timedelta(hours=1)
    refunded = {**ORDER_EVENT, "properties": {"order_id": "o-1001", "status": "refunded"}}
    updated, flow = run_action(
        "upsert_entity", UPSERT, event=refunded, profile={"id": "p1"}, now=later
    )

    assert created == [
        (
            "entity",
            entity_doc(
                "o-1001",
                properties={"total": 99.5, "currency": "EUR"},
                traits={"status": "paid"},
            ),
        )
    ]
    # The whole properties object is replaced: a missing optional path leaves its key out.
    assert updated == [
        (
            "entity",
            entity_doc(
                "o-1001",
                updated=later.isoformat(),
                properties={"currency": "EUR"},
                traits={"status": "refunded"},
            ),
        )
    ]
    assert flow.messages == [{"level": "info", "message": "updated order o-1001"}]
    row = Entity.objects.get()
    assert (row.pk, row.type, row.profile_id, row.created, row.updated) == (
        "o-1001",
        "order",
        "p1",
        NOW,
        later,
    )


def test_upsert_never_takes_another_profiles_entity_or_a_shared_one():
    ProfileFactory(id="p1")
    EntityFactory(id="o-1001", type="order", profile=ProfileFactory(id="p2"))
    EntityFactory(id="store-1", type="store", profile=None)
    EntityFactory(id="car-1", type="car", profile=ProfileFactory(id="p3"))

    theirs, _ = run_action("upsert_entity", UPSERT, event=ORDER_EVENT, profile={"id": "p1"})
    shared, _ = run_action(
        "upsert_entity", {"id": "store-1", "type": "store"}, profile={"id": "p1"}
    )
    other_type, _ = run_action(
        "upsert_entity", {"id": "car-1", "type": "order"}, profile={"id": "p3"}
    )

    assert theirs == [
        (
            "error",
            {
                "message": "Entity 'o-1001' belongs to another profile; a workflow writes only "
                "the entities of its own profile."
            },
        )
    ]
    assert shared == [
        (
            "error",
            {
                "message": "Entity 'store-1' belongs to no profile (it is shared); a workflow "
                "writes only the entities of its own profile."
            },
        )
    ]
    assert other_type == [
        (
            "error",
            {
                "message": "Entity 'car-1' is a car, not a order; entity ids are unique "
                "across types."
            },
        )
    ]
    assert dict(Entity.objects.values_list("pk", "profile_id")) == {
        "o-1001": "p2",
        "store-1": None,
        "car-1": "p3",
    }


def test_upsert_of_an_entity_of_no_profile_and_its_errors():
    shared, _ = run_action(
        "upsert_entity",
        {"id": "sku-1", "type": "product", "reference_profile": False, "traits": {"a": "`1`"}},
        profile=None,
        now=NOW,
    )
    no_profile, _ = run_action("upsert_entity", UPSERT, event=ORDER_EVENT, profile=None)
    unstored, _ = run_action("upsert_entity", UPSERT, event=ORDER_EVENT, profile={"id": "ghost"})
    empty_id, _ = run_action(
        "upsert_entity", {**UPSERT, "id": "{{event@nope}}"}, profile={"id": "p"}
    )
    long_id, _ = run_action("upsert_entity", {**UPSERT, "id": "x" * 65}, profile={"id": "p"})
    ProfileFactory(id="p")
    no_path, _ = run_action(
        "upsert_entity",
        {**UPSERT, "traits": {"status": "event@properties.nope"}},
        event=ORDER_EVENT,
        profile={"id": "p"},
    )

    assert shared == [
        ("entity", entity_doc("sku-1", profile=None, type="product", traits={"a": 1}))
    ]
    assert no_profile == [
        ("error", {"message": "Upsert entity needs a profile, and this event has none"})
    ]
    assert unstored == [("error", {"message": "There is no profile 'ghost'."})]
    assert empty_id == [("error", {"message": "the entity id '{{event@nope}}' rendered empty"})]
    assert long_id == [("error", {"message": "The entity id is 65 characters long; at most 64."})]
    assert no_path == [
        ("error", {"message": "Missing value: 'event@properties.nope' is not in the data"})
    ]
    assert list(Entity.objects.values_list("pk", flat=True)) == ["sku-1"]


def test_load_finds_only_the_profiles_entity_of_that_type():
    EntityFactory(
        id="o-1",
        type="order",
        profile=ProfileFactory(id="p1"),
        properties={"total": 10},
        created=NOW,
        updated=NOW,
    )
    EntityFactory(id="o-2", type="order", profile=ProfileFactory(id="p2"))
    EntityFactory(id="sku-1", type="product", profile=None, created=NOW, updated=NOW)
    config = {"id": "{{payload@order}}", "type": "order", "target": "profile@traits.order"}

    found, flow = run_action(
        "load_entity", config, payload={"order": "o-1"}, profile={"id": "p1", "traits": {}}
    )
    theirs, _ = run_action(
        "load_entity", config, payload={"order": "o-2"}, profile={"id": "p1", "traits": {}}
    )
    wrong_type, _ = run_action(
        "load_entity",
        {**config, "type": "car"},
        payload={"order": "o-1"},
        profile={"id": "p1", "traits": {}},
    )
    shared, _ = run_action(
        "load_entity", {"id": "sku-1", "type": "product", "reference_profile": False}, profile=None
    )
    no_profile, _ = run_action("load_entity", config, payload={"order": "o-1"}, profile=None)

    assert found == [("entity", entity_doc("o-1", properties={"total": 10}))]
    assert flow.profile["traits"]["order"] == entity_doc("o-1", properties={"total": 10})
    assert theirs == [("missing", {"order": "o-2"})]
    assert wrong_type == [("missing", {"order": "o-1"})]
    assert shared == [("entity", entity_doc("sku-1", profile=None, type="product"))]
    assert no_profile == [
        ("error", {"message": "Load entity needs a profile, and this event has none"})
    ]


def test_delete_removes_only_the_profiles_entity():
    EntityFactory(id="o-1", type="order", profile=ProfileFactory(id="p1"))
    EntityFactory(id="o-2", type="order", profile=ProfileFactory(id="p2"))
    config = {"id": "{{payload@order}}", "type": "order"}

    deleted, _ = run_action("delete_entity", config, payload={"order": "o-1"}, profile={"id": "p1"})
    again, _ = run_action("delete_entity", config, payload={"order": "o-1"}, profile={"id": "p1"})
    theirs, _ = run_action("delete_entity", config, payload={"order": "o-2"}, profile={"id": "p1"})
    empty, _ = run_action("delete_entity", config, payload={}, profile={"id": "p1"})

    assert deleted == [("deleted", {"order": "o-1"})]
    assert again == [("missing", {"order": "o-1"})]
    assert theirs == [("missing", {"order": "o-2"})]
    assert empty == [("error", {"message": "the entity id '{{payload@order}}' rendered empty"})]
    assert list(Entity.objects.values_list("pk", flat=True)) == ["o-2"]


@pytest.mark.parametrize(
    ("action_id", "config", "errors"),
    [
        ("upsert_entity", {"type": "order"}, ["'id' is a required property"]),
        ("upsert_entity", {"id": "x"}, ["'type' is a required property"]),
        (
            "upsert_entity",
            {"id": " ", "type": "order"},
            ["id: write the entity id, e.g. {{event@properties.order_id}}"],
        ),
        (
            "upsert_entity",
            {"id": "x", "type": "   "},
            ["type: The entity type is empty; give e.g. order or subscription."],
        ),
        (
            "upsert_entity",
            {"id": "x", "type": "order", "properties": []},
            ["properties: [] is not of type 'object'"],
        ),
        (
            "load_entity",
            {"id": "x", "type": "order", "reference_profile": "yes"},
            ["reference_profile: 'yes' is not of type 'boolean'"],
        ),
        (
            "load_entity",
            {"id": "x", "type": "order", "target": "session@x"},
            [
                "target: session@ is read-only in workflows; write to one of "
                "event@, memory@, payload@, profile@"
            ],
        ),
        ("delete_entity", {"id": "x", "type": "order"}, []),
    ],
)
def test_config_validation(action_id, config, errors):
    assert action_by_id(action_id).config_errors(config) == errors


def test_tracardi_entity_plugins_resolve_by_module_and_their_configs_convert():
    module = "com_tracardi.action.v1.entity.upsert.plugin"
    plugin = tracardi_plugin(module, "WhateverTheClassIsCalled")
    init = {
        "id": "1",
        "properties": '{"total": "event@properties.total"}',
        "reference_profile": True,
        "traits": "{}",
        "type": "order",
    }

    assert action_class_for({"module": module, "className": "X"}).id == "upsert_entity"
    assert plugin.config_to_ours(
        init, set(action_by_id("upsert_entity").config_schema["properties"])
    ) == {
        "id": "1",
        "properties": {"total": "event@properties.total"},
        "reference_profile": True,
        "traits": {},
        "type": "order",
    }
    load = tracardi_plugin("com_tracardi.action.v1.entity.load.plugin", "X")
    load_init = {"id": "1", "reference_profile": True, "type": {"id": "order", "name": "order"}}
    ours = load.config_to_ours(
        load_init, set(action_by_id("load_entity").config_schema["properties"])
    )
    assert ours == {"id": "1", "reference_profile": True, "type": "order"}
    assert load.config_to_tracardi(ours) == load_init
