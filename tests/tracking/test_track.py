import json
import uuid

import pytest

from apps.events.models import Event
from apps.profiles.models import Profile, Session
from apps.sources.services import event_source_create
from tests.tracking.conftest import BOT_UA, payload

pytestmark = pytest.mark.django_db


def event_types(**filters) -> list[str]:
    return list(
        Event.objects.filter(**filters).order_by("inserted", "time").values_list("type", flat=True)
    )


def test_first_visit_with_two_events_stores_five_events(api, rest_source):
    response = api.track(
        payload(
            session="s-1",
            events=[
                {"type": "Page View", "properties": {"url": "/a"}},
                {"type": "purchase", "properties": {"price": 10}},
            ],
        )
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "task",
        "ux",
        "response",
        "events",
        "profile",
        "session",
        "errors",
        "warnings",
    }
    assert body["session"] == {"id": "s-1"}
    assert body["ux"] == [] and body["errors"] == [] and body["warnings"] == []
    profile_id = body["profile"]["id"]
    assert uuid.UUID(profile_id)
    events = list(Event.objects.order_by("time"))
    assert len(events) == 5
    client_events = Event.objects.filter(type__in=["page-view", "purchase"])
    assert sorted(client_events.values_list("type", flat=True)) == ["page-view", "purchase"]
    system = Event.objects.exclude(type__in=["page-view", "purchase"])
    assert sorted(system.values_list("type", flat=True)) == [
        "profile-created",
        "session-opened",
        "visit-started",
    ]
    visit = Event.objects.get(type="visit-started")
    assert visit.properties == {"trigger-event-types": ["page-view", "purchase"]}
    assert {event.profile_id for event in events} == {profile_id}
    assert {event.session_id for event in events} == {"s-1"}
    # System events are stored after the client's events.
    client_times = max(e.time for e in client_events)
    assert all(e.time >= client_times for e in system)
    profile = Profile.objects.get(pk=profile_id)
    assert profile.visit_count == 1
    assert profile.metadata["time"]["visit"]["count"] == 1
    assert response["X-Process-Time"]


def test_second_request_in_the_same_session_adds_no_system_events(api, rest_source):
    first = api.track(payload(session="s-2", events=[{"type": "page-view"}])).json()
    second = api.track(
        payload(session="s-2", profile=first["profile"]["id"], events=[{"type": "click"}])
    ).json()

    assert second["profile"]["id"] == first["profile"]["id"]
    assert Event.objects.count() == 5
    assert Profile.objects.count() == 1
    assert Profile.objects.get().visit_count == 1


def test_retried_event_id_is_stored_once(api, rest_source):
    body = payload(session="s-3", events=[{"type": "page-view", "id": "client-event-1"}])
    api.track(body)
    api.track(body)

    assert Event.objects.filter(pk="client-event-1").count() == 1
    assert Event.objects.filter(type="page-view").count() == 1


def test_forged_profile_id_gets_a_new_profile(api, rest_source):
    body = api.track(payload(session="s-4", profile="someone-else", events=[{"type": "a"}])).json()

    assert body["profile"]["id"] != "someone-else"
    assert not Profile.objects.filter(pk="someone-else").exists()
    assert Profile.objects.filter(pk=body["profile"]["id"]).exists()


def test_static_profile_ids_are_trusted_when_the_source_allows_them(api, db):
    event_source_create(name="Static", source_id="static-src", static_profile_ids=True)
    body = api.track(
        payload("static-src", session="s-5", profile="crm-42", events=[{"type": "a"}])
    ).json()

    assert body["profile"]["id"] == "crm-42"
    assert Profile.objects.filter(pk="crm-42").exists()


def test_session_wins_over_the_profile_id_sent(api, rest_source):
    first = api.track(payload(session="s-6", events=[{"type": "a"}])).json()
    other = api.track(payload(session="s-7", events=[{"type": "a"}])).json()

    again = api.track(
        payload(session="s-6", profile=other["profile"]["id"], events=[{"type": "b"}])
    ).json()

    assert again["profile"]["id"] == first["profile"]["id"]
    assert Event.objects.get(type="b").profile_id == first["profile"]["id"]


def test_profile_merged_away_resolves_to_the_survivor(api, rest_source):
    survivor = Profile.objects.create(
        id="survivor",
        ids=["merged-away"],
        created="2026-01-01T00:00:00Z",
        updated="2026-01-01T00:00:00Z",
    )
    body = api.track(payload(session="s-8", profile="merged-away", events=[{"type": "a"}])).json()

    assert body["profile"]["id"] == survivor.pk
    assert Event.objects.get(type="a").profile_id == "survivor"
    assert Profile.objects.count() == 1


def test_python_client_body_without_content_type(api, rest_source):
    # What Tracardi's Python client sends: no Content-Type, a metadata block, options.profile.
    body = {
        "source": {"id": "web-source"},
        "session": {"id": "py-session"},
        "metadata": {"time": {"insert": "2026-01-01T00:00:00"}},
        "options": {"profile": True, "saveSession": True},
        "events": [{"type": "sign-up", "properties": {"plan": "pro"}, "options": {}}],
    }
    response = api.client.generic("POST", "/track", json.dumps(body).encode(), content_type="")

    assert response.status_code == 200
    assert Event.objects.get(type="sign-up").properties == {"plan": "pro"}


def test_profile_less_tracking_stores_events_without_profile(api, rest_source):
    response = api.track(payload(session="s-9", events=[{"type": "a"}]), query="?profile_less=true")

    assert response.status_code == 200
    assert response.json()["profile"] == {"id": None}
    assert event_types() == ["a"]
    assert Event.objects.get().profile_id is None
    assert Profile.objects.count() == 0


def test_empty_events_answer_null(api, rest_source):
    response = api.track(payload(session="s-10", events=[]))

    assert response.status_code == 200
    assert response.content == b"null"
    assert Session.objects.count() == 0


@pytest.mark.parametrize(
    ("options", "events", "sessions", "profiles"),
    [
        ({"saveEvents": False}, 0, 1, 1),
        ({"saveEvent": False}, 0, 1, 1),
        ({"saveSession": False}, 4, 0, 1),
        ({"saveProfile": False}, 4, 1, 0),
    ],
)
def test_save_options(api, rest_source, options, events, sessions, profiles):
    response = api.track(payload(session="s-11", events=[{"type": "a"}], options=options))

    assert response.status_code == 200
    assert (Event.objects.count(), Session.objects.count(), Profile.objects.count()) == (
        events,
        sessions,
        profiles,
    )


def test_ephemeral_source_stores_the_profile_but_not_the_session_or_events(api, db):
    # Tracardi's transitional source turns off saving the session and the events only.
    event_source_create(name="Ephemeral", source_id="eph", transitional=True)
    response = api.track(payload("eph", session="s-12", events=[{"type": "a"}]))

    assert response.status_code == 200
    profile_id = response.json()["profile"]["id"]
    assert (Event.objects.count(), Session.objects.count()) == (0, 0)
    assert list(Profile.objects.values_list("id", "visit_count")) == [(profile_id, 1)]

    again = api.track(payload("eph", session="s-12", profile=profile_id, events=[{"type": "b"}]))

    assert again.json()["profile"]["id"] == profile_id
    assert (Event.objects.count(), Session.objects.count(), Profile.objects.count()) == (0, 0, 1)


def test_new_visit_after_the_session_idles(api, rest_source, settings):
    first = api.track(payload(session="s-13", events=[{"type": "a"}])).json()
    Session.objects.filter(pk="s-13").update(updated="2020-01-01T00:00:00Z")

    api.track(payload(session="s-13", events=[{"type": "b"}]))

    profile = Profile.objects.get(pk=first["profile"]["id"])
    assert profile.visit_count == 2
    visit = profile.metadata["time"]["visit"]
    assert visit["count"] == 2
    assert visit["last"] is not None and visit["current"] > visit["last"]
    assert Event.objects.filter(type="visit-started").count() == 2


def test_new_session_of_a_known_profile_is_a_new_visit(api, rest_source):
    first = api.track(payload(session="s-14", events=[{"type": "a"}])).json()
    api.track(payload(session="s-15", profile=first["profile"]["id"], events=[{"type": "a"}]))

    assert Profile.objects.get().visit_count == 2
    assert Event.objects.filter(type="session-opened").count() == 2
    assert Event.objects.filter(type="profile-created").count() == 1


def test_session_enrichment_from_user_agent_and_utm(api, rest_source):
    api.track(
        payload(
            session="s-16",
            events=[{"type": "a"}],
            context={"utm": {"source": "newsletter", "campaign": "spring"}, "screen": {"w": 1}},
        )
    )

    session = Session.objects.get()
    assert session.device["type"] == "pc"
    assert session.os["name"] == "Windows"
    assert session.app["name"] == "Chrome"
    assert session.app["version"] == "120.0.0"
    assert session.utm == {"source": "newsletter", "campaign": "spring"}
    assert session.context["screen"] == {"w": 1}
    assert session.is_bot is False


def test_bots_are_flagged_not_dropped(api, rest_source):
    api.track(payload(session="s-17", events=[{"type": "a"}]), HTTP_USER_AGENT=BOT_UA)

    assert Session.objects.get().is_bot is True
    assert set(Event.objects.values_list("is_bot", flat=True)) == {True}


def test_request_headers_are_kept_without_secrets(api, rest_source):
    api.track(
        payload(session="s-18", events=[{"type": "a"}], request={"custom": 1}),
        HTTP_AUTHORIZATION="Bearer secret",
        HTTP_COOKIE="a=b",
        HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.1",
    )

    request = Event.objects.get(type="a").request
    assert request["custom"] == 1
    assert request["ip"] == "203.0.113.9"
    assert "authorization" not in request["headers"] and "cookie" not in request["headers"]
    assert request["headers"]["user-agent"].startswith("Mozilla/5.0 (Windows")


def test_client_time_is_kept(api, rest_source):
    api.track(
        payload(
            session="s-19",
            events=[{"type": "a", "time": {"create": "2026-03-01T10:00:00Z"}, "tags": ["x"]}],
        )
    )

    event = Event.objects.get(type="a")
    assert event.time.isoformat() == "2026-03-01T10:00:00+00:00"
    assert event.tags == {"values": ["x"], "count": 1}


def test_cors_echoes_the_origin_allows_credentials_and_any_requested_header(api, rest_source):
    response = api.client.options(
        "/track",
        HTTP_ORIGIN="https://shop.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type,x-timestamp,x-context,authorization",
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://shop.example"
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert response["Access-Control-Allow-Headers"] == (
        "content-type,x-timestamp,x-context,authorization"
    )


def test_a_forgotten_profile_id_never_resolves_again(api, db):
    from apps.profiles.services.erasure import erasure_proceed, profile_forget

    event_source_create(name="Static", source_id="static-src", static_profile_ids=True)
    api.track(payload("static-src", session="s-20", profile="crm-7", events=[{"type": "a"}]))
    erasure = profile_forget(profile_id="crm-7", actor="test")

    # Not even while the erasure runs (the profile row is still there).
    during = api.track(
        payload("static-src", session="s-21", profile="crm-7", events=[{"type": "a"}])
    ).json()
    assert erasure_proceed(erasure_id=erasure.pk) is True
    after = api.track(
        payload("static-src", session="s-22", profile="crm-7", events=[{"type": "a"}])
    ).json()

    assert "crm-7" not in {during["profile"]["id"], after["profile"]["id"]}
    assert not Profile.objects.filter(pk="crm-7").exists()
    assert Profile.objects.filter(pk=during["profile"]["id"]).exists()
    assert Profile.objects.filter(pk=after["profile"]["id"]).exists()


def test_events_with_a_profile_mapping_wait_for_a_worker(api, rest_source):
    # `identification` is a predefined type that maps properties onto the profile.
    api.track(payload(session="s-22", events=[{"type": "identification"}, {"type": "no-mapping"}]))

    assert Event.objects.get(type="identification").status == "collected"
    assert Event.objects.get(type="no-mapping").status == "processed"
