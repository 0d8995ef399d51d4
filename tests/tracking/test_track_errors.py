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


# Hostile input that reached PostgreSQL or the JSON encoder and answered Django's HTML 500
# (issue 12, item 6). Each is a 4xx naming the field, and nothing is stored.


def error_of(response) -> tuple[int, list, str]:
    detail = response.json()["detail"][0]
    return response.status_code, detail["loc"], detail["msg"]


@pytest.mark.parametrize(
    ("event", "loc"),
    [
        ({"type": "a\x00b"}, ["body", "events", 0, "type"]),
        (
            {"type": "a", "properties": {"note": "x\x00y"}},
            ["body", "events", 0, "properties", "note"],
        ),
        ({"type": "a", "properties": {"k\x00": 1}}, ["body", "events", 0, "properties", "k\x00"]),
        (
            {"type": "a", "properties": {"l": [1, "\x00"]}},
            ["body", "events", 0, "properties", "l", 1],
        ),
        ({"type": "a", "tags": ["\x00"]}, ["body", "events", 0, "tags", 0]),
        ({"type": "a", "id": "e\x00"}, ["body", "events", 0, "id"]),
    ],
)
def test_a_nul_character_in_an_event_is_422_naming_the_field(api, rest_source, event, loc):
    response = api.track(payload(session="s", events=[event]))

    assert error_of(response) == (422, loc, "The text contains a NUL character (\\u0000).")
    assert nothing_stored()


@pytest.mark.parametrize(
    ("extra", "loc"),
    [
        ({"session": {"id": "s\x00"}}, ["body", "session", "id"]),
        ({"profile": {"id": "p\x00"}}, ["body", "profile", "id"]),
        ({"context": {"page": {"\x00": "x"}}}, ["body", "context", "page", "\x00"]),
        ({"request": {"x": "\x00"}}, ["body", "request", "x"]),
        ({"metadata": {"x": "\x00"}}, ["body", "metadata", "x"]),
    ],
)
def test_a_nul_character_anywhere_in_the_body_is_422(api, rest_source, extra, loc):
    body = {**payload(events=[{"type": "a"}]), **extra}
    response = api.track(body)

    assert error_of(response) == (422, loc, "The text contains a NUL character (\\u0000).")
    assert nothing_stored()


def test_a_nul_in_the_source_id_is_422(api, rest_source):
    response = api.track(payload("web-source\x00", events=[{"type": "a"}]))

    assert error_of(response) == (
        422,
        ["body", "source", "id"],
        "The text contains a NUL character (\\u0000).",
    )


def test_an_escaped_backslash_before_u0000_is_ordinary_text(api, rest_source):
    # The body holds the six characters \u0000, not a NUL.
    response = api.track(
        payload(session="s", events=[{"type": "a", "properties": {"x": "\\u0000"}}])
    )

    assert response.status_code == 200
    assert Event.objects.get(type="a").properties == {"x": "\\u0000"}


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2024-01-01T10:00:00", "2024-01-01T10:00:00+00:00"),
        ("2024-01-01", "2024-01-01T00:00:00+00:00"),
        ("2024-W01-1", "2024-01-01T00:00:00+00:00"),
    ],
)
def test_a_time_without_a_zone_is_read_as_utc_with_a_warning(api, rest_source, sent, stored):
    response = api.track(payload(session="s", events=[{"type": "a", "time": {"create": sent}}]))

    assert response.status_code == 200
    assert response.json()["warnings"] == [
        f"events.0.time.create: {sent!r} has no time zone; it is read as UTC."
    ]
    assert Event.objects.get(type="a").time.isoformat() == stored


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("create", "0001-01-01T00:00:00+14:00"),
        ("create", "9999-12-31T23:59:59-14:00"),
        ("insert", "0001-01-01T00:00:00+00:01"),
        ("insert", "9999-12-31T23:59:59-00:01"),
    ],
)
def test_a_time_outside_years_1_to_9999_in_utc_is_422(api, rest_source, field, value):
    response = api.track(payload(session="s", events=[{"type": "a", "time": {field: value}}]))

    assert error_of(response) == (
        422,
        ["body", "events", 0, "time", field],
        f"{value!r} is outside the years 1 to 9999 once converted to UTC.",
    )
    assert nothing_stored()


def test_the_last_moments_in_range_are_stored(api, rest_source):
    events = [
        {"type": "first", "time": {"create": "0001-01-01T00:00:00+00:00"}},
        {"type": "last", "time": {"create": "9999-12-31T23:59:59.999999Z"}},
    ]
    response = api.track(payload(session="s", events=events))

    assert response.status_code == 200
    times = dict(Event.objects.filter(type__in=["first", "last"]).values_list("type", "time"))
    assert times["first"].isoformat() == "0001-01-01T00:00:00+00:00"
    assert times["last"].isoformat() == "9999-12-31T23:59:59.999999+00:00"


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"n": value}
    return value


def test_properties_nested_deeper_than_the_limit_are_422(api, rest_source):
    # body (1) > events (2) > event (3) > properties (4): properties 61 deep make 64 levels.
    response = api.track(payload(session="s", events=[{"type": "a", "properties": nested(62)}]))

    status, loc, message = error_of(response)
    assert (status, loc[:5], len(loc), message) == (
        422,
        ["body", "events", 0, "properties", "n"],
        4 + 61,
        "Nested deeper than 64 levels of objects and arrays.",
    )
    assert nothing_stored()


def test_properties_nested_to_the_limit_are_stored(api, rest_source):
    response = api.track(payload(session="s", events=[{"type": "a", "properties": nested(61)}]))

    assert response.status_code == 200
    assert Event.objects.get(type="a").properties == nested(61)


def test_nesting_that_orjson_reads_but_cannot_write_is_422(api, rest_source):
    # orjson reads up to 1024 levels and writes up to 254.
    response = api.track(payload(session="s", events=[{"type": "a", "properties": nested(300)}]))

    assert response.status_code == 422
    assert nothing_stored()


def test_an_event_type_that_grows_past_100_characters_when_lower_cased_is_422(api, rest_source):
    response = api.track(payload(session="s", events=[{"type": "İ" * 100}]))

    assert error_of(response) == (
        422,
        ["body", "events", 0, "type"],
        "The event type is longer than 100 characters once lower-cased.",
    )
    assert nothing_stored()


def test_too_many_events_name_the_limit_without_echoing_the_body(api, rest_source):
    response = api.track(payload(session="s", events=[{"type": "a"}] * 10_000))

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "events"],
                "msg": "events: 10000 items; the limit is 1000.",
                "type": "value_error.maxItems",
            }
        ]
    }
    assert nothing_stored()


def test_an_over_long_string_is_not_echoed(api, rest_source):
    response = api.track(payload(session="s" * 5000, events=[{"type": "a"}]))

    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "session", "id"],
                "msg": "session.id: 5000 characters; the limit is 64.",
                "type": "value_error.maxLength",
            }
        ]
    }
