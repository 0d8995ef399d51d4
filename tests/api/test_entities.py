"""Issue 23: entities in the management API: list by type and profile (cursor pages), read,
create or replace, delete; bad input is a 400 naming the field and stores nothing."""

from datetime import UTC, datetime

import pytest

from apps.profiles.models import Entity
from apps.profiles.services.merge import profiles_merge
from tests.profiles.factories import EntityFactory, ProfileFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [entity["id"] for entity in response.json()["results"]]


def test_an_entity_in_tracardis_shape(client_all):
    EntityFactory(
        id="o-1",
        type="order",
        profile=ProfileFactory(id="ann"),
        properties={"total": 10},
        traits={"status": "paid"},
        created=T0,
        updated=T0,
    )

    response = client_all.get("/api/v1/entities/o-1/")

    assert response.status_code == 200
    assert response.json() == {
        "id": "o-1",
        "type": "order",
        "profile": {"id": "ann"},
        "properties": {"total": 10},
        "traits": {"status": "paid"},
        "metadata": {
            "time": {"insert": T0.isoformat(), "create": T0.isoformat(), "update": T0.isoformat()}
        },
    }
    missing = client_all.get("/api/v1/entities/nope/")
    assert (missing.status_code, missing.json()) == (
        404,
        {"detail": "No entity has the id 'nope'."},
    )


def test_list_filters_by_type_and_profile_in_cursor_pages(client_all):
    ann, bob = ProfileFactory(id="ann"), ProfileFactory(id="bob")
    EntityFactory(id="a-order", type="order", profile=ann)
    EntityFactory(id="b-order", type="order", profile=bob)
    EntityFactory(id="c-car", type="car", profile=ann)
    EntityFactory(id="d-store", type="store", profile=None)

    assert _ids(client_all.get("/api/v1/entities/")) == ["a-order", "b-order", "c-car", "d-store"]
    assert _ids(client_all.get("/api/v1/entities/?type=Order")) == ["a-order", "b-order"]
    assert _ids(client_all.get("/api/v1/entities/?profile=ann")) == ["a-order", "c-car"]
    assert _ids(client_all.get("/api/v1/entities/?type=order&profile=ann")) == ["a-order"]
    first = client_all.get("/api/v1/entities/?page_size=3").json()
    assert [entity["id"] for entity in first["results"]] == ["a-order", "b-order", "c-car"]
    assert _ids(client_all.get(first["next"])) == ["d-store"]
    bad = client_all.get("/api/v1/entities/?type=" + "t" * 101)
    assert bad.status_code == 400
    assert bad.json() == {
        "detail": [
            {
                "loc": ["query", "type"],
                "msg": "The entity type is longer than 100 characters.",
                "type": "value_error",
            }
        ]
    }


def test_create_then_replace_then_delete(client_all):
    ProfileFactory(id="ann")
    body = {"id": "o-9", "type": "Order", "profile_id": "ann", "properties": {"total": 5}}

    created = client_all.post("/api/v1/entities/", body, format="json")
    replaced = client_all.put(
        "/api/v1/entities/o-9/",
        {"type": "order", "profile_id": None, "traits": {"status": "shipped"}},
        format="json",
    )
    new_by_put = client_all.put("/api/v1/entities/o-10/", {"type": "order"}, format="json")

    assert created.status_code == 201
    assert (created.json()["type"], created.json()["profile"]) == ("order", {"id": "ann"})
    assert created.json()["properties"] == {"total": 5}
    assert replaced.status_code == 200
    assert (replaced.json()["profile"], replaced.json()["properties"]) == (None, {})
    assert replaced.json()["traits"] == {"status": "shipped"}
    assert (
        replaced.json()["metadata"]["time"]["create"]
        == created.json()["metadata"]["time"]["create"]
    )
    assert new_by_put.status_code == 201
    assert client_all.delete("/api/v1/entities/o-9/").status_code == 204
    gone = client_all.delete("/api/v1/entities/o-9/")
    assert (gone.status_code, gone.json()) == (404, {"detail": "No entity has the id 'o-9'."})
    assert list(Entity.objects.values_list("pk", flat=True)) == ["o-10"]


def test_a_merged_profile_id_names_its_survivor(client_all):
    ProfileFactory(id="survivor"), ProfileFactory(id="merged")
    profiles_merge(profile_ids=["survivor", "merged"], reason="test", actor="test")

    response = client_all.put(
        "/api/v1/entities/o-1/", {"type": "order", "profile_id": "merged"}, format="json"
    )

    assert (response.status_code, response.json()["profile"]) == (201, {"id": "survivor"})


@pytest.mark.parametrize(
    ("body", "loc", "msg"),
    [
        ({"id": "o-1"}, ["body", "type"], "This field is required."),
        ({"type": "order"}, ["body", "id"], "This field is required."),
        ({"id": "o-1", "type": " "}, ["body", "type"], "This field may not be blank."),
        (
            {"id": "x" * 65, "type": "order"},
            ["body", "id"],
            "Ensure this field has no more than 64 characters.",
        ),
        (
            {"id": "o-1", "type": "order", "properties": [1]},
            ["body", "properties"],
            'Expected a dictionary of items but got type "list".',
        ),
        (
            {"id": "o-1", "type": "order", "properties": {"a": "\u0000"}},
            ["body", "properties"],
            "properties contains a NUL character (\\u0000).",
        ),
        (
            {"id": "o-1", "type": "order", "profile_id": "ghost"},
            ["body", "profile_id"],
            "There is no profile 'ghost' (nor was it merged).",
        ),
        ({"id": "o\u0000", "type": "order"}, ["body", "id"], "Null characters are not allowed."),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(client_all, body, loc, msg):
    response = client_all.post("/api/v1/entities/", body, format="json")

    assert response.status_code == 400
    assert [(error["loc"], error["msg"]) for error in response.json()["detail"]] == [(loc, msg)]
    assert not Entity.objects.exists()


def test_reading_needs_profiles_read_and_writing_profiles_write(make_client):
    EntityFactory(id="o-1", profile=None)
    reader = make_client("profiles:read")

    assert reader.get("/api/v1/entities/o-1/").status_code == 200
    refused = reader.delete("/api/v1/entities/o-1/")
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "This API key lacks the scope 'profiles:write' (it has: profiles:read)."
    }
    assert Entity.objects.filter(pk="o-1").exists()
    assert make_client("profiles:write").delete("/api/v1/entities/o-1/").status_code == 204
