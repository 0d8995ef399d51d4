"""Every error answer of the public endpoints is JSON with a `detail` (issue 12, item 7)."""

import socket

import orjson
import pytest
from django.db import connection
from django.test import Client
from django.urls import get_resolver

from tests.tracking.conftest import CHROME_UA, payload


@pytest.fixture
def client():
    return Client(HTTP_USER_AGENT=CHROME_UA)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/track/extra",
        "/collect",
        "/collect/",
        "/collect/only-a-type",
        "/collect/a/b/c/d",
        "/redirect",
        "/redirect/",
        "/redirect/a/b/c",
    ],
)
def test_unknown_paths_under_the_public_endpoints_are_json_404(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": f"No such endpoint: {path}."}


@pytest.mark.django_db
def test_other_unknown_paths_keep_django_s_page(client):
    response = client.get("/nowhere")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def postgres_unreachable(transactional_db):
    """The connection points at a port where nothing listens, as when PostgreSQL is down."""
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
    yield
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/track", payload(session="s", events=[{"type": "a"}])),
        ("post", "/collect/a/hook-source", {"x": 1}),
        ("get", "/redirect/spring", None),
    ],
)
def test_postgres_down_is_json_503_with_retry_after(
    client, postgres_unreachable, method, path, body
):
    if body is None:
        response = client.get(path)
    else:
        response = client.post(path, data=body, content_type="application/json")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {"detail": "The database is unavailable; retry later."}


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/track", "application/json"),
        ("/collect/a/b", "application/json"),
        ("/admin/", "text/html"),
    ],
)
def test_the_500_page_of_the_public_endpoints_is_json(rf, path, content_type):
    # The page Django renders for an exception no view handled (cdp.urls.handler500).
    server_error = get_resolver().resolve_error_handler(500)

    response = server_error(rf.post(path))

    assert response.status_code == 500
    assert response["Content-Type"].startswith(content_type)
    if content_type == "application/json":
        assert orjson.loads(response.content) == {"detail": "Internal server error."}


@pytest.mark.django_db
def test_too_many_query_fields_is_json_400(client):
    # Django refuses more than DATA_UPLOAD_MAX_NUMBER_FIELDS fields (SuspiciousOperation).
    query = "&".join(f"f{number}=1" for number in range(1001))

    response = client.get(f"/collect/a/hook-source?{query}")

    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request."}
