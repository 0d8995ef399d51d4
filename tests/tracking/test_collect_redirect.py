import pytest
from django.test import Client

from apps.events.models import Event
from apps.profiles.models import Profile, Session
from apps.sources.services import event_source_create, redirect_link_create
from tests.tracking.conftest import CHROME_UA, payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client(HTTP_USER_AGENT=CHROME_UA)


def test_collect_post_json_without_session_is_profile_less(client, webhook_source):
    response = client.post(
        "/collect/Order Paid/hook-source", data={"order": 7}, content_type="application/json"
    )

    assert response.status_code == 200
    assert response.json()["profile"] == {"id": None}
    event = Event.objects.get()
    assert (event.type, event.properties, event.profile_id) == ("order-paid", {"order": 7}, None)


def test_collect_json_without_content_type(client, webhook_source):
    response = client.generic("POST", "/collect/ping/hook-source", b'{"a": 1}', content_type="")

    assert response.status_code == 200
    assert Event.objects.get().properties == {"a": 1}


def test_collect_form_post(client, webhook_source):
    response = client.post("/collect/signup/hook-source", data={"email": "a@b.c"})

    assert response.status_code == 200
    assert Event.objects.get().properties == {"email": "a@b.c"}


def test_collect_get_query(client, webhook_source):
    response = client.get("/collect/open/hook-source?mail=42&list=news")

    assert response.status_code == 200
    assert Event.objects.get().properties == {"mail": "42", "list": "news"}


def test_collect_with_session_resolves_the_profile(client, webhook_source):
    event_source_create(name="Web", source_id="web-source")
    track = client.post(
        "/track",
        data=payload(session="s-1", events=[{"type": "a"}]),
        content_type="application/json",
    ).json()

    response = client.post(
        "/collect/paid/hook-source/s-1", data={"x": 1}, content_type="application/json"
    )

    assert response.json()["profile"]["id"] == track["profile"]["id"]
    assert Event.objects.get(type="paid").profile_id == track["profile"]["id"]


def test_collect_replace_profile_id_takes_the_id_from_the_body(client, db):
    event_source_create(
        name="CRM", bridge="webhook", source_id="crm", config={"replace_profile_id": "customer.id"}
    )
    response = client.post(
        "/collect/updated/crm", data={"customer": {"id": "c-9"}}, content_type="application/json"
    )

    assert response.json()["profile"]["id"] == "c-9"
    assert Profile.objects.filter(pk="c-9").exists()
    assert Event.objects.get(type="updated").profile_id == "c-9"


def test_collect_replace_profile_id_missing_in_body_is_422(client, db):
    event_source_create(
        name="CRM", bridge="webhook", source_id="crm", config={"replace_profile_id": "customer.id"}
    )
    response = client.post("/collect/updated/crm", data={"x": 1}, content_type="application/json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "customer", "id"]
    assert Event.objects.count() == 0


def test_collect_generate_profile(client, db):
    event_source_create(
        name="Gen", bridge="webhook", source_id="gen", config={"generate_profile": True}
    )
    response = client.post("/collect/lead/gen", data={"x": 1}, content_type="application/json")

    assert Profile.objects.filter(pk=response.json()["profile"]["id"]).exists()


def test_collect_needs_a_webhook_source(client, db):
    event_source_create(name="Web", source_id="web-source")
    response = client.post("/collect/a/web-source", data={}, content_type="application/json")

    assert response.status_code == 401
    assert Event.objects.count() == 0


def test_collect_unknown_source(client, db):
    response = client.get("/collect/a/nope")

    assert response.status_code == 401
    assert response.json() == {"detail": "Access denied. Invalid source."}


def test_collect_bad_json_is_400(client, webhook_source):
    response = client.post("/collect/a/hook-source", data="{x", content_type="application/json")

    assert response.status_code == 400
    assert Event.objects.count() == 0


def test_collect_json_that_is_not_an_object_is_422(client, webhook_source):
    response = client.post("/collect/a/hook-source", data="[1]", content_type="application/json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "The body must be a JSON object."


@pytest.fixture
def link(db):
    source = event_source_create(name="Mail", bridge="redirect", source_id="mail")
    return redirect_link_create(
        name="Spring sale",
        url="https://shop.example/sale",
        source=source,
        event_type="Email Click",
        props={"campaign": "payload@params.c", "device": "session@device.type"},
        link_id="spring",
    )


def test_redirect_stores_the_event_and_answers_307(client, link):
    event_source_create(name="Web", source_id="web-source")
    track = client.post(
        "/track",
        data=payload(session="s-r", events=[{"type": "a"}]),
        content_type="application/json",
    ).json()

    response = client.get("/redirect/spring/s-r?c=spring26")

    assert response.status_code == 307
    assert response["Location"] == "https://shop.example/sale"
    event = Event.objects.get(type="email-click")
    assert event.properties == {"campaign": "spring26", "device": "pc"}
    assert event.metadata["link"] == {"id": "spring", "url": "https://shop.example/sale"}
    assert event.profile_id == track["profile"]["id"]


def test_redirect_takes_the_session_from_the_cookie(client, link):
    Session.objects.create(id="cookie-s", created="2026-01-01T00:00Z", updated="2026-01-01T00:00Z")
    client.cookies["tracardi-session-id"] = "cookie-s"

    response = client.get("/redirect/spring")

    assert response.status_code == 307
    assert Event.objects.get(type="email-click").session_id == "cookie-s"


def test_redirect_unknown_link_is_404(client, db):
    response = client.get("/redirect/nope")

    assert response.status_code == 404
    assert response.json() == {"detail": "No redirect link with id nope."}


# Hostile input on /collect and /redirect (issue 12, item 6): a 4xx naming the field, nothing
# stored.

NUL_MESSAGE = "The text contains a NUL character (\\u0000)."


def nothing_stored() -> bool:
    return (Event.objects.count(), Session.objects.count(), Profile.objects.count()) == (0, 0, 0)


def error_of(response) -> tuple[int, list, str]:
    detail = response.json()["detail"][0]
    return response.status_code, detail["loc"], detail["msg"]


def test_collect_nul_in_a_json_body_is_422(client, webhook_source):
    response = client.post(
        "/collect/a/hook-source/s", data={"x": {"y\x00": 1}}, content_type="application/json"
    )

    assert error_of(response) == (422, ["body", "x", "y\x00"], NUL_MESSAGE)
    assert nothing_stored()


def test_collect_nul_in_a_form_field_is_422(client, webhook_source):
    response = client.post("/collect/a/hook-source/s", data={"email": "a\x00@b.c"})

    assert error_of(response) == (422, ["body", "email"], NUL_MESSAGE)
    assert nothing_stored()


@pytest.mark.parametrize(
    ("query", "loc"), [("?a=%00", ["query", "a"]), ("?%00=1", ["query", "\x00"])]
)
def test_collect_nul_in_the_query_is_422(client, webhook_source, query, loc):
    response = client.get(f"/collect/a/hook-source/s{query}")

    assert error_of(response) == (422, loc, NUL_MESSAGE)
    assert nothing_stored()


@pytest.mark.parametrize(
    ("path", "loc"),
    [
        ("/collect/a%00/hook-source/s", ["path", "event_type"]),
        ("/collect/a/hook-source%00/s", ["path", "source_id"]),
        ("/collect/a/hook-source/s%00", ["path", "session_id"]),
    ],
)
def test_collect_nul_in_the_path_is_422(client, webhook_source, path, loc):
    response = client.post(path, data={}, content_type="application/json")

    assert error_of(response) == (422, loc, NUL_MESSAGE)
    assert nothing_stored()


def test_collect_event_type_longer_than_100_characters_is_422(client, webhook_source):
    response = client.post(
        f"/collect/{'t' * 101}/hook-source/s", data={}, content_type="application/json"
    )

    assert error_of(response) == (
        422,
        ["path", "event_type"],
        "The event type is longer than 100 characters once lower-cased.",
    )
    assert nothing_stored()


def test_collect_session_id_longer_than_64_characters_is_422(client, webhook_source):
    response = client.post(
        f"/collect/a/hook-source/{'s' * 65}", data={}, content_type="application/json"
    )

    assert error_of(response) == (
        422,
        ["path", "session_id"],
        "The id is longer than 64 characters.",
    )
    assert nothing_stored()


def test_collect_a_source_id_that_cannot_exist_is_401(client, webhook_source):
    response = client.post(f"/collect/a/{'h' * 65}", data={}, content_type="application/json")

    assert response.status_code == 401
    assert response.json() == {"detail": "Access denied. Invalid source."}


def test_redirect_session_id_longer_than_64_characters_in_the_path_is_422(client, link):
    response = client.get(f"/redirect/spring/{'s' * 65}")

    assert error_of(response) == (
        422,
        ["path", "session_id"],
        "The id is longer than 64 characters.",
    )
    assert nothing_stored()


@pytest.mark.parametrize(
    ("cookie", "message"),
    [("s" * 65, "The id is longer than 64 characters."), ("s\x00", NUL_MESSAGE)],
)
def test_redirect_bad_session_cookie_is_422(client, link, cookie, message):
    client.cookies["tracardi-session-id"] = cookie

    response = client.get("/redirect/spring")

    assert error_of(response) == (422, ["cookie", "tracardi-session-id"], message)
    assert nothing_stored()


def test_redirect_nul_in_the_query_is_422(client, link):
    response = client.get("/redirect/spring?c=%00")

    assert error_of(response) == (422, ["query", "c"], NUL_MESSAGE)
    assert nothing_stored()


def test_redirect_nul_in_the_link_id_is_422(client, link):
    response = client.get("/redirect/spr%00ing")

    assert error_of(response) == (422, ["path", "link_id"], NUL_MESSAGE)
    assert nothing_stored()


def test_redirect_link_id_that_cannot_exist_is_404(client, link):
    response = client.get(f"/redirect/{'s' * 65}")

    assert response.status_code == 404
    assert response.json() == {"detail": f"No redirect link with id {'s' * 65}."}
