"""Issue 17 items 3 and 4: the OpenAPI document and its local docs pages; the per-key rate
limit; error answers always {"detail": ...}."""

import re

import pytest
from rest_framework.test import APIClient

from apps.api.examples import EXAMPLES

pytestmark = pytest.mark.django_db


def test_the_schema_is_openapi_3_1_with_the_api_and_the_tracking_endpoints():
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"] == "3.1.0"
    paths = schema["paths"]
    for path in (
        "/api/v1/health",
        "/api/v1/stats",
        "/api/v1/sources/",
        "/api/v1/sources/{id}/",
        "/api/v1/profiles/",
        "/api/v1/profiles/{id}/",
        "/track",
        "/collect/{event_type}/{source_id}",
        "/redirect/{link_id}",
    ):
        assert path in paths, path
    assert "/track/" not in paths
    track = paths["/track"]["post"]
    body = track["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["source"] or "source" in body["required"]
    assert set(track["responses"]) == {"200", "400", "401", "413", "422", "429"}
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key from the admin (System → API keys) or "
        "`manage.py create_api_key`.",
    }
    assert paths["/api/v1/health"]["get"]["security"] == [{}]
    profile_params = {p["name"] for p in paths["/api/v1/profiles/"]["get"]["parameters"]}
    assert {"email", "segment", "condition", "cursor", "page_size"} <= profile_params


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_load_nothing_from_another_site(page):
    response = APIClient().get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert re.findall(r"(?:src|href)=\"(https?://[^\"]+)\"", html) == []


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(make_client, settings):
    settings.CDP_API_RATE_LIMIT = 2
    settings.CDP_API_RATE_WINDOW_SECONDS = 86_400
    client = make_client("all")
    statuses = [client.get("/api/v1/sources/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = client.get("/api/v1/sources/")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 86_400
    assert response.json()["detail"].startswith(
        "Too many requests: this API key may make 2 per 86400 s; retry in "
    )
    # Another key has its own count.
    assert make_client("all").get("/api/v1/sources/").status_code == 200


def test_unknown_routes_and_methods_answer_detail(client_all):
    missing = client_all.get("/api/v1/nothing-here/")
    assert missing.status_code == 404
    not_allowed = client_all.post("/api/v1/profiles/", {}, format="json")
    assert not_allowed.status_code == 405
    assert not_allowed.json() == {"detail": 'Method "POST" not allowed.'}
    bad_json = client_all.post(
        "/api/v1/sources/", data="{not json", content_type="application/json"
    )
    assert bad_json.status_code == 400
    assert bad_json.json()["detail"].startswith("JSON parse error")


def test_the_main_operations_carry_examples():

    paths = APIClient().get("/api/schema/?format=json").json()["paths"]
    missing = []
    for (method, path), example in EXAMPLES.items():
        operation = paths[path][method]
        if "request" in example:
            bodies = operation["requestBody"]["content"].values()
            if not all(body.get("examples") for body in bodies):
                missing.append(f"{method} {path} request")
        if "response" in example:
            status, _ = example["response"]
            if not operation["responses"][status]["content"]["application/json"].get("examples"):
                missing.append(f"{method} {path} response")
    assert missing == []
    assert len(EXAMPLES) == 15


def test_the_routes_under_an_event_type_are_documented_with_the_event_types():
    paths = APIClient().get("/api/schema/?format=json").json()["paths"]
    prefix = "/api/v1/event-types/{event_type}/"
    nested = {
        (method, path): operation
        for path, operations in paths.items()
        if path.startswith(prefix)
        for method, operation in operations.items()
    }
    assert sorted(f"{method.upper()} {path.removeprefix(prefix)}" for method, path in nested) == [
        "DELETE indexed-properties/{id}/",
        "DELETE reshaping/{id}/",
        "GET indexed-properties/",
        "GET indexed-properties/{id}/",
        "GET reindex-jobs/",
        "GET reindex-jobs/{id}/",
        "GET reshaping/",
        "GET reshaping/{id}/",
        "PATCH indexed-properties/{id}/",
        "PATCH reshaping/{id}/",
        "POST indexed-properties/",
        "POST indexed-properties/reindex/",
        "POST reshaping/",
        "POST reshaping/preview/",
        "PUT indexed-properties/{id}/",
        "PUT reshaping/{id}/",
    ]
    for (method, path), operation in nested.items():
        assert operation["tags"] == ["event-types"], (method, path)
        assert {"400", "401", "403", "404", "429"} <= set(operation["responses"]), (method, path)
        event_type = next(p for p in operation["parameters"] if p["name"] == "event_type")
        assert event_type["schema"] == {"type": "string"}, (method, path)
    reindex = nested[("post", "/api/v1/event-types/{event_type}/indexed-properties/reindex/")]
    assert set(reindex["responses"]) == {"202", "400", "401", "403", "404", "409", "429"}
