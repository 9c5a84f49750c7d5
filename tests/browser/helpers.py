"""Plain helpers for the pages in a real browser: logging in, opening a live dashboard."""

import threading

from django.db import connection
from playwright.sync_api import expect


def log_in(page, username: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-" + username)
    page.click("button.btn-primary")
    page.wait_for_url(lambda url: "/login/" not in url)


def open_live(page, path: str) -> None:
    """Open a dashboard and wait for its first snapshot; mark the page to detect reloads."""
    page.goto(path)
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    expect(page.locator("[data-live-text]")).to_have_text("Trực tiếp")
    page.evaluate("window.sameDocument = true")


def elsewhere(work):
    """Run a change the server side makes meanwhile (a lab's result, an approval) in a
    thread of its own, with its own database connection: Playwright's event loop runs in
    the test's thread, and the change sends its events from synchronous code."""
    outcome = {}

    def run():
        try:
            outcome["value"] = work()
        except BaseException as error:  # re-raised in the test's thread
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
