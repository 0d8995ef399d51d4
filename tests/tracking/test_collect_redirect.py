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
    assert response.json()["profile"] is None
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
    assert event.properties == {
        "campaign": "spring26",
        "device": "pc",
        "link": {"id": "spring", "url": "https://shop.example/sale"},
    }
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
