"""The destinations admin: masked credentials, validation messages, health line, send test,
deliveries list without full counts, retry."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.destinations.models import Delivery, DeliveryAttempt, Destination, Resource
from tests.destinations.factories import DestinationFactory, ProfileFactory, ResourceFactory
from tests.destinations.servers import Reply

SECRET = "tok-9f8e7d6c5b4a"


@pytest.fixture
def staff_client(client, db):
    user = get_user_model().objects.create_superuser(username="marketer", password="pw")
    client.force_login(user)
    return client


def make_delivery(destination, *, status, profile=None, error="", code=None, **fields):
    now = timezone.now()
    delivery = Delivery.objects.create(
        destination=destination,
        profile=profile or ProfileFactory(),
        status=status,
        due_at=now,
        first_change_at=now,
        latest_due_at=now,
        created=now,
        updated=now,
        finished_at=now if status in ("sent", "failed") else None,
        attempts=1 if status in ("sent", "failed") else 0,
        last_error=error,
        **fields,
    )
    if status in ("sent", "failed"):
        DeliveryAttempt.objects.create(
            delivery=delivery,
            destination=destination,
            number=1,
            started=now,
            outcome=status,
            status_code=code,
            error=error,
        )
    return delivery


def resource_form(**overrides):
    return {"name": "CRM", "type": "webhook", "description": "", **overrides}


@pytest.mark.django_db
def test_resource_credentials_are_masked_on_the_change_page(staff_client):
    resource = ResourceFactory(
        credentials={
            "headers": {"Authorization": f"Bearer {SECRET}"},
            "basic_auth": {"username": "crm-user", "password": SECRET},
        }
    )

    page = staff_client.get(reverse("admin:destinations_resource_change", args=[resource.pk]))
    listing = staff_client.get(reverse("admin:destinations_resource_changelist"))

    html = page.content.decode()
    assert page.status_code == 200
    assert SECRET not in html
    assert "crm-user" not in html
    assert "&quot;Authorization&quot;: &quot;••••••&quot;" in html
    assert SECRET not in listing.content.decode()


@pytest.mark.django_db
def test_empty_credential_fields_keep_and_filled_ones_replace_their_value(staff_client):
    resource = ResourceFactory(
        credentials={
            "headers": {"X-Key": SECRET, "X-Old": "1"},
            "basic_auth": {"username": "crm-user", "password": SECRET},
        }
    )
    url = reverse("admin:destinations_resource_change", args=[resource.pk])

    kept = staff_client.post(url, resource_form())
    resource.refresh_from_db()
    assert kept.status_code == 302
    assert resource.credentials == {
        "headers": {"X-Key": SECRET, "X-Old": "1"},
        "basic_auth": {"username": "crm-user", "password": SECRET},
    }

    replaced = staff_client.post(
        url,
        resource_form(
            credentials__webhook__headers="X-Key: new",
            credentials__webhook__basic_auth__password="n3w-p4ss",
        ),
    )
    resource.refresh_from_db()
    assert replaced.status_code == 302
    assert resource.credentials == {
        "headers": {"X-Key": "new"},
        "basic_auth": {"username": "crm-user", "password": "n3w-p4ss"},
    }
    html = staff_client.get(url).content.decode()
    assert "n3w-p4ss" not in html and "X-Key: new" not in html


@pytest.mark.django_db
def test_invalid_credentials_are_refused_with_a_message_and_not_echoed(staff_client):
    url = reverse("admin:destinations_resource_add")

    missing = staff_client.post(url, resource_form(type="rabbitmq"))
    assert missing.context["adminform"].form.errors["credentials__rabbitmq__url"] == [
        "Required for this resource type."
    ]

    response = staff_client.post(
        url, resource_form(type="rabbitmq", credentials__rabbitmq__url=SECRET)
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["credentials__rabbitmq__url"] == [
        "must satisfy pattern '^amqps?://'"
    ]
    assert SECRET not in html
    assert Resource.objects.count() == 0


@pytest.mark.django_db
def test_an_authorization_header_with_basic_auth_is_refused_on_the_form(staff_client):
    response = staff_client.post(
        reverse("admin:destinations_resource_add"),
        resource_form(
            credentials__webhook__headers=f"Authorization: Bearer {SECRET}",
            credentials__webhook__basic_auth__username="crm-user",
            credentials__webhook__basic_auth__password=SECRET,
        ),
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert (
        "credentials.headers.Authorization and credentials.basic_auth: both set the "
        "Authorization header (basic auth would replace the header); keep one of them." in html
    )
    assert SECRET not in html
    assert Resource.objects.count() == 0


def destination_form(resource, **overrides):
    return {
        "name": "CRM sync",
        "description": "",
        "enabled": "on",
        "kind": "profile",
        "resource": resource.pk,
        "condition": "",
        "mapping": '{"email": "profile@data.contact.email.main"}',
        "settings__webhook__url": "http://127.0.0.1:9/hook",
        "delay_seconds": "20",
        "max_delay_seconds": "60",
        "event_type": "",
        "source": "",
        **overrides,
    }


@pytest.mark.django_db
def test_destination_condition_syntax_error_is_shown_on_the_field(staff_client):
    resource = ResourceFactory()

    response = staff_client.post(
        reverse("admin:destinations_destination_add"),
        destination_form(resource, condition="profile@traits.plan == "),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    from apps import notation

    with pytest.raises(notation.ConditionSyntaxError) as expected:
        notation.validate("profile@traits.plan == ")
    assert errors["condition"] == [str(expected.value)]
    assert Destination.objects.count() == 0


@pytest.mark.django_db
def test_destination_settings_and_delays_are_validated(staff_client):
    resource = ResourceFactory()

    response = staff_client.post(
        reverse("admin:destinations_destination_add"),
        destination_form(
            resource,
            settings__webhook__url="ftp://x",
            settings__webhook__method="DELETE",
            settings__webhook__timeout="600",
            delay_seconds="90",
            max_delay_seconds="30",
        ),
    )

    errors = response.context["adminform"].form.errors
    assert errors["settings__webhook__method"] == [
        "Select a valid choice. DELETE is not one of the available choices."
    ]
    assert errors["settings__webhook__timeout"] == [
        "Ensure this value is less than or equal to 30."
    ]
    assert errors["settings__webhook__url"] == ["'ftp://x' does not match '^https?://[^\\\\s]+$'"]
    assert errors["max_delay_seconds"] == [
        "The max delay (30 s) must not be shorter than the delay (90 s)."
    ]
    assert Destination.objects.count() == 0


@pytest.mark.django_db
def test_destination_is_saved_and_event_type_normalised(staff_client):
    resource = ResourceFactory()

    response = staff_client.post(
        reverse("admin:destinations_destination_add"),
        destination_form(resource, kind="event", event_type="Page View", delay_seconds="0"),
    )

    assert response.status_code == 302
    assert Destination.objects.get().event_type == "page-view"


@pytest.mark.django_db
def test_a_mailchimp_destination_is_picked_and_its_settings_are_validated(staff_client):
    mailchimp = ResourceFactory(
        name="Newsletter", type="mailchimp", credentials={"api_key": "k-us21"}
    )
    ResourceFactory(name="Team chat", type="slack", credentials={"token": "xoxb-1"})
    add = reverse("admin:destinations_destination_add")

    page = staff_client.get(add).content.decode()
    form = {
        **destination_form(mailchimp, mapping='{"email": "profile@data.contact.email.main"}'),
        "settings__webhook__url": "",
    }
    missing = staff_client.post(add, form)
    saved = staff_client.post(
        add,
        {
            **form,
            "settings__mailchimp__list_id": "a1b2c3",
            "settings__mailchimp__on_removal": "archive",
        },
    )

    assert f'<option value="{mailchimp.pk}">Newsletter (mailchimp)</option>' in page
    assert "Team chat" not in page  # a Slack resource has no sender
    assert 'name="settings__mailchimp__status_if_new"' in page
    assert dict(missing.context["adminform"].form.errors) == {
        "settings__mailchimp__list_id": ["Required for this resource type."]
    }
    assert saved.status_code == 302
    assert Destination.objects.get().settings == {"list_id": "a1b2c3", "on_removal": "archive"}


@pytest.mark.django_db
def test_health_line_on_list_and_change_page_without_a_query_per_destination(staff_client):
    destination = DestinationFactory(name="CRM")
    make_delivery(destination, status="sent")
    make_delivery(destination, status="sent")
    make_delivery(destination, status="failed", error="HTTP 500 Internal Server Error", code=500)
    make_delivery(destination, status="pending")
    old = make_delivery(destination, status="sent")
    Delivery.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=2))
    make_delivery(destination, status="sent", is_test=True)

    listing = staff_client.get(reverse("admin:destinations_destination_changelist"))
    change = staff_client.get(
        reverse("admin:destinations_destination_change", args=[destination.pk])
    )

    for response in (listing, change):
        html = response.content.decode()
        assert "2 sent · 1 failed (24 h) · 1 pending" in html
        assert "HTTP 500 Internal Server Error" in html
    with CaptureQueriesContext(connection) as one:
        staff_client.get(reverse("admin:destinations_destination_changelist"))
    for _ in range(4):
        make_delivery(DestinationFactory(), status="failed", error="boom")
    with CaptureQueriesContext(connection) as five:
        staff_client.get(reverse("admin:destinations_destination_changelist"))
    assert len(five.captured_queries) == len(one.captured_queries)


@pytest.mark.django_db
def test_send_test_shows_payload_and_answer_and_records_a_test_delivery(staff_client, http_server):
    server = http_server([Reply(202, body="queued by crm")])
    destination = DestinationFactory(
        url=server.url,
        condition='profile@traits.plan == "pro"',
        mapping={"email": "profile@data.contact.email.main"},
    )
    profile = ProfileFactory(traits={"plan": "free"})
    url = reverse("admin:destinations_destination_test", args=[destination.pk])

    assert staff_client.get(url).status_code == 200
    response = staff_client.post(url, {"profile_id": profile.pk})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Result: sent" in html
    assert "&quot;email&quot;: &quot;ada@example.com&quot;" in html
    assert "queued by crm" in html
    assert "Status: 202" in html
    assert "<strong>false</strong> (a real sync of this profile would be skipped)" in html
    assert server.requests[0].json() == {"data": {"email": "ada@example.com"}, "changes": []}
    delivery = Delivery.objects.get()
    assert (delivery.is_test, delivery.status, delivery.profile_id) == (True, "sent", profile.pk)
    assert list(DeliveryAttempt.objects.values_list("is_test", "outcome", "status_code")) == [
        (True, "sent", 202)
    ]
    assert server.requests[0].headers["idempotency-key"] == f"{delivery.pk}-1"


@pytest.mark.django_db
def test_send_test_for_an_unknown_profile_says_so_and_records_nothing(staff_client, http_server):
    server = http_server([200])
    destination = DestinationFactory(url=server.url)

    response = staff_client.post(
        reverse("admin:destinations_destination_test", args=[destination.pk]),
        {"profile_id": "nobody"},
    )

    assert "There is no profile &#x27;nobody&#x27;." in response.content.decode()
    assert Delivery.objects.count() == 0
    assert server.requests == []


@pytest.mark.django_db
def test_deliveries_list_filters_and_never_counts_the_whole_table(staff_client):
    crm = DestinationFactory(name="CRM")
    mail = DestinationFactory(name="Mail")
    failed = make_delivery(crm, status="failed", error="HTTP 400 Bad Request", code=400)
    make_delivery(crm, status="sent")
    make_delivery(mail, status="failed", error="boom")
    url = reverse("admin:destinations_delivery_changelist")

    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(
            url, {"status__exact": "failed", "destination__id__exact": crm.pk}
        )

    assert response.status_code == 200
    assert [d.pk for d in response.context["cl"].result_list] == [failed.pk]
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts, "the paginator counts (bounded)"
    assert all("LIMIT" in sql.upper() for sql in counts), counts
    by_profile = staff_client.get(url, {"profile": failed.profile_id})
    assert [d.pk for d in by_profile.context["cl"].result_list] == [failed.pk]


@pytest.mark.django_db
def test_deliveries_list_query_count_does_not_grow_with_rows(staff_client):
    url = reverse("admin:destinations_delivery_changelist")
    make_delivery(DestinationFactory(), status="sent")
    with CaptureQueriesContext(connection) as one:
        staff_client.get(url)
    for _ in range(5):
        make_delivery(DestinationFactory(), status="failed", error="x")
    with CaptureQueriesContext(connection) as six:
        staff_client.get(url)

    assert len(six.captured_queries) == len(one.captured_queries)


@pytest.mark.django_db
def test_delivery_page_shows_attempts_and_retries_a_failed_one(staff_client):
    delivery = make_delivery(
        DestinationFactory(), status="failed", error="HTTP 503 Service Unavailable", code=503
    )
    url = reverse("admin:destinations_delivery_change", args=[delivery.pk])

    page = staff_client.get(url).content.decode()
    assert "HTTP 503 Service Unavailable" in page
    assert "Retry now" in page
    response = staff_client.post(reverse("admin:destinations_delivery_retry", args=[delivery.pk]))

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.round_start_attempts) == ("pending", 1)
    assert "Retry now" not in staff_client.get(url).content.decode()


@pytest.mark.django_db
def test_bulk_retry_action_requeues_only_failed_deliveries(staff_client):
    destination = DestinationFactory()
    failed = [make_delivery(destination, status="failed", error="x") for _ in range(2)]
    sent = make_delivery(destination, status="sent")

    response = staff_client.post(
        reverse("admin:destinations_delivery_changelist"),
        {"action": "retry_selected", "_selected_action": [d.pk for d in [*failed, sent]]},
        follow=True,
    )

    assert (
        "2 delivery(ies) queued to send now. 1 skipped: only failed deliveries can be "
        "retried." in response.content.decode()
    )
    assert sorted(Delivery.objects.values_list("status", flat=True)) == [
        "pending",
        "pending",
        "sent",
    ]
