"""The profile page's deliveries section (apps.destinations.admin.profiles)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.destinations.models import Delivery
from tests.destinations.factories import DestinationFactory, ProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(get_user_model().objects.create_superuser(username="marketer"))
    return client


def _delivery(destination, profile, *, status, minutes_ago, **fields) -> Delivery:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return Delivery.objects.create(
        destination=destination,
        profile=profile,
        status=status,
        due_at=at,
        first_change_at=at,
        latest_due_at=at,
        created=at,
        updated=at,
        **fields,
    )


def test_the_profile_page_lists_what_was_sent_where_and_why_not(staff_client):
    profile = ProfileFactory(id="p-ann")
    crm = DestinationFactory(name="CRM")
    mail = DestinationFactory(name="Mailing list")
    _delivery(crm, profile, status="sent", minutes_ago=30, attempts=1)
    _delivery(
        mail, profile, status="failed", minutes_ago=5, attempts=3, last_error="HTTP 500: down"
    )
    _delivery(crm, ProfileFactory(id="p-bob"), status="sent", minutes_ago=1)

    page = staff_client.get(f"/admin/profiles/profile/{profile.pk}/change/").content.decode()

    section = page[page.index('data-section="deliveries"') :]
    assert "Deliveries (what was sent where)" in section
    rows = section[section.index("<tbody>") : section.index("</tbody>")]
    assert rows.count("<tr>") == 2
    assert rows.index("Mailing list") < rows.index("CRM")  # newest first
    assert "<td>Failed</td><td>3</td><td>HTTP 500: down</td>" in rows
    assert "<td>Sent</td><td>1</td><td>-</td>" in rows
    assert '<a href="/admin/destinations/delivery/?profile=p-ann">All deliveries' in section


def test_a_person_nothing_was_sent_for_says_so(staff_client):
    profile = ProfileFactory(id="p-cid")
    page = staff_client.get(f"/admin/profiles/profile/{profile.pk}/change/").content.decode()
    assert "Nothing was sent for this person." in page


def test_the_all_deliveries_link_lists_only_that_person(staff_client):
    crm = DestinationFactory(name="CRM")
    ann, bob = ProfileFactory(id="p-ann"), ProfileFactory(id="p-bob")
    mine = _delivery(crm, ann, status="sent", minutes_ago=3)
    _delivery(crm, bob, status="sent", minutes_ago=2)

    response = staff_client.get("/admin/destinations/delivery/", {"profile": "p-ann"})

    assert [row.pk for row in response.context["cl"].result_list] == [mine.pk]
