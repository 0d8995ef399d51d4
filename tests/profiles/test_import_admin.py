"""The admin's import pages (apps.profiles.admin.imports) with Django's test client: upload,
columns and preview, start, the job page and its JSON, cancel, the error file."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from apps.profiles.models import ImportJob
from apps.profiles.services.imports import jobs

pytestmark = pytest.mark.django_db

PEOPLE = (
    "E-mail,First name,Phone,Loyalty tier\n"
    "ann@example.com,Ann,+48 600 100 200,gold\n"
    "not-an-email,Bob,,silver\n"
)
ADD = reverse("admin:profiles_importjob_add")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def uploaded(admin_client, content: str | bytes = PEOPLE, name: str = "people.csv"):
    data = content.encode() if isinstance(content, str) else content
    return admin_client.post(
        ADD, {"file": SimpleUploadedFile(name, data), "encoding": "utf-8"}, follow=False
    )


def mapping_url(job: ImportJob) -> str:
    return reverse("admin:profiles_importjob_mapping", args=[job.pk])


def form_data(response, **changes) -> dict:
    form = response.context["form"]
    data = {name: form[name].value() for name in form.fields}
    data.update(changes)
    return data


def test_the_upload_page_and_the_list_render(admin_client):
    assert admin_client.get(ADD).status_code == 200
    response = admin_client.get(reverse("admin:profiles_importjob_changelist"))
    assert response.status_code == 200
    assert "Import profiles from a file" in response.content.decode()


def test_an_empty_file_is_refused_with_a_message_and_nothing_is_stored(admin_client, media):
    response = uploaded(admin_client, b"", "people.csv")

    assert response.status_code == 400
    # Django's own check comes first for a 0-byte upload.
    assert response.context["form"].errors == {"file": ["The submitted file is empty."]}
    assert not ImportJob.objects.exists()


def test_a_file_without_a_header_is_refused_with_what_to_do(admin_client, media):
    response = uploaded(admin_client, "ann@example.com,Ann\nbob@example.com,Bob\n")

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "file": [
            "The first line of people.csv looks like data (ann@example.com), not column "
            "names: add a header line naming the columns (e.g. Email,First name,Plan) and "
            "upload the file again."
        ]
    }
    assert "looks like data (ann@example.com)" in response.content.decode()
    assert not ImportJob.objects.exists()
    assert not [path for path in media.rglob("*") if path.is_file()]


def test_an_upload_leads_to_the_columns_with_suggested_fields(admin_client):
    response = uploaded(admin_client)

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == mapping_url(job)
    page = admin_client.get(mapping_url(job))
    assert page.status_code == 200
    form = page.context["form"]
    assert [form[f"column_{n}"].value() for n in range(4)] == [
        "data.contact.email.main",
        "data.pii.firstname",
        "data.contact.phone.main",
        "traits.loyalty_tier",
    ]
    assert (form["match"].value(), form["empty"].value()) == ("data.contact.email.main", "keep")
    assert [(column, samples) for column, _field, samples in page.context["columns"]] == [
        ("E-mail", ["ann@example.com", "not-an-email"]),
        ("First name", ["Ann", "Bob"]),
        ("Phone", ["+48 600 100 200"]),
        ("Loyalty tier", ["gold", "silver"]),
    ]
    html = page.content.decode()
    # Labels a person reads, grouped; no JSON.
    assert '<option value="data.contact.email.main" selected>E-mail address</option>' in html
    assert '<optgroup label="Contact">' in html
    assert "New trait “loyalty_tier”" in html


def test_the_preview_shows_the_first_rows_as_stored_with_row_errors(admin_client):
    uploaded(admin_client)
    job = ImportJob.objects.get()

    page = admin_client.get(mapping_url(job))

    assert page.context["preview_fields"] == [
        ("data.contact.email.main", "E-mail address"),
        ("data.pii.firstname", "First name"),
        ("data.contact.phone.main", "Phone"),
        ("traits.loyalty_tier", "Trait: loyalty_tier"),
    ]
    assert page.context["preview_rows"] == [
        {
            "line": 2,
            "error": None,
            "cells": ["ann@example.com", "Ann", "+48 600 100 200", "gold"],
        },
        {
            "line": 3,
            "error": "E-mail address: expected an e-mail address, got 'not-an-email'",
            "cells": ["", "", "", ""],
        },
    ]
    assert "Skipped: E-mail address: expected an e-mail address" in page.content.decode()


def test_refresh_keeps_the_changed_mapping_and_previews_it(admin_client):
    uploaded(admin_client)
    job = ImportJob.objects.get()
    page = admin_client.get(mapping_url(job))

    response = admin_client.post(
        mapping_url(job),
        form_data(page, column_2="", column_3="data.loyalty.card.name", preview="Refresh"),
    )

    assert response.status_code == 200
    job.refresh_from_db()
    assert job.mapping == {
        "E-mail": "data.contact.email.main",
        "First name": "data.pii.firstname",
        "Phone": "",
        "Loyalty tier": "data.loyalty.card.name",
    }
    assert [label for _path, label in response.context["preview_fields"]] == [
        "E-mail address",
        "First name",
        "Loyalty card: name",
    ]
    assert response.context["preview_rows"][0]["cells"] == ["ann@example.com", "Ann", "gold"]
    assert job.status == "draft"


def test_two_columns_to_one_field_are_refused_with_a_message(admin_client):
    uploaded(admin_client)
    job = ImportJob.objects.get()
    page = admin_client.get(mapping_url(job))

    response = admin_client.post(
        mapping_url(job), form_data(page, column_1="data.contact.email.main", start="Start")
    )

    assert response.status_code == 400
    assert response.context["problems"] == [
        "E-mail and First name all go to E-mail address; choose one of them and set the "
        "others to another field or to “Ignore this column”."
    ]
    assert ImportJob.objects.get().status == "draft"


def test_start_queues_the_job_once_committed_and_opens_its_page(
    admin_client, django_capture_on_commit_callbacks
):
    uploaded(admin_client)
    job = ImportJob.objects.get()
    page = admin_client.get(mapping_url(job))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(mapping_url(job), form_data(page, start="Start import"))

    job.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:profiles_importjob_change", args=[job.pk])
    assert (job.status, job.started_by) == ("pending", "admin")
    assert len(callbacks) == 1
    # The columns page of a started job is its job page.
    assert admin_client.get(mapping_url(job))["Location"] == response["Location"]
    job_page = admin_client.get(response["Location"])
    assert job_page.status_code == 200
    assert "Waiting for a worker" in job_page.content.decode()


def running_job(**fields) -> ImportJob:
    now = timezone.now()
    values = {
        "file": "imports/people.csv",
        "file_name": "people.csv",
        "format": "csv",
        "uploaded_at": now - timedelta(minutes=2),
        "uploaded_by": "anna",
        "started_by": "anna",
        "status": "running",
        "columns": ["Email"],
        "mapping": {"Email": "data.contact.email.main"},
        "match": "data.contact.email.main",
        "rows_total": 4000,
        "rows": 1000,
        "created": 900,
        "updated": 90,
        "unchanged": 5,
        "skipped": 5,
        "seconds": 4.0,
        "started_at": now - timedelta(seconds=5),
        "progress_at": now - timedelta(seconds=1),
    }
    values.update(fields)
    return ImportJob.objects.create(**values)


def test_the_job_page_json_tells_the_progress(admin_client):
    job = running_job()

    state = admin_client.get(reverse("admin:profiles_importjob_status", args=[job.pk])).json()

    assert state == {
        "id": job.pk,
        "status": "running",
        "status_label": "Running",
        "active": True,
        "rows": 1000,
        "rows_total": 4000,
        "percent": 25,
        "rate": 250.0,
        "seconds": 4.0,
        "created": 900,
        "updated": 90,
        "unchanged": 5,
        "merged": 0,
        "skipped": 5,
        "error": "",
        "cancel_requested_by": "",
        "started_at": job.started_at.isoformat(),
        "progress_at": job.progress_at.isoformat(),
        "finished_at": None,
        "quiet_seconds": None,
        "stalled": False,
        "text": {
            "rows": "1,000",
            "rows_total": "4,000",
            "created": "900",
            "updated": "90",
            "unchanged": "5",
            "merged": "0",
            "skipped": "5",
            "percent": "25%",
            "rate": "250",
            "seconds": "4.0",
            "progress_at": f"{timezone.localtime(job.progress_at):%H:%M:%S}",
            "quiet_seconds": "",
        },
        "error_file_url": None,
    }
    page = admin_client.get(reverse("admin:profiles_importjob_change", args=[job.pk]))
    html = page.content.decode()
    assert 'style="width: 25%"' in html
    assert (
        '<span data-field="rows">1,000</span> rows read<span data-shown-with="rows_total"> of '
        '<span data-field="rows_total">4,000</span>' in html
    )
    assert 'data-testid="cancel"' in html


def test_a_job_without_progress_for_long_shows_as_stalled(admin_client):
    job = running_job(progress_at=timezone.now() - timedelta(minutes=11))

    state = admin_client.get(reverse("admin:profiles_importjob_status", args=[job.pk])).json()

    assert (state["status_label"], state["stalled"]) == ("Stalled (no progress)", True)
    assert state["quiet_seconds"] >= 660


def test_cancel_asks_a_running_job_to_stop(admin_client):
    job = running_job()

    response = admin_client.post(reverse("admin:profiles_importjob_cancel", args=[job.pk]))

    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.cancel_requested_by) == ("running", "admin")
    state = admin_client.get(reverse("admin:profiles_importjob_status", args=[job.pk])).json()
    assert (state["status_label"], state["cancel_requested_by"]) == ("Cancelling…", "admin")


def test_a_done_job_shows_its_reason_and_its_error_file_downloads(admin_client, media):
    uploaded(admin_client)
    job = ImportJob.objects.get()
    jobs.import_job_start(job_id=job.pk, actor="admin")
    jobs.import_job_run(job_id=job.pk)

    page = admin_client.get(reverse("admin:profiles_importjob_change", args=[job.pk]))
    download = admin_client.get(reverse("admin:profiles_importjob_errors", args=[job.pk]))

    html = page.content.decode()
    assert 'data-testid="count-created">1<' in html
    assert 'data-testid="count-skipped">1<' in html
    assert "Download the skipped rows (1)" in html
    assert download["Content-Disposition"] == 'attachment; filename="people.errors.csv"'
    assert b"".join(download.streaming_content).decode() == (
        "line,error,E-mail,First name,Phone,Loyalty tier\r\n"
        "3,\"data.contact.email.main: expected an e-mail address, got 'not-an-email'\","
        "not-an-email,Bob,,silver\r\n"
    )


def test_matching_by_id_without_an_id_column_warns_that_every_row_is_new(admin_client):
    uploaded(admin_client)
    job = ImportJob.objects.get()
    page = admin_client.get(mapping_url(job))
    assert page.context["warnings"] == []

    response = admin_client.post(mapping_url(job), form_data(page, match="id", preview="Refresh"))

    assert response.context["warnings"] == [
        "No column goes to Profile id and rows find their profile by id: every row becomes a "
        "new profile. To update people already stored, find them by their e-mail address (or "
        "another identifier column)."
    ]


def test_a_view_only_user_sees_the_job_but_cannot_upload_or_cancel(client, django_user_model):
    user = django_user_model.objects.create_user("viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_importjob"))
    client.force_login(user)
    job = running_job()

    assert client.get(reverse("admin:profiles_importjob_change", args=[job.pk])).status_code == 200
    assert client.get(ADD).status_code == 403
    cancel = client.post(reverse("admin:profiles_importjob_cancel", args=[job.pk]))
    assert cancel.status_code == 403
    job.refresh_from_db()
    assert job.cancel_requested_by == ""
