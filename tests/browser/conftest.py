"""A real headless Chromium (Debian's, never a downloaded one) driven by Playwright."""

import os

import pytest
from django.db import connections
from playwright.sync_api import sync_playwright

from tests.realtime.servers import Daphne

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser(monkeypatch):
    if not os.access(CHROMIUM, os.X_OK):
        message = f"{CHROMIUM} is not installed (make test installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # (fixtures, assertions) are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    # ORM calls made while the browser's event loop ran opened connections in this
    # thread's async-unsafe mode; close them so PostgreSQL can drop the test database.
    connections.close_all()


@pytest.fixture
def phone(browser, live_server):
    """A Vietnamese phone's browser, pointed at the live server."""
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="vi-VN", base_url=live_server.url
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def daphne(transactional_db, monkeypatch):
    """This project served by a real daphne process, HTTP and WebSockets, on the test
    database: pages that open a socket need an ASGI server, which live_server is not."""
    # Under DEBUG whitenoise serves static files through the finders: no collectstatic.
    monkeypatch.setenv("DEBUG", "true")
    server = Daphne(os.environ.get("REDIS_URL") or None)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def open_phone(browser):
    """Open Vietnamese phones on a server, each a browser context with its own session."""
    contexts = []

    def open_on(base_url: str):
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="vi-VN", base_url=base_url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_on
    for context in contexts:
        context.close()
    # ORM calls made while Playwright's event loop runs open their own connection; close
    # it here, or PostgreSQL refuses to drop the test database at the end of the run.
    connections.close_all()
