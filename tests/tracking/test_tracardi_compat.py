"""Issue 21: the differences from Tracardi that broke real clients, each through the endpoint
the way Tracardi's tracker, Python client or webhooks call it."""

import json

import pytest
from django.test import Client

from apps.events.models import Event, EventType
from apps.notation import compile_condition
from apps.profiles.models import MergeRecord, Profile, Session
from apps.sources.services import event_source_create, redirect_link_create
from apps.tracking.webhook_ids import hashed_profile_id, sticky_session_id
from tests.tracking.conftest import BOT_UA, CHROME_UA, payload

pytestmark = pytest.mark.django_db

SYSTEM_TYPES = ("profile-created", "session-opened", "visit-started")


@pytest.fixture
def client():
    return Client(HTTP_USER_AGENT=CHROME_UA)


def track(client, body, *, query="", **headers):
    return client.post(
        f"/track{query}", data=json.dumps(body), content_type="application/json", **headers
    )


# ---- 1. CORS for beacons (credentials) and any request header ----------------------------


def test_a_credentialed_post_from_another_origin_is_allowed(client, rest_source):
    response = track(client, payload(events=[{"type": "a"}]), HTTP_ORIGIN="https://shop.example")

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://shop.example"
    assert response["Access-Control-Allow-Credentials"] == "true"


@pytest.mark.parametrize("path", ["/collect/a/hook-source", "/redirect/x", "/tracker/index.js"])
def test_the_other_public_paths_answer_a_preflight_the_same_way(client, path):
    response = client.options(
        path,
        HTTP_ORIGIN="https://shop.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-context",
    )

    assert response["Access-Control-Allow-Origin"] == "https://shop.example"
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert response["Access-Control-Allow-Headers"] == "x-context"


@pytest.mark.parametrize("path", ["/api/v1/event-sources/", "/admin/"])
def test_the_admin_and_the_api_get_no_cors(client, path):
    response = client.options(
        path,
        HTTP_ORIGIN="https://shop.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )

    assert not response.has_header("Access-Control-Allow-Origin")
    assert not response.has_header("Access-Control-Allow-Credentials")
    assert not response.has_header("Access-Control-Allow-Headers")


# ---- 2. profile-less answers: {"id": null} ----------------------------------------------


def test_track_profile_less_answers_null_ids(client, rest_source):
    response = track(client, payload(events=[{"type": "a"}]), query="?profile_less=true")

    body = response.json()
    assert (body["profile"], body["session"]) == ({"id": None}, {"id": None})
    assert Profile.objects.count() == 0


def test_collect_without_session_answers_null_ids(client, webhook_source):
    body = client.post(
        "/collect/ping/hook-source", data={"a": 1}, content_type="application/json"
    ).json()

    assert (body["profile"], body["session"]) == ({"id": None}, {"id": None})


# ---- 3. cross-domain hand-off (__tr_pid / __tr_src) -------------------------------------


@pytest.fixture
def two_sites(db):
    event_source_create(name="Shop A", source_id="site-a")
    event_source_create(name="Shop B", source_id="site-b")


def visit(client, source_id, *, session, profile=None, handed=None):
    context = {"tracardi": {"pass": handed}} if handed is not None else {}
    body = payload(
        source_id, session=session, profile=profile, events=[{"type": "page-view"}], context=context
    )
    return track(client, body).json()


def test_a_first_visit_on_the_second_site_adopts_the_referred_profile(client, two_sites):
    on_a = visit(client, "site-a", session="a-1")
    person = on_a["profile"]["id"]

    on_b = visit(client, "site-b", session="b-1", handed={"profile": person, "source": "site-a"})

    assert on_b["profile"]["id"] == person
    assert on_b["warnings"] == []
    assert list(Profile.objects.values_list("id", flat=True)) == [person]
    assert Session.objects.get(pk="b-1").profile_id == person
    assert Profile.objects.get().visit_count == 2


def test_a_known_visitor_of_the_second_site_is_merged_into_the_referred_profile(client, two_sites):
    person = visit(client, "site-a", session="a-1")["profile"]["id"]
    stranger = visit(client, "site-b", session="b-1")["profile"]["id"]

    on_b = visit(
        client,
        "site-b",
        session="b-1",
        profile=stranger,
        handed={"profile": f" {person} ", "source": "site-a"},
    )

    assert on_b["profile"]["id"] == person
    assert list(Profile.objects.values_list("id", flat=True)) == [person]
    assert Profile.objects.get().ids == [stranger]
    assert Session.objects.get(pk="b-1").profile_id == person
    assert set(Event.objects.values_list("profile_id", flat=True)) == {person}
    assert MergeRecord.objects.get().reason == "cross-domain hand-off (__tr_pid)"


@pytest.mark.parametrize(
    ("handed", "reason"),
    [
        ({"profile": "PERSON"}, "it names no source (__tr_src)"),
        ({"profile": "PERSON", "source": "nowhere"}, "the source nowhere is unknown"),
        ({"profile": "PERSON", "source": "site-off"}, "the source site-off is disabled"),
        ({"profile": "made-up-id", "source": "site-a"}, "no such profile"),
    ],
)
def test_a_hand_off_that_fails_a_check_is_ignored_and_said(client, two_sites, handed, reason):
    event_source_create(name="Shop off", source_id="site-off", enabled=False)
    person = visit(client, "site-a", session="a-1")["profile"]["id"]
    handed = {key: value.replace("PERSON", person) for key, value in handed.items()}

    on_b = visit(client, "site-b", session="b-1", handed=handed)

    assert on_b["profile"]["id"] not in (person, "made-up-id")
    assert on_b["warnings"] == [
        f"context.tracardi.pass: the referred profile {handed['profile']} was ignored: {reason}."
    ]
    assert Profile.objects.count() == 2
    assert not Profile.objects.filter(pk="made-up-id").exists()
    assert MergeRecord.objects.count() == 0


def test_a_static_profile_id_cannot_be_referred(client, two_sites):
    # A static id is chosen by a client (a CRM number): no secret, so a URL may not claim it.
    event_source_create(name="CRM", source_id="crm", static_profile_ids=True)
    visit(client, "crm", session="c-1", profile="crm-42")

    on_b = visit(client, "site-b", session="b-1", handed={"profile": "crm-42", "source": "crm"})

    assert on_b["profile"]["id"] != "crm-42"
    assert on_b["warnings"] == [
        "context.tracardi.pass: the referred profile crm-42 was ignored: no such profile."
    ]
    assert MergeRecord.objects.count() == 0


def test_a_hand_off_to_the_profile_the_visitor_has_already_changes_nothing(client, two_sites):
    person = visit(client, "site-a", session="a-1")["profile"]["id"]

    again = visit(
        client,
        "site-a",
        session="a-1",
        profile=person,
        handed={"profile": person, "source": "site-a"},
    )

    assert (again["profile"]["id"], again["warnings"]) == (person, [])
    assert MergeRecord.objects.count() == 0


# ---- 5. GET /collect reads the query as parse_qs ------------------------------------------


def test_collect_get_keeps_repeated_keys_as_a_list_and_drops_blank_values(client, webhook_source):
    response = client.get(
        "/collect/open/hook-source?tag=a&tag=b&mail=42&empty=&bare&blank=&blank=x"
    )

    assert response.status_code == 200
    assert Event.objects.get().properties == {"tag": ["a", "b"], "mail": "42", "blank": "x"}


# ---- 6. /redirect for every method, the link in the metadata ------------------------------


@pytest.fixture
def link(db):
    source = event_source_create(name="Mail", bridge="redirect", source_id="mail")
    return redirect_link_create(
        name="Form",
        url="https://shop.example/thanks",
        source=source,
        event_type="form-sent",
        props={"email": "payload@body.email", "link": "payload@params.l"},
        link_id="form",
    )


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_redirect_tracks_and_redirects_every_method_with_the_body(client, link, method):
    send = getattr(client, method)
    response = send(
        "/redirect/form?l=footer", data={"email": "a@b.c"}, content_type="application/json"
    )

    assert response.status_code == 307
    assert response["Location"] == "https://shop.example/thanks"
    event = Event.objects.get(type="form-sent")
    assert event.properties == {"email": "a@b.c", "link": "footer"}
    assert event.metadata["link"] == {"id": "form", "url": "https://shop.example/thanks"}


def test_redirect_post_form_fields_are_the_body(client, link):
    response = client.post("/redirect/form", data={"email": "form@b.c"})

    assert response.status_code == 307
    assert Event.objects.get(type="form-sent").properties == {"email": "form@b.c", "link": None}


def test_redirect_post_with_broken_json_is_400_and_stores_nothing(client, link):
    response = client.post("/redirect/form", data="{x", content_type="application/json")

    assert response.status_code == 400
    assert Event.objects.count() == 0


# ---- 7. the smaller ones ------------------------------------------------------------------


def test_x_context_is_echoed(client, rest_source):
    response = track(client, payload(events=[{"type": "a"}]), HTTP_X_CONTEXT="staging")

    assert response["X-Context"] == "staging"
    assert not track(client, payload(events=[{"type": "a"}])).has_header("X-Context")


def test_a_client_insert_time_is_kept_in_the_metadata(client, rest_source):
    track(
        client,
        payload(
            events=[
                {
                    "type": "a",
                    "time": {"create": "2026-03-01T10:00:00Z", "insert": "2026-03-01T10:00:05Z"},
                }
            ]
        ),
    )

    event = Event.objects.get(type="a")
    assert event.metadata["time"] == {
        "insert": "2026-03-01T10:00:05+00:00",
        "create": "2026-03-01T10:00:00+00:00",
    }


def test_events_store_the_hit_of_their_page(client, rest_source):
    page = {
        "url": "https://shop.example/glasses?x=1",
        "path": "/glasses",
        "title": "Sun glasses",
        "referer": {"host": "news.example", "query": None},
    }
    track(client, payload(session="s-1", events=[{"type": "a", "context": {"page": page}}]))

    assert Event.objects.get(type="a").hit == {
        "name": "Sun glasses",
        "url": "https://shop.example/glasses?x=1",
        "referer": "news.example",
    }
    assert Event.objects.get(type="profile-created").hit == {}


def test_events_get_their_types_tags_after_their_own(client, rest_source):
    EventType.objects.create(type="newsletter-read", name="Newsletter", tags=["mail", "read"])

    track(client, payload(events=[{"type": "newsletter-read", "tags": ["read", "mine"]}]))

    assert Event.objects.get(type="newsletter-read").tags == {
        "values": ["read", "mine", "mail"],
        "count": 3,
    }
    # A predefined type: page-view is tagged as in Tracardi's list of event types.
    track(client, payload(events=[{"type": "page-view"}]))
    assert Event.objects.get(type="page-view").tags == {"values": ["browsing"], "count": 1}


def test_the_browser_time_zone_fills_the_session_and_the_profile_visit(client, rest_source):
    context = {"time": {"local": "3.12.2026, 10:00:00", "tz": "Europe/Warsaw"}}
    body = track(client, payload(session="s-1", events=[{"type": "a"}], context=context)).json()

    session = Session.objects.get(pk="s-1")
    assert session.metadata["time"]["tz"] == "Europe/Warsaw"
    profile = Profile.objects.get(pk=body["profile"]["id"])
    assert profile.metadata["time"]["visit"]["tz"] == "Europe/Warsaw"


def test_now_in_a_time_zone_is_a_condition_function():
    condition = compile_condition('now("europe/paris") > datetime("2020-01-01T00:00:00+01:00")')

    assert condition.evaluate({}) is True


def test_bot_traffic_is_stored_and_flagged_by_default(rest_source):
    bot = Client(HTTP_USER_AGENT=BOT_UA)

    response = track(bot, payload(session="s-bot", events=[{"type": "a"}]))

    assert response.status_code == 200
    assert Event.objects.get(type="a").is_bot is True


def test_bot_traffic_is_refused_with_401_when_disallowed(rest_source, webhook_source, settings):
    settings.CDP_DISALLOW_BOT_TRAFFIC = True
    bot = Client(HTTP_USER_AGENT=BOT_UA)

    tracked = track(bot, payload(session="s-bot", events=[{"type": "a"}]))
    collected = bot.get("/collect/a/hook-source?x=1")

    assert (tracked.status_code, tracked.json()) == (
        401,
        {"detail": "Traffic from bot is not allowed."},
    )
    assert collected.status_code == 401
    assert (Event.objects.count(), Session.objects.count(), Profile.objects.count()) == (0, 0, 0)
    # People still get through.
    assert (
        track(Client(HTTP_USER_AGENT=CHROME_UA), payload(events=[{"type": "a"}])).status_code == 200
    )


# ---- 8. webhook bridge: hashed profile ids and sticky sessions -----------------------------


@pytest.fixture
def hashed_ids(settings):
    settings.CDP_PROFILE_ID_HASH_KEY = "tracardi-apm-secret"


def test_hashed_ids_are_tracardis(hashed_ids):
    # Tracardi: f"{prefix[:3]}-" + md5(f"{AUTO_PROFILE_MERGING}-{value}") in UUID form;
    # md5("tracardi-apm-secret-a@b.c") = 074135eb5300a5c95c94b31442ee6d3d.
    assert hashed_profile_id(profile_path="data.contact.email.main", value="a@b.c") == (
        "emm-074135eb-5300-a5c9-5c94-b31442ee6d3d"
    )
    # md5("tracardi-apm-secret:emm-x") = cda8980914f70a56a304f495b6bbae81.
    assert sticky_session_id("emm-x") == "cda89809-14f7-0a56-a304-f495b6bbae81"


def test_repeated_webhooks_about_one_person_land_on_one_profile_and_session(client, hashed_ids):
    event_source_create(
        name="Shop hooks", bridge="webhook", source_id="hooks", config={"generate_profile": True}
    )
    expected = hashed_profile_id(profile_path="data.contact.email.main", value="ann@shop.example")

    first = client.post(
        "/collect/sign-up/hooks",
        data={"email": "ann@shop.example", "firstname": "Ann"},
        content_type="application/json",
    ).json()
    second = client.post(
        "/collect/sign-up/hooks",
        data={"email": "ann@shop.example"},
        content_type="application/json",
    ).json()

    assert first["profile"]["id"] == second["profile"]["id"] == expected
    assert first["session"]["id"] == second["session"]["id"] == sticky_session_id(expected)
    assert list(Profile.objects.values_list("id", flat=True)) == [expected]
    assert list(Session.objects.values_list("id", flat=True)) == [sticky_session_id(expected)]
    assert Event.objects.filter(type="sign-up").count() == 2


def test_without_sticky_sessions_each_webhook_has_its_own_session(client, hashed_ids):
    event_source_create(
        name="Shop hooks",
        bridge="webhook",
        source_id="hooks",
        config={"generate_profile": True, "sticky_session": False},
    )

    answers = [
        client.post(
            "/collect/sign-up/hooks",
            data={"email": "ann@shop.example"},
            content_type="application/json",
        ).json()
        for _ in range(2)
    ]

    assert answers[0]["profile"] == answers[1]["profile"]
    assert answers[0]["session"] != answers[1]["session"]
    assert Profile.objects.count() == 1
    assert Session.objects.count() == 2


def test_a_webhook_that_names_nobody_gets_a_fresh_profile(client, hashed_ids):
    event_source_create(
        name="Shop hooks", bridge="webhook", source_id="hooks", config={"generate_profile": True}
    )

    answers = [
        client.post("/collect/ping/hooks", data={"x": 1}, content_type="application/json").json()
        for _ in range(2)
    ]

    assert answers[0]["profile"]["id"] != answers[1]["profile"]["id"]
    assert Profile.objects.count() == 2


def test_without_a_hash_key_webhooks_get_fresh_profiles(client, settings):
    settings.CDP_PROFILE_ID_HASH_KEY = ""
    event_source_create(
        name="Shop hooks", bridge="webhook", source_id="hooks", config={"generate_profile": True}
    )

    answers = [
        client.post(
            "/collect/sign-up/hooks",
            data={"email": "ann@shop.example"},
            content_type="application/json",
        ).json()
        for _ in range(2)
    ]

    assert answers[0]["profile"]["id"] != answers[1]["profile"]["id"]
    assert Profile.objects.count() == 2
