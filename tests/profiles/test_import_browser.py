"""The admin import in a real browser (issue 14): log in, upload a CSV, change a column's field,
start, watch the job page reach "Done" through a real Celery worker, check the counts and the
downloaded error file. Screenshots of each step go to /tmp/shots-imports/ for a person to look
at."""

import gzip
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from apps.profiles.models import ImportJob, Profile
from tests.support.celery_worker import celery_worker_factory, wait_for  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.worker]

SHOTS = Path("/tmp/shots-imports")
PEOPLE = (
    "E-mail,First name,Last name,Phone,Member since,Loyalty tier\n"
    "ann@example.com,Ann,Archer,+48 600 100 200,2021-03-04,gold\n"
    "bob(at)example.com,Bob,Baker,+48 600 100 201,2020-11-30,silver\n"
    "cy@example.com,Cy,Carter,,2019-01-15,bronze\n"
    "di@example.com,Di,Dunn,+48 600 100 203,2022-07-01,gold\n"
)


def shot(on: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    on.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def media(settings, tmp_path) -> Path:
    # The live server (this process) stores the upload, the worker reads it: one directory.
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_upload_map_run_and_see_the_result(
    page: Page,  # noqa: F811
    live_server,
    media,
    tmp_path,
    celery_worker_factory,  # noqa: F811
):
    celery_worker_factory(extra_env={"CDP_MEDIA_ROOT": str(media)})
    csv_path = tmp_path / "crm-export.csv"
    csv_path.write_text(PEOPLE)

    page.goto(f"{live_server.url}/admin/profiles/importjob/")
    page.get_by_role("link", name="Import profiles from a file").click()
    expect(page.locator("h1")).to_have_text("Import profiles: upload a file")
    page.set_input_files("#id_file", str(csv_path))
    shot(page, "1-upload")
    page.get_by_role("button", name="Upload and continue").click()

    expect(page.locator("h1")).to_have_text("Import profiles: columns of crm-export.csv")
    selects = {
        column: page.locator(f'tr[data-column="{column}"] select')
        for column in ("E-mail", "First name", "Last name", "Phone", "Member since")
    }
    expect(selects["E-mail"]).to_have_value("data.contact.email.main")
    expect(selects["First name"]).to_have_value("data.pii.firstname")
    expect(selects["Last name"]).to_have_value("data.pii.lastname")
    expect(selects["Phone"]).to_have_value("data.contact.phone.main")
    expect(selects["Member since"]).to_have_value("traits.member_since")
    preview = page.get_by_test_id("preview")
    expect(preview.locator('tr[data-line="3"]')).to_contain_text(
        "Skipped: E-mail address: expected an e-mail address, got 'bob(at)example.com'"
    )
    shot(page, "2-columns")

    # "Member since" is a date the loyalty card holds: choose the field, see it typed.
    selects["Member since"].select_option(label="Loyalty card: expires")
    page.get_by_test_id("refresh-preview").click()
    expect(preview.locator("thead")).to_contain_text("Loyalty card: expires")
    expect(preview.locator('tr[data-line="2"]')).to_contain_text("2021-03-04T00:00:00+00:00")
    shot(page, "3-preview-refreshed")

    page.get_by_test_id("start-import").click()
    expect(page.get_by_test_id("job-status")).to_have_text("Done", timeout=60_000)
    shot(page, "4-done")

    expect(page.get_by_test_id("count-created")).to_have_text("3")
    expect(page.get_by_test_id("count-updated")).to_have_text("0")
    expect(page.get_by_test_id("count-skipped")).to_have_text("1")
    expect(page.get_by_test_id("progress-text")).to_contain_text("4 rows read of 4")
    with page.expect_download() as download_info:
        page.get_by_test_id("error-file").click()
    download = download_info.value
    assert download.suggested_filename == "crm-export.errors.csv"
    assert Path(download.path()).read_text().splitlines() == [
        "line,error,E-mail,First name,Last name,Phone,Member since,Loyalty tier",
        "3,\"data.contact.email.main: expected an e-mail address, got 'bob(at)example.com'\","
        "bob(at)example.com,Bob,Baker,+48 600 100 201,2020-11-30,silver",
    ]
    ann = Profile.objects.get(data__contact__email__main="ann@example.com")
    assert ann.data["loyalty"]["card"]["expires"] == "2021-03-04T00:00:00+00:00"
    assert ann.traits == {"loyalty_tier": "gold"}

    # The page is the job's row: a reload shows the same.
    page.reload()
    expect(page.get_by_test_id("job-status")).to_have_text("Done")
    expect(page.get_by_test_id("count-created")).to_have_text("3")
    page.goto(f"{live_server.url}/admin/profiles/importjob/")
    expect(page.locator("#result_list")).to_contain_text("crm-export.csv")
    shot(page, "5-list")
    wait_for(lambda: ImportJob.objects.get().status == "done", message="the job is done")


def upload_and_start(on: Page, live_server, path: Path) -> None:
    on.goto(f"{live_server.url}/admin/profiles/importjob/add/")
    on.set_input_files("#id_file", str(path))
    on.get_by_role("button", name="Upload and continue").click()
    on.get_by_test_id("start-import").click()


def test_a_running_import_shows_its_progress_and_can_be_cancelled(
    page: Page,  # noqa: F811
    live_server,
    media,
    tmp_path,
    celery_worker_factory,  # noqa: F811
):
    celery_worker_factory(extra_env={"CDP_MEDIA_ROOT": str(media)})
    path = tmp_path / "big.csv"
    rows = 200_000
    path.write_text("Email,First name\n" + "".join(f"p{n}@example.com,P{n}\n" for n in range(rows)))

    upload_and_start(page, live_server, path)

    expect(page.get_by_test_id("job-status")).to_have_text("Running", timeout=60_000)
    # The page polls: the counts grow without a reload.
    expect(page.get_by_test_id("count-created")).not_to_have_text("0", timeout=60_000)
    expect(page.get_by_test_id("progress-text")).to_contain_text(f"of {rows:,}")
    shot(page, "6-running")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("cancel").click()
    expect(page.get_by_test_id("job-status")).to_have_text("Cancelled", timeout=60_000)
    shot(page, "7-cancelled")

    job = ImportJob.objects.get()
    assert job.status == "cancelled"
    assert 0 < job.rows < rows
    assert job.created == Profile.objects.count()
    expect(page.get_by_test_id("job-reason")).to_have_text(
        f"Cancelled by marketer after {job.rows:,} rows; the rows imported before that stay."
    )


def test_a_failed_import_says_why(
    page: Page,  # noqa: F811
    live_server,
    media,
    tmp_path,
    celery_worker_factory,  # noqa: F811
):
    celery_worker_factory(extra_env={"CDP_MEDIA_ROOT": str(media)})
    whole = gzip.compress(
        (
            "Email,First name\n" + "".join(f"p{n}@example.com,{'x' * 50}\n" for n in range(20_000))
        ).encode()
    )
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])

    upload_and_start(page, live_server, path)

    expect(page.get_by_test_id("job-status")).to_have_text("Failed", timeout=60_000)
    expect(page.get_by_test_id("job-reason")).to_contain_text(
        "cut.csv.gz is a gzip file that is damaged or cut short after line"
    )
    shot(page, "8-failed")
