"""The data migration that redacts credentials recorded before every encoded form was."""

import base64
import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from apps.destinations.models import Delivery, DeliveryAttempt
from apps.destinations.services import profile_deliveries_schedule
from tests.destinations.factories import DestinationFactory, ProfileFactory, ResourceFactory

migration = importlib.import_module("apps.destinations.migrations.0002_redact_recorded_credentials")


@pytest.mark.django_db
def test_recorded_attempts_and_errors_are_redacted_in_place():
    resource = ResourceFactory(
        credentials={"basic_auth": {"username": "crm-user", "password": "pa55-w0rd"}}
    )
    leaky = DestinationFactory(resource=resource)
    clean = DestinationFactory()
    profile_deliveries_schedule(profile_id=ProfileFactory().pk, changed_fields=[])
    encoded = base64.b64encode(b"crm-user:pa55-w0rd").decode()
    echoed = f'{{"Authorization": "Basic {encoded}"}}'
    Delivery.objects.update(last_error=f"HTTP 401 for {encoded}")
    for delivery in Delivery.objects.all():
        DeliveryAttempt.objects.create(
            delivery=delivery,
            destination=delivery.destination,
            number=1,
            started=timezone.now(),
            outcome="failed",
            error="HTTP 401",
            response_excerpt=echoed,
        )

    migration.redact_recorded_credentials(apps, None)

    assert DeliveryAttempt.objects.get(destination=leaky).response_excerpt == (
        '{"Authorization": "Basic •••"}'
    )
    assert Delivery.objects.get(destination=leaky).last_error == "HTTP 401 for •••"
    # Another resource's rows are left alone: its credentials are not these.
    assert DeliveryAttempt.objects.get(destination=clean).response_excerpt == echoed
    assert Delivery.objects.get(destination=clean).last_error == f"HTTP 401 for {encoded}"
