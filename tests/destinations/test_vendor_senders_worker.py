"""A contact-list destination on a real Celery worker: a profile change reaches Mautic (a local
server speaking its API); its 429 with Retry-After is retried by the dispatcher, not slept on."""

import pytest

from apps.destinations.models import Delivery, DeliveryAttempt
from apps.destinations.services import profile_deliveries_schedule
from apps.destinations.tasks import deliveries_dispatch, destination_deliveries_send
from tests.destinations.factories import DestinationFactory, ProfileFactory, ResourceFactory
from tests.support.celery_worker import purge_broker_queue, wait_for
from tests.support.vendor_server import Answer

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WORKER_ENV = {
    "CDP_DESTINATION_CACHE_SECONDS": "0",
    "CDP_DELIVERY_RETRY_BASE_MS": "50",
    # Retry-After is honoured up to this cap: the 1 s the vendor asks for.
    "CDP_DELIVERY_RETRY_MAX_MS": "5000",
    "CDP_DELIVERY_DISPATCH_SECONDS": "1",
}


@pytest.fixture(autouse=True)
def _clean_broker():
    purge_broker_queue()
    yield
    purge_broker_queue()


def test_a_profile_change_reaches_mautic_after_its_rate_limit(vendor_server, celery_worker_factory):
    mautic = vendor_server()
    limited = {"errors": [{"code": 429, "message": "API limit reached. Try again later."}]}
    mautic.route(
        "POST",
        "/api/contacts/new",
        Answer(429, limited, {"Retry-After": "1"}),
        Answer(201, {"contact": {"id": 47}}),
    )
    resource = ResourceFactory(
        type="mautic",
        credentials={"url": mautic.url, "username": "cdp", "password": "mautic-secret"},
    )
    destination = DestinationFactory(
        resource=resource,
        settings={},
        mapping={
            "email": "profile@data.contact.email.main",
            "firstname": "profile@data.pii.firstname",
        },
    )
    profile_deliveries_schedule(profile_id=ProfileFactory().pk, changed_fields=["data.pii"])
    celery_worker_factory(extra_env=WORKER_ENV)

    destination_deliveries_send.delay(destination.pk)
    wait_for(
        lambda: DeliveryAttempt.objects.filter(destination=destination, outcome="retry").exists(),
        timeout=30,
        message="the rate-limited first attempt",
    )

    def sent() -> bool:
        # What beat does every CDP_DELIVERY_DISPATCH_SECONDS: start a run for due deliveries.
        deliveries_dispatch.delay()
        return Delivery.objects.filter(destination=destination, status="sent").exists()

    wait_for(sent, timeout=30, message="the Mautic sync after its retry")

    first, second = mautic.requests
    assert [r.json() for r in mautic.requests] == [
        {"email": "ada@example.com", "firstname": "Ada"}
    ] * 2
    assert second.received_at - first.received_at >= 1.0  # waited what Mautic asked
    attempts = DeliveryAttempt.objects.filter(destination=destination).order_by("number")
    assert [(a.number, a.outcome, a.status_code, a.error) for a in attempts] == [
        (
            1,
            "retry",
            429,
            "Mautic rate limit (429): retry after 1 s; API limit reached. Try again later.",
        ),
        (2, "sent", 201, ""),
    ]
    assert all("mautic-secret" not in (a.error + a.response_excerpt) for a in attempts)
    # The send did not sleep on the worker: the rate-limited attempt took no second.
    assert attempts[0].duration_ms < 1000
