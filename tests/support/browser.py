"""Debian's Chromium for a module of admin browser tests (through Playwright; pytest-django's
live server serves the pages): the `browser` fixture, which tests/conftest.py registers for
every test module. The tracker's tests have their own, package-wide (tests/tracker/conftest.py).
"""

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.tracker.conftest import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser() -> Browser:
    if not CHROMIUM.exists():
        pytest.fail(f"The browser tests need Debian's chromium at {CHROMIUM}")
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
