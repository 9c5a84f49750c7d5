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


def wait_for_async(page, predicate: str, arg=None) -> None:
    """Wait until an async predicate (a JavaScript ``async (arg) => …``) holds in the page.
    ``page.wait_for_function`` does not wait on a predicate's promise (an async one that
    answers false counts as done), so the check runs in a loop in the page, which raises a
    flag that ``wait_for_function`` can watch."""
    loop = """
          (async () => {
            while (!(await check(arg))) {
              await new Promise((resolve) => setTimeout(resolve, 50));
            }
            window.portguardWaited = true;
          })();
        }"""
    page.evaluate("([arg]) => { window.portguardWaited = false; const check = " + predicate + ";" + loop, [arg])
    page.wait_for_function("() => window.portguardWaited === true")


# The service worker and its kept pages (the offline tests).
CONTROLLED = "() => navigator.serviceWorker.controller !== null"
ACTIVE = "async () => Boolean((await navigator.serviceWorker.ready).active)"
KEPT = """async (path) => {
  const names = await caches.keys();
  for (const name of names.filter((n) => n.startsWith("portguard-pages-"))) {
    if (await (await caches.open(name)).match(new URL(path, location.href).href)) return true;
  }
  return false;
}"""
QUEUED = "async () => (await import('/static/portguard/pwa/outbox.js')).queued()"


def open_kept(phone, path: str) -> None:
    """Open a page once the worker controls the phone's pages, so that it is kept.

    The wait is for the worker to be active, then a reload: a page loaded after that is
    controlled. Waiting for the first page to be controlled instead relies on the
    worker's ``clients.claim()``, which skips a page still loading when it runs (log_in's
    page registers the worker, then this one opens): that page stays uncontrolled, and
    a CI run timed out waiting on it (a page still loading is a reserved client, which
    claim() does not take, w3c/ServiceWorker#1090)."""
    phone.goto(path)
    wait_for_async(phone, ACTIVE)
    phone.reload()
    phone.wait_for_function(CONTROLLED)
    wait_for_async(phone, KEPT, path)
