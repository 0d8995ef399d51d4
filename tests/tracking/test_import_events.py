"""manage.py import_events (issue 14): historic events attached to profiles, idempotent by
event id, and handed to the workers only with --process."""

import gzip
import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.events.models import Event
from apps.profiles.models import Profile
from apps.workflows.models import WorkflowRun
from tests.profiles.factories import ProfileFactory, SessionFactory
from tests.sources.factories import EventSourceFactory
from tests.support.celery_worker import celery_worker, wait_for  # noqa: F401  (fixture)
from tests.workflows.factories import RuleFactory, WorkflowFactory
from tests.workflows.graphs import linear_graph

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("import_events", *[str(arg) for arg in args], stdout=out, stderr=io.StringIO())
    return out.getvalue()


def counts(output: str) -> dict:
    found = {}
    for line in output.splitlines():
        name, separator, rest = line.strip().partition(":")
        if separator and name in ("stored", "already stored", "queued", "skipped"):
            found[name] = int(rest.split()[0])
    return found


def write_lines(path: Path, events: list) -> Path:
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    return path


def tracardi_event(source_id: str, **overrides) -> dict:
    event = {
        "id": "ev-1",
        "type": "Page View",
        "metadata": {
            "time": {"insert": "2023-01-02T10:00:01+00:00", "create": "2023-01-02T10:00:00"},
            "status": "processed",
        },
        "source": {"id": source_id},
        "profile": {"id": "p1"},
        "session": {"id": "s1"},
        "properties": {"url": "/pricing"},
        "context": {"page": {"title": "Pricing"}},
        "tags": {"values": ["web"], "count": 1},
    }
    event.update(overrides)
    return event


def test_tracardi_events_keep_ids_and_times_and_a_rerun_stores_nothing(tmp_path):
    source = EventSourceFactory()
    ProfileFactory(id="p1")
    ProfileFactory(id="survivor", ids=["merged-away"])
    SessionFactory(id="s1", profile=Profile.objects.get(pk="p1"))
    path = write_lines(
        tmp_path / "events.jsonl",
        [
            tracardi_event(source.pk),
            tracardi_event(
                source.pk,
                id="ev-2",
                type="purchase",
                profile={"id": "merged-away"},
                session={"id": "gone"},
                metadata={"time": {"create": "2023-01-03T08:00:00+02:00"}},
            ),
            {"type": "newsletter", "time": "2023-01-04T00:00:00Z", "source_id": source.pk},
        ],
    )

    output = run(path)

    assert counts(output) == {"stored": 3, "already stored": 0, "queued": 0, "skipped": 0}
    first = Event.objects.get(pk="ev-1")
    assert (first.type, first.profile_id, first.session_id, first.source_id) == (
        "page-view",
        "p1",
        "s1",
        source.pk,
    )
    assert first.time == datetime(2023, 1, 2, 10, 0, tzinfo=UTC)
    assert first.status == Event.Status.PROCESSED
    assert first.properties == {"url": "/pricing"}
    assert first.tags == {"values": ["web"], "count": 1}
    assert first.metadata["time"] == {
        "insert": "2023-01-02T10:00:01+00:00",
        "create": "2023-01-02T10:00:00+00:00",
    }
    second = Event.objects.get(pk="ev-2")
    assert (second.profile_id, second.session_id) == ("survivor", None)
    assert second.metadata["imported"]["session_id"] == "gone"
    assert second.time == datetime(2023, 1, 3, 6, 0, tzinfo=UTC)
    profileless = Event.objects.exclude(pk__in=["ev-1", "ev-2"]).get()
    assert profileless.profile_id is None
    assert WorkflowRun.objects.count() == 0

    again = run(path)

    assert counts(again) == {"stored": 0, "already stored": 3, "queued": 0, "skipped": 0}
    # The event without an id got the same id from its content.
    assert Event.objects.count() == 3


def test_events_matched_by_email_and_unknown_people_skipped_until_imported(tmp_path):
    source = EventSourceFactory()
    ann = ProfileFactory(data={"contact": {"email": {"main": "ann@example.com"}}})
    path = write_lines(
        tmp_path / "events.jsonl",
        [
            {
                "id": "a",
                "type": "purchase",
                "time": "2023-05-01T00:00:00Z",
                "properties": {"email": "ANN@example.com"},
            },
            {
                "id": "b",
                "type": "purchase",
                "time": "2023-05-02T00:00:00Z",
                "properties": {"email": "bob@example.com"},
            },
            {"id": "c", "type": "purchase", "time": "2023-05-03T00:00:00Z", "properties": {}},
        ],
    )
    args = [path, "--match", "data.contact.email.main=properties.email", "--source", source.pk]

    output = run(*args)

    assert counts(output) == {"stored": 1, "already stored": 0, "queued": 0, "skipped": 2}
    assert Event.objects.get().profile_id == ann.pk
    errors = [
        json.loads(line)
        for line in (tmp_path / "events.jsonl.errors.jsonl").read_text().splitlines()
    ]
    assert [(row["line"], row["error"]) for row in errors] == [
        (3, "no value to match the profile by: event@properties.email is empty or missing"),
        (
            2,
            "the profile with data.contact.email.main = bob@example.com is not stored: import "
            "the profiles first (manage.py import_profiles), then run this import again "
            "(stored events are not stored twice)",
        ),
    ]

    bob = ProfileFactory(data={"contact": {"email": {"main": "bob@example.com"}}})
    again = run(*args)

    assert counts(again) == {"stored": 1, "already stored": 1, "queued": 0, "skipped": 1}
    assert Event.objects.get(pk="b").profile_id == bob.pk


def test_bad_events_are_skipped_with_their_reason(tmp_path):
    source = EventSourceFactory()
    path = write_lines(
        tmp_path / "events.jsonl",
        [
            {"id": "ok", "type": "x", "time": "2023-01-01T00:00:00Z", "source_id": source.pk},
            {"id": "t", "type": "x", "time": "yesterday", "source_id": source.pk},
            {"id": "s", "type": "x", "time": "2023-01-01T00:00:00Z", "source_id": "nope"},
            {"id": "n", "type": "", "time": "2023-01-01T00:00:00Z", "source_id": source.pk},
            {
                "id": "p",
                "type": "x",
                "time": "2023-01-01T00:00:00Z",
                "source_id": source.pk,
                "properties": [1],
            },
        ],
    )
    with open(path, "a") as handle:
        handle.write("{broken\n")

    output = run(path)

    assert counts(output) == {"stored": 1, "already stored": 0, "queued": 0, "skipped": 5}
    errors = [
        json.loads(line)
        for line in (tmp_path / "events.jsonl.errors.jsonl").read_text().splitlines()
    ]
    assert [(row["line"], row["error"]) for row in errors] == [
        (
            2,
            'the event\'s time ("time" or metadata.time.create) must be an ISO date-time, got '
            "'yesterday'",
        ),
        (
            3,
            "unknown event source 'nope': create it (admin, manage.py create_event_source) or "
            "pass --source ID",
        ),
        (4, '"type" is required: a non-empty text'),
        (5, '"properties" must be a JSON object'),
        (6, "broken JSON: unexpected character, expected a string key: line 1 column 2 (char 1)"),
    ]


def test_dry_run_and_bad_options(tmp_path):
    source = EventSourceFactory()
    path = write_lines(
        tmp_path / "events.json",
        [],
    )
    path.write_text(
        json.dumps(
            [{"id": "a", "type": "x", "time": "2023-01-01T00:00:00Z", "source_id": source.pk}]
        )
    )

    output = run(path, "--dry-run")

    assert counts(output) == {"stored": 1, "already stored": 0, "queued": 0, "skipped": 0}
    assert "Dry run: nothing was stored." in output
    assert Event.objects.count() == 0
    with pytest.raises(CommandError, match=r"No event source has the id 'nope' \(--source\)"):
        run(path, "--source", "nope")
    csv_file = tmp_path / "events.csv"
    csv_file.write_text("id,type\na,x\n")
    with pytest.raises(CommandError, match=r"Events are imported from JSON Lines .* reads as CSV"):
        run(csv_file)
    with pytest.raises(CommandError, match=r"write PROFILE_FIELD=EVENT_PATH"):
        run(path, "--match", "data.contact.email.main")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_process_hands_routed_events_to_the_workers(tmp_path, celery_worker):  # noqa: F811
    source = EventSourceFactory()
    profile = ProfileFactory(id="p1")
    RuleFactory(
        workflow=WorkflowFactory(
            graph=linear_graph(("append_remove", {"append": {"profile@traits.seen": "event@id"}}))
        ),
        event_type="purchase",
    )
    history = [
        {
            "id": "h1",
            "type": "purchase",
            "time": "2023-01-01T00:00:00Z",
            "source_id": source.pk,
            "profile_id": "p1",
        },
        {
            "id": "h2",
            "type": "page-view",
            "time": "2023-01-02T00:00:00Z",
            "source_id": source.pk,
            "profile_id": "p1",
        },
    ]
    path = write_lines(tmp_path / "a.jsonl", history)

    output = run(path)

    assert counts(output)["queued"] == 0
    assert set(Event.objects.values_list("status", flat=True)) == {"processed"}

    later = [
        {
            "id": "h3",
            "type": "purchase",
            "time": "2023-01-03T00:00:00Z",
            "source_id": source.pk,
            "profile_id": "p1",
        },
        {
            "id": "h4",
            "type": "purchase",
            "time": "2023-01-04T00:00:00Z",
            "source_id": source.pk,
            "profile_id": "p1",
        },
        {
            "id": "h5",
            "type": "page-view",
            "time": "2023-01-05T00:00:00Z",
            "source_id": source.pk,
            "profile_id": "p1",
        },
    ]
    output = run(write_lines(tmp_path / "b.jsonl", later), "--process")

    assert counts(output) == {"stored": 3, "already stored": 0, "queued": 2, "skipped": 0}
    assert Event.objects.get(pk="h5").status == Event.Status.PROCESSED

    def processed():
        return not Event.objects.filter(status=Event.Status.COLLECTED).exists()

    wait_for(processed, message="the imported events to be processed")
    profile.refresh_from_db()
    assert profile.traits["seen"] == ["h3", "h4"]
    assert sorted(WorkflowRun.objects.values_list("event_id", flat=True)) == ["h3", "h4"]


def test_a_gzip_json_array_from_standard_input(monkeypatch):
    source = EventSourceFactory()
    ProfileFactory(id="p1")
    events = [
        {
            "id": f"g{n}",
            "type": "x",
            "time": "2023-01-01T00:00:00Z",
            "source": {"id": source.pk},
            "profile": {"id": "p1"},
        }
        for n in range(3)
    ]
    data = gzip.compress(json.dumps(events).encode())
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))

    output = run("-", "--batch-size", "2")

    assert "Imported standard input (json): 3 events" in output
    assert counts(output) == {"stored": 3, "already stored": 0, "queued": 0, "skipped": 0}
    assert sorted(Event.objects.values_list("pk", flat=True)) == ["g0", "g1", "g2"]
