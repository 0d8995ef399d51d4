"""Imports started from the admin (services.imports.jobs): upload, mapping, the run with its
counts and error file, cancel between batches, failures and stalled jobs."""

import csv
import gzip
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.profiles import tasks
from apps.profiles.models import ImportJob, Profile
from apps.profiles.services.imports import jobs
from apps.profiles.services.imports.columns import suggested_mapping
from apps.profiles.services.imports.readers import ImportFileError
from cdp.celery import app
from tests.profiles.factories import ProfileFactory

pytestmark = pytest.mark.django_db

PEOPLE = (
    "Email,First name,Plan,Age\n"
    "ann@example.com,Ann,pro,41\n"
    "not-an-email,Bob,free,30\n"
    "cy@example.com,Cy,,22\n"
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(content: bytes | str, name: str = "people.csv", encoding: str = "utf-8"):
    data = content.encode() if isinstance(content, str) else content
    return jobs.import_job_upload(
        uploaded=SimpleUploadedFile(name, data), encoding=encoding, actor="anna"
    )


def started(job: ImportJob, **configure) -> ImportJob:
    if configure:
        jobs.import_job_configure(job_id=job.pk, **configure)
    return jobs.import_job_start(job_id=job.pk, actor="anna")


def error_rows(job: ImportJob) -> list[list[str]]:
    with open(job.error_file.path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_an_upload_reads_the_columns_and_suggests_fields(media):
    job = upload(PEOPLE)

    assert (job.status, job.format, job.file_name, job.file_size) == (
        "draft",
        "csv",
        "people.csv",
        len(PEOPLE),
    )
    assert job.columns == ["Email", "First name", "Plan", "Age"]
    assert job.mapping == {
        "Email": "data.contact.email.main",
        "First name": "data.pii.firstname",
        "Plan": "traits.plan",
        "Age": "traits.age",
    }
    assert job.match == "data.contact.email.main"
    assert Path(job.file.path).read_text() == PEOPLE
    assert Path(job.file.path).is_relative_to(media)


def test_suggestions_for_typical_headers():
    headers = [
        "Email",
        "E-mail",
        "email_address",
        "First name",
        "Surname",
        "Phone",
        "id",
        "traits.plan",
        "data.pii.gender",
        "Loyalty tier",
        "Date of birth",
        "ZIP code",
        "!!!",
    ]

    assert suggested_mapping(headers) == {
        "Email": "data.contact.email.main",
        # A field goes to one column; the others are kept as traits.
        "E-mail": "traits.e_mail",
        "email_address": "traits.email_address",
        "First name": "data.pii.firstname",
        "Surname": "data.pii.lastname",
        "Phone": "data.contact.phone.main",
        "id": "id",
        "traits.plan": "traits.plan",
        "data.pii.gender": "data.pii.gender",
        "Loyalty tier": "traits.loyalty_tier",
        "Date of birth": "data.pii.birthday",
        "ZIP code": "data.contact.address.postcode",
        "!!!": "",
    }
    assert suggested_mapping(["email_address"]) == {"email_address": "data.contact.email.main"}


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "people.csv", "people.csv is empty: there is nothing to import."),
        (b"\n\n", "people.csv", "people.csv is empty: there is nothing to import."),
        (
            "ann@example.com,Ann,pro\nbob@example.com,Bob,free\n",
            "people.csv",
            "The first line of people.csv looks like data (ann@example.com), not column names: "
            "add a header line naming the columns (e.g. Email,First name,Plan) and upload the "
            "file again.",
        ),
        (
            b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00",
            "people.xlsx",
            "people.xlsx is not a text file (it holds binary data, e.g. a spreadsheet): save it "
            "as CSV (comma-separated, with a header line) and upload that.",
        ),
        (
            "Prénom,Email\nAnn,ann@example.com\n".encode("latin-1"),
            "people.csv",
            "The header (line 1): the line is not valid utf-8 (byte 0xe9 at column 3); choose "
            "the file's encoding when uploading (e.g. Windows or Latin-1), or save it as UTF-8.",
        ),
        (
            "Email,,Plan\nann@example.com,x,pro\n",
            "people.csv",
            "The header (line 1) has an empty column name (column 2); the first line must name "
            "every column, e.g. id,data.contact.email.main,traits.plan.",
        ),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_and_not_kept(media, content, name, message):
    with pytest.raises(ImportFileError) as raised:
        upload(content, name)

    assert str(raised.value) == message
    assert not ImportJob.objects.exists()
    assert not [path for path in media.rglob("*") if path.is_file()]


def test_a_latin_1_file_uploaded_as_such_is_read():
    job = upload("Prénom,Email\nAnn,ann@example.com\n".encode("latin-1"), encoding="latin-1")

    assert job.columns == ["Prénom", "Email"]
    assert job.mapping == {"Prénom": "traits.prenom", "Email": "data.contact.email.main"}


def test_the_preview_shows_typed_values_and_row_errors():
    job = upload(PEOPLE)

    rows = jobs.import_job_preview(
        job=job,
        mapping={**job.mapping, "Age": "data.job.company.size"},
        empty="keep",
    )

    assert [(row.line, row.values, row.error) for row in rows] == [
        (
            2,
            {
                "data.contact.email.main": "ann@example.com",
                "data.pii.firstname": "Ann",
                "traits.plan": "pro",
                "data.job.company.size": 41,
            },
            None,
        ),
        (
            3,
            {},
            "data.contact.email.main: expected an e-mail address, got 'not-an-email'",
        ),
        (
            4,
            {
                "data.contact.email.main": "cy@example.com",
                "data.pii.firstname": "Cy",
                "data.job.company.size": 22,
            },
            None,
        ),
    ]
    clearing = jobs.import_job_preview(job=job, mapping=job.mapping, empty="clear")
    assert clearing[2].values["traits.plan"] == "(cleared)"


def test_a_job_imports_its_rows_and_writes_the_skipped_ones_to_its_error_file():
    ProfileFactory(id="known", data={"contact": {"email": {"main": "ANN@example.com"}}})
    job = started(upload(PEOPLE))

    done = jobs.import_job_run(job_id=job.pk)

    assert done.status == "done"
    assert (done.rows_total, done.rows, done.created, done.updated, done.unchanged) == (
        3,
        3,
        1,
        1,
        0,
    )
    assert (done.merged, done.skipped, done.error) == (0, 1, "")
    assert done.started_at <= done.progress_at <= done.finished_at
    assert error_rows(done) == [
        ["line", "error", "Email", "First name", "Plan", "Age"],
        [
            "3",
            "data.contact.email.main: expected an e-mail address, got 'not-an-email'",
            "not-an-email",
            "Bob",
            "free",
            "30",
        ],
    ]
    known = Profile.objects.get(pk="known")
    assert (known.data["pii"]["firstname"], known.traits) == ("Ann", {"plan": "pro", "age": "41"})
    cy = Profile.objects.get(data__contact__email__main="cy@example.com")
    assert (cy.data["pii"]["firstname"], cy.traits) == ("Cy", {"age": "22"})
    # Its message came once: a second run of the same job does nothing.
    assert jobs.import_job_run(job_id=job.pk) is None


def test_a_job_without_bad_rows_has_no_error_file_and_ignored_columns_stay_out():
    job = started(
        upload("Email,Plan\nann@example.com,pro\n"),
        mapping={"Email": "data.contact.email.main", "Plan": ""},
        match="data.contact.email.main",
        empty="keep",
    )

    done = jobs.import_job_run(job_id=job.pk)

    assert (done.status, done.created, done.skipped, done.error_file.name) == ("done", 1, 0, "")
    assert Profile.objects.get().traits == {}


def test_a_cancelled_job_stops_between_batches_and_keeps_what_it_wrote(monkeypatch):
    rows = "".join(f"p{n}@example.com,P{n}\n" for n in range(5))
    job = started(upload("Email,First name\n" + rows))
    calls = []
    check = jobs._JobProgress.__call__

    def cancel_after_the_first_batch(progress, summary):
        calls.append(summary.rows)
        if len(calls) == 1:
            jobs.import_job_cancel(job_id=job.pk, actor="boss")
        return check(progress, summary)

    monkeypatch.setattr(jobs._JobProgress, "__call__", cancel_after_the_first_batch)

    done = jobs.import_job_run(job_id=job.pk, progress_seconds=0, batch_size=2)

    assert calls == [2]
    assert (done.status, done.rows, done.created, done.cancel_requested_by) == (
        "cancelled",
        2,
        2,
        "boss",
    )
    assert done.error == "Cancelled by boss after 2 rows; the rows imported before that stay."
    assert sorted(Profile.objects.values_list("data__contact__email__main", flat=True)) == [
        "p0@example.com",
        "p1@example.com",
    ]


def test_a_job_cancelled_before_it_ran_never_runs():
    job = started(upload(PEOPLE))

    cancelled = jobs.import_job_cancel(job_id=job.pk, actor="boss")

    assert (cancelled.status, cancelled.error) == (
        "cancelled",
        "Cancelled by boss before it started; nothing was imported.",
    )
    assert jobs.import_job_run(job_id=job.pk) is None
    assert not Profile.objects.exists()
    with pytest.raises(jobs.ImportJobError, match="This import is cancelled already."):
        jobs.import_job_cancel(job_id=job.pk, actor="boss")


def test_a_file_cut_short_fails_the_job_with_the_reason(tmp_path):
    rows = "".join(f"p{n}@example.com,Person {n} {'x' * 60}\n" for n in range(20_000))
    whole = gzip.compress(("Email,First name\n" + rows).encode())
    job = started(upload(whole[: len(whole) // 2], name="people.csv.gz"))

    done = jobs.import_job_run(job_id=job.pk)

    assert done.status == "failed"
    assert done.error.startswith(
        "people.csv.gz is a gzip file that is damaged or cut short after line "
    )
    assert done.error.endswith(
        "; the rows before it were read. The counts show the rows written before it stopped "
        "(in whole batches)."
    )
    assert done.rows_total is None
    # Whole batches were written; the rows read after the last one were not.
    assert done.created == Profile.objects.count() == 10_000
    assert done.rows > done.created


def test_a_file_gone_from_the_server_fails_the_job():
    job = started(upload(PEOPLE))
    Path(job.file.path).unlink()

    done = jobs.import_job_run(job_id=job.pk)

    assert (done.status, done.rows) == ("failed", 0)
    assert done.error == (
        f"The uploaded file people.csv is no longer on the server ({job.file.name} is missing "
        "under the media directory, which web and workers must share); upload it again."
    )


def test_a_mapping_sending_two_columns_to_one_field_is_refused():
    job = upload(PEOPLE)

    with pytest.raises(jobs.ImportJobError) as raised:
        jobs.import_job_configure(
            job_id=job.pk,
            mapping={**job.mapping, "First name": "data.contact.email.main"},
            match="id",
            empty="keep",
        )

    assert str(raised.value) == (
        "Email and First name all go to E-mail address; choose one of them and set the others "
        "to another field or to “Ignore this column”."
    )


def test_stalled_jobs_are_marked_failed_with_how_far_they_got():
    now = timezone.now()
    stalled = ImportJob.objects.create(
        file="imports/a.csv",
        file_name="a.csv",
        format="csv",
        uploaded_at=now,
        uploaded_by="anna",
        status="running",
        rows=3000,
        started_at=now - timedelta(minutes=30),
        progress_at=now - timedelta(minutes=11),
    )
    busy = ImportJob.objects.create(
        file="imports/b.csv",
        file_name="b.csv",
        format="csv",
        uploaded_at=now,
        uploaded_by="anna",
        status="running",
        started_at=now - timedelta(minutes=30),
        progress_at=now - timedelta(minutes=1),
    )

    assert jobs.import_jobs_fail_stalled(now=now) == [stalled.pk]

    stalled.refresh_from_db()
    busy.refresh_from_db()
    assert (stalled.status, busy.status) == ("failed", "running")
    when = timezone.localtime(now - timedelta(minutes=11))
    assert stalled.error == (
        f"The worker running this import stopped after 3,000 rows (no progress since "
        f"{when:%Y-%m-%d %H:%M:%S}). The rows counted were imported; to import the rest, "
        "upload the file again (matched by id or e-mail, rows already imported change nothing)."
    )


def test_a_json_lines_file_offers_the_keys_of_its_rows_and_imports_them():
    job = upload(
        '{"email": "ann@example.com", "plan": "pro"}\n{"email": "bob@example.com", "vip": true}\n',
        name="people.jsonl",
    )
    assert (job.format, job.columns) == ("jsonl", ["email", "plan", "vip"])
    assert job.mapping == {
        "email": "data.contact.email.main",
        "plan": "traits.plan",
        "vip": "traits.vip",
    }

    done = jobs.import_job_run(job_id=started(job).pk)

    assert (done.status, done.rows_total, done.created, done.skipped) == ("done", 2, 2, 0)
    traits = dict(Profile.objects.values_list("data__contact__email__main", "traits"))
    # A key a row lacks leaves its field alone.
    assert traits == {"ann@example.com": {"plan": "pro"}, "bob@example.com": {"vip": True}}


def test_deleting_an_import_deletes_its_files():
    job = started(upload(PEOPLE))
    done = jobs.import_job_run(job_id=job.pk)
    files = [Path(done.file.path), Path(done.error_file.path)]
    assert all(path.exists() for path in files)

    assert jobs.import_jobs_delete(job_ids=[job.pk]) == 1

    assert not ImportJob.objects.exists()
    assert not any(path.exists() for path in files)


def test_a_job_whose_message_cannot_be_sent_fails_with_the_reason(monkeypatch):
    job = started(upload(PEOPLE))

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(tasks.import_job_run, "delay", broker_down)

    tasks.import_job_enqueue(job.pk)

    job.refresh_from_db()
    assert (job.status, job.error) == (
        "failed",
        "The import could not be handed to a worker ([Errno 111] Connection refused); upload "
        "the file again when the task broker is back.",
    )


def test_the_stalled_sweeps_are_scheduled_tasks(settings):
    for entry in ("profiles-imports-fail-stalled", "events-imports-fail-stalled"):
        schedule = settings.CELERY_BEAT_SCHEDULE[entry]
        assert schedule["task"] in app.tasks
        assert (schedule["schedule"], schedule["options"]) == (300.0, {"expires": 290.0})
