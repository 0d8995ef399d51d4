"""Issue 17 item 2 (first part): profiles by id (a merged id resolves to its survivor and
says so) and searched by e-mail, segment, condition and trait values."""

import pytest

from apps.profiles.models import Profile, empty_profile_data
from apps.profiles.services.merge import profiles_merge
from tests.profiles.factories import ProfileFactory

pytestmark = pytest.mark.django_db


def _person(pid: str, email: str = "", **fields) -> Profile:
    data = empty_profile_data()
    if email:
        data["contact"]["email"]["main"] = email
    return ProfileFactory(id=pid, data=data, **fields)


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [profile["id"] for profile in response.json()["results"]]


def test_a_profile_in_tracardis_shape(client_all):
    _person("p-1", "ann@example.com", traits={"plan": "gold"})
    body = client_all.get("/api/v1/profiles/p-1/").json()
    assert body["id"] == "p-1"
    assert body["data"]["contact"]["email"]["main"] == "ann@example.com"
    assert body["traits"] == {"plan": "gold"}
    assert "merged_from" not in body


def test_an_id_merged_away_answers_with_the_survivor_and_says_so(client_all):
    _person("survivor", "ann@example.com")
    _person("merged", "ann@example.com")
    profiles_merge(profile_ids=["survivor", "merged"], reason="test", actor="test")
    response = client_all.get("/api/v1/profiles/merged/")
    assert response.status_code == 200
    assert response.json()["id"] == "survivor"
    assert response.json()["merged_from"] == "merged"
    assert response["Content-Location"] == "http://testserver/api/v1/profiles/survivor/"


def test_an_unknown_profile_is_404_with_a_sentence(client_all):
    response = client_all.get("/api/v1/profiles/nobody/")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "No profile has the id 'nobody' (nor was it merged into one)."
    }


def test_search_by_email_any_case(client_all):
    _person("p-1", "Ann@Example.com")
    _person("p-2", "bob@example.com")
    assert _ids(client_all.get("/api/v1/profiles/?email=ANN@example.COM")) == ["p-1"]


def test_search_by_segment_and_by_condition(client_all):
    _person("p-1", stats={"visits": 5}, segments=["vip"])
    _person("p-2", stats={"visits": 1})
    _person("p-3", stats={"visits": 9})
    assert _ids(client_all.get("/api/v1/profiles/?segment=vip")) == ["p-1"]
    by_condition = client_all.get("/api/v1/profiles/", {"condition": "profile@stats.visits > 3"})
    assert _ids(by_condition) == ["p-1", "p-3"]


def test_search_by_trait_value_matches_numbers_and_text(client_all):
    _person("p-1", traits={"plan": "gold", "score": 42})
    _person("p-2", traits={"plan": "silver", "score": "42"})
    _person("p-3", traits={"plan": "gold", "score": 7, "address": {"town": "Kraków"}})
    assert _ids(client_all.get("/api/v1/profiles/?trait.score=42")) == ["p-1", "p-2"]
    assert _ids(client_all.get("/api/v1/profiles/?trait.plan=gold&trait.score=7")) == ["p-3"]
    assert _ids(client_all.get("/api/v1/profiles/", {"trait.address.town": "Kraków"})) == ["p-3"]


def test_a_condition_that_does_not_parse_or_translate_is_400_on_the_parameter(client_all):
    broken = client_all.get("/api/v1/profiles/", {"condition": "profile@stats.visits >"})
    assert broken.status_code == 400
    detail = broken.json()["detail"]
    assert [entry["loc"] for entry in detail] == [["query", "condition"]]
    unsearchable = client_all.get(
        "/api/v1/profiles/", {"condition": 'profile@traits.tags CONTAINS "x"'}
    )
    assert unsearchable.status_code == 400
    assert unsearchable.json()["detail"][0]["msg"].startswith(
        "This condition cannot be searched in the database"
    )


def test_profile_pages_follow_the_id(client_all):
    for n in range(5):
        _person(f"p-{n}")
    first = client_all.get("/api/v1/profiles/?page_size=2").json()
    second = client_all.get(first["next"]).json()
    third = client_all.get(second["next"]).json()
    pages = [[p["id"] for p in page["results"]] for page in (first, second, third)]
    assert pages == [["p-0", "p-1"], ["p-2", "p-3"], ["p-4"]]
    assert third["next"] is None
