"""A webhook with `batch_size`: due deliveries go several to a request, each with its own
idempotency key, attempt, retries and record (run in the test process against a local HTTP
server)."""

import pytest
from django.core.exceptions import ValidationError

from apps.destinations.models import Delivery, DeliveryAttempt
from apps.destinations.senders import batch_idempotency_key
from apps.destinations.services import destination_sync_run, destination_update
from apps.profiles.models import Segment
from tests.destinations.factories import DestinationFactory, ProfileFactory
from tests.destinations.test_dispatch import dispatch_until_settled, schedule_now
from tests.profiles.factories import SegmentFactory

pytestmark = pytest.mark.django_db


def batch_destination(server, size, **fields):
    destination = DestinationFactory(url=server.url, **fields)
    destination.settings = {**destination.settings, "batch_size": size}
    destination.save()
    return destination


def test_due_deliveries_go_several_to_a_request_with_their_own_keys(http_server):
    server = http_server([200])
    destination = batch_destination(server, 3, mapping={"email": "profile@data.contact.email.main"})
    profiles = [
        ProfileFactory(data={"contact": {"email": {"main": f"p{n}@x.io"}}}) for n in range(5)
    ]
    for profile in profiles:
        schedule_now(profile)

    dispatch_until_settled(destination)

    assert [len(request.json()["items"]) for request in server.requests] == [3, 2]
    items = [item for request in server.requests for item in request.json()["items"]]
    deliveries = {d.pk: d for d in Delivery.objects.filter(destination=destination)}
    assert sorted(item["data"]["email"] for item in items) == [f"p{n}@x.io" for n in range(5)]
    assert all(item["changes"] == ["traits.plan"] for item in items)
    assert sorted(item["idempotency_key"] for item in items) == sorted(
        f"{pk}-1" for pk in deliveries
    )
    for request in server.requests:
        keys = [item["idempotency_key"] for item in request.json()["items"]]
        assert request.headers["idempotency-key"] == batch_idempotency_key(keys)
    assert {(d.status, d.attempts) for d in deliveries.values()} == {("sent", 1)}
    assert DeliveryAttempt.objects.filter(outcome="sent").count() == 5


def test_a_failed_batch_retries_each_of_its_deliveries(http_server):
    server = http_server([503, 200])
    destination = batch_destination(server, 10)
    for _ in range(2):
        schedule_now(ProfileFactory())

    dispatch_until_settled(destination)

    assert [len(request.json()["items"]) for request in server.requests] == [2, 2]
    second_keys = sorted(item["idempotency_key"] for item in server.requests[1].json()["items"])
    assert second_keys == sorted(f"{d.pk}-2" for d in Delivery.objects.all())
    assert sorted(DeliveryAttempt.objects.values_list("number", "outcome", "status_code")) == [
        (1, "retry", 503),
        (1, "retry", 503),
        (2, "sent", 200),
        (2, "sent", 200),
    ]


def test_a_scheduled_sync_is_sent_in_batches(http_server):
    server = http_server([200])
    vip = SegmentFactory(name="VIP", kind=Segment.Kind.SCHEDULED)
    destination = batch_destination(server, 100, sync_segment=vip)
    members = [ProfileFactory(segments=["vip"]) for _ in range(3)]

    destination_sync_run(destination_id=destination.pk, trigger="schedule")
    dispatch_until_settled(destination)

    [request] = server.requests
    assert sorted(item["data"]["id"] for item in request.json()["items"]) == sorted(
        p.pk for p in members
    )


def test_batches_need_a_json_body(http_server):
    destination = DestinationFactory()

    with pytest.raises(ValidationError) as raised:
        destination_update(
            destination=destination,
            settings={"url": "http://x.io/h", "method": "GET", "batch_size": 5},
        )

    assert raised.value.message_dict["settings"] == [
        "settings.batch_size: batches are sent as a JSON body; use POST, PUT or PATCH."
    ]
