"""GA4 Measurement Protocol and Matomo tracking against a local server speaking their APIs."""

import hashlib

import pytest

from apps.destinations.services import resource_connection_test
from tests.support.vendor_server import Answer
from tests.workflows.connectors import resource, run

pytestmark = pytest.mark.django_db
GA4 = {"measurement_id": "G-ABC123", "api_secret": "mp-secret-1"}


@pytest.fixture
def vendor(vendor_server, settings):
    server = vendor_server()
    settings.CDP_CONNECTOR_API_URLS = {"ga4": server.url}
    return server


def test_ga4_collects_the_event_for_the_profile(vendor):
    ga = resource("ga4", GA4)
    vendor.route("POST", "/mp/collect", Answer(204, None))

    results, _ = run(
        "ga4_send_event",
        {
            "resource": ga.pk,
            "event_name": "purchase",
            "user_id": "{{profile@id}}",
            "params": {"value": "event@properties.total", "currency": "EUR"},
        },
    )

    assert results == [("response", {"status": 204, "content": None, "error": None})]
    [request] = vendor.requests
    assert request.query == {"measurement_id": "G-ABC123", "api_secret": "mp-secret-1"}
    assert request.json() == {
        "client_id": "p1",
        "user_id": "p1",
        "events": [{"name": "purchase", "params": {"value": 42, "currency": "EUR"}}],
    }


def test_ga4_validation_findings_go_to_error(vendor):
    ga = resource("ga4", GA4)
    findings = {
        "validationMessages": [
            {
                "fieldPath": "events",
                "description": "Event at index: [0] has invalid name [_badname]. Names must "
                "start with an alphabetic character.",
                "validationCode": "NAME_INVALID",
            }
        ]
    }
    vendor.route("POST", "/debug/mp/collect", Answer(200, findings))

    results, _ = run(
        "ga4_send_event", {"resource": ga.pk, "event_name": "purchase", "validate": True}
    )

    assert results[0] == (
        "error",
        {
            "status": 200,
            "content": findings,
            "error": "GA4 answered 200: events: Event at index: [0] has invalid name "
            "[_badname]. Names must start with an alphabetic character.",
        },
    )
    assert vendor.requests[0].path == "/debug/mp/collect"


def test_ga4_connection_check_uses_the_validation_server(vendor):
    ga = resource("ga4", GA4)
    vendor.route("POST", "/debug/mp/collect", Answer(200, {"validationMessages": []}))

    outcome = resource_connection_test(resource=ga)

    assert outcome.message == (
        "Production credentials: the validation server accepted a test event (nothing was "
        "recorded)."
    )
    assert vendor.requests[0].json() == {
        "client_id": "cdp-connection-test",
        "events": [{"name": "cdp_connection_test"}],
    }


def test_matomo_tracks_the_event_for_the_profile(vendor):
    matomo = resource(
        "matomo", {"url": vendor.url + "/", "site_id": 3, "token_auth": "matomo-token-1"}
    )
    vendor.route("POST", "/matomo.php", Answer(204, None))

    results, _ = run(
        "matomo_track_event",
        {
            "resource": matomo.pk,
            "category": "Shop",
            "action": "{{event@type}}",
            "name": "basket",
            "value": "event@properties.total",
            "url": "https://shop.example.com/checkout",
        },
    )

    assert results == [("response", {"status": 204, "content": None, "error": None})]
    assert vendor.requests[0].form() == {
        "idsite": "3",
        "rec": "1",
        "apiv": "1",
        "send_image": "0",
        "_id": hashlib.sha256(b"p1").hexdigest()[:16],
        "uid": "p1",
        "e_c": "Shop",
        "e_a": "purchase",
        "e_n": "basket",
        "e_v": "42",
        "url": "https://shop.example.com/checkout",
        "token_auth": "matomo-token-1",
    }


def test_matomo_refusal_and_a_value_that_is_no_number(vendor):
    matomo = resource("matomo", {"url": vendor.url, "site_id": 3})
    vendor.route("POST", "/matomo.php", Answer(400, "Invalid idsite"))
    config = {"resource": matomo.pk, "category": "Shop", "action": "buy"}

    refused, _ = run("matomo_track_event", config)
    not_a_number, _ = run("matomo_track_event", {**config, "value": "event@type"})

    assert refused[0][1]["error"] == "Matomo answered 400: Invalid idsite"
    assert not_a_number[0][1]["error"] == "value: 'purchase' is not a number; nothing was sent"
    assert len(vendor.requests) == 1


def test_matomo_connection_check_reads_the_api_error(vendor):
    matomo = resource("matomo", {"url": vendor.url, "site_id": 3, "token_auth": "bad-token-1"})
    vendor.route(
        "POST",
        "/index.php",
        Answer(200, {"result": "error", "message": "You can't access this resource."}),
    )

    outcome = resource_connection_test(resource=matomo)

    assert (outcome.ok, outcome.message) == (
        False,
        "Production credentials: Matomo answered 200: You can't access this resource.",
    )
    assert vendor.requests[0].form()["method"] == "API.getMatomoVersion"
