"""The contact-list senders (Mailchimp, HubSpot, SendGrid, ActiveCampaign, Mautic) against a real
local server speaking each vendor's documented API: the exact request, the vendor's errors and
rate limits, and a profile change delivered through the dispatcher."""

import base64
import hashlib
import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.destinations.models import Delivery, DeliveryAttempt
from apps.destinations.senders import SendResult, sender_for
from apps.destinations.services import destination_deliveries_send, profile_deliveries_schedule
from tests.destinations.factories import DestinationFactory, ProfileFactory, ResourceFactory
from tests.support.vendor_server import Answer

MAILCHIMP_KEY = "0123456789abcdef-us21"
ADA = "ada@example.com"
ADA_HASH = hashlib.md5(b"ada@example.com").hexdigest()
MEMBER = f"/us21/3.0/lists/a1b2c3/members/{ADA_HASH}"
MAUTIC = {"url": "", "username": "cdp", "password": "mautic-pass"}


@pytest.fixture
def vendor(vendor_server, settings):
    server = vendor_server()
    settings.CDP_CONNECTOR_API_URLS = {
        "sendgrid": server.url,
        "hubspot": server.url,
        "mailchimp": server.url + "/{dc}/3.0",
    }
    return server


def send(kind, payload, *, settings=None, credentials):
    return sender_for(kind).send(
        payload=payload,
        changes=["data.pii.firstname"],
        settings=settings or {},
        credentials=credentials,
        context={},
        idempotency_key="delivery-1-1",
    )


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# -- Mailchimp ---------------------------------------------------------------------------------


def test_mailchimp_puts_the_member_with_merge_fields(vendor):
    member = {"id": ADA_HASH, "email_address": ADA, "status": "subscribed"}
    vendor.route("PUT", MEMBER, Answer(200, member))

    result = send(
        "mailchimp",
        {"email": "Ada@Example.com ", "FNAME": "Ada", "LNAME": "Lovelace"},
        settings={"list_id": "a1b2c3", "status_if_new": "pending"},
        credentials={"api_key": MAILCHIMP_KEY},
    )

    assert result == SendResult(
        ok=True,
        status_code=200,
        response_excerpt=json.dumps(member),
    )
    [request] = vendor.requests
    assert (request.method, request.path) == ("PUT", MEMBER)
    assert request.header("Authorization") == basic("cdp", MAILCHIMP_KEY)
    assert request.json() == {
        "email_address": "Ada@Example.com",
        "status_if_new": "pending",
        "merge_fields": {"FNAME": "Ada", "LNAME": "Lovelace"},
    }


@pytest.mark.parametrize(
    ("on_removal", "method", "path", "body"),
    [
        (None, "PATCH", MEMBER, {"status": "unsubscribed"}),
        ("archive", "DELETE", MEMBER, None),
        ("delete_permanently", "POST", MEMBER + "/actions/delete-permanent", None),
    ],
)
def test_mailchimp_removal(vendor, on_removal, method, path, body):
    vendor.route(method, path, Answer(204 if method != "PATCH" else 200, None))
    settings = {"list_id": "a1b2c3"} | ({"on_removal": on_removal} if on_removal else {})

    result = send(
        "mailchimp",
        {"action": "remove", "email": ADA},
        settings=settings,
        credentials={"api_key": MAILCHIMP_KEY},
    )

    assert result.ok is True
    [request] = vendor.requests
    assert (request.method, request.path) == (method, path)
    assert request.header("Authorization") == basic("cdp", MAILCHIMP_KEY)
    assert (request.json() if request.body else None) == body


def test_mailchimp_refusal_is_permanent_with_the_vendors_message(vendor):
    problem = {
        "type": "https://mailchimp.com/developer/marketing/docs/errors/",
        "title": "Invalid Resource",
        "status": 400,
        "detail": "ada@example.com is in a compliance state due to unsubscribe, bounce, or "
        "compliance review and cannot be subscribed.",
        "instance": "2b9b8a8e-3f1c-4a7e-9d6e-1b2c3d4e5f60",
    }
    vendor.route("PUT", MEMBER, Answer(400, problem))

    result = send(
        "mailchimp",
        {"email": ADA},
        settings={"list_id": "a1b2c3"},
        credentials={"api_key": MAILCHIMP_KEY},
    )

    assert result.ok is False
    assert result.retryable is False
    assert result.retry_after is None
    assert result.status_code == 400
    assert result.error == (
        "Mailchimp answered 400: Invalid Resource: ada@example.com is in a compliance state due "
        "to unsubscribe, bounce, or compliance review and cannot be subscribed."
    )


def test_mailchimp_rate_limit_is_retried_after_retry_after_without_waiting(vendor, settings):
    settings.CDP_CONNECTOR_MAX_RETRY_WAIT_SECONDS = 60
    too_many = {
        "title": "Too Many Requests",
        "status": 429,
        "detail": "You have exceeded the limit of 10 simultaneous connections.",
    }
    vendor.route("PUT", MEMBER, Answer(429, too_many, {"Retry-After": "30"}))

    result = send(
        "mailchimp",
        {"email": ADA},
        settings={"list_id": "a1b2c3"},
        credentials={"api_key": MAILCHIMP_KEY},
    )

    assert len(vendor.requests) == 1  # no wait-and-retry on the worker: the dispatcher retries
    assert (result.ok, result.retryable, result.retry_after, result.status_code) == (
        False,
        True,
        30.0,
        429,
    )
    assert result.error == (
        "Mailchimp rate limit (429): retry after 30 s; Too Many Requests: You have exceeded the "
        "limit of 10 simultaneous connections."
    )


def test_mailchimp_server_error_is_retryable(vendor):
    vendor.route("PUT", MEMBER, Answer(503, {"title": "Service Unavailable", "status": 503}))

    result = send(
        "mailchimp",
        {"email": ADA},
        settings={"list_id": "a1b2c3"},
        credentials={"api_key": "k-us21"},
    )

    assert (result.ok, result.retryable, result.retry_after) == (False, True, None)
    assert result.error == "Mailchimp answered 503: Service Unavailable"


def test_mailchimp_key_echoed_by_the_vendor_is_masked(vendor):
    vendor.route(
        "PUT",
        MEMBER,
        Answer(401, {"title": "API Key Invalid", "detail": f"Your API key {MAILCHIMP_KEY} ..."}),
    )

    result = send(
        "mailchimp",
        {"email": ADA},
        settings={"list_id": "a1b2c3"},
        credentials={"api_key": MAILCHIMP_KEY},
    )

    assert MAILCHIMP_KEY not in result.error
    assert MAILCHIMP_KEY not in result.response_excerpt
    assert result.retryable is False
    assert result.error.startswith("Mailchimp answered 401: API Key Invalid: Your API key ")


def test_mailchimp_key_without_data_centre_fails_before_sending(vendor):
    result = send(
        "mailchimp", {"email": ADA}, settings={"list_id": "a1b2c3"}, credentials={"api_key": "k"}
    )

    assert result == SendResult(
        ok=False, error="Mailchimp: the API key should end in its data centre, e.g. …-us21"
    )
    assert vendor.requests == []


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (
            {"FNAME": "Ada"},
            "Mailchimp: the mapping gave no e-mail address (`email` is None); map it, e.g. "
            '"email": "profile@data.contact.email.main", or add a condition that skips profiles '
            "without one.",
        ),
        (
            ["ada@example.com"],
            "Mailchimp: the destination's mapping must render an object with an `email` key, "
            "got list.",
        ),
    ],
)
def test_a_mapping_without_an_email_fails_for_good_and_sends_nothing(vendor, payload, error):
    result = send(
        "mailchimp", payload, settings={"list_id": "a1b2c3"}, credentials={"api_key": "k-us21"}
    )

    assert result == SendResult(ok=False, error=error)
    assert vendor.requests == []


# -- HubSpot -----------------------------------------------------------------------------------


def test_hubspot_upserts_the_contact_by_email(vendor):
    answer = {"status": "COMPLETE", "results": [{"id": "512", "new": True, "properties": {}}]}
    vendor.route("POST", "/crm/v3/objects/contacts/batch/upsert", Answer(200, answer))

    result = send(
        "hubspot",
        {"email": ADA, "firstname": "Ada", "lifecyclestage": "lead"},
        credentials={"token": "pat-na1-secret"},
    )

    assert (result.ok, result.status_code) == (True, 200)
    [request] = vendor.requests
    assert request.header("Authorization") == "Bearer pat-na1-secret"
    assert request.json() == {
        "inputs": [
            {
                "id": ADA,
                "idProperty": "email",
                "properties": {"email": ADA, "firstname": "Ada", "lifecyclestage": "lead"},
            }
        ]
    }


def test_hubspot_removal_archives_the_contact(vendor):
    # The e-mail is a path segment: percent-encoded, "@" kept.
    vendor.route("DELETE", "/crm/v3/objects/contacts/ada%2Bshop@example.com", Answer(204, None))

    result = send(
        "hubspot", {"action": "remove", "email": "ada+shop@example.com"}, credentials={"token": "t"}
    )

    assert (result.ok, result.status_code) == (True, 204)
    [request] = vendor.requests
    assert request.query == {"idProperty": "email"}


def test_hubspot_validation_error_and_rate_limit(vendor):
    invalid = {
        "status": "error",
        "message": 'Property values were not valid: [{"isValid":false,"message":"lead2 was not '
        'one of the allowed options","error":"INVALID_OPTION","name":"lifecyclestage"}]',
        "correlationId": "3d1e2f3a-1111-2222-3333-444455556666",
        "category": "VALIDATION_ERROR",
    }
    rate = {
        "status": "error",
        "message": "You have reached your ten_secondly_rolling limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": "c033cdaa-2c40-4a64-ae48-b4cec88dad24",
        "policyName": "TEN_SECONDLY_ROLLING",
    }
    vendor.route(
        "POST",
        "/crm/v3/objects/contacts/batch/upsert",
        Answer(400, invalid),
        Answer(429, rate),
    )

    refused = send("hubspot", {"email": ADA, "lifecyclestage": "lead2"}, credentials={"token": "t"})
    limited = send("hubspot", {"email": ADA}, credentials={"token": "t"})

    assert (refused.retryable, refused.status_code) == (False, 400)
    assert refused.error == "HubSpot answered 400: " + invalid["message"]
    assert (limited.retryable, limited.retry_after, limited.status_code) == (True, None, 429)
    assert limited.error == (
        "HubSpot rate limit (429): no Retry-After given; You have reached your "
        "ten_secondly_rolling limit."
    )


# -- SendGrid ----------------------------------------------------------------------------------


def test_sendgrid_puts_the_contact_on_the_list(vendor):
    vendor.route("PUT", "/v3/marketing/contacts", Answer(202, {"job_id": "2387e363-4104"}))

    result = send(
        "sendgrid",
        {"email": ADA, "first_name": "Ada", "custom_fields": {"e1_T": "pro"}},
        settings={"list_id": "ca7a3796"},
        credentials={"api_key": "SG.secret"},
    )

    assert result == SendResult(
        ok=True, status_code=202, response_excerpt='{"job_id": "2387e363-4104"}'
    )
    [request] = vendor.requests
    assert request.header("Authorization") == "Bearer SG.secret"
    assert request.json() == {
        "list_ids": ["ca7a3796"],
        "contacts": [{"email": ADA, "first_name": "Ada", "custom_fields": {"e1_T": "pro"}}],
    }


def test_sendgrid_errors_and_no_removal(vendor):
    errors = {"errors": [{"field": "list_ids", "message": "list ids do not exist"}]}
    vendor.route("PUT", "/v3/marketing/contacts", Answer(400, errors))

    refused = send("sendgrid", {"email": ADA}, credentials={"api_key": "SG.x"})
    removal = send("sendgrid", {"action": "remove", "email": ADA}, credentials={"api_key": "SG.x"})

    assert (refused.ok, refused.retryable) == (False, False)
    assert refused.error == "SendGrid answered 400: list ids do not exist"
    assert removal == SendResult(
        ok=False,
        error="SendGrid contacts are not removed by this destination: clear the removal "
        "mapping, or remove them in a workflow.",
    )
    assert len(vendor.requests) == 1


# -- ActiveCampaign and Mautic (on the customer's own host) ------------------------------------


def test_activecampaign_syncs_the_contact(vendor):
    vendor.route("POST", "/api/3/contact/sync", Answer(201, {"contact": {"id": "113"}}))

    result = send(
        "activecampaign",
        {"email": ADA, "firstName": "Ada", "fieldValues": [{"field": "1", "value": "pro"}]},
        credentials={"url": vendor.url + "/", "api_key": "ac-key"},
    )

    assert (result.ok, result.status_code) == (True, 201)
    [request] = vendor.requests
    assert request.header("Api-Token") == "ac-key"
    assert request.json() == {
        "contact": {
            "email": ADA,
            "firstName": "Ada",
            "fieldValues": [{"field": "1", "value": "pro"}],
        }
    }


def test_activecampaign_error(vendor):
    errors = {
        "errors": [
            {
                "title": "Contact Email Address is not valid.",
                "detail": "",
                "code": "email_invalid",
                "source": {"pointer": "/data/attributes/email"},
            }
        ]
    }
    vendor.route("POST", "/api/3/contact/sync", Answer(422, errors))

    result = send(
        "activecampaign", {"email": "a@b"}, credentials={"url": vendor.url, "api_key": "k"}
    )

    assert (result.retryable, result.status_code) == (False, 422)
    assert result.error == "ActiveCampaign answered 422: Contact Email Address is not valid."


def test_mautic_creates_or_updates_the_contact(vendor):
    vendor.route("POST", "/api/contacts/new", Answer(201, {"contact": {"id": 47}}))

    result = send(
        "mautic",
        {"email": ADA, "firstname": "Ada"},
        credentials={**MAUTIC, "url": vendor.url},
    )

    assert (result.ok, result.status_code) == (True, 201)
    [request] = vendor.requests
    assert request.header("Authorization") == basic("cdp", "mautic-pass")
    assert request.json() == {"email": ADA, "firstname": "Ada"}


def test_mautic_server_error_retries_and_unreachable_host_retries(vendor):
    failure = {"errors": [{"code": 500, "message": "Looks like I encountered an error."}]}
    vendor.route("POST", "/api/contacts/new", Answer(500, failure))

    failed = send("mautic", {"email": ADA}, credentials={**MAUTIC, "url": vendor.url})
    unreachable = send(
        "mautic", {"email": ADA}, credentials={**MAUTIC, "url": "http://127.0.0.1:9"}
    )

    assert (failed.retryable, failed.error) == (
        True,
        "Mautic answered 500: Looks like I encountered an error.",
    )
    assert (unreachable.ok, unreachable.retryable, unreachable.status_code) == (False, True, None)
    assert unreachable.error == "Mautic could not be reached: ConnectionError"


# -- through the dispatcher --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_profile_change_reaches_mailchimp_and_a_refusal_is_recorded(vendor):
    resource = ResourceFactory(type="mailchimp", credentials={"api_key": MAILCHIMP_KEY})
    destination = DestinationFactory(
        resource=resource,
        mapping={"email": "profile@data.contact.email.main", "FNAME": "profile@data.pii.firstname"},
        settings={"list_id": "a1b2c3"},
    )
    destination.full_clean()
    profile = ProfileFactory()
    vendor.route(
        "PUT",
        MEMBER,
        Answer(200, {"id": ADA_HASH, "status": "subscribed"}),
        Answer(400, {"title": "Member Exists", "detail": "ada@example.com is already a member."}),
    )

    for _ in range(2):
        profile_deliveries_schedule(
            profile_id=profile.pk,
            changed_fields=["data.pii.firstname"],
            now=timezone.now() - timedelta(seconds=1),
        )
        destination_deliveries_send(destination_id=destination.pk)

    assert [request.json() for request in vendor.requests] == [
        {"email_address": ADA, "status_if_new": "subscribed", "merge_fields": {"FNAME": "Ada"}}
    ] * 2
    # Ids are random: the order is the time each started.
    outcomes = DeliveryAttempt.objects.filter(delivery__destination=destination).order_by("started")
    assert [(a.outcome, a.status_code, a.error) for a in outcomes] == [
        ("sent", 200, ""),
        (
            "failed",
            400,
            "Mailchimp answered 400: Member Exists: ada@example.com is already a member.",
        ),
    ]
    assert list(
        Delivery.objects.filter(destination=destination)
        .order_by("created")
        .values_list("status", flat=True)
    ) == ["sent", "failed"]


@pytest.mark.django_db
def test_a_removal_mapping_is_refused_where_the_vendor_sender_cannot_remove():
    sendgrid = ResourceFactory(type="sendgrid", credentials={"api_key": "SG.x"})
    mailchimp = ResourceFactory(type="mailchimp", credentials={"api_key": "k-us21"})
    removal = {"action": "remove", "email": "profile@data.contact.email.main"}
    refused = DestinationFactory.build(
        resource=sendgrid, settings={}, mapping={"email": "profile@id"}, removal_mapping=removal
    )
    accepted = DestinationFactory.build(
        resource=mailchimp,
        settings={"list_id": "a1b2c3"},
        mapping={"email": "profile@id"},
        removal_mapping=removal,
    )

    with pytest.raises(ValidationError) as error:
        refused.full_clean()
    accepted.full_clean()

    assert error.value.message_dict == {
        "removal_mapping": [
            "SendGrid contacts cannot be removed by a destination; clear the removal mapping "
            "(remove them in a workflow instead)."
        ]
    }
