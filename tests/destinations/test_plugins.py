"""Issue 23 item 8: resource types and senders from other packages (entry-point groups
`cdp.resource_types` and `cdp.senders`), with the example package installed for real
(tests/support/plugins.py) and a real local server speaking its Hello inbox API."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.api.keys import api_key_create
from apps.destinations.connectors import CONNECTOR_TYPES
from apps.destinations.models import Delivery, DeliveryAttempt, Destination, Resource
from apps.destinations.senders import RESOURCE_TYPES, SENDERS, resource_type_choices
from apps.destinations.services import destination_deliveries_send, profile_deliveries_schedule
from tests.destinations.factories import DestinationFactory, ProfileFactory, ResourceFactory
from tests.destinations.servers import Reply
from tests.support.plugins import plugins_installed

TOKEN = "inbox-t0k3n-5e6f"
pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(get_user_model().objects.create_superuser(username="ops"))
    return client


def inbox_destination(url: str, **fields) -> Destination:
    resource = ResourceFactory(name="Inbox", type="hello_inbox", credentials={"token": TOKEN})
    return DestinationFactory(
        resource=resource,
        settings={"url": url, "folder": "new-customers"},
        mapping={"id": "profile@id", "plan": "profile@traits.plan"},
        **fields,
    )


def send_due(destination: Destination, profile) -> Delivery:
    profile_deliveries_schedule(
        profile_id=profile.pk,
        changed_fields=["traits.plan"],
        now=timezone.now() - timedelta(seconds=1),
    )
    destination_deliveries_send(destination_id=destination.pk)
    return Delivery.objects.get(destination=destination, profile=profile)


def test_the_plugin_resource_type_and_sender_join_the_registries(with_plugins):
    # The senders' types, the connectors', then the plugin's.
    assert resource_type_choices() == [
        ("webhook", "HTTP webhook"),
        ("rabbitmq", "RabbitMQ"),
        ("smtp", "E-mail (SMTP)"),
        *((kind.key, kind.label) for kind in CONNECTOR_TYPES),
        ("hello_inbox", "Hello inbox (plugin cdp-plugin-hello)"),
    ]
    origin = RESOURCE_TYPES["hello_inbox"].origin
    assert (origin.package, origin.version, origin.entry_point) == (
        "cdp-plugin-hello",
        "0.1.0",
        "hello_inbox = cdp_plugin_hello.inbox:InboxResourceType",
    )
    assert type(SENDERS["hello_inbox"]).__module__ == "cdp_plugin_hello.inbox"


def test_credentials_and_settings_are_checked_against_the_plugin_schemas(with_plugins):
    resource = Resource(name="Inbox", type="hello_inbox", credentials={})
    with pytest.raises(ValidationError) as refused:
        resource.full_clean()
    assert refused.value.message_dict == {
        "credentials": ["credentials.(top level): 'token' is a required property"]
    }
    resource.credentials = {"token": TOKEN}
    resource.full_clean()
    resource.save()

    destination = Destination(
        name="Inbox sync", resource=resource, settings={"url": "ftp://x", "folder": "New!"}
    )
    with pytest.raises(ValidationError) as refused:
        destination.full_clean()
    assert refused.value.message_dict["settings"] == [
        "settings.folder: 'New!' does not match '^[a-z0-9-]{1,40}$'",
        "settings.url: 'ftp://x' does not match '^https?://[^\\\\s]+$'",
    ]


def test_a_profile_change_is_delivered_through_the_plugin_sender(with_plugins, http_server):
    server = http_server([Reply(status=201, body='{"id": "m-1"}')])
    destination = inbox_destination(server.url.removesuffix("/hook"))
    profile = ProfileFactory(traits={"plan": "pro"})

    delivery = send_due(destination, profile)

    assert delivery.status == "sent"
    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/v1/folders/new-customers/messages")
    assert request.json() == {
        "message": {"id": profile.pk, "plan": "pro"},
        "changes": ["traits.plan"],
    }
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert request.headers["idempotency-key"] == f"{delivery.pk}-1"
    assert (attempt.outcome, attempt.status_code, attempt.response_excerpt) == (
        "sent",
        201,
        '{"id": "m-1"}',
    )


def test_once_the_plugin_is_gone_its_deliveries_fail_saying_why(plugin_site, http_server):
    server = http_server([201])
    with plugins_installed(plugin_site):
        destination = inbox_destination(server.url.removesuffix("/hook"))

    delivery = send_due(destination, ProfileFactory())

    assert delivery.status == "failed"
    assert delivery.last_error == (
        "No sender for resource type 'hello_inbox': is the plugin that provides it installed? "
        "(see /api/v1/health, plugins)"
    )
    assert server.requests == []
    with pytest.raises(ValidationError) as refused:
        destination.full_clean()
    assert refused.value.message_dict["resource"] == [
        "Resource type 'hello_inbox' has no sender (a connector's or a plugin's resource "
        "type, for workflow actions, or its plugin is not installed); choose a resource of one "
        "of these types: activecampaign, hubspot, mailchimp, mautic, rabbitmq, sendgrid, smtp, "
        "webhook."
    ]


def test_the_resource_form_offers_the_plugin_type_and_its_credential_fields(
    with_plugins, staff_client
):
    add = reverse("admin:destinations_resource_add")
    page = staff_client.get(add).content.decode()
    assert '<option value="hello_inbox">Hello inbox (plugin cdp-plugin-hello)</option>' in page
    assert 'name="credentials__hello_inbox__token"' in page

    missing = staff_client.post(add, {"name": "Inbox", "type": "hello_inbox", "description": ""})
    assert missing.status_code == 200
    assert missing.context["adminform"].form.errors["credentials__hello_inbox__token"] == [
        "Required for this resource type."
    ]
    assert Resource.objects.count() == 0

    created = staff_client.post(
        add,
        {
            "name": "Inbox",
            "type": "hello_inbox",
            "description": "",
            "credentials__hello_inbox__token": TOKEN,
        },
    )
    assert created.status_code == 302
    resource = Resource.objects.get()
    assert (resource.type, resource.credentials) == ("hello_inbox", {"token": TOKEN})


def test_without_the_plugin_its_type_is_refused(staff_client):
    response = staff_client.post(
        reverse("admin:destinations_resource_add"),
        {"name": "Inbox", "type": "hello_inbox", "description": ""},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["type"] == [
        "Select a valid choice. hello_inbox is not one of the available choices."
    ]
    assert Resource.objects.count() == 0


def test_the_management_api_takes_the_plugin_type_and_checks_its_credentials(with_plugins):
    _, key = api_key_create(name="Ops", scopes=["all"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    refused = api.post(
        "/api/v1/resources/",
        {"name": "Inbox", "type": "hello_inbox", "credentials": {"key": TOKEN}},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["detail"] == [
        {
            "loc": ["body", "credentials"],
            "msg": "credentials.(top level): 'token' is a required property",
            "type": "invalid",
        },
        {
            "loc": ["body", "credentials"],
            "msg": "credentials.(top level): unknown key ('key' was unexpected)",
            "type": "invalid",
        },
    ]
    assert Resource.objects.count() == 0

    made = api.post(
        "/api/v1/resources/",
        {"name": "Inbox", "type": "hello_inbox", "credentials": {"token": TOKEN}},
        format="json",
    )
    assert made.status_code == 201, made.content
    assert (made.json()["type"], made.json()["credential_keys"]) == ("hello_inbox", ["token"])
