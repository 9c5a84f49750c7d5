"""Plain helpers for the pages in a real browser: logging in, opening a live dashboard."""

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
