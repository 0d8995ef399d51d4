"""E-mail and CRM connectors against a local server speaking each vendor's documented API."""

import hashlib

import pytest

from tests.support.vendor_server import Answer
from tests.workflows.connectors import resource, run

pytestmark = pytest.mark.django_db

ADA_HASH = hashlib.md5(b"ada@example.com").hexdigest()
EMAIL = {
    "from": "shop@example.com",
    "to": "{{profile@data.contact.email.main}}",
    "subject": "Thanks {{profile@data.pii.firstname}}",
    "message": "You paid {{event@properties.total}}",
}


@pytest.fixture
def vendor(vendor_server, settings):
    server = vendor_server()
    settings.CDP_CONNECTOR_API_URLS = {
        "sendgrid": server.url,
        "brevo": server.url,
        "hubspot": server.url,
        "mailchimp": server.url + "/{dc}/3.0",
        "mandrill": server.url + "/api/1.0",
    }
    return server


# -- SendGrid ----------------------------------------------------------------------------------


def test_sendgrid_mail_send(vendor):
    key = resource("sendgrid", {"api_key": "SG.secret-key"})
    vendor.route("POST", "/v3/mail/send", Answer(202, None))

    results, _ = run("sendgrid_send_email", {"resource": key.pk, **EMAIL})

    assert results == [("response", {"status": 202, "content": None, "error": None})]
    [request] = vendor.requests
    assert request.header("Authorization") == "Bearer SG.secret-key"
    assert request.json() == {
        "personalizations": [{"to": [{"email": "Ada@Example.com"}]}],
        "from": {"email": "shop@example.com"},
        "subject": "Thanks Ada",
        "content": [{"type": "text/plain", "value": "You paid 42"}],
    }


def test_sendgrid_errors_are_joined(vendor):
    key = resource("sendgrid", {"api_key": "SG.secret-key"})
    refused = {
        "errors": [
            {
                "message": "The from address does not match a verified Sender Identity.",
                "field": "from",
                "help": None,
            }
        ]
    }
    vendor.route("POST", "/v3/mail/send", Answer(403, refused))

    results, _ = run("sendgrid_send_email", {"resource": key.pk, **EMAIL, "html": True})

    assert results[0] == (
        "error",
        {
            "status": 403,
            "content": refused,
            "error": "SendGrid answered 403: The from address does not match a verified "
            "Sender Identity.",
        },
    )
    assert vendor.requests[0].json()["content"] == [{"type": "text/html", "value": "You paid 42"}]


def test_sendgrid_add_contact(vendor):
    key = resource("sendgrid", {"api_key": "SG.secret-key"})
    vendor.route("PUT", "/v3/marketing/contacts", Answer(202, {"job_id": "2387e363"}))

    results, _ = run(
        "sendgrid_add_contact",
        {
            "resource": key.pk,
            "email": "{{profile@data.contact.email.main}}",
            "fields": {"first_name": "profile@data.pii.firstname"},
            "list_ids": ["ca7a3796-e8a8-4029-9ccb-df8937940562"],
        },
    )

    assert results == [
        ("response", {"status": 202, "content": {"job_id": "2387e363"}, "error": None})
    ]
    assert vendor.requests[0].json() == {
        "contacts": [{"email": "Ada@Example.com", "first_name": "Ada"}],
        "list_ids": ["ca7a3796-e8a8-4029-9ccb-df8937940562"],
    }


def test_sendgrid_rate_limit_without_retry_after_says_so(vendor):
    key = resource("sendgrid", {"api_key": "SG.secret-key"})
    limited = {"errors": [{"field": None, "message": "too many requests"}]}
    vendor.route(
        "PUT", "/v3/marketing/contacts", Answer(429, limited, {"X-RateLimit-Reset": "1700000000"})
    )

    results, _ = run("sendgrid_add_contact", {"resource": key.pk, "email": "a@b.c"})

    assert results[0][1]["error"] == (
        "SendGrid rate limit (429): no Retry-After given; too many requests"
    )
    assert len(vendor.requests) == 1


# -- Brevo -------------------------------------------------------------------------------------


def test_brevo_send_email(vendor):
    key = resource("brevo", {"api_key": "xkeysib-secret"})
    sent = {"messageId": "<201798300811.5787683@smtp-relay.mailin.fr>"}
    vendor.route("POST", "/v3/smtp/email", Answer(201, sent))

    results, _ = run("brevo_send_email", {"resource": key.pk, **EMAIL, "html": True})

    assert results == [("response", {"status": 201, "content": sent, "error": None})]
    [request] = vendor.requests
    assert request.header("api-key") == "xkeysib-secret"
    assert request.json() == {
        "sender": {"email": "shop@example.com"},
        "to": [{"email": "Ada@Example.com"}],
        "subject": "Thanks Ada",
        "htmlContent": "You paid 42",
    }


def test_brevo_error_message(vendor):
    key = resource("brevo", {"api_key": "xkeysib-secret"})
    vendor.route(
        "POST", "/v3/smtp/email", Answer(401, {"code": "unauthorized", "message": "Key not found"})
    )

    results, _ = run("brevo_send_email", {"resource": key.pk, **EMAIL})

    assert results[0][1]["error"] == "Brevo answered 401: Key not found"


def test_an_address_that_is_no_address_is_not_sent(vendor):
    key = resource("brevo", {"api_key": "xkeysib-secret"})

    results, _ = run("brevo_send_email", {"resource": key.pk, **EMAIL, "to": "{{profile@id}}"})

    assert results[0][1]["error"] == "to: 'p1' is not an e-mail address; nothing was sent"
    assert vendor.requests == []


# -- Mailchimp ---------------------------------------------------------------------------------


def test_mailchimp_upsert_member_puts_by_the_email_hash_in_the_keys_data_centre(vendor):
    key = resource("mailchimp", {"api_key": "0123456789abcdef-us21"})
    member = {"id": ADA_HASH, "email_address": "Ada@Example.com", "status": "subscribed"}
    vendor.route("PUT", f"/us21/3.0/lists/a1b2c3/members/{ADA_HASH}", Answer(200, member))

    results, _ = run(
        "mailchimp_upsert_member",
        {
            "resource": key.pk,
            "list_id": "a1b2c3",
            "email": "{{profile@data.contact.email.main}}",
            "status_if_new": "pending",
            "merge_fields": {"FNAME": "profile@data.pii.firstname"},
        },
    )

    assert results == [("response", {"status": 200, "content": member, "error": None})]
    [request] = vendor.requests
    assert request.header("Authorization") == "Basic Y2RwOjAxMjM0NTY3ODlhYmNkZWYtdXMyMQ=="
    assert request.json() == {
        "email_address": "Ada@Example.com",
        "status_if_new": "pending",
        "merge_fields": {"FNAME": "Ada"},
    }


def test_mailchimp_problem_document_goes_to_error(vendor):
    key = resource("mailchimp", {"api_key": "0123456789abcdef-us21"})
    problem = {
        "type": "https://mailchimp.com/developer/marketing/docs/errors/",
        "title": "Member Exists",
        "status": 400,
        "detail": "Ada@Example.com is already a list member.",
        "instance": "7c4a1b5e",
    }
    vendor.route("PUT", f"/us21/3.0/lists/a1b2c3/members/{ADA_HASH}", Answer(400, problem))

    results, _ = run(
        "mailchimp_upsert_member",
        {"resource": key.pk, "list_id": "a1b2c3", "email": "{{profile@data.contact.email.main}}"},
    )

    assert results[0][1]["error"] == (
        "Mailchimp answered 400: Member Exists: Ada@Example.com is already a list member."
    )


def test_mailchimp_remove_archives_or_deletes_permanently(vendor):
    key = resource("mailchimp", {"api_key": "0123456789abcdef-us21"})
    path = f"/us21/3.0/lists/a1b2c3/members/{ADA_HASH}"
    vendor.route("DELETE", path, Answer(204, None))
    vendor.route("POST", path + "/actions/delete-permanent", Answer(204, None))
    config = {"resource": key.pk, "list_id": "a1b2c3", "email": "ada@example.com"}

    archived, _ = run("mailchimp_remove_member", config)
    deleted, _ = run("mailchimp_remove_member", {**config, "permanent": True})

    assert archived == deleted == [("response", {"status": 204, "content": None, "error": None})]
    assert [(r.method, r.path) for r in vendor.requests] == [
        ("DELETE", path),
        ("POST", path + "/actions/delete-permanent"),
    ]


def test_mailchimp_tags(vendor):
    key = resource("mailchimp", {"api_key": "0123456789abcdef-us21"})
    path = f"/us21/3.0/lists/a1b2c3/members/{ADA_HASH}/tags"
    vendor.route("POST", path, Answer(204, None))
    config = {"resource": key.pk, "list_id": "a1b2c3", "email": "ada@example.com"}

    run("mailchimp_tag_member", {**config, "tags": ["vip", "buyer"]})
    run("mailchimp_tag_member", {**config, "tags": ["vip"], "remove": True})

    assert [r.json() for r in vendor.requests] == [
        {"tags": [{"name": "vip", "status": "active"}, {"name": "buyer", "status": "active"}]},
        {"tags": [{"name": "vip", "status": "inactive"}]},
    ]


def test_mailchimp_key_without_data_centre_goes_to_error(vendor):
    key = resource("mailchimp", {"api_key": "nodatacentre"})

    results, _ = run(
        "mailchimp_tag_member",
        {"resource": key.pk, "list_id": "a", "email": "a@b.c", "tags": ["x"]},
    )

    assert results[0][1]["error"] == (
        "Mailchimp: the API key should end in its data centre, e.g. …-us21"
    )
    assert vendor.requests == []


def test_mailchimp_transactional_send(vendor):
    key = resource("mandrill", {"api_key": "md-secret"})
    sent = [{"email": "Ada@Example.com", "status": "sent", "_id": "abc123", "reject_reason": None}]
    vendor.route("POST", "/api/1.0/messages/send", Answer(200, sent))

    results, _ = run("mailchimp_send_email", {"resource": key.pk, **EMAIL})

    assert results == [("response", {"status": 200, "content": sent, "error": None})]
    assert vendor.requests[0].json() == {
        "key": "md-secret",
        "message": {
            "from_email": "shop@example.com",
            "to": [{"email": "Ada@Example.com", "type": "to"}],
            "subject": "Thanks Ada",
            "text": "You paid 42",
        },
    }


def test_mailchimp_transactional_rejection_and_bad_key(vendor):
    key = resource("mandrill", {"api_key": "md-secret"})
    rejected = [
        {
            "email": "Ada@Example.com",
            "status": "rejected",
            "_id": "x",
            "reject_reason": "hard-bounce",
        }
    ]
    bad_key = {"status": "error", "code": -1, "name": "Invalid_Key", "message": "Invalid API key"}
    vendor.route("POST", "/api/1.0/messages/send", Answer(200, rejected), Answer(500, bad_key))

    first, _ = run("mailchimp_send_email", {"resource": key.pk, **EMAIL})
    second, _ = run("mailchimp_send_email", {"resource": key.pk, **EMAIL})

    assert first[0][1]["error"] == (
        "Mailchimp Transactional answered 200: Ada@Example.com: rejected (hard-bounce)"
    )
    assert second[0][1]["error"] == "Mailchimp Transactional answered 500: Invalid API key"


# -- HubSpot -----------------------------------------------------------------------------------


def test_hubspot_create_contact(vendor):
    token = resource("hubspot", {"token": "pat-na1-secret"})
    created = {"id": "512", "properties": {"email": "Ada@Example.com", "firstname": "Ada"}}
    vendor.route("POST", "/crm/v3/objects/contacts", Answer(201, created))

    results, _ = run(
        "hubspot_create_contact",
        {
            "resource": token.pk,
            "properties": {
                "email": "profile@data.contact.email.main",
                "firstname": "profile@data.pii.firstname",
            },
        },
    )

    assert results == [("response", {"status": 201, "content": created, "error": None})]
    [request] = vendor.requests
    assert request.header("Authorization") == "Bearer pat-na1-secret"
    assert request.json() == {"properties": {"email": "Ada@Example.com", "firstname": "Ada"}}


def test_hubspot_conflict_message(vendor):
    token = resource("hubspot", {"token": "pat-na1-secret"})
    conflict = {
        "status": "error",
        "message": "Contact already exists. Existing ID: 512",
        "correlationId": "7d2b",
        "category": "CONFLICT",
    }
    vendor.route("POST", "/crm/v3/objects/contacts", Answer(409, conflict))

    results, _ = run(
        "hubspot_create_contact", {"resource": token.pk, "properties": {"email": "a@b.c"}}
    )

    assert (
        results[0][1]["error"] == "HubSpot answered 409: Contact already exists. Existing ID: 512"
    )


def test_hubspot_update_contact_by_email(vendor):
    token = resource("hubspot", {"token": "pat-na1-secret"})
    vendor.route("PATCH", "/crm/v3/objects/contacts/ada@example.com", Answer(200, {"id": "512"}))

    run(
        "hubspot_update_contact",
        {
            "resource": token.pk,
            "contact": "ada@example.com",
            "properties": {"lifecyclestage": "customer"},
        },
    )

    [request] = vendor.requests
    assert request.query == {"idProperty": "email"}
    assert request.json() == {"properties": {"lifecyclestage": "customer"}}


def test_hubspot_get_contact_by_id_with_properties(vendor):
    token = resource("hubspot", {"token": "pat-na1-secret"})
    found = {"id": "512", "properties": {"email": "a@b.c", "phone": "1"}}
    vendor.route("GET", "/crm/v3/objects/contacts/512", Answer(200, found))

    results, _ = run(
        "hubspot_get_contact",
        {
            "resource": token.pk,
            "contact": "512",
            "id_property": "hs_object_id",
            "properties": ["email", "phone"],
        },
    )

    assert results == [("response", {"status": 200, "content": found, "error": None})]
    assert vendor.requests[0].query == {"properties": "email,phone"}


def test_hubspot_unknown_contact_and_rate_limit(vendor, settings):
    settings.CDP_CONNECTOR_MAX_RETRY_WAIT_SECONDS = 0
    token = resource("hubspot", {"token": "pat-na1-secret"})
    missing = {
        "status": "error",
        "message": "Object not found. objectId are usually numeric.",
        "category": "OBJECT_NOT_FOUND",
    }
    limited = {
        "status": "error",
        "message": "You have reached your secondly limit.",
        "errorType": "RATE_LIMIT",
    }
    vendor.route(
        "GET",
        "/crm/v3/objects/contacts/nobody@x.com",
        Answer(404, missing),
        Answer(429, limited, {"Retry-After": "1"}),
    )
    config = {"resource": token.pk, "contact": "nobody@x.com"}

    first, _ = run("hubspot_get_contact", config)
    second, _ = run("hubspot_get_contact", config)

    assert (
        first[0][1]["error"]
        == "HubSpot answered 404: Object not found. objectId are usually numeric."
    )
    assert second[0][1]["error"] == (
        "HubSpot rate limit (429): retry after 1 s; You have reached your secondly limit."
    )
