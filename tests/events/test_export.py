"""manage.py export_events."""

import gzip
import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.events.documents import event_document
from apps.events.models import Event
from tests.events.factories import EventFactory
from tests.profiles.factories import ProfileFactory, SegmentFactory
from tests.sources.factories import EventSourceFactory

pytestmark = pytest.mark.django_db

T1 = datetime(2026, 1, 1, 12, tzinfo=UTC)
T2 = datetime(2026, 1, 2, 12, tzinfo=UTC)
T3 = datetime(2026, 1, 3, 12, tzinfo=UTC)


@pytest.fixture
def events():
    web, app = EventSourceFactory(id="web"), EventSourceFactory(id="app")
    SegmentFactory(name="Buyers")
    buyer = ProfileFactory(id="buyer", segments=["buyers"])
    visitor = ProfileFactory(id="visitor")
    return [
        EventFactory(
            id="e1",
            type="page-view",
            source=web,
            profile=buyer,
            session=None,
            time=T1,
            inserted=T1,
            properties={"url": "/a"},
        ),
        EventFactory(
            id="e2",
            type="purchase",
            source=web,
            profile=buyer,
            session=None,
            time=T2,
            inserted=T2,
            properties={"total": 42.5},
            metadata={"time": {"insert": "kept"}},
        ),
        EventFactory(
            id="e3",
            type="page-view",
            source=app,
            profile=visitor,
            session=None,
            time=T3,
            inserted=T3,
            properties={"url": "/b"},
        ),
        EventFactory(
            id="e4",
            type="page-view",
            source=app,
            profile=None,
            session=None,
            time=T3,
            inserted=T3,
        ),
    ]


def export(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("export_events", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def exported(*args) -> list[str]:
    return [json.loads(line)["id"] for line in export(*args)[0].splitlines()]


def test_jsonl_is_the_event_documents(events):
    out, err = export("--chunk-size", "3")

    assert [json.loads(line) for line in out.splitlines()] == [
        json.loads(json.dumps(event_document(event))) for event in Event.objects.order_by("pk")
    ]
    assert json.loads(out.splitlines()[1]) == {
        "id": "e2",
        "type": "purchase",
        "time": "2026-01-02T12:00:00+00:00",
        "source": {"id": "web"},
        "profile": {"id": "buyer"},
        "session": None,
        "metadata": {"time": {"insert": "kept", "create": "2026-01-02T12:00:00+00:00"}},
        "properties": {"total": 42.5},
        "traits": {},
        "context": {},
        "request": {},
        "tags": {},
        "hit": {},
    }
    assert err.startswith("export events: 4 rows in ")


def test_csv_default_columns_gzip(events, tmp_path):
    path = tmp_path / "events.csv.gz"
    export("-o", str(path), "--type", "page-view")

    with gzip.open(path, "rt") as file:
        assert file.read() == (
            "id,type,time,source.id,profile.id,session.id\n"
            "e1,page-view,2026-01-01T12:00:00+00:00,web,buyer,\n"
            "e3,page-view,2026-01-03T12:00:00+00:00,app,visitor,\n"
            "e4,page-view,2026-01-03T12:00:00+00:00,app,,\n"
        )


def test_csv_chosen_columns_to_stdout(events):
    out, _ = export("--format", "csv", "--columns", "id,properties.url,properties.total", "-o", "-")
    assert out == "id,properties.url,properties.total\ne1,/a,\ne2,,42.5\ne3,/b,\ne4,,\n"


def test_filters(events):
    assert exported("--type", "Page View") == ["e1", "e3", "e4"]
    assert exported("--type", "purchase,page-view") == ["e1", "e2", "e3", "e4"]
    assert exported("--source", "web") == ["e1", "e2"]
    assert exported("--since", "2026-01-02T12:00:00Z") == ["e2", "e3", "e4"]
    assert exported("--until", "2026-01-02T12:00:00Z") == ["e1"]
    assert exported("--since", "2026-01-02", "--until", "2026-01-03") == ["e2"]
    assert exported("--segment", "Buyers") == ["e1", "e2"]
    assert exported("--where", "event@properties.total >= 40") == ["e2"]
    assert exported("--where", 'event@profile.id == "visitor"') == ["e3"]
    assert exported("--type", "page-view", "--source", "app", "--segment", "buyers") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--where", "event@type == == 'x'"],
            "--where: Unexpected '==' at column 15; expected a value (number, string, field "
            "reference, function call)",
        ),
        (
            ["--where", "profile@traits.plan == 'x'"],
            "--where reads profile@traits.plan; an export of events can test event@... fields "
            "only.",
        ),
        (["--source", "nope"], "--source: no event source has the id 'nope'."),
        (
            ["--segment", "nope"],
            "--segment 'nope': no segment has this name or slug, and no profile carries it "
            "(segments: buyers).",
        ),
        (["--format", "xml"], None),
    ],
)
def test_bad_options_say_what_to_write(events, args, message):
    if message is None:  # argparse refuses it before the command runs
        with pytest.raises(CommandError, match="invalid choice: 'xml'"):
            export(*args)
        return
    with pytest.raises(CommandError) as raised:
        export(*args)
    assert str(raised.value) == message
