"""manage.py export_profiles (apps.profiles.exports, the export selectors)."""

import gzip
import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.profiles.documents import profile_document
from apps.profiles.models import Profile
from apps.profiles.selectors import profile_documents_stream
from tests.profiles.factories import ProfileFactory, SegmentFactory

pytestmark = pytest.mark.django_db

JAN = datetime(2026, 1, 1, tzinfo=UTC)
FEB = datetime(2026, 2, 1, tzinfo=UTC)
MAR = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def profiles():
    SegmentFactory(name="High value", condition="profile@traits.plan == 'pro'")
    return [
        ProfileFactory(
            id="a",
            created=JAN,
            updated=MAR,
            traits={"plan": "pro", "seats": 5},
            segments=["high-value"],
            data={"contact": {"email": {"main": "ada@example.com"}}},
        ),
        ProfileFactory(
            id="b",
            created=FEB,
            updated=FEB,
            traits={"plan": "free"},
            data={"contact": {"email": {"main": 'bo, "the" boss'}}},
        ),
        ProfileFactory(
            id="c",
            created=MAR,
            updated=MAR,
            primary_id="crm-3",
            traits={"plan": "pro", "tags": ["x", "y"], "paid": True},
            segments=["high-value", "other"],
        ),
    ]


def export(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("export_profiles", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_jsonl_is_the_profile_documents_in_id_order(profiles):
    out, err = export("--chunk-size", "2")

    assert lines(out) == [
        json.loads(json.dumps(profile_document(profile)))
        for profile in Profile.objects.order_by("pk")
    ]
    assert [row["id"] for row in lines(out)] == ["a", "b", "c"]
    assert lines(out)[0] == {
        "id": "a",
        "primary_id": None,
        "ids": [],
        "active": True,
        "segments": ["high-value"],
        "metadata": {"time": {}, "fields": {}},
        "stats": {},
        "traits": {"plan": "pro", "seats": 5},
        "interests": {},
        "consents": {},
        "aux": {},
        "data": {"contact": {"email": {"main": "ada@example.com"}}},
    }
    assert err.startswith("export profiles: 3 of 3 rows in ")


def test_the_stream_pages_by_key(profiles, django_assert_num_queries):
    with django_assert_num_queries(2):  # a full page, then a short one: the end
        documents = list(profile_documents_stream(Profile.objects.all(), chunk_size=2))
    assert [document["id"] for document in documents] == ["a", "b", "c"]


def test_csv_with_chosen_columns(profiles):
    out, _ = export("--format", "csv", "--columns", "id,data.contact.email.main,traits.plan")

    assert out == (
        "id,data.contact.email.main,traits.plan\n"
        "a,ada@example.com,pro\n"
        'b,"bo, ""the"" boss",free\n'
        "c,,pro\n"
    )


def test_csv_cells_of_other_types(profiles):
    out, _ = export(
        "--format",
        "csv",
        "--columns",
        "profile@id,traits.seats,traits.tags,traits.paid,primary_id,segments",
        "--where",
        'profile@traits.plan == "pro"',
    )

    assert out == (
        "id,traits.seats,traits.tags,traits.paid,primary_id,segments\n"
        'a,5,,,,"[""high-value""]"\n'
        'c,,"[""x"",""y""]",true,crm-3,"[""high-value"",""other""]"\n'
    )


def test_csv_default_columns_for_a_csv_file(profiles, tmp_path):
    path = tmp_path / "profiles.csv"
    _, err = export("-o", str(path), "--segment", "High Value")

    assert path.read_text() == (
        "id,primary_id,data.contact.email.main,segments,metadata.time.insert\n"
        'a,,ada@example.com,"[""high-value""]",\n'
        'c,crm-3,,"[""high-value"",""other""]",\n'
    )
    assert err.splitlines()[-1] == f"2 profile(s) written to {path}."
    assert not (tmp_path / "profiles.csv.part").exists()


def test_jsonl_gzip_file_with_columns(profiles, tmp_path):
    path = tmp_path / "out.jsonl.gz"
    export("-o", str(path), "--columns", "id,traits.plan,traits.missing")

    with gzip.open(path, "rt") as file:
        assert file.read() == (
            '{"id":"a","traits.plan":"pro","traits.missing":null}\n'
            '{"id":"b","traits.plan":"free","traits.missing":null}\n'
            '{"id":"c","traits.plan":"pro","traits.missing":null}\n'
        )


def test_csv_gzip(profiles, tmp_path):
    path = tmp_path / "out.csv.gz"
    export("-o", str(path), "--columns", "id", "--where", "profile@primary_id IS NOT NULL")

    with gzip.open(path, "rt") as file:
        assert file.read() == "id\nc\n"


def test_filters(profiles):
    def exported(*args) -> list[str]:
        return [row["id"] for row in lines(export(*args)[0])]

    assert exported("--segment", "high-value") == ["a", "c"]
    assert exported("--segment", "other") == ["c"]
    assert exported("--since", "2026-02-01") == ["a", "b", "c"]
    assert exported("--since", "2026-02-01T00:00:01") == ["a", "c"]
    assert exported("--until", "2026-03-01") == ["b"]
    assert exported("--time-field", "inserted", "--since", "2026-02-01") == ["b", "c"]
    assert exported("--time-field", "inserted", "--until", "2026-02-01T00:00:00+00:00") == ["a"]
    assert exported("--where", "profile@traits.seats > 3") == ["a"]
    assert exported("--where", 'profile@traits.plan == "pro"', "--segment", "other") == ["c"]
    assert exported("--segment", "high-value", "--until", "2026-02-15") == []


def test_a_segment_only_profiles_carry(profiles):
    ProfileFactory(id="d", segments=["added-by-a-workflow"])
    out, _ = export("--segment", "Added by a workflow")
    assert [row["id"] for row in lines(out)] == ["d"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--where", 'profile@traits.plan == "pro" AND'],
            "--where: Unexpected end of the condition at column 33; expected a condition "
            "(field reference, value, function call, NOT or '(')",
        ),
        (
            ["--where", "event@type == 'x'"],
            "--where reads event@type; an export of profiles can test profile@... fields only.",
        ),
        (
            ["--where", 'count(events type "purchase") > 1'],
            '--where: count(events type "purchase") reads stored events; an export\'s condition '
            "tests profile@... fields only.",
        ),
        (
            ["--segment", "nope"],
            "--segment 'nope': no segment has this name or slug, and no profile carries it "
            "(segments: high-value).",
        ),
        (
            ["--since", "yesterday"],
            "--since 'yesterday': write a date (2026-05-01), a date and time "
            "(2026-05-01T12:00:00+02:00; UTC without a zone) or a duration ago (30d, 12h).",
        ),
        (["--since", "2026-03-01", "--until", "2026-02-01"], "--since must be before --until."),
        (["--columns", "id,,traits.plan"], "--columns: column 2 is empty (two commas in a row?)."),
        (
            ["--columns", "id,traits..plan"],
            "--columns: column 2 ('traits..plan'): Reference 'profile@traits..plan' has an "
            "empty key at offset 7",
        ),
        (
            ["-o", "/nonexistent/dir/out.csv"],
            "-o /nonexistent/dir/out.csv: the directory /nonexistent/dir does not exist.",
        ),
        (["--chunk-size", "0"], "--chunk-size must be at least 1."),
    ],
)
def test_bad_options_say_what_to_write(profiles, args, message):
    with pytest.raises(CommandError) as raised:
        export(*args)
    assert str(raised.value) == message


def test_the_database_rendered_lines_equal_the_documents(profiles):
    """A plain export writes PostgreSQL's JSON text; with --where the rows are decoded and
    encoded again in Python: the same documents either way."""
    plain, _ = export()
    decoded, _ = export("--where", "profile@id EXISTS")

    assert plain != decoded  # PostgreSQL's text, orjson's text
    assert lines(plain) == lines(decoded)
    assert plain.splitlines()[1] == (
        '{"id": "b", "aux": {}, "ids": [], "data": {"contact": {"email": {"main": '
        '"bo, \\"the\\" boss"}}}, "stats": {}, "active": true, "traits": {"plan": "free"}, '
        '"consents": {}, "metadata": {"time": {}, "fields": {}}, "segments": [], '
        '"interests": {}, "primary_id": null}'
    )
    assert decoded.splitlines()[1] == (
        '{"id":"b","primary_id":null,"ids":[],"active":true,"segments":[],"metadata":'
        '{"time":{},"fields":{}},"stats":{},"traits":{"plan":"free"},"interests":{},'
        '"consents":{},"aux":{},"data":{"contact":{"email":{"main":"bo, \\"the\\" boss"}}}}'
    )
