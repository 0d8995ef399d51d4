"""The admin's event import in a real browser with a real Celery worker: upload a JSON Lines
file with a source, watch it reach "Done", check the counts and the skipped event. Screenshots
go to /tmp/shots-imports/."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from apps.events.models import Event
from tests.profiles.factories import ProfileFactory
from tests.profiles.test_import_browser import media, shot  # noqa: F401  (fixture)
from tests.sources.factories import EventSourceFactory
from tests.support.celery_worker import celery_worker_factory  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_upload_events_and_see_the_result(
    page: Page,  # noqa: F811
    live_server,
    media,  # noqa: F811
    tmp_path,
    celery_worker_factory,  # noqa: F811
):
    celery_worker_factory(extra_env={"CDP_MEDIA_ROOT": str(media)})
    EventSourceFactory(name="Old shop")
    ProfileFactory(id="ann")
    path = tmp_path / "history.jsonl"
    events = [
        {"id": "h1", "type": "purchase", "time": "2023-01-02T10:00:00Z", "profile": {"id": "ann"}},
        {"id": "h2", "type": "page-view", "time": "2023-01-03T10:00:00Z", "profile": {"id": "ann"}},
        {"id": "h3", "type": "purchase", "time": "last week", "profile": {"id": "ann"}},
    ]
    path.write_text("".join(json.dumps(event) + "\n" for event in events))

    page.goto(f"{live_server.url}/admin/events/eventimportjob/")
    page.get_by_role("link", name="Import events from a file").click()
    page.set_input_files("#id_file", str(path))
    page.select_option("#id_source", label="Old shop")
    shot(page, "9-events-upload")
    page.get_by_role("button", name="Upload and import").click()

    expect(page.get_by_test_id("job-status")).to_have_text("Done", timeout=60_000)
    expect(page.get_by_test_id("count-stored")).to_have_text("2")
    expect(page.get_by_test_id("count-already_stored")).to_have_text("0")
    expect(page.get_by_test_id("count-skipped")).to_have_text("1")
    shot(page, "10-events-done")
    with page.expect_download() as download_info:
        page.get_by_test_id("error-file").click()
    [skipped] = Path(download_info.value.path()).read_text().splitlines()
    assert json.loads(skipped)["line"] == 3
    assert sorted(Event.objects.values_list("pk", flat=True)) == ["h1", "h2"]
