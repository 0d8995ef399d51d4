"""Mautic and ActiveCampaign against a local server speaking their documented APIs."""

import pytest

from apps.destinations.services import resource_connection_test
from tests.support.vendor_server import Answer
from tests.workflows.connectors import resource, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def vendor(vendor_server):
    return vendor_server()


def _mautic(vendor):
    return resource("mautic", {"url": vendor.url, "username": "api", "password": "mautic-pw-1"})


def test_mautic_add_contact_posts_the_fields_with_basic_auth(vendor):
    mautic = _mautic(vendor)
    created = {"contact": {"id": 47, "fields": {"all": {"email": "Ada@Example.com"}}}}
    vendor.route("POST", "/api/contacts/new", Answer(201, created))

    results, _ = run(
        "mautic_add_contact",
        {
            "resource": mautic.pk,
            "fields": {
                "email": "profile@data.contact.email.main",
                "firstname": "profile@data.pii.firstname",
            },
        },
    )

    assert results == [("response", {"status": 201, "content": created, "error": None})]
    [request] = vendor.requests
    assert request.header("Authorization") == "Basic YXBpOm1hdXRpYy1wdy0x"
    assert request.json() == {"email": "Ada@Example.com", "firstname": "Ada"}


def test_mautic_segment_add_and_remove(vendor):
    mautic = _mautic(vendor)
    vendor.route("POST", "/api/segments/3/contact/47/add", Answer(200, {"success": True}))
    vendor.route("POST", "/api/segments/3/contact/47/remove", Answer(200, {"success": True}))
    config = {"resource": mautic.pk, "contact_id": "{{payload@contact.id}}", "segment_id": 3}

    added, _ = run("mautic_segment", config, payload={"contact": {"id": 47}})
    removed, _ = run("mautic_segment", {**config, "remove": True}, payload={"contact": {"id": 47}})

    assert (
        added
        == removed
        == [("response", {"status": 200, "content": {"success": True}, "error": None})]
    )
    assert [r.path for r in vendor.requests] == [
        "/api/segments/3/contact/47/add",
        "/api/segments/3/contact/47/remove",
    ]


def test_mautic_points_and_its_error_message(vendor):
    mautic = _mautic(vendor)
    vendor.route("POST", "/api/contacts/47/points/plus/10", Answer(200, {"success": True}))
    missing = {"errors": [{"code": 404, "message": "Item was not found.", "details": []}]}
    vendor.route("POST", "/api/contacts/48/points/minus/10", Answer(404, missing))

    plus, _ = run("mautic_points", {"resource": mautic.pk, "contact_id": "47", "points": 10})
    minus, _ = run(
        "mautic_points",
        {"resource": mautic.pk, "contact_id": "48", "points": 10, "subtract": True},
    )

    assert plus[0][0] == "response"
    assert minus[0] == (
        "error",
        {"status": 404, "content": missing, "error": "Mautic answered 404: Item was not found."},
    )


def test_mautic_contact_id_that_is_no_id_is_not_sent(vendor):
    mautic = _mautic(vendor)

    results, _ = run(
        "mautic_points", {"resource": mautic.pk, "contact_id": "{{profile@id}}", "points": 1}
    )

    assert results[0][1]["error"] == "contact_id: 'p1' is not a Mautic id; nothing was sent"
    assert vendor.requests == []


def test_activecampaign_sync_contact(vendor):
    account = resource("activecampaign", {"url": vendor.url, "api_key": "ac-key-1"})
    synced = {"contact": {"id": "113", "email": "Ada@Example.com", "firstName": "Ada"}}
    vendor.route("POST", "/api/3/contact/sync", Answer(201, synced))

    results, _ = run(
        "activecampaign_sync_contact",
        {
            "resource": account.pk,
            "email": "{{profile@data.contact.email.main}}",
            "fields": {"firstName": "profile@data.pii.firstname"},
        },
    )

    assert results == [("response", {"status": 201, "content": synced, "error": None})]
    [request] = vendor.requests
    assert request.header("Api-Token") == "ac-key-1"
    assert request.json() == {"contact": {"email": "Ada@Example.com", "firstName": "Ada"}}


def test_activecampaign_error_title(vendor):
    account = resource("activecampaign", {"url": vendor.url, "api_key": "ac-key-1"})
    refused = {
        "errors": [
            {
                "title": "Contact Email Address is not valid.",
                "detail": "",
                "code": "email_invalid",
                "source": {"pointer": "/data/attributes/email"},
            }
        ]
    }
    vendor.route("POST", "/api/3/contact/sync", Answer(422, refused))

    results, _ = run("activecampaign_sync_contact", {"resource": account.pk, "email": "nope"})

    assert (
        results[0][1]["error"] == "ActiveCampaign answered 422: Contact Email Address is not valid."
    )


def test_connection_checks(vendor):
    vendor.route("GET", "/api/contacts", Answer(200, {"total": "12", "contacts": {}}))
    vendor.route("GET", "/api/3/users/me", Answer(200, {"user": {"email": "owner@shop.example"}}))

    mautic = resource_connection_test(resource=_mautic(vendor))
    account = resource_connection_test(
        resource=resource("activecampaign", {"url": vendor.url, "api_key": "ac-key-1"})
    )

    assert mautic.message == "Production credentials: Mautic accepted the login (12 contacts)."
    assert account.message == (
        "Production credentials: ActiveCampaign knows the user 'owner@shop.example'."
    )
    assert vendor.requests[0].query == {"limit": "1"}
