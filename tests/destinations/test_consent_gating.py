"""A destination that requires a consent: profiles without it are skipped with the reason
(on the delivery and the profile page), and synced once they grant it."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.destinations.models import Delivery
from apps.profiles.models import ConsentType
from apps.tracking.processing import profile_events_process
from tests.destinations.factories import DestinationFactory, ProfileFactory
from tests.destinations.test_dispatch import dispatch_until_settled, schedule_now
from tests.workflows.factories import EventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketing():
    return ConsentType.objects.create(id="marketing", name="Newsletter")


def test_a_profile_without_the_consent_is_skipped_with_the_reason(http_server, marketing):
    server = http_server()
    destination = DestinationFactory(url=server.url, required_consent=marketing)
    profile = ProfileFactory(id="p-none", consents={"analytics": {"grant": None, "revoke": None}})

    schedule_now(profile)
    dispatch_until_settled(destination)

    delivery = Delivery.objects.get(profile=profile)
    assert (delivery.status, delivery.last_error, delivery.attempts) == (
        "skipped",
        "No consent 'marketing'",
        0,
    )
    assert server.requests == []


def test_an_expired_consent_is_no_consent(http_server, marketing):
    server = http_server()
    destination = DestinationFactory(url=server.url, required_consent=marketing)
    expired = (timezone.now() - timedelta(minutes=1)).isoformat()
    profile = ProfileFactory(consents={"marketing": {"grant": None, "revoke": expired}})

    schedule_now(profile)
    dispatch_until_settled(destination)

    assert Delivery.objects.get(profile=profile).last_error == "No consent 'marketing'"
    assert server.requests == []


def test_the_profile_is_synced_after_it_grants_the_consent(http_server, marketing):
    server = http_server()
    destination = DestinationFactory(url=server.url, required_consent=marketing)
    profile = ProfileFactory(id="p-later")
    schedule_now(profile)
    dispatch_until_settled(destination)

    EventFactory(
        profile=profile, type="consent-given", properties={"consents": {"marketing": True}}
    )
    profile_events_process(profile_id=profile.pk)
    dispatch_until_settled(destination)

    assert list(
        Delivery.objects.filter(profile=profile)
        .order_by("created")
        .values_list("status", "last_error", "changed_fields")
    ) == [
        ("skipped", "No consent 'marketing'", ["traits.plan"]),
        ("sent", "", ["consents.marketing.grant", "consents.marketing.revoke"]),
    ]
    assert [request.json() for request in server.requests] == [
        {
            "data": {"id": "p-later"},
            "changes": ["consents.marketing.grant", "consents.marketing.revoke"],
        }
    ]


def test_a_destination_without_a_required_consent_sends_everyone(http_server):
    server = http_server()
    destination = DestinationFactory(url=server.url)
    profile = ProfileFactory(id="p-any")

    schedule_now(profile)
    dispatch_until_settled(destination)

    assert Delivery.objects.get(profile=profile).status == "sent"
    assert len(server.requests) == 1


def test_the_profile_page_says_why_nothing_was_sent(client, http_server, marketing):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    destination = DestinationFactory(name="CRM", url=http_server().url, required_consent=marketing)
    profile = ProfileFactory(id="p-page")
    schedule_now(profile)
    dispatch_until_settled(destination)

    page = client.get(f"/admin/profiles/profile/{profile.pk}/change/").content.decode()

    section = page[page.index('data-section="deliveries"') :]
    assert "<td>CRM</td><td>Skipped</td><td>0</td><td>No consent &#x27;marketing&#x27;</td>" in (
        section
    )


def test_the_destination_form_offers_the_consent_types(client, marketing):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))

    page = client.get("/admin/destinations/destination/add/").content.decode()

    assert '<label for="id_required_consent">Required consent:</label>' in page
    assert '<option value="marketing">Newsletter</option>' in page
    assert "Send only profiles that granted this consent" in page
