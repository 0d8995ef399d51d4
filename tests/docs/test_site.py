"""The manual as its readers get it: built strictly from docs/, served under /docs/ (or a page
saying how to build it), linked from the admin's header, and read in Chromium without a single
request to another host (fonts, scripts and the search index all come from the CDP).
Screenshots of the built site go to /tmp/shots-docs/ for a person to look at."""

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from apps import notation
from cdp.docsite.build import build_site
from tests.docs.examples import DOCS, fenced_blocks

SHOTS = Path("/tmp/shots-docs")
GRAMMAR = Path(notation.__file__).parent / "grammar.lark"


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("docs-site")
    assert build_site(target) == 0, "mkdocs build --strict failed (its warnings are above)"
    return target


def test_docs_not_built_says_how_to_build_them(client, settings, tmp_path):
    settings.CDP_DOCS_ROOT = tmp_path / "not-built"
    answer = client.get("/docs/")
    assert answer.status_code == 404
    assert "<pre>python3 run.py docs</pre>" in answer.content.decode()
    assert client.get("/docs/concepts/notation/").status_code == 404


def test_the_built_site_is_served_under_docs(client, settings, built_site):
    settings.CDP_DOCS_ROOT = built_site
    home = client.get("/docs/")
    assert home.status_code == 200
    assert '<h1 id="cdp-manual">CDP manual' in b"".join(home.streaming_content).decode()
    moved = client.get("/docs/concepts/notation")
    assert (moved.status_code, moved["Location"]) == (302, "/docs/concepts/notation/")
    page = client.get("/docs/concepts/notation/")
    assert page.status_code == 200
    assert page["Content-Type"] == "text/html"
    index = json.loads(b"".join(client.get("/docs/search/search_index.json").streaming_content))
    assert {"concepts/notation/", "reference/actions/"} <= {
        doc["location"] for doc in index["docs"]
    }
    assert client.get("/docs/../manage.py").status_code == 404
    assert client.get("/docs/no-such-page/").status_code == 404


def test_the_admin_header_links_to_the_manual(client, db):
    get_user_model().objects.create_superuser("marketer", "m@example.com", "docs-password")
    client.login(username="marketer", password="docs-password")
    answer = client.get("/admin/")
    assert '<a href="/docs/" id="cdp-docs-link">Documentation</a>' in answer.content.decode()


def _notation_examples() -> tuple[dict, list[tuple[str, bool]]]:
    page = (DOCS / "concepts" / "notation.md").read_text()
    examples = page.split("### Examples", 1)[1]
    data = json.loads(
        next(
            body
            for language, body in fenced_blocks(DOCS / "concepts" / "notation.md")
            if language == "json" and "profile" in body
        )
    )
    rows = re.findall(r"^\| `(.+)` \| (true|false) \|$", examples, re.MULTILINE)
    return data, [(condition, result == "true") for condition, result in rows]


def test_the_notation_examples_give_what_the_page_says():
    data, rows = _notation_examples()
    assert len(rows) == 15
    assert [(condition, notation.evaluate(condition, data)) for condition, _ in rows] == rows


def test_the_notation_page_covers_every_operator_and_the_reference_every_function():
    page = (DOCS / "concepts" / "notation.md").read_text()
    keywords = re.findall(r"^_?([A-Z_]+)\.2: /", GRAMMAR.read_text(), re.MULTILINE)
    # TIME_UNIT is a class of words, not one: the page shows each unit instead.
    for unit in ("minutes", "hours", "days", "weeks"):
        assert re.search(rf"`[^`\n]*\blast \d+ {unit}\b[^`\n]*`", page), unit
    for keyword in (keyword for keyword in keywords if keyword != "TIME_UNIT"):
        word = keyword.strip("_").replace("_", " ")
        in_code = re.search(rf"`[^`\n]*\b{word}\b[^`\n]*`", page, re.IGNORECASE)
        assert in_code, f"the notation page does not show {word}"
    functions_page = (DOCS / "reference" / "notation-functions.md").read_text()
    for name in notation.FUNCTIONS:
        assert f"`{name}(" in functions_page


@pytest.mark.browser
def test_reading_the_site_requests_nothing_from_another_host(
    browser, live_server, settings, built_site
):
    settings.CDP_DOCS_ROOT = built_site
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1200, "height": 760})
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{live_server.url}/docs/")
    expect(page.locator("h1")).to_have_text("CDP manual¶")
    page.screenshot(path=str(SHOTS / "1-home.png"))
    page.goto(f"{live_server.url}/docs/concepts/notation/")
    expect(page.locator("h1")).to_have_text("The notation¶")
    page.screenshot(path=str(SHOTS / "2-notation.png"))
    page.goto(f"{live_server.url}/docs/reference/actions/")
    page.screenshot(path=str(SHOTS / "3-actions.png"))
    page.goto(f"{live_server.url}/docs/getting-started/marketer/")
    page.locator("img").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "4-marketer.png"))

    # The built-in search: its index and worker are files of the site.
    page.locator("input.md-search__input").click()
    page.locator("input.md-search__input").press_sequentially("debounced", delay=50)
    results = page.locator(".md-search-result__item")
    expect(results.first).to_be_visible(timeout=30_000)
    expect(page.locator(".md-search-result")).to_contain_text("Destinations")
    page.screenshot(path=str(SHOTS / "5-search.png"))
    context.close()

    hosts = {urlsplit(url).netloc for url in requested if not url.startswith(("data:", "blob:"))}
    assert hosts == {urlsplit(live_server.url).netloc}
    assert any(url.endswith("/docs/search/search_index.json") for url in requested)
    assert errors == []
