"""manage.py import_profiles (issue 14): every option, each bad file, re-runs and merges."""

import csv
import gzip
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from apps.destinations.models import Delivery
from apps.profiles.models import ErasureRecord, MergeRecord, Profile
from apps.profiles.services.imports import readers
from tests.destinations.factories import DestinationFactory
from tests.profiles.factories import ProfileFactory, SegmentFactory
from tests.support.celery_worker import worker_database_url

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def run(*args, stdin: bytes | None = None, monkeypatch=None) -> str:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(stdin))))
    call_command("import_profiles", *[str(arg) for arg in args], stdout=out, stderr=err)
    return out.getvalue()


def write(path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def summary(output: str) -> dict:
    counts = {}
    for line in output.splitlines():
        name, separator, rest = line.strip().partition(":")
        if separator and name in ("created", "updated", "unchanged", "merged", "skipped"):
            counts[name] = int(rest.split()[0])
    return counts


def error_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


PEOPLE = (
    "id,data.contact.email.main,data.pii.firstname,traits.plan,data.job.company.size,"
    "active,data.pii.birthday,interests.shoes\n"
    "p1,ann@example.com,Ann,pro,12,yes,1990-05-31,0.5\n"
    "p2,bob@example.com,Bob,free,3,no,,\n"
)


def test_csv_rows_become_profiles_with_typed_values(tmp_path):
    path = write(tmp_path / "people.csv", PEOPLE)

    output = run(path)

    assert summary(output) == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "merged": 0,
        "skipped": 0,
    }
    assert "Imported " + str(path) + " (csv): 2 rows in" in output
    assert "skipped:   0 (no error file)" in output
    ann = Profile.objects.get(pk="p1")
    assert ann.data["contact"]["email"] == {"main": "ann@example.com"}
    assert ann.data["pii"] == {"firstname": "Ann", "birthday": "1990-05-31T00:00:00+00:00"}
    assert ann.data["job"] == {"company": {"size": 12}}
    assert ann.traits == {"plan": "pro"}
    assert ann.interests == {"shoes": 0.5}
    assert ann.active is True
    # An id from a file is not a server-issued secret (identity rules).
    assert ann.static_ids == ["p1"]
    assert sorted(ann.metadata["fields"]) == [
        "data.contact.email.main",
        "data.job.company.size",
        "data.pii.birthday",
        "data.pii.firstname",
        "interests.shoes",
        "traits.plan",
    ]
    bob = Profile.objects.get(pk="p2")
    assert bob.active is False
    assert bob.data["pii"] == {"firstname": "Bob"}
    assert "active" in bob.metadata["fields"]
    assert not (tmp_path / "people.csv.errors.csv").exists()


def test_a_second_run_of_the_same_file_changes_nothing(tmp_path):
    path = write(tmp_path / "people.csv", PEOPLE)
    run(path)
    before = {p.pk: (p.updated, p.metadata, p.data, p.traits) for p in Profile.objects.all()}

    output = run(path)

    assert summary(output) == {
        "created": 0,
        "updated": 0,
        "unchanged": 2,
        "merged": 0,
        "skipped": 0,
    }
    after = {p.pk: (p.updated, p.metadata, p.data, p.traits) for p in Profile.objects.all()}
    assert after == before


def test_a_changed_value_updates_only_that_field_and_its_timestamp(tmp_path):
    run(write(tmp_path / "a.csv", PEOPLE))
    stamps = Profile.objects.get(pk="p1").metadata["fields"]

    output = run(write(tmp_path / "b.csv", "id,traits.plan\np1,team\n"))

    assert summary(output)["updated"] == 1
    ann = Profile.objects.get(pk="p1")
    assert ann.traits == {"plan": "team"}
    changed = {name for name, stamp in ann.metadata["fields"].items() if stamp != stamps[name]}
    assert changed == {"traits.plan"}
    assert ann.metadata["time"]["update"] == ann.metadata["fields"]["traits.plan"]


def test_match_by_email_updates_the_same_people_in_any_case(tmp_path):
    stored = ProfileFactory(data={"contact": {"email": {"main": "Ann@Example.com"}}})
    path = write(
        tmp_path / "crm.csv",
        "data.contact.email.main,traits.plan\nann@example.COM,pro\nnew@example.com,free\n",
    )

    output = run(path, "--match", "data.contact.email.main")

    assert summary(output) == {
        "created": 1,
        "updated": 1,
        "unchanged": 0,
        "merged": 0,
        "skipped": 0,
    }
    stored.refresh_from_db()
    assert stored.traits == {"plan": "pro"}
    assert stored.data["contact"]["email"]["main"] == "ann@example.COM"
    new = Profile.objects.exclude(pk=stored.pk).get()
    assert new.static_ids == []
    assert new.data["contact"]["email"] == {"main": "new@example.com"}
    assert summary(run(path, "--match", "data.contact.email.main"))["unchanged"] == 2
    assert Profile.objects.count() == 2


def test_two_profiles_sharing_an_email_are_merged_into_the_oldest(tmp_path):
    oldest = ProfileFactory(
        data={"contact": {"email": {"main": "ann@example.com"}}}, traits={"visits": 2}
    )
    Profile.objects.filter(pk=oldest.pk).update(created="2020-01-01T00:00:00Z")
    newer = ProfileFactory(
        data={"contact": {"email": {"main": "ANN@example.com"}}}, traits={"visits": 3}
    )
    path = write(tmp_path / "crm.csv", "data.contact.email.main,traits.plan\nann@example.com,pro\n")

    output = run(path, "--match", "data.contact.email.main")

    assert summary(output) == {
        "created": 0,
        "updated": 1,
        "unchanged": 0,
        "merged": 1,
        "skipped": 0,
    }
    survivor = Profile.objects.get()
    assert survivor.pk == oldest.pk
    assert survivor.ids == [newer.pk]
    # The merge service's rules: numbers add; then the row's value is written.
    assert survivor.traits == {"visits": 5, "plan": "pro"}
    record = MergeRecord.objects.get()
    assert (record.survivor_id, record.merged_ids) == (oldest.pk, [newer.pk])
    assert record.actor == "manage.py import_profiles"


def test_two_rows_for_one_email_make_one_profile(tmp_path):
    path = write(
        tmp_path / "crm.csv",
        "data.contact.email.main,data.pii.firstname,traits.plan\n"
        "ann@example.com,Ann,free\nANN@example.com,,pro\n",
    )

    output = run(path, "--match", "data.contact.email.main")

    assert summary(output) == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "merged": 0,
        "skipped": 0,
    }
    profile = Profile.objects.get()
    assert profile.traits == {"plan": "pro"}
    assert profile.data["pii"] == {"firstname": "Ann"}
    assert profile.data["contact"]["email"]["main"] == "ANN@example.com"


def test_a_merged_id_finds_the_survivor(tmp_path):
    survivor = ProfileFactory(id="keep", ids=["gone"])
    output = run(write(tmp_path / "p.csv", "id,traits.plan\ngone,pro\n"))
    assert summary(output)["updated"] == 1
    survivor.refresh_from_db()
    assert survivor.traits == {"plan": "pro"}
    assert Profile.objects.count() == 1


def test_an_erased_persons_id_is_never_used_again(tmp_path):
    ErasureRecord.objects.create(
        profile_ids=["gone", "old"],
        actor="t",
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        status=ErasureRecord.Status.DONE,
    )
    path = write(tmp_path / "p.csv", "id,traits.plan\nold,pro\nnew,pro\n")

    output = run(path)

    assert summary(output) == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "merged": 0,
        "skipped": 1,
    }
    assert list(Profile.objects.values_list("pk", flat=True)) == ["new"]
    assert error_rows(tmp_path / "p.csv.errors.csv")[1] == [
        "2",
        "the id 'old' belonged to an erased person and is never used again",
        "old",
        "pro",
    ]


def test_empty_cells_keep_data_unless_empty_clear(tmp_path):
    ProfileFactory(
        id="p1",
        data={"pii": {"firstname": "Ann", "lastname": "Lee"}, "contact": {"email": {}}},
        traits={"plan": "pro"},
    )
    path = write(tmp_path / "p.csv", "id,data.pii.firstname,traits.plan\np1,,\n")

    assert summary(run(path))["unchanged"] == 1
    profile = Profile.objects.get()
    assert (profile.data["pii"], profile.traits) == (
        {"firstname": "Ann", "lastname": "Lee"},
        {"plan": "pro"},
    )

    output = run(path, "--empty", "clear")

    assert summary(output)["updated"] == 1
    profile.refresh_from_db()
    assert profile.data["pii"] == {"lastname": "Lee"}
    assert profile.traits == {}
    assert {"data.pii.firstname", "traits.plan"} <= set(profile.metadata["fields"])


def test_mapping_imports_a_crm_export_with_its_own_headers(tmp_path):
    path = write(
        tmp_path / "crm.csv",
        "Customer No,E-mail,First name,Plan,Score,VIP\n"
        "C-1,ann@example.com,Ann,pro,7,yes\n"
        "C-2,bob@example.com,Bob,,x,no\n",
    )
    mapping = tmp_path / "mapping.json"
    mapping.write_text(
        json.dumps(
            {
                "data.contact.email.main": "row@E-mail",
                "data.pii": {"firstname": 'row@["First name"]'},
                "traits": {"customer_number": 'row@["Customer No"]', "plan?": "row@Plan"},
                "traits.score": "row@Score",
                "traits.vip": "row@VIP",
                "aux.source": "crm",
            }
        )
    )

    output = run(
        path,
        "--mapping",
        mapping,
        "--match",
        "traits.customer_number",
        "--type",
        "traits.score=integer",
        "--type",
        "traits.vip=boolean",
    )

    assert summary(output) == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "merged": 0,
        "skipped": 1,
    }
    profile = Profile.objects.get()
    assert profile.traits == {"customer_number": "C-1", "plan": "pro", "score": 7, "vip": True}
    assert profile.aux == {"source": "crm"}
    assert profile.data["pii"] == {"firstname": "Ann"}
    rows = error_rows(tmp_path / "crm.csv.errors.csv")
    assert rows == [
        ["line", "error", "Customer No", "E-mail", "First name", "Plan", "Score", "VIP"],
        [
            "3",
            "traits.score: expected a number, got 'x'",
            "C-2",
            "bob@example.com",
            "Bob",
            "",
            "x",
            "no",
        ],
    ]
    # Re-run: matched by the customer number, nothing changes.
    again = run(
        path,
        "--mapping",
        mapping,
        "--match",
        "traits.customer_number",
        "--type",
        "traits.score=integer",
        "--type",
        "traits.vip=boolean",
    )
    assert summary(again)["unchanged"] == 1


def test_a_mapping_that_reads_a_column_the_file_lacks_stops_before_writing(tmp_path):
    path = write(tmp_path / "crm.csv", "ann@example.com,Ann\n")
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"data.contact.email.main": "row@Email"}))
    with pytest.raises(
        CommandError, match=r"reads row@Email, but the header .* Is the header missing"
    ):
        run(path, "--mapping", mapping)
    assert Profile.objects.count() == 0


def test_a_mapping_to_an_unknown_field_is_refused(tmp_path):
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"segments": "row@S"}))
    with pytest.raises(CommandError, match="segments is kept by the CDP"):
        run(write(tmp_path / "a.csv", "S\nx\n"), "--mapping", mapping)


def test_json_lines_and_json_arrays_nested_or_dotted(tmp_path):
    lines = write(
        tmp_path / "people.jsonl",
        '{"id": "j1", "data": {"contact": {"email": {"main": "a@example.com"}}}, '
        '"traits": {"n": 3}}\n'
        "\n"
        '{"id": "j2", "data.pii.firstname": "Bo", "interests": {"x": "2"}}\n',
    )
    array = write(
        tmp_path / "people.json",
        '[{"id": "j3", "active": false, "traits": {"tags": ["a", "b"]}},\n {"id": "j4"}]',
    )

    assert summary(run(lines))["created"] == 2
    assert summary(run(array))["created"] == 2

    j1 = Profile.objects.get(pk="j1")
    assert (j1.data["contact"]["email"], j1.traits) == ({"main": "a@example.com"}, {"n": 3})
    j2 = Profile.objects.get(pk="j2")
    assert (j2.data["pii"], j2.interests) == ({"firstname": "Bo"}, {"x": 2})
    j3 = Profile.objects.get(pk="j3")
    assert (j3.active, j3.traits) == (False, {"tags": ["a", "b"]})


def test_gzip_by_magic_bytes_and_standard_input(tmp_path, monkeypatch):
    data = gzip.compress(PEOPLE.encode())
    # No .gz in the name: the magic bytes tell.
    path = tmp_path / "people.csv"
    path.write_bytes(data)
    assert summary(run(path))["created"] == 2

    Profile.objects.all().delete()
    output = run("-", stdin=data, monkeypatch=monkeypatch)
    assert "Imported standard input (csv): 2 rows" in output
    assert Profile.objects.count() == 2

    Profile.objects.all().delete()
    output = run("-", stdin=b'{"id": "s1"}\n{"id": "s2"}\n', monkeypatch=monkeypatch)
    assert "(jsonl)" in output
    assert sorted(Profile.objects.values_list("pk", flat=True)) == ["s1", "s2"]


def test_bad_rows_are_skipped_and_written_with_line_and_reason(tmp_path):
    path = write(
        tmp_path / "people.csv",
        "id,data.contact.email.main,data.job.salary,data.pii.birthday,active\n"
        "ok1,ann@example.com,100.5,1990-01-02,true\n"
        "bad1,not-an-email,,,\n"
        "bad2,bob@example.com,lots,,\n"
        "bad3,,,31/12/1990,\n"
        '"multi\nline",,,,maybe\n'
        "bad5,too,many,cells,here,x\n"
        "ok2,cid@example.com,,,\n",
    )

    output = run(path)

    errors = tmp_path / "people.csv.errors.csv"
    assert summary(output) == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "merged": 0,
        "skipped": 5,
    }
    assert f"skipped:   5 (written to {errors})" in output
    assert error_rows(errors) == [
        [
            "line",
            "error",
            "id",
            "data.contact.email.main",
            "data.job.salary",
            "data.pii.birthday",
            "active",
        ],
        [
            "3",
            "data.contact.email.main: expected an e-mail address, got 'not-an-email'",
            "bad1",
            "not-an-email",
            "",
            "",
            "",
        ],
        [
            "4",
            "data.job.salary: expected a number, got 'lots'",
            "bad2",
            "bob@example.com",
            "lots",
            "",
            "",
        ],
        [
            "5",
            "data.pii.birthday: expected a date (ISO 8601, e.g. 1990-05-31 or "
            "2024-01-31T12:00:00Z), got '31/12/1990'",
            "bad3",
            "",
            "",
            "31/12/1990",
            "",
        ],
        [
            "6",
            "active: expected true or false (yes/no, 1/0), got 'maybe'",
            "multi\nline",
            "",
            "",
            "",
            "maybe",
        ],
        [
            "8",
            "the row has 6 value(s), the header has 5 column(s)",
            "bad5",
            "too",
            "many",
            "cells",
            "here",
            "x",
        ],
    ]
    assert sorted(Profile.objects.values_list("pk", flat=True)) == ["ok1", "ok2"]


def test_json_lines_errors_broken_json_unknown_field_and_wrong_type(tmp_path):
    path = write(
        tmp_path / "p.jsonl",
        '{"id": "a", "traits": {"x": 1}}\n'
        '{"id": "b", "traits": \n'
        '{"id": "c", "colour": "red"}\n'
        '{"id": "d", "data": {"contact": {"email": {"main": 5}}}}\n'
        "[1, 2]\n"
        '{"id": "e", "stats": {"visits": 3}}\n',
    )
    errors = tmp_path / "errors.jsonl"

    output = run(path, "--errors", errors)

    assert summary(output) == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "merged": 0,
        "skipped": 5,
    }
    written = [json.loads(line) for line in errors.read_text().splitlines()]
    assert [(row["line"], row["error"].split(":")[0]) for row in written] == [
        (2, "broken JSON"),
        (
            3,
            "colour is not a profile field (set data.* fields of the profile schema, traits.*, "
            "aux.*, interests.*, id, primary_id or active; map other columns with --mapping)",
        ),
        (4, "data.contact.email.main"),
        (5, "expected a JSON object ({...}), got list"),
        (6, "stats.visits"),
    ]
    assert written[2]["error"] == "data.contact.email.main: expected an e-mail address, got 5"
    assert written[2]["row"] == {"id": "d", "data": {"contact": {"email": {"main": 5}}}}
    assert written[0]["row"] == '{"id": "b", "traits": '
    assert written[4]["error"] == "stats.visits: stats is kept by the CDP and cannot be imported"


def test_dry_run_reports_and_writes_nothing(tmp_path):
    ProfileFactory(id="p1", traits={"plan": "old"})
    path = write(tmp_path / "people.csv", PEOPLE + "p3,bad,,,,,,\n")

    output = run(path, "--dry-run")

    assert summary(output) == {
        "created": 1,
        "updated": 1,
        "unchanged": 0,
        "merged": 0,
        "skipped": 1,
    }
    assert "Dry run of" in output and "Dry run: nothing was written." in output
    assert Profile.objects.get().traits == {"plan": "old"}
    assert (tmp_path / "people.csv.errors.csv").exists()


def test_live_segments_are_recomputed_unless_no_sync(tmp_path):
    segment = SegmentFactory(name="Pro", condition='profile@traits.plan == "pro"')
    path = write(tmp_path / "a.csv", "id,traits.plan\np1,pro\n")
    run(path)
    assert Profile.objects.get(pk="p1").segments == [segment.slug]

    run(write(tmp_path / "b.csv", "id,traits.plan\np2,pro\n"), "--no-sync")
    assert Profile.objects.get(pk="p2").segments == []


def test_destination_syncs_are_scheduled_unless_no_sync(tmp_path):
    destination = DestinationFactory(delay_seconds=30)
    run(write(tmp_path / "a.csv", "id,traits.plan\np1,pro\n"))
    delivery = Delivery.objects.get()
    assert (delivery.destination_id, delivery.profile_id, delivery.status) == (
        destination.pk,
        "p1",
        Delivery.Status.PENDING,
    )
    assert delivery.changed_fields == ["traits.plan"]

    run(write(tmp_path / "b.csv", "id,traits.plan\np2,pro\n"), "--no-sync")
    assert Delivery.objects.count() == 1
    # A re-run changes nothing, so it schedules nothing either.
    run(tmp_path / "a.csv")
    assert Delivery.objects.get().changed_fields == ["traits.plan"]


def test_format_option_overrides_the_extension(tmp_path):
    path = write(tmp_path / "export.csv", '{"id": "f1", "traits": {"plan": "pro"}}\n')
    output = run(path, "--format", "jsonl")
    assert "(jsonl): 1 rows" in output
    assert Profile.objects.get().traits == {"plan": "pro"}


def test_type_and_match_options_are_checked(tmp_path):
    path = write(tmp_path / "a.csv", "id\nx\n")
    with pytest.raises(CommandError, match=r"data.job.salary is always a number"):
        run(path, "--type", "data.job.salary=text")
    with pytest.raises(CommandError, match=r"write PATH=KIND"):
        run(path, "--type", "traits.age")
    with pytest.raises(CommandError, match=r"an identifier lives under data, traits, aux"):
        run(path, "--match", "segments")


def test_rows_without_the_match_value_are_skipped(tmp_path):
    path = write(tmp_path / "a.csv", "data.contact.email.main,traits.plan\n,pro\n")
    output = run(path, "--match", "data.contact.email.main")
    assert summary(output)["skipped"] == 1
    assert error_rows(tmp_path / "a.csv.errors.csv")[1][:2] == [
        "2",
        "no value to match by: data.contact.email.main is empty or missing",
    ]


# --- bad files ----------------------------------------------------------------------------


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_an_empty_file_is_refused(tmp_path, content):
    path = write(tmp_path / "empty.csv", content)
    with pytest.raises(CommandError, match=r"empty.csv is empty: there is nothing to import"):
        run(path)


def test_a_file_without_a_header_is_refused(tmp_path):
    path = write(tmp_path / "p.csv", "ann@example.com,Ann,pro\n")
    with pytest.raises(CommandError) as raised:
        run(path)
    assert str(raised.value) == (
        f"The header of {path} (line 1) names columns that are not profile fields: "
        "ann@example.com, Ann, pro. The first line looks like data: the file needs a header "
        "line naming the fields."
    )


def test_unknown_header_columns_are_named(tmp_path):
    path = write(tmp_path / "p.csv", "id,Email\nx,y\n")
    with pytest.raises(
        CommandError, match=r"not profile fields: Email. Rename them .* --mapping FILE"
    ):
        run(path)
    assert Profile.objects.count() == 0


def test_a_file_in_another_encoding_skips_its_lines_with_a_hint(tmp_path):
    path = write(tmp_path / "p.csv", "id,data.pii.firstname\np1,Zoë\np2,Ann\n", encoding="latin-1")

    output = run(path)

    assert summary(output)["created"] == 1
    assert error_rows(tmp_path / "p.csv.errors.csv")[1][:2] == [
        "2",
        "the line is not valid utf-8 (byte 0xeb at column 6); convert the file to UTF-8 or "
        "pass --encoding, e.g. --encoding latin-1",
    ]
    Profile.objects.all().delete()
    assert summary(run(path, "--encoding", "latin-1"))["created"] == 2
    assert Profile.objects.get(pk="p1").data["pii"] == {"firstname": "Zoë"}


def test_a_utf16_file_is_refused_with_the_conversion(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes("id\np1\n".encode("utf-16"))
    with pytest.raises(CommandError, match=r"is UTF-16; convert it to UTF-8 first"):
        run(path)


def test_broken_quotes_fail_their_row_only(tmp_path):
    path = write(
        tmp_path / "p.csv",
        'id,data.pii.firstname\np1,"Ann"x\np2,Bob\np3,"unclosed\n',
    )

    output = run(path)

    assert summary(output) == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "merged": 0,
        "skipped": 2,
    }
    rows = error_rows(tmp_path / "p.csv.errors.csv")
    assert rows[1][:2] == [
        "2",
        "the row is not valid CSV (',' expected after '\"'); "
        "quote values that hold commas or quotes",
    ]
    assert rows[2][0] == "4"
    assert rows[2][1].startswith("a quoted value is not closed (lines 4-4")


def test_a_huge_line_fails_its_row_not_the_process(tmp_path):
    huge = "x" * (readers.MAX_LINE_BYTES * 3)
    path = write(tmp_path / "p.csv", f"id,traits.note\np1,{huge}\np2,small\n")
    lines = write(
        tmp_path / "p.jsonl", f'{{"id": "j1", "traits": {{"n": "{huge}"}}}}\n{{"id": "j2"}}\n'
    )

    assert summary(run(path)) == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "merged": 0,
        "skipped": 1,
    }
    assert error_rows(tmp_path / "p.csv.errors.csv")[1] == [
        "2",
        "the line is longer than 1,048,576 bytes (the limit); skipped",
    ]
    assert summary(run(lines))["skipped"] == 1
    assert sorted(Profile.objects.values_list("pk", flat=True)) == ["j2", "p2"]


def test_a_gzip_file_cut_short_stops_with_a_message(tmp_path):
    data = gzip.compress(("id\n" + "".join(f"p{n}\n" for n in range(5000))).encode())
    path = tmp_path / "p.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CommandError, match=r"is a gzip file that is damaged or cut short"):
        run(path, "--batch-size", "100")


def test_a_broken_json_array_stops_with_a_message(tmp_path):
    path = write(tmp_path / "p.json", '[{"id": "a"}, {"id": "b"}, {"id": ')
    with pytest.raises(CommandError, match=r"not a valid JSON array after item 2 .* JSON Lines"):
        run(path)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(CommandError, match=r"Cannot open .*nope.csv: No such file"):
        run(tmp_path / "nope.csv")


# --- interruption -------------------------------------------------------------------------


def completed_early_message(process) -> str:
    return f"the import was not killed in time (exit {process.returncode})"


@pytest.mark.django_db(transaction=True)
def test_a_killed_import_leaves_whole_batches_and_a_rerun_completes_it(tmp_path):
    rows = 12_000  # 57 batches of 200 left when the test kills it at 600 stored: never done first
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("data.contact.email.main,traits.n\n")
        for number in range(rows):
            handle.write(f"p{number}@example.com,{number}\n")
    env = {**os.environ, "DATABASE_URL": worker_database_url(), "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable,
        "manage.py",
        "import_profiles",
        str(path),
        "--match",
        "data.contact.email.main",
        "--batch-size",
        "200",
        "--type",
        "traits.n=integer",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while Profile.objects.count() < 600:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "the import did not get going"
            time.sleep(0.01)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    stored = Profile.objects.count()
    assert 600 <= stored < rows, completed_early_message(process)
    assert stored % 200 == 0  # whole batches only

    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)

    assert completed.returncode == 0, completed.stderr
    assert summary(completed.stdout) == {
        "created": rows - stored,
        "updated": 0,
        "unchanged": stored,
        "merged": 0,
        "skipped": 0,
    }
    assert Profile.objects.count() == rows
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT lower(data #>> '{contact,email,main}')), "
            "sum((traits->>'n')::int) FROM profiles_profile"
        )
        assert cursor.fetchone() == (rows, rows * (rows - 1) // 2)
