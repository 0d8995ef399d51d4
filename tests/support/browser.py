"""Debian's Chromium for the admin browser tests (through Playwright; pytest-django's live
server serves the pages), registered for every test module by tests/conftest.py:

- `browser`: one Chromium per test module. The tracker's tests have their own, package-wide
  (tests/tracker/conftest.py).
- `page`: a tab of a fresh browser context, already signed in to the admin as `browser_user`
  (a superuser "marketer" unless the module overrides that fixture), with a viewport of
  `admin_viewport` (overridable too). Uncaught JavaScript errors collect in `page.errors`,
  which must be empty when the test ends.

Signing in goes through Django's session machinery, not the login form: `logged_in_context`
adds the session cookie of a `force_login` to the new context. The login form itself is covered
by the tests that sign in as a given role (tests/admin/test_roles_browser.py).
"""

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.tracker.conftest import CHROMIUM, CHROMIUM_ARGS

ADMIN_USERNAME = "marketer"
ADMIN_PASSWORD = "admin-browser-test-password"

# A generous deadline for every `expect` (Playwright's default is 5 s): on a busy 2-core
# machine a page that fetches before it redraws can take longer, and a wait only lasts as long
# as the condition takes.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def browser() -> Browser:
    if not CHROMIUM.exists():
        pytest.fail(f"The browser tests need Debian's chromium at {CHROMIUM}")
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def logged_in_context(browser: Browser, live_server, user, **context_options) -> BrowserContext:
    """A new browser context whose requests to the live server come from `user`, signed in."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(**context_options)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context


@pytest.fixture
def browser_user(transactional_db):
    return get_user_model().objects.create_superuser(
        ADMIN_USERNAME, "m@example.com", ADMIN_PASSWORD
    )


@pytest.fixture
def admin_viewport() -> dict[str, int]:
    return {"width": 1280, "height": 900}


@pytest.fixture
def page(browser, live_server, browser_user, admin_viewport) -> Iterator[Page]:
    context = logged_in_context(browser, live_server, browser_user, viewport=admin_viewport)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    assert page.errors == []
    context.close()
