"""Issue 23: entities: the services' input checks, a workflow that upserts one during event
processing, the admin list (filtered by type and profile) and the profile page's section."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from apps.profiles.admin.entities import entities_section
from apps.profiles.models import Entity
from apps.profiles.selectors import entity_types
from apps.profiles.services.entities import EntityError, entity_delete, entity_upsert
from apps.tracking.processing import profile_events_process
from tests.profiles.factories import EntityFactory, ProfileFactory
from tests.workflows.factories import EventFactory, RuleFactory, WorkflowFactory
from tests.workflows.graphs import linear_graph

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "message", "field"),
    [
        ({"entity_id": ""}, "The entity id is empty; give e.g. an order number.", "id"),
        ({"entity_id": 7}, "The entity id is empty; give e.g. an order number.", "id"),
        ({"entity_id": "a\x00b"}, "The entity id contains a NUL character.", "id"),
        (
            {"entity_type": " "},
            "The entity type is empty; give e.g. order or subscription.",
            "type",
        ),
        ({"entity_type": "t" * 101}, "The entity type is longer than 100 characters.", "type"),
        ({"properties": [1]}, "properties must be an object, not list.", "properties"),
        ({"traits": {"a": "\x00"}}, "traits contains a NUL character (\\u0000).", "traits"),
        (
            {"properties": {"a": "x" * 70_000}},
            "properties is 70,008 bytes of JSON; at most 65,536.",
            "properties",
        ),
        ({"profile_id": "ghost"}, "There is no profile 'ghost'.", "profile_id"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_stores_nothing(fields, message, field):
    ProfileFactory(id="p1")
    arguments = {
        "entity_id": "o-1",
        "entity_type": "order",
        "profile_id": "p1",
        "properties": {},
        "traits": {},
        **fields,
    }

    with pytest.raises(EntityError) as caught:
        entity_upsert(**arguments, own_only=False)

    assert (str(caught.value), caught.value.field) == (message, field)
    assert not Entity.objects.exists()


def test_deep_nesting_is_refused():
    deep: dict = {}
    for _ in range(40):
        deep = {"a": deep}

    with pytest.raises(EntityError, match="traits is nested deeper than 32 levels."):
        entity_upsert(
            entity_id="x",
            entity_type="t",
            profile_id=None,
            properties={},
            traits=deep,
            own_only=False,
        )


def test_the_api_side_may_move_an_entity_and_change_its_type_a_workflow_may_not():
    ProfileFactory(id="p1"), ProfileFactory(id="p2")
    entity_upsert(
        entity_id="o-1",
        entity_type="Car Loan",
        profile_id="p1",
        properties={},
        traits={},
        own_only=False,
        now=T0,
    )

    with pytest.raises(EntityError, match="belongs to another profile"):
        entity_upsert(
            entity_id="o-1",
            entity_type="car-loan",
            profile_id="p2",
            properties={},
            traits={},
            own_only=True,
        )
    moved, created = entity_upsert(
        entity_id="o-1",
        entity_type="order",
        profile_id="p2",
        properties={"a": 1},
        traits={},
        own_only=False,
        now=T0 + timedelta(days=1),
    )

    assert created is False
    assert (moved.type, moved.profile_id, moved.properties, moved.created) == (
        "order",
        "p2",
        {"a": 1},
        T0,
    )
    assert (
        entity_delete(entity_id="o-1", entity_type="car-loan", profile_id=None, own_only=False)
        is False
    )
    assert entity_delete(entity_id="o-1", profile_id="p1", own_only=True) is False
    assert entity_delete(entity_id="o-1", profile_id="p2", own_only=True) is True


def test_a_workflow_upserts_the_profiles_entity_while_its_event_is_processed():
    workflow = WorkflowFactory(
        graph=linear_graph(
            (
                "upsert_entity",
                {
                    "id": "{{event@properties.order_id}}",
                    "type": "order",
                    "properties": {"total": "event@properties.total"},
                },
            ),
        )
    )
    RuleFactory(workflow=workflow, event_type="purchase")
    profile = ProfileFactory(id="w")
    EventFactory(
        profile=profile, session=None, type="purchase", properties={"order_id": "o-7", "total": 12}
    )

    profile_events_process(profile_id="w")

    assert list(Entity.objects.values_list("pk", "type", "profile_id", "properties")) == [
        ("o-7", "order", "w", {"total": 12})
    ]


def test_the_admin_list_filters_by_type_and_profile(client):
    client.force_login(get_user_model().objects.create_superuser(username="admin"))
    ann, bob = ProfileFactory(id="ann"), ProfileFactory(id="bob")
    EntityFactory(id="o-1", type="order", profile=ann, properties={"total": 10}, updated=T0)
    EntityFactory(id="o-2", type="order", profile=bob, updated=T0 + timedelta(hours=1))
    EntityFactory(id="car-1", type="car", profile=ann, updated=T0 + timedelta(hours=2))
    EntityFactory(id="store-1", type="store", profile=None, updated=T0 + timedelta(hours=3))

    def listed(query: str) -> list[str]:
        page = client.get(f"/admin/profiles/entity/{query}")
        assert page.status_code == 200
        return [entity.pk for entity in page.context["cl"].result_list]

    assert listed("") == ["store-1", "car-1", "o-2", "o-1"]
    assert listed("?type=order") == ["o-2", "o-1"]
    assert listed("?profile=ann") == ["car-1", "o-1"]
    assert listed("?type=order&profile=ann") == ["o-1"]
    assert listed("?q=bob") == ["o-2"]
    assert listed("?q=o-1") == ["o-1"]
    assert entity_types() == ["car", "order", "store"]
    page = client.get("/admin/profiles/entity/o-1/change/").content.decode()
    assert "total" in page and 'href="/admin/profiles/profile/ann/change/"' in page
    assert client.get("/admin/profiles/entity/add/").status_code == 403


def test_the_profile_page_shows_the_persons_entities(client):
    client.force_login(get_user_model().objects.create_superuser(username="admin"))
    ann = ProfileFactory(id="ann")
    EntityFactory(
        id="o-1",
        type="order",
        profile=ann,
        properties={"total": 10, "currency": "EUR"},
        traits={"status": "paid"},
        updated=T0,
    )
    EntityFactory(id="car-1", type="car", profile=ann, updated=T0)
    EntityFactory(id="o-2", type="order", profile=ProfileFactory(id="bob"), updated=T0)

    section = entities_section("ann")
    page = client.get("/admin/profiles/profile/ann/change/").content.decode()

    assert [(row[0], row[2], row[3]) for row in section["rows"]] == [
        ("car", "", ""),
        ("order", "total: 10 · currency: EUR", "status: paid"),
    ]
    assert section["more_url"] == "/admin/profiles/entity/?profile=ann"
    html = page[page.index('data-section="entities"') :]
    assert 'href="/admin/profiles/entity/o-1/change/"' in html
    assert "o-2" not in html
    empty = entities_section("bob-nobody")
    assert (empty["rows"], empty["empty"]) == ([], "This person has no entities.")
