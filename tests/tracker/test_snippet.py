"""The tracker build, its files under /tracker/, the snippet, and who may open which page."""

import json
import re

import pytest
from django.core.management import call_command
from django.test import Client

from apps.sources.services import event_source_create
from apps.tracking.snippet import (
    BUILD_DIR,
    tracker_build,
    tracker_file_read,
    tracker_snippet_render,
)


def options_of(snippet: str) -> dict:
    match = re.search(r"const options = (\{.*?\});\n", snippet, re.S)
    return json.loads(match.group(1))


def test_build_tracker_writes_readable_and_minified_files(capsys):
    call_command("build_tracker")

    readable = (BUILD_DIR / "index.js").read_text()
    minified = (BUILD_DIR / "index.min.js").read_text()
    assert readable.startswith("/*! CDP tracker.js ")
    assert minified.startswith("/*! CDP tracker.js ")
    assert readable.splitlines()[0] == minified.splitlines()[0]  # same source version
    assert len(minified) < 0.7 * len(readable)
    assert "win.tracardi.default = api;" in readable
    assert (BUILD_DIR / "loader.min.js").read_text().startswith("/*! CDP loader.js ")
    assert "index.min.js:" in capsys.readouterr().out


def test_a_missing_build_is_made_when_first_read(tmp_path):
    build_dir = tmp_path / "build"

    code = tracker_file_read("index.min.js", build_dir=build_dir)

    assert code == (build_dir / "index.min.js").read_text()
    assert sorted(path.name for path in build_dir.iterdir()) == [
        "index.js",
        "index.min.js",
        "loader.js",
        "loader.min.js",
        "widgets",
    ]
    assert sorted(path.name for path in (build_dir / "widgets").iterdir()) == [
        "consent.js",
        "contact.js",
        "message.js",
        "question.js",
        "rating.js",
    ]


@pytest.mark.parametrize("name", ["index.min.js", "liliput.min.js", "tracker.min.js"])
def test_the_tracker_is_served_under_the_names_tracardi_loaders_ask_for(name, db):
    tracker_build()

    response = Client().get(f"/tracker/{name}", HTTP_ORIGIN="https://shop.example")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert response.content.decode() == (BUILD_DIR / "index.min.js").read_text()
    assert response["Cache-Control"] == "public, max-age=300"
    assert response["Access-Control-Allow-Origin"] == "https://shop.example"


def test_the_readable_tracker_is_served_too(db):
    tracker_build()
    response = Client().get("/tracker/index.js")
    assert response.content.decode() == (BUILD_DIR / "index.js").read_text()


def test_an_unknown_tracker_file_is_404(db):
    response = Client().get("/tracker/other.js")
    assert response.status_code == 404


def test_the_snippet_has_tracardis_shape_with_this_servers_urls(settings):
    settings.CDP_PUBLIC_URL = "https://cdp.example.com"

    snippet = tracker_snippet_render(source_id="web-1")

    assert snippet.startswith("<script>\n    const options = {")
    assert snippet.endswith("</script>")
    assert options_of(snippet) == {
        "tracker": {
            "url": {"script": "https://cdp.example.com/tracker", "api": "https://cdp.example.com"},
            "source": {"id": "web-1"},
        }
    }
    assert tracker_file_read("loader.min.js").strip() in snippet


def test_the_snippet_cannot_be_broken_out_of(settings):
    snippet = tracker_snippet_render(
        source_id="x</script><script>alert(1)</script>", public_url="https://cdp.example.com"
    )

    assert snippet.count("</script>") == 1
    assert options_of(snippet)["tracker"]["source"]["id"] == "x</script><script>alert(1)</script>"


def test_the_snippet_carries_auto_events_triggers_and_settings():
    auto = {
        "events": [["page-view", {}]],
        "triggers": [{"tag": "t", "trigger": "onClick", "data": {"event": "c"}}],
    }

    snippet = tracker_snippet_render(
        source_id="web-1",
        public_url="https://cdp.example.com/",
        auto=auto,
        tracker_settings={"respectDoNotTrack": True},
    )

    tracker = options_of(snippet)["tracker"]
    assert tracker["url"] == {
        "script": "https://cdp.example.com/tracker",
        "api": "https://cdp.example.com",
    }
    assert tracker["auto"] == auto
    assert tracker["settings"] == {"respectDoNotTrack": True}


@pytest.fixture
def staff_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_the_test_page_needs_a_staff_login(db):
    event_source_create(name="Web", source_id="web-1")

    response = Client().get("/tracker/test/web-1/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_test_page_loads_the_snippet_of_its_source(staff_client, settings):
    settings.CDP_PUBLIC_URL = "https://cdp.example.com"
    event_source_create(name="Web", source_id="web-1")

    response = staff_client.get("/tracker/test/web-1/")

    assert response.status_code == 200
    page = response.content.decode()
    assert options_of(page)["tracker"]["source"] == {"id": "web-1"}
    assert 'data-tracardi-tag="test-button"' in page
    assert "source-warning" not in page


def test_the_test_page_warns_about_a_source_track_refuses(staff_client):
    event_source_create(name="Hook", source_id="hook-1", bridge="webhook")
    event_source_create(name="Off", source_id="off-1", enabled=False)

    hook = staff_client.get("/tracker/test/hook-1/").content.decode()
    off = staff_client.get("/tracker/test/off-1/").content.decode()

    assert "/track accepts REST API sources only" in hook
    assert "This source is disabled" in off


def test_the_test_page_of_an_unknown_source_is_404(staff_client):
    assert staff_client.get("/tracker/test/nope/").status_code == 404


def test_the_demo_is_hidden_outside_development_from_anonymous_visitors(db, settings):
    settings.DEBUG = False
    assert Client().get("/tracker/demo/").status_code == 404


def test_the_demo_is_served_in_development(db, settings):
    settings.DEBUG = True
    call_command("ensure_demo_source")

    response = Client().get("/tracker/demo/")

    assert response.status_code == 200
    page = response.content.decode()
    assert options_of(page)["tracker"]["source"] == {"id": "demo-source"}
    assert "source-warning" not in page


def test_the_demo_says_how_to_create_its_source(staff_client, settings):
    settings.DEBUG = False
    response = staff_client.get("/tracker/demo/")
    assert response.status_code == 200
    assert "python manage.py ensure_demo_source" in response.content.decode()


def test_the_admin_shows_the_snippet_and_test_page_of_a_rest_source(staff_client, settings):
    settings.CDP_PUBLIC_URL = "https://cdp.example.com"
    event_source_create(name="Web", source_id="web-1")

    response = staff_client.get("/admin/sources/eventsource/web-1/change/")

    page = response.content.decode()
    textarea = re.search(r'<textarea[^>]*id="tracker-snippet"[^>]*>(.*?)</textarea>', page, re.S)
    shown = (
        textarea.group(1)
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
    )
    assert shown == tracker_snippet_render(source_id="web-1")
    assert 'href="/tracker/test/web-1/"' in page


def test_the_admin_shows_no_snippet_for_other_bridges(staff_client):
    event_source_create(name="Hook", source_id="hook-1", bridge="webhook")

    page = staff_client.get("/admin/sources/eventsource/hook-1/change/").content.decode()

    assert 'id="tracker-snippet"' not in page
    assert "The JavaScript snippet is for event sources with bridge REST API" in page
