"""Destination conditions over the profile's stored events: decided when the delivery is
claimed, against a real local HTTP server; a malformed aggregate is refused in the admin."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from apps.destinations.models import Delivery, Destination
from apps.destinations.services import destination_deliveries_send, profile_deliveries_schedule
from tests.destinations.factories import (
    DestinationFactory,
    EventFactory,
    ProfileFactory,
    ResourceFactory,
)
from tests.destinations.test_admin import destination_form
from tests.support.celery_worker import wait_for

SPENT_100 = 'sum(event@properties.price type "purchase" in last 30 days) >= 100'


def _send(destination, profile) -> Delivery:
    profile_deliveries_schedule(
        profile_id=profile.pk,
        changed_fields=["traits.plan"],
        now=timezone.now() - timedelta(seconds=1),
    )
    destination_deliveries_send(destination_id=destination.pk)
    wait_for(
        lambda: not Delivery.objects.filter(status__in=["pending", "sending"]).exists(),
        timeout=10,
    )
    return Delivery.objects.get(profile=profile)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("prices", "status", "requests"),
    [([60, 50], "sent", 1), ([60, 30], "skipped", 0), ([], "skipped", 0)],
)
def test_a_destination_condition_reads_the_sum_of_purchases(http_server, prices, status, requests):
    server = http_server([200])
    destination = DestinationFactory(url=server.url, condition=SPENT_100)
    profile = ProfileFactory(traits={"plan": "pro"})
    for price in prices:
        EventFactory(profile=profile, type="purchase", properties={"price": price})
    # Older than the window: never counted.
    EventFactory(
        profile=profile,
        type="purchase",
        properties={"price": 500},
        time=timezone.now() - timedelta(days=31),
    )

    delivery = _send(destination, profile)

    assert delivery.status == status
    assert len(server.requests) == requests
    if status == "skipped":
        assert delivery.last_error == f"Condition is false: {SPENT_100}"


@pytest.mark.django_db
def test_the_destination_form_refuses_a_malformed_aggregate(client):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))

    response = client.post(
        reverse("admin:destinations_destination_add"),
        destination_form(ResourceFactory(), condition="sum(profile@stats.visits) > 1"),
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["condition"] == [
        "sum() reads a path of each event at column 5; e.g. sum(event@properties.price)"
    ]
    assert Destination.objects.count() == 0
