"""Validation of resources and destinations through the services (the admin shows the same
messages on its fields)."""

import pytest
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError

from apps.destinations.models import Destination
from apps.destinations.services import (
    destination_create,
    destination_update,
    resource_create,
    resource_credentials_replace,
)
from tests.destinations.factories import DestinationFactory, ResourceFactory
from tests.sources.factories import EventSourceFactory

SECRET = "pa55-w0rd-xyz"


@pytest.mark.django_db
def test_resource_credentials_follow_the_type_schema_and_errors_never_quote_values():
    with pytest.raises(ValidationError) as refused:
        resource_create(
            name="Mail", type="smtp", credentials={"host": "mx", "port": SECRET, "user": SECRET}
        )

    messages = refused.value.message_dict["credentials"]
    assert messages == [
        "credentials.(top level): unknown key ('user' was unexpected)",
        "credentials.port: must satisfy type 'integer'",
    ]
    assert SECRET not in str(refused.value)


@pytest.mark.django_db
def test_resource_credentials_replace_validates_too():
    resource = resource_create(
        name="Broker", type="rabbitmq", credentials={"url": "amqp://guest:guest@127.0.0.1//"}
    )

    with pytest.raises(ValidationError):
        resource_credentials_replace(resource=resource, credentials={"url": "http://nope"})
    resource_credentials_replace(resource=resource, credentials={"url": "amqp://a:b@h//"})

    resource.refresh_from_db()
    assert resource.credentials == {"url": "amqp://a:b@h//"}


@pytest.mark.django_db
def test_a_resource_with_an_authorization_header_and_basic_auth_is_refused():
    # requests replaces the header with the basic auth: the bearer token would silently go.
    credentials = {
        "headers": {"authorization": f"Bearer {SECRET}"},
        "basic_auth": {"username": "crm", "password": SECRET},
    }
    with pytest.raises(ValidationError) as refused:
        resource_create(name="CRM", type="webhook", credentials=credentials)

    assert refused.value.message_dict == {
        "credentials": [
            "credentials.headers.authorization and credentials.basic_auth: both set the "
            "Authorization header (basic auth would replace the header); keep one of them."
        ]
    }
    assert SECRET not in str(refused.value)
    resource = resource_create(name="CRM", type="webhook", credentials={"headers": {}})
    with pytest.raises(ValidationError):
        resource_credentials_replace(resource=resource, credentials=credentials)


@pytest.mark.django_db
def test_a_destination_authorization_header_on_a_basic_auth_resource_is_refused():
    resource = ResourceFactory(credentials={"basic_auth": {"username": "u", "password": SECRET}})

    with pytest.raises(ValidationError) as refused:
        destination_create(
            name="CRM",
            resource=resource,
            settings={"url": "https://crm.example.com/hook", "headers": {"Authorization": "x"}},
        )

    assert refused.value.message_dict == {
        "settings": [
            "settings.headers.Authorization: the resource's basic_auth sets the Authorization "
            "header and would replace this one; remove one of them."
        ]
    }
    assert Destination.objects.count() == 0


@pytest.mark.django_db
def test_destination_errors_name_the_field_and_the_fix():
    resource = ResourceFactory()

    with pytest.raises(ValidationError) as refused:
        destination_create(
            name="CRM",
            resource=resource,
            condition="profile@traits.plan ==",
            mapping={"email": "profile@data..email"},
            settings={"method": "POST"},
            event_type="purchase",
        )

    errors = refused.value.message_dict
    assert set(errors) == {"condition", "mapping", "settings", "event_type"}
    assert errors["settings"] == ["settings.(top level): 'url' is a required property"]
    assert errors["event_type"] == [
        "Event type and source filter apply to event destinations only; clear them or change "
        "the kind to event."
    ]
    assert "profile@data..email" in errors["mapping"][0]
    assert Destination.objects.count() == 0


@pytest.mark.django_db
def test_destination_create_and_update_normalise_and_validate():
    resource = ResourceFactory()
    destination = destination_create(
        name="Purchases",
        resource=resource,
        kind="event",
        event_type=" Order Completed ",
        settings={"url": "https://crm.example.com/hook", "method": "PUT", "timeout": 2.5},
        delay_seconds=0,
    )
    assert destination.event_type == "order-completed"

    with pytest.raises(ValidationError) as refused:
        destination_update(destination=destination, delay_seconds=120, max_delay_seconds=60)
    assert refused.value.message_dict["max_delay_seconds"] == [
        "The max delay (60 s) must not be shorter than the delay (120 s)."
    ]


@pytest.mark.django_db
def test_a_source_used_by_a_destination_cannot_be_deleted():
    source = EventSourceFactory()
    DestinationFactory(kind="event", source=source)

    with pytest.raises(ProtectedError):
        source.delete()


@pytest.mark.django_db
def test_the_type_of_a_resource_in_use_cannot_change():
    resource = ResourceFactory(type="webhook")
    DestinationFactory(resource=resource)
    resource.type = "smtp"
    resource.credentials = {"host": "127.0.0.1"}

    with pytest.raises(ValidationError) as refused:
        resource.full_clean()

    assert refused.value.message_dict["type"] == [
        "Destinations use this resource with settings for its current type; give them another "
        "resource first, or create a new resource of this type."
    ]
