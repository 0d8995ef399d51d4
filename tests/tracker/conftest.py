"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

The CDP (tracker script, /track) is pytest-django's live server at http://localhost:<port>.
The customer's website that carries the snippet is a small real HTTP server at
http://127.0.0.1:<port>: another origin, so every /track call is a cross-origin request with
CORS, as on a real site (both on loopback, which Chromium's private-network rules require).
"""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from apps.sources.models import EventSource
from apps.sources.services import event_source_create
from apps.tracking.snippet import tracker_build, tracker_snippet_render

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SOURCE_ID = "shop-web"
# Records what the tracker announces (tracker:request / tracker:response) for the assertions.
RECORDER = """
window.__tracker = {requests: [], responses: []};
window.addEventListener("tracker:request", function (e) {
  window.__tracker.requests.push(e.detail);
});
window.addEventListener("tracker:response", function (e) {
  window.__tracker.responses.push({status: e.detail.status, body: e.detail.body});
});
"""


@pytest.fixture(scope="session", autouse=True)
def _tracker_built():
    tracker_build()


# Package scope: Playwright's loop must be gone before other packages' tests use the ORM.
@pytest.fixture(scope="package")
def browser() -> Browser:
    if not CHROMIUM.exists():
        pytest.fail(
            f"The browser tests need Debian's chromium at {CHROMIUM}: "
            "`apt-get install chromium` (python3 run.py test installs it when it can)."
        )
    # Playwright's sync API keeps an asyncio loop running in this thread while it is open;
    # the tests' ORM calls (and pytest-django's flushes) are still plain synchronous code.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def shop_source(transactional_db) -> EventSource:
    return event_source_create(name="Shop website", source_id=SOURCE_ID)


class ShopServer(ThreadingHTTPServer):
    """The customer's website: serves the pages a test registers; /stall never answers (until
    the test ends), which keeps a page from finishing loading."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ShopHandler)
        self.pages: dict[str, str] = {}
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class ShopHandler(BaseHTTPRequestHandler):
    server: ShopServer

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/stall":
            self.server.release.wait(timeout=30)
            self.send_error(404)
            return
        page = self.server.pages.get(path)
        if page is None:
            self.send_error(404)
            return
        body = page.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        pass  # keep the test output quiet


@pytest.fixture
def shop_server():
    server = ShopServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


@dataclass
class Shop:
    """A customer's website with the snippet in every page's head, open in a browser tab."""

    page: Page
    server: ShopServer
    api_url: str
    track_posts: list[dict] = field(default_factory=list)
    track_requests: list = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    def serve(
        self,
        path: str,
        *,
        source_id: str = SOURCE_ID,
        head: str = "",
        body: str = "",
        auto: dict | None = None,
        tracker_settings: dict | None = None,
    ) -> None:
        snippet = tracker_snippet_render(
            source_id=source_id,
            public_url=self.api_url,
            auto=auto,
            tracker_settings=tracker_settings,
        )
        self.server.pages[path] = (
            "<!doctype html><html><head><meta charset='utf-8'><title>Sun glasses - Shop</title>"
            f"{snippet}{head}</head><body>{body}</body></html>"
        )

    def serve_raw(self, path: str, html: str) -> None:
        self.server.pages[path] = html

    def open(self, path: str) -> Page:
        self.page.goto(self.url + path)
        return self.page

    def wait_responses(self, count: int) -> list[dict]:
        self.page.wait_for_function(f"window.__tracker.responses.length >= {count}")
        return self.page.evaluate("window.__tracker.responses")

    def profile_id(self) -> str | None:
        return self.page.evaluate("localStorage.getItem('tracardi-profile-id')")

    def session_cookie(self) -> dict | None:
        cookies = self.page.context.cookies(self.url)
        return next((c for c in cookies if c["name"] == "tracardi-session-id"), None)

    def errors(self) -> list[str]:
        return [text for kind, text in self.console if kind == "error"]


@pytest.fixture
def shop(browser: Browser, live_server, shop_server: ShopServer) -> Shop:
    context = browser.new_context(locale="pl-PL", timezone_id="Europe/Warsaw")
    page = context.new_page()
    shop = Shop(page=page, server=shop_server, api_url=live_server.url)

    def record_request(request):
        if request.method == "POST" and request.url == live_server.url + "/track":
            shop.track_requests.append(request)
            # Chromium does not show a beacon's body to Playwright.
            if request.resource_type != "ping":
                shop.track_posts.append(json.loads(request.post_data))

    page.on("request", record_request)
    page.on("console", lambda message: shop.console.append((message.type, message.text)))
    page.add_init_script(RECORDER)
    yield shop
    context.close()
