"""Issue 17 item 2 (first part): profiles by id (a merged id resolves to its survivor and
says so) and searched by e-mail, segment, condition and trait values."""

import json

import pytest

from apps.profiles.models import ErasureRecord, MergeRecord, Profile, empty_profile_data
from apps.profiles.services.merge import profiles_merge
from tests.events.factories import EventFactory
from tests.profiles.factories import ProfileFactory, SessionFactory

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


def test_an_edit_replaces_objects_stamps_fields_and_answers_the_changed_paths(client_all):
    _person("p-1", traits={"plan": "free"})
    response = client_all.patch(
        "/api/v1/profiles/p-1/", {"traits": {"plan": "gold", "score": 3}}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert sorted(body["changed"]) == ["traits.plan", "traits.score"]
    assert body["profile"]["traits"] == {"plan": "gold", "score": 3}
    stored = Profile.objects.get(pk="p-1")
    assert stored.traits == {"plan": "gold", "score": 3}
    assert set(stored.metadata["fields"]) >= {"traits.plan", "traits.score"}


def test_an_edit_of_a_field_that_cannot_be_edited_is_400_and_changes_nothing(client_all):
    _person("p-1", traits={"plan": "free"})
    response = client_all.patch(
        "/api/v1/profiles/p-1/", {"traits": {"plan": "x"}, "segments": ["vip"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": [
            {
                "loc": ["body"],
                "msg": "Not editable: segments; editable: active, traits, interests, consents, "
                "aux, data.",
                "type": "invalid",
            }
        ]
    }
    wrong_type = client_all.patch("/api/v1/profiles/p-1/", {"traits": [1]}, format="json")
    assert wrong_type.status_code == 400
    assert wrong_type.json()["detail"][0]["loc"] == ["body", "traits"]
    assert Profile.objects.get(pk="p-1").traits == {"plan": "free"}


def test_merge_through_the_api_names_the_actor(client_all):
    _person("a", "ann@example.com")
    _person("b", "ann@example.com")
    response = client_all.post(
        "/api/v1/profiles/merge/",
        {"profile_ids": ["a", "b"], "reason": "same e-mail"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["id"] == "a"
    assert response.json()["ids"] == ["b"]
    record = MergeRecord.objects.get()
    assert record.reason == "same e-mail"
    assert record.actor.startswith("API key Test (")
    too_few = client_all.post("/api/v1/profiles/merge/", {"profile_ids": ["a"]}, format="json")
    assert too_few.status_code == 400
    assert too_few.json()["detail"][0]["loc"] == ["body", "profile_ids"]


def test_forget_starts_an_erasure_and_answers_its_record(
    client_all, django_capture_on_commit_callbacks
):
    _person("p-1")
    with django_capture_on_commit_callbacks(execute=False):
        response = client_all.post("/api/v1/profiles/p-1/forget/")
    assert response.status_code == 202
    body = response.json()
    assert body["profile_ids"] == ["p-1"]
    assert body["status"] == "running"
    assert ErasureRecord.objects.get().pk == body["id"]
    again = client_all.post("/api/v1/profiles/p-1/forget/")
    assert again.status_code == 404
    assert again.json()["detail"].startswith("Profile p-1 is being erased since ")


def test_a_profiles_events_sessions_and_runs(client_all):
    person = _person("p-1")
    session = SessionFactory(id="s-1", profile=person)
    EventFactory(id="e-1", profile=person, session=session, type="page-view")
    EventFactory(id="e-2", profile=person, session=session, type="purchase")
    EventFactory(id="other", type="page-view")
    events = client_all.get("/api/v1/profiles/p-1/events/").json()
    assert sorted(event["id"] for event in events["results"]) == ["e-1", "e-2"]
    sessions = client_all.get("/api/v1/profiles/p-1/sessions/").json()
    assert [s["id"] for s in sessions["results"]] == ["s-1"]
    assert client_all.get("/api/v1/profiles/p-1/runs/").json()["results"] == []
    assert client_all.get("/api/v1/profiles/nobody/events/").status_code == 404


def test_export_streams_json_lines_of_a_segment(client_all):
    _person("p-1", segments=["vip"], traits={"plan": "gold"})
    _person("p-2")
    response = client_all.get("/api/v1/profiles/export/?segment=vip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["p-1"]
    assert json.loads(lines[0])["traits"] == {"plan": "gold"}


def test_search_by_phone_identifier_and_the_admins_search_box(client_all):
    data = empty_profile_data()
    data["contact"]["phone"]["mobile"] = "+48 600-100-200"
    data["identifier"]["customer_id"] = "C-4242"
    data["pii"]["firstname"], data["pii"]["lastname"] = "Ann", "Smith"
    ProfileFactory(id="ann", data=data)
    _person("bob", "bob@example.com")
    assert _ids(client_all.get("/api/v1/profiles/", {"phone": "48600100200"})) == ["ann"]
    assert _ids(client_all.get("/api/v1/profiles/", {"identifier": "C-4242"})) == ["ann"]
    assert _ids(client_all.get("/api/v1/profiles/", {"q": "ann smith"})) == ["ann"]
    short = client_all.get("/api/v1/profiles/", {"phone": "600"})
    assert short.status_code == 400
    assert short.json()["detail"] == [
        {
            "loc": ["query", "phone"],
            "msg": "Give at least 6 digits of the number.",
            "type": "value_error",
        }
    ]
