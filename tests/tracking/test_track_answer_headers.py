"""The headers of the tracking endpoints' answers, pinned (issue 20, item 2).

/track, /collect and /redirect skip the admin's middleware (TrackingShortcutMiddleware) and
DRF's dispatch (TrackingView.dispatch); their answers keep every header those added: the DRF
view's Allow and Vary, Content-Length, X-Frame-Options, the security headers, CORS, the process
time. The admin keeps its session and CSRF middleware.
"""

import pytest
from django.test import Client

from tests.tracking.conftest import CHROME_UA, payload

pytestmark = pytest.mark.django_db

SECURITY_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
DRF_VIEW_HEADERS = {"Allow": "POST, OPTIONS", "Vary": "Accept, origin"}


def answer_headers(response) -> dict:
    # X-Process-Time varies; it is checked to be present, not for its value.
    assert float(response["X-Process-Time"]) >= 0
    return {name: value for name, value in response.items() if name != "X-Process-Time"}


def test_a_tracked_request_answers_with_every_header(api, rest_source):
    response = api.track(
        payload(session="s-h", events=[{"type": "a"}]), HTTP_ORIGIN="https://shop.example"
    )

    assert response.status_code == 200
    assert answer_headers(response) == {
        **SECURITY_HEADERS,
        **DRF_VIEW_HEADERS,
        "Content-Type": "application/json",
        "Content-Length": str(len(response.content)),
        "access-control-allow-origin": "https://shop.example",
        "access-control-allow-credentials": "true",
        "access-control-expose-headers": "x-process-time, x-context",
    }
    assert not response.cookies


def test_an_error_answers_as_drf_did(api, rest_source):
    response = api.track(payload(source_id="nope", events=[{"type": "a"}]))

    assert response.status_code == 401
    assert response.content == b'{"detail":"Access denied. Invalid source."}'
    assert answer_headers(response) == {
        **SECURITY_HEADERS,
        **DRF_VIEW_HEADERS,
        "Content-Type": "application/json",
        "Content-Length": "43",
    }


def test_an_error_is_json_when_the_client_asks_for_html(api, rest_source):
    # DRF rendered it with its HTML renderer, which failed on the parser-less view: a 500.
    response = api.track("{", HTTP_ACCEPT="text/html")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "The body is not valid JSON: unexpected end of data: line 1 column 2 (char 1)."
    }


def test_other_methods_keep_drf_s_answers(api, rest_source):
    not_allowed = api.client.get("/track")
    options = api.client.options("/track")

    assert not_allowed.status_code == 405
    assert not_allowed.content == b'{"detail":"Method \\"GET\\" not allowed."}'
    assert answer_headers(not_allowed)["Allow"] == "POST, OPTIONS"
    assert options.status_code == 200
    assert options.json() == {
        "name": "Track",
        "description": "",
        "renders": ["application/json", "text/html"],
        "parses": [],
    }


def test_an_unknown_path_under_track_is_django_s_json_404_with_its_headers():
    response = Client(HTTP_USER_AGENT=CHROME_UA).get("/track/extra")

    assert response.status_code == 404
    assert response.content == b'{"detail": "No such endpoint: /track/extra."}'
    assert answer_headers(response) == {
        **SECURITY_HEADERS,
        "Vary": "origin",
        "Content-Type": "application/json",
        "Content-Length": "45",
    }


def test_the_admin_keeps_its_session_and_csrf_middleware():
    response = Client().get("/admin/login/")

    assert response.status_code == 200
    assert "csrftoken" in response.cookies
    assert response["X-Frame-Options"] == "DENY"
