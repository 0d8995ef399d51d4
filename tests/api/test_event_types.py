"""Issue 17 item 2: event types with their schema and mapping rules; identification points."""

import pytest

from apps.events.models import EventType
from apps.profiles.models import IdentificationPoint
from apps.workflows.models import Rule, Workflow

pytestmark = pytest.mark.django_db


def test_create_a_type_with_its_schema_and_mappings(client_all):
    response = client_all.post(
        "/api/v1/event-types/",
        {
            "type": "newsletter-signup",
            "name": "Newsletter sign-up",
            "json_schema": {"type": "object", "required": ["email"]},
            "mappings": [
                {"profile_path": "data.contact.email.main", "event_path": "properties.email"},
                {"profile_path": "stats.signups", "operation": "increment", "amount": 1},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["type"] == "newsletter-signup"
    assert [m["profile_path"] for m in body["mappings"]] == [
        "data.contact.email.main",
        "stats.signups",
    ]
    stored = EventType.objects.get(type="newsletter-signup")
    assert list(stored.mappings.values_list("position", "operation")) == [
        (0, "set"),
        (1, "increment"),
    ]
    got = client_all.get("/api/v1/event-types/newsletter-signup/").json()
    assert got["json_schema"] == {"type": "object", "required": ["email"]}


def test_a_bad_mapping_row_is_named_by_its_index_and_nothing_is_saved(client_all):
    response = client_all.post(
        "/api/v1/event-types/",
        {
            "type": "broken",
            "name": "Broken",
            "mappings": [
                {"profile_path": "data.contact.email.main", "event_path": "properties.email"},
                {"profile_path": "", "event_path": "properties.x"},
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    locs = [entry["loc"] for entry in response.json()["detail"]]
    assert locs == [["body", "mappings", 1, "profile_path"]]
    assert not EventType.objects.filter(type="broken").exists()


def test_a_type_spelled_unlike_its_stored_form_is_refused_with_the_fix(client_all):
    response = client_all.post(
        "/api/v1/event-types/", {"type": "Page View", "name": "x"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["detail"][0]["loc"] == ["body", "type"]


def test_update_replaces_the_mappings_and_delete_removes_the_type(client_all):
    client_all.post(
        "/api/v1/event-types/",
        {
            "type": "t",
            "name": "T",
            "mappings": [{"profile_path": "traits.a", "event_path": "properties.a"}],
        },
        format="json",
    )
    changed = client_all.patch(
        "/api/v1/event-types/t/",
        {"mappings": [{"profile_path": "traits.b", "event_path": "properties.b"}]},
        format="json",
    )
    assert changed.status_code == 200
    assert [m["profile_path"] for m in changed.json()["mappings"]] == ["traits.b"]
    assert client_all.delete("/api/v1/event-types/t/").status_code == 204
    assert not EventType.objects.filter(type="t").exists()


def test_identification_points_crud(client_all):
    made = client_all.post(
        "/api/v1/identification-points/",
        {
            "name": "By e-mail",
            "event_type": "sign-in",
            "fields": [{"profile": "data.contact.email.main", "event": "properties.email"}],
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    point = IdentificationPoint.objects.get()
    assert point.fields == [{"profile": "data.contact.email.main", "event": "properties.email"}]
    bad = client_all.patch(
        f"/api/v1/identification-points/{point.pk}/", {"event_type": "Sign In"}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["detail"] == [
        {
            "loc": ["body", "event_type"],
            "msg": "Write the event type as stored: 'sign-in'.",
            "type": "invalid",
        }
    ]
    assert client_all.delete(f"/api/v1/identification-points/{point.pk}/").status_code == 204


def test_consent_types_crud_and_a_rule_that_requires_one(client_all):
    made = client_all.post(
        "/api/v1/consent-types/",
        {"id": "marketing", "name": "Newsletter", "auto_revoke_days": 365},
        format="json",
    )
    assert made.status_code == 201, made.content
    assert made.json()["revokable"] is True
    again = client_all.post(
        "/api/v1/consent-types/", {"id": "marketing", "name": "Other"}, format="json"
    )
    assert again.status_code == 400
    assert again.json()["detail"][0]["msg"] == "A consent type has the id 'marketing' already."
    workflow = Workflow.objects.create(name="W")
    rule = client_all.post(
        "/api/v1/rules/",
        {
            "name": "Offers",
            "event_type": "purchase",
            "workflow": workflow.pk,
            "required_consent": "marketing",
        },
        format="json",
    )
    assert rule.status_code == 201, rule.content
    assert Rule.objects.get().required_consent_id == "marketing"
