"""Every role's pages fit a phone's width: nothing scrolls sideways. A page wider than
the screen makes a phone zoom out to fit it, so its text shrinks and taps land beside
their buttons; the header, which every page shares, grows with each role's links."""

import pytest

from tests.browser.conftest import PHONE
from tests.browser.helpers import log_in

pytestmark = [pytest.mark.browser, pytest.mark.browser_side, pytest.mark.django_db(transaction=True)]


def page_width(page) -> int:
    # Measured against the screen, not window.innerWidth: a zoomed-out phone widens that too.
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("persona", ["inspector", "health", "authority", "supervisor"])
def test_the_header_and_the_main_pages_fit_a_phone(persona, request, make_call, phone):
    user = request.getfixturevalue(persona)
    call = make_call(crew=2)
    log_in(phone, user.username)
    pages = ["/", "/search/?q=Nguy%E1%BB%85n"]
    if persona != "supervisor":
        pages.append(f"/port-calls/{call.pk}/")
    for path in pages:
        phone.goto(path)
        assert page_width(phone) <= PHONE["width"], f"{path} as {persona} is wider than the phone"
