"""The main pages in a real Chromium under the Content-Security-Policy, served by daphne:
nothing is refused (no securitypolicyviolation event, no CSP message on the console),
and what the policy could break still works: the dashboard's socket goes live, the
service worker takes over, the screening sheet's script and kit timer run."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crews.stations import create_station
from portguard import roles
from tests.browser.helpers import log_in, open_live
from tests.helpers import make_user

pytestmark = [pytest.mark.browser, pytest.mark.browser_side, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


@pytest.fixture(autouse=True)
def fast_password_hasher():
    """Keep the default password hashers: the daphne process checks the passwords."""


@pytest.fixture
def call(make_call):
    return make_call(crew=3, arrived_at=timezone.now() - timedelta(hours=1))


@pytest.fixture
def station(cam_pha):
    supervisor = make_user("son", roles.SUPERVISOR)
    return create_station(code="KCS-CP-03", name="Trạm KCS Mông Dương", wharf=cam_pha, supervisors=[supervisor])


def watched(open_phone, url):
    """A phone whose every page records CSP violations, in the page and on the console."""
    page = open_phone(url)
    page.context.add_init_script(RECORD_VIOLATIONS)
    console = []
    page.on("console", lambda message: console.append(message.text))
    return page, console


def assert_no_violation(page, console):
    assert page.evaluate("window.cspViolations") == []
    assert [text for text in console if "Content Security Policy" in text] == []


def test_the_main_pages_run_under_the_policy_without_a_violation(call, station, daphne, open_phone):
    inspector, console = watched(open_phone, daphne.http)
    log_in(inspector, "alice")
    assert_no_violation(inspector, console)

    open_live(inspector, "/wharves/CP-03/")  # the socket is allowed: it goes live
    expect(inspector.locator(f'[data-call="{call.pk}"]')).to_be_visible()
    assert inspector.evaluate("navigator.serviceWorker.ready.then((r) => Boolean(r.active))")
    assert_no_violation(inspector, console)

    response = inspector.goto(f"/port-calls/{call.pk}/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    inspector.get_by_role("button", name="Lấy mẫu lúc này").tap()  # the page's script and kit timer run
    expect(inspector.locator("[data-timer]")).to_be_visible()
    assert_no_violation(inspector, console)

    supervisor, supervisor_console = watched(open_phone, daphne.http)
    log_in(supervisor, "son")
    supervisor.goto(f"/stations/{station.code}/")
    expect(supervisor.locator(".schedule-grid")).to_be_visible()
    assert_no_violation(supervisor, supervisor_console)


def test_an_inline_script_would_be_reported(call, daphne, open_phone):
    """The listener is not blind: an inline script put into a page is refused and seen."""
    page, console = watched(open_phone, daphne.http)
    log_in(page, "alice")
    page.evaluate(
        """() => {
        const script = document.createElement("script");
        script.textContent = "window.injected = true";
        document.body.append(script);
    }"""
    )
    page.wait_for_function("() => window.cspViolations.length > 0")
    assert page.evaluate("window.injected") is None
    assert page.evaluate("window.cspViolations")[0].startswith("script-src")
