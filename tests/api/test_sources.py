"""Issue 17 item 2: event sources and redirect links through /api/v1/, written by the sources
services (validation, id rules), with cursor pages that never repeat or lose an item."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.events.models import Event
from apps.sources.models import EventSource, RedirectLink
from apps.sources.services import event_source_create
from tests.tracking.conftest import api as api  # noqa: F401 - the /track client fixture
from tests.tracking.conftest import payload

pytestmark = pytest.mark.django_db


def test_create_read_update_delete_a_source(client_all):
    created = client_all.post(
        "/api/v1/sources/",
        {"id": "shop-web", "name": "Shop", "description": "The web shop", "channel": "web"},
        format="json",
    )
    assert created.status_code == 201
    body = created.json()
    assert {key: body[key] for key in ("id", "name", "description", "bridge", "enabled")} == {
        "id": "shop-web",
        "name": "Shop",
        "description": "The web shop",
        "bridge": "rest",
        "enabled": True,
    }
    assert EventSource.objects.get(pk="shop-web").channel == "web"

    changed = client_all.patch("/api/v1/sources/shop-web/", {"enabled": False}, format="json")
    assert changed.status_code == 200
    assert changed.json()["enabled"] is False
    assert EventSource.objects.get(pk="shop-web").enabled is False

    assert client_all.get("/api/v1/sources/shop-web/").json()["name"] == "Shop"
    assert client_all.delete("/api/v1/sources/shop-web/").status_code == 204
    assert not EventSource.objects.filter(pk="shop-web").exists()


def test_invalid_input_names_the_field_and_stores_nothing(client_all):
    response = client_all.post(
        "/api/v1/sources/",
        {"name": "", "bridge": "ftp", "config": {"rate_limit": {"clients": 5}}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": [
            {"loc": ["body", "name"], "msg": "This field may not be blank.", "type": "blank"},
            {
                "loc": ["body", "bridge"],
                "msg": '"ftp" is not a valid choice.',
                "type": "invalid_choice",
            },
        ]
    }
    model_error = client_all.post(
        "/api/v1/sources/",
        {"name": "Limited", "config": {"rate_limit": {"clients": 5}}},
        format="json",
    )
    assert model_error.status_code == 400
    assert model_error.json() == {
        "detail": [
            {
                "loc": ["body", "config"],
                "msg": "rate_limit: unknown key 'clients' (use source, client, window_seconds)",
                "type": "invalid",
            }
        ]
    }
    assert EventSource.objects.count() == 0


def test_a_taken_id_and_a_changed_id_are_refused(client_all):
    event_source_create(name="Web", source_id="web")
    taken = client_all.post("/api/v1/sources/", {"id": "web", "name": "Again"}, format="json")
    assert taken.status_code == 400
    assert taken.json()["detail"][0]["loc"] == ["body", "id"]
    renamed = client_all.patch("/api/v1/sources/web/", {"id": "other"}, format="json")
    assert renamed.status_code == 400
    assert renamed.json()["detail"] == [
        {
            "loc": ["body", "id"],
            "msg": "The id of an event source cannot change.",
            "type": "invalid",
        }
    ]


def test_a_source_with_events_is_not_deleted_and_the_answer_says_what_to_do(client_all, api):  # noqa: F811
    event_source_create(name="Web", source_id="web-source")
    assert api.track(payload(events=[{"type": "page-view"}])).status_code == 200
    response = client_all.delete("/api/v1/sources/web-source/")
    assert response.status_code == 400
    assert response.json()["detail"][0]["msg"] == (
        "Event source 'web-source' has stored events or redirect links, so it cannot be "
        "deleted; disable it instead (enabled: false)."
    )
    assert Event.objects.count() >= 1
    assert EventSource.objects.filter(pk="web-source").exists()


def test_filters_on_bridge_and_enabled(client_all):
    event_source_create(name="A", source_id="a")
    event_source_create(name="B", source_id="b", bridge="webhook")
    event_source_create(name="C", source_id="c", enabled=False)

    def ids(query: str) -> list[str]:
        page = client_all.get(f"/api/v1/sources/{query}").json()
        return sorted(source["id"] for source in page["results"])

    assert ids("?bridge=webhook") == ["b"]
    assert ids("?enabled=false") == ["c"]
    assert ids("") == ["a", "b", "c"]


def test_pages_never_repeat_or_lose_an_item_while_sources_are_added(client_all):
    for n in range(7):
        event_source_create(name=f"S{n}", source_id=f"s{n}")
    seen = []
    page = client_all.get("/api/v1/sources/?page_size=3").json()
    seen += [source["id"] for source in page["results"]]
    # Inserted between page reads: newer than everything listed, so on no later page.
    event_source_create(name="Late", source_id="late-1")
    while page["next"]:
        page = client_all.get(page["next"]).json()
        seen += [source["id"] for source in page["results"]]
        event_source_create(name="Later", source_id=f"late-{len(seen)}")
    assert sorted(seen) == [f"s{n}" for n in range(7)]
    assert len(seen) == len(set(seen))


def test_a_page_size_above_the_cap_is_capped(client_all):
    for n in range(3):
        event_source_create(name=f"S{n}", source_id=f"s{n}")
    body = client_all.get("/api/v1/sources/?page_size=100000").json()
    assert len(body["results"]) == 3
    assert body["next"] is None


@pytest.mark.parametrize("count", [2, 20])
def test_list_queries_do_not_grow_with_the_page(client_all, count):
    source = event_source_create(name="Links", source_id="links", bridge="redirect")
    for n in range(count):
        RedirectLink.objects.create(name=f"L{n}", url="https://example.com/", source=source)
    client_all.get("/api/v1/redirect-links/")  # the key's first use records it
    with CaptureQueriesContext(connection) as queries:
        body = client_all.get("/api/v1/redirect-links/?page_size=50").json()
    assert len(body["results"]) == count
    # The key lookup, the page: the same at 2 and at 20 links.
    assert len(queries) == 2


def test_redirect_links_need_a_redirect_source(client_all):
    event_source_create(name="Web", source_id="web")
    event_source_create(name="Links", source_id="links", bridge="redirect")
    refused = client_all.post(
        "/api/v1/redirect-links/",
        {"name": "Promo", "url": "https://shop.example/promo", "source": "web"},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["detail"][0]["loc"] == ["body", "source"]
    made = client_all.post(
        "/api/v1/redirect-links/",
        {"id": "promo", "name": "Promo", "url": "https://shop.example/promo", "source": "links"},
        format="json",
    )
    assert made.status_code == 201
    assert made.json() == {
        "id": "promo",
        "name": "Promo",
        "description": "",
        "url": "https://shop.example/promo",
        "event_type": "redirect",
        "source": "links",
        "props": {},
        "tags": [],
    }
