"""Event imports started from the admin (apps.events.import_jobs, admin_imports): upload checks,
the run with its counts and error file, matching by an identifier, the admin pages."""

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.events import import_jobs
from apps.events.models import Event, EventImportJob
from apps.profiles.services.imports import jobs
from apps.profiles.services.imports.readers import ImportFileError
from tests.profiles.factories import ProfileFactory
from tests.sources.factories import EventSourceFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:events_eventimportjob_add")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def lines(events: list) -> str:
    return "".join(
        (event if isinstance(event, str) else json.dumps(event)) + "\n" for event in events
    )


def upload(content: str, name: str = "events.jsonl", **options) -> EventImportJob:
    values = {"source_id": "", "match": [], **options}
    return import_jobs.event_import_job_upload(
        uploaded=SimpleUploadedFile(name, content.encode()),
        encoding="utf-8",
        actor="anna",
        **values,
    )


def run(job: EventImportJob) -> EventImportJob:
    import_jobs.event_import_job_start(job_id=job.pk, actor="anna")
    return import_jobs.event_import_job_run(job_id=job.pk)


def test_a_job_stores_the_events_and_writes_the_skipped_ones_to_its_error_file():
    source = EventSourceFactory()
    ann = ProfileFactory(id="ann")
    job = upload(
        lines(
            [
                {
                    "id": "e1",
                    "type": "purchase",
                    "time": "2023-01-02T00:00:00Z",
                    "profile": {"id": "ann"},
                },
                {"id": "e2", "type": "purchase", "time": "yesterday"},
                "{broken",
            ]
        ),
        source_id=source.pk,
    )

    done = run(job)

    assert (done.status, done.rows_total, done.rows) == ("done", 3, 3)
    assert (done.stored, done.already_stored, done.skipped) == (1, 0, 2)
    event = Event.objects.get(pk="e1")
    assert (event.profile_id, event.source_id, event.status) == (ann.pk, source.pk, "processed")
    text = Path(done.error_file.path).read_text()
    errors = [json.loads(line) for line in text.splitlines()]
    assert [(row["line"], row["error"]) for row in errors] == [
        (
            2,
            'the event\'s time ("time" or metadata.time.create) must be an ISO date-time, got '
            "'yesterday'",
        ),
        (3, "broken JSON: unexpected character, expected a string key: line 1 column 2 (char 1)"),
    ]


def test_events_find_their_profile_by_an_identifier_and_a_second_import_stores_nothing_twice():
    source = EventSourceFactory()
    bob = ProfileFactory(data={"contact": {"email": {"main": "bob@example.com"}}})
    content = lines(
        [
            {
                "id": "b1",
                "type": "sign-in",
                "time": "2023-01-02T00:00:00Z",
                "properties": {"email": "BOB@example.com"},
            },
        ]
    )
    match = ["data.contact.email.main=properties.email"]

    first = run(upload(content, source_id=source.pk, match=match))
    second = run(upload(content, source_id=source.pk, match=match))

    assert (first.stored, second.stored, second.already_stored) == (1, 0, 1)
    assert Event.objects.get(pk="b1").profile_id == bob.pk


@pytest.mark.parametrize(
    ("content", "name", "options", "message"),
    [
        (
            "email,type\nann@example.com,x\n",
            "events.csv",
            {},
            "events.csv is not JSON: events are imported from JSON Lines (one event object per "
            "line, .jsonl) or a JSON array of event objects (.json), e.g. Tracardi's event "
            "export.",
        ),
        (
            "{broken\n[1]\n",
            "events.jsonl",
            {},
            "None of the first rows of events.jsonl is an event object: line 1: broken JSON: "
            "unexpected character, expected a string key: line 1 column 2 (char 1).",
        ),
        (
            lines([{"id": "x", "type": "x"}]),
            "events.jsonl",
            {"source_id": "nope"},
            "No event source has the id 'nope'.",
        ),
        (
            lines([{"id": "x", "type": "x"}]),
            "events.jsonl",
            {"match": ["data.contact.email.main"]},
            "Match 'data.contact.email.main': write PROFILE_FIELD=EVENT_PATH, e.g. "
            "data.contact.email.main=properties.email",
        ),
    ],
)
def test_a_file_or_options_that_cannot_be_imported_are_refused(
    media, content, name, options, message
):
    with pytest.raises(ImportFileError) as raised:
        upload(content, name, **options)

    assert str(raised.value) == message
    assert not EventImportJob.objects.exists()
    assert not [path for path in media.rglob("*") if path.is_file()]


def test_a_cancelled_event_import_stops_between_batches(monkeypatch):
    source = EventSourceFactory()
    job = upload(
        lines([{"id": f"e{n}", "type": "x", "time": "2023-01-02T00:00:00Z"} for n in range(5)]),
        source_id=source.pk,
    )
    import_jobs.event_import_job_start(job_id=job.pk, actor="anna")
    jobs.import_job_cancel(job_id=job.pk, actor="boss", model=EventImportJob)
    # Cancelled before it ran: it never runs.
    assert import_jobs.event_import_job_run(job_id=job.pk) is None

    job = upload(
        lines([{"id": f"f{n}", "type": "x", "time": "2023-01-02T00:00:00Z"} for n in range(5)]),
        source_id=source.pk,
    )
    import_jobs.event_import_job_start(job_id=job.pk, actor="anna")
    check = jobs._JobProgress.__call__

    def cancel_first(progress, summary):
        jobs.import_job_cancel(job_id=job.pk, actor="boss", model=EventImportJob)
        return check(progress, summary)

    monkeypatch.setattr(jobs._JobProgress, "__call__", cancel_first)

    done = import_jobs.event_import_job_run(job_id=job.pk, progress_seconds=0, batch_size=2)

    assert (done.status, done.rows, done.stored) == ("cancelled", 2, 2)
    assert done.error == "Cancelled by boss after 2 rows; the rows imported before that stay."
    assert sorted(Event.objects.values_list("pk", flat=True)) == ["f0", "f1"]


def test_the_admin_upload_starts_the_import_and_opens_its_page(
    admin_client, django_capture_on_commit_callbacks
):
    source = EventSourceFactory(name="Web shop")
    content = lines([{"id": "e1", "type": "purchase", "time": "2023-01-02T00:00:00Z"}])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            ADD,
            {
                "file": SimpleUploadedFile("history.jsonl", content.encode()),
                "encoding": "utf-8",
                "source": source.pk,
                "match_field": "data.contact.email.main",
                "match_path": "properties.email",
            },
        )

    job = EventImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:events_eventimportjob_change", args=[job.pk])
    assert (job.status, job.source_id, job.match) == (
        "pending",
        source.pk,
        ["data.contact.email.main=properties.email"],
    )
    assert len(callbacks) == 1
    page = admin_client.get(response["Location"]).content.decode()
    assert "Waiting for a worker" in page
    assert "E-mail address (held by the event at properties.email)" in page
    assert "Web shop" in page
    state = admin_client.get(reverse("admin:events_eventimportjob_status", args=[job.pk])).json()
    assert (state["status"], state["stored"], state["already_stored"]) == ("pending", 0, 0)


def test_the_admin_upload_of_a_csv_says_what_to_upload(admin_client):
    response = admin_client.post(
        ADD, {"file": SimpleUploadedFile("events.csv", b"a,b\n1,2\n"), "encoding": "utf-8"}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [
        "events.csv is not JSON: events are imported from JSON Lines (one event object per "
        "line, .jsonl) or a JSON array of event objects (.json), e.g. Tracardi's event export."
    ]
    assert not EventImportJob.objects.exists()
    listing = admin_client.get(reverse("admin:events_eventimportjob_changelist"))
    assert "Import events from a file" in listing.content.decode()


def test_a_match_field_needs_the_event_path(admin_client):
    response = admin_client.post(
        ADD,
        {
            "file": SimpleUploadedFile("events.jsonl", b'{"id": "x"}\n'),
            "encoding": "utf-8",
            "match_field": "data.contact.email.main",
        },
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "match_path": ["Say where the event holds the value."]
    }
