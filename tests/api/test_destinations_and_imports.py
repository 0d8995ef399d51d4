"""Issue 17 item 2: resources (credentials never answered), destinations, deliveries (list,
retry) and profile imports (upload, configure, start, poll, cancel) through the API."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.destinations.models import Delivery, Destination, DestinationSyncRun, Resource
from apps.profiles.models import ImportJob
from apps.sources.models import EventSource
from tests.destinations.factories import DestinationFactory, ProfileFactory
from tests.profiles.factories import SegmentFactory

pytestmark = pytest.mark.django_db


def test_credentials_are_written_but_never_answered(client_all):
    made = client_all.post(
        "/api/v1/resources/",
        {
            "name": "Hook",
            "type": "webhook",
            "credentials": {"headers": {"Authorization": "Bearer s3cret"}},
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert "credentials" not in body
    assert body["credential_keys"] == ["headers"]
    assert "s3cret" not in client_all.get(f"/api/v1/resources/{body['id']}/").content.decode()
    assert "s3cret" not in client_all.get("/api/v1/resources/").content.decode()
    assert Resource.objects.get().credentials == {"headers": {"Authorization": "Bearer s3cret"}}
    refused = client_all.post(
        "/api/v1/resources/",
        {"name": "Hook", "type": "webhook", "credentials": {"token": "x"}},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["detail"] == [
        {
            "loc": ["body", "credentials"],
            "msg": "credentials.(top level): unknown key ('token' was unexpected)",
            "type": "invalid",
        }
    ]


def test_test_credentials_are_written_apart_and_never_answered(client_all):
    made = client_all.post(
        "/api/v1/resources/",
        {
            "name": "Sales Slack",
            "type": "slack",
            "credentials": {"token": "xoxb-prod-1"},
            "test_credentials": {"token": "xoxb-test-1"},
        },
        format="json",
    )

    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["credential_keys"], body["test_credential_keys"]) == (["token"], ["token"])
    assert "xoxb" not in client_all.get(f"/api/v1/resources/{body['id']}/").content.decode()
    resource = Resource.objects.get()
    assert (resource.credentials, resource.test_credentials) == (
        {"token": "xoxb-prod-1"},
        {"token": "xoxb-test-1"},
    )
    empty = client_all.post(
        "/api/v1/resources/",
        {"name": "S", "type": "slack", "credentials": {"token": "x"}, "test_credentials": {}},
        format="json",
    )
    assert empty.status_code == 201  # no test credentials: test runs use the production ones
    wrong = client_all.post(
        "/api/v1/resources/",
        {"name": "S", "type": "slack", "credentials": {"token": "x"}, "test_credentials": {"t": 1}},
        format="json",
    )
    assert wrong.status_code == 400
    assert wrong.json()["detail"][0]["loc"] == ["body", "test_credentials"]


def test_a_destination_is_validated_as_in_the_admin(client_all):
    resource = Resource.objects.create(name="Hook", type="webhook")
    made = client_all.post(
        "/api/v1/destinations/",
        {
            "name": "CRM",
            "resource": resource.pk,
            "mapping": {"email": "profile@data.contact.email.main"},
            "settings": {"url": "http://127.0.0.1:9/hook", "timeout": 5},
            "forward_erasures": True,
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    destination = Destination.objects.get()
    assert destination.forward_erasures is True
    assert destination.mapping == {"email": "profile@data.contact.email.main"}
    bad = client_all.patch(
        f"/api/v1/destinations/{destination.pk}/", {"condition": "profile@x >"}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["detail"][0]["loc"] == ["body", "condition"]
    assert client_all.delete(f"/api/v1/destinations/{destination.pk}/").status_code == 204


def test_deliveries_are_listed_by_status_and_failed_ones_retried(client_all):
    now = timezone.now()
    destination = DestinationFactory()
    person = ProfileFactory()

    def delivery(status):
        return Delivery.objects.create(
            destination=destination,
            profile=person,
            status=status,
            due_at=now,
            first_change_at=now,
            latest_due_at=now,
            created=now,
            updated=now,
            last_error="HTTP 500" if status == Delivery.Status.FAILED else "",
        )

    failed = delivery(Delivery.Status.FAILED)
    sent = delivery(Delivery.Status.SENT)
    listed = client_all.get("/api/v1/deliveries/?status=failed").json()["results"]
    assert [item["id"] for item in listed] == [failed.pk]
    retried = client_all.post(
        "/api/v1/deliveries/retry/", {"delivery_ids": [failed.pk, sent.pk]}, format="json"
    )
    assert retried.json() == {"requeued": 1, "merged": 0, "not_failed": 1}
    failed.refresh_from_db()
    assert failed.status == Delivery.Status.PENDING
    assert client_all.get("/api/v1/deliveries/?status=lost").status_code == 400


def test_a_profile_import_from_upload_to_started(client_all, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile(
        "people.csv", b"email,first name\nann@example.com,Ann\n", content_type="text/csv"
    )
    made = client_all.post("/api/v1/imports/profiles/", {"file": upload}, format="multipart")
    assert made.status_code == 201, made.content
    job = made.json()
    assert job["status"] == "draft"
    assert job["columns"] == ["email", "first name"]
    assert job["mapping"] == {
        "email": "data.contact.email.main",
        "first name": "data.pii.firstname",
    }
    url = f"/api/v1/imports/profiles/{job['id']}"
    configured = client_all.post(
        f"{url}/configure/",
        {
            "mapping": {"email": "data.contact.email.main", "first name": ""},
            "match": "data.contact.email.main",
        },
        format="json",
    )
    assert configured.status_code == 200
    assert configured.json()["mapping"]["first name"] == ""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        started = client_all.post(f"{url}/start/")
    assert started.status_code == 202
    assert started.json()["status"] == "pending"
    assert len(callbacks) == 1
    again = client_all.post(f"{url}/start/")
    assert again.status_code == 409
    assert again.json() == {"detail": "This import was started already."}
    cancelled = client_all.post(f"{url}/cancel/")
    assert cancelled.json()["status"] == "cancelled"
    assert ImportJob.objects.get().error.startswith("Cancelled by API key Test (")


def test_a_file_that_cannot_be_imported_is_refused_with_the_fix(client_all):
    empty = SimpleUploadedFile("empty.csv", b"", content_type="text/csv")
    response = client_all.post("/api/v1/imports/profiles/", {"file": empty}, format="multipart")
    assert response.status_code == 400
    assert response.json()["detail"][0]["loc"] == ["body", "file"]
    assert ImportJob.objects.count() == 0


def test_an_event_import_from_upload_to_started(client_all, django_capture_on_commit_callbacks):
    EventSource.objects.create(id="crm", name="CRM")
    upload = SimpleUploadedFile(
        "events.jsonl",
        b'{"type": "purchase", "profile": {"id": "p-1"}, "properties": {"total": 10}}\n',
        content_type="application/json",
    )
    made = client_all.post(
        "/api/v1/imports/events/", {"file": upload, "source": "crm"}, format="multipart"
    )
    assert made.status_code == 201, made.content
    job = made.json()
    assert (job["status"], job["source_id"], job["format"]) == ("draft", "crm", "jsonl")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        started = client_all.post(f"/api/v1/imports/events/{job['id']}/start/")
    assert started.status_code == 202
    assert started.json()["status"] == "pending"
    assert len(callbacks) == 1
    unknown = client_all.post(
        "/api/v1/imports/events/",
        {"file": SimpleUploadedFile("e.jsonl", b"{}\n"), "source": "nope"},
        format="multipart",
    )
    assert unknown.status_code == 400
    assert unknown.json()["detail"][0]["msg"] == "No event source has the id 'nope'."


def test_sync_now_starts_a_run_of_the_segments_members(
    client_all, django_capture_on_commit_callbacks
):
    vip = SegmentFactory(name="VIP")
    ProfileFactory(segments=["vip"])
    destination = DestinationFactory(sync_segment=vip)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_all.post(f"/api/v1/destinations/{destination.pk}/sync-now/")
    assert response.status_code == 202
    run = DestinationSyncRun.objects.get()
    assert response.json()["run"] == run.pk
    assert run.destination_id == destination.pk
    assert run.requested_by.startswith("API key Test (")
    assert len(callbacks) == 1
