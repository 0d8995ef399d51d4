import json

import pytest

from apps.events.models import Event
from apps.profiles.models import Profile, Session
from apps.sources.services import event_source_create
from tests.tracking.conftest import payload

pytestmark = pytest.mark.django_db


def nothing_stored() -> bool:
    return (Event.objects.count(), Session.objects.count(), Profile.objects.count()) == (0, 0, 0)


def test_unknown_source_is_401(api, rest_source):
    response = api.track(payload("nope", session="s", events=[{"type": "a"}]))

    assert response.status_code == 401
    assert response.json() == {"detail": "Access denied. Invalid source."}
    assert nothing_stored()


def test_disabled_source_is_401(api, db):
    event_source_create(name="Off", source_id="off", enabled=False)
    response = api.track(payload("off", session="s", events=[{"type": "a"}]))

    assert response.status_code == 401
    assert response.json() == {"detail": "Access denied. Event source off is disabled."}
    assert nothing_stored()


def test_source_of_another_bridge_is_401(api, webhook_source):
    response = api.track(payload("hook-source", session="s", events=[{"type": "a"}]))

    assert response.status_code == 401
    assert "webhook source" in response.json()["detail"]
    assert nothing_stored()


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe", b"[" * 5000 + b"]" * 5000])
def test_body_that_is_not_json_is_400(api, rest_source, body):
    response = api.track(body)

    assert response.status_code == 400
    assert response.json()["detail"].startswith("The body is not valid JSON")
    assert nothing_stored()


def test_body_over_the_limit_is_413(api, rest_source, settings):
    settings.CDP_TRACK_MAX_BODY_BYTES = 1000
    big = payload(session="s", events=[{"type": "a", "properties": {"x": "y" * 2000}}])
    response = api.track(big)

    assert response.status_code == 413
    assert response.json() == {"detail": "The body is larger than the limit of 1000 bytes."}
    assert nothing_stored()


@pytest.mark.parametrize(
    ("body", "loc", "message"),
    [
        ({"events": [{"type": "a"}]}, ["body"], "(body): 'source' is a required property"),
        (
            {"source": {"id": "web-source"}, "events": [{"properties": {}}]},
            ["body", "events", 0],
            "events.0: 'type' is a required property",
        ),
        (
            {"source": {"id": "web-source"}, "events": [{"type": 5}]},
            ["body", "events", 0, "type"],
            "events.0.type: 5 is not of type 'string'",
        ),
        (
            {"source": {"id": "web-source"}, "events": [{"type": ""}]},
            ["body", "events", 0, "type"],
            "events.0.type: '' should be non-empty",
        ),
        (
            {"source": {"id": "web-source"}, "events": [{"type": "a", "properties": []}]},
            ["body", "events", 0, "properties"],
            "events.0.properties: [] is not of type 'object', 'null'",
        ),
        (
            {"source": {"id": "web-source"}, "options": {"saveEvents": "no"}, "events": []},
            ["body", "options", "saveEvents"],
            "options.saveEvents: 'no' is not of type 'boolean'",
        ),
        (
            {"source": {"id": "web-source"}, "events": [{"type": "a", "time": {"create": "x"}}]},
            ["body", "events", 0, "time", "create"],
            "'x' is not an ISO 8601 date and time.",
        ),
        (
            {"source": {"id": "web-source"}, "events": [{"type": "   "}]},
            ["body", "events", 0, "type"],
            "The event type is empty.",
        ),
    ],
)
def test_schema_violations_are_422_naming_the_field(api, rest_source, body, loc, message):
    response = api.track(body)

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == loc
    assert detail[0]["msg"] == message
    assert nothing_stored()


def test_a_body_that_is_a_list_is_422(api, rest_source):
    response = api.track(json.dumps([1, 2]))

    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "(body): [1, 2] is not of type 'object'"
