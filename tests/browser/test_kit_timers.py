"""Each sample's kit timer on a phone: two people sampled five minutes apart each count
down to their own reading time, through a reload; the first kit rings (vibration) when
it can be read while the other still counts, and a reload afterwards does not ring it
again. Time moves with Playwright's clock, never by waiting."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crews.models import ScreeningTest
from tests.browser.helpers import log_in
from tests.helpers import people_of
from tests.vessels.helpers import local

pytestmark = [pytest.mark.browser, pytest.mark.browser_side, pytest.mark.django_db(transaction=True)]

# navigator.vibrate, recorded: headless Chromium has nothing to vibrate.
RECORD_VIBRATIONS = """
window.vibrations = [];
Object.defineProperty(Navigator.prototype, "vibrate", {
  configurable: true,
  value: function (pattern) { window.vibrations.push(pattern); return true; },
});
"""

KIT_RECORDS = """() => Object.keys(localStorage).filter((key) => key.startsWith("portguard-kit:"))"""


@pytest.fixture
def call(make_call):
    """A vessel berthed an hour ago with three people on board, made before the browser starts."""
    return make_call(crew=3, arrived_at=timezone.now() - timedelta(hours=1))


def row(phone, person):
    return phone.locator(f'li[data-person="{person.id_number}"]')


def seconds_left(phone, person) -> int:
    text = row(phone, person).locator("[data-kit-timer]").inner_text()
    match = re.fullmatch(r"Đọc kit sau (\d\d):(\d\d)", text)
    assert match, text
    return int(match.group(1)) * 60 + int(match.group(2))


def vibrations(phone) -> list:
    return phone.evaluate("window.vibrations")


def test_each_samples_kit_timer_survives_a_reload_and_rings_once(call, phone, tmp_path):
    first, second, third = people_of(call)
    # The phone's clock stands half an hour ago, on a whole minute (a sample time has no
    # seconds), so that both samples are in the server's past when the sheet is saved; it
    # moves only when the test moves it.
    start = (timezone.now() - timedelta(minutes=30)).replace(second=0, microsecond=0)
    phone.add_init_script(RECORD_VIBRATIONS)
    phone.clock.install(time=start - timedelta(seconds=5))
    phone.clock.pause_at(start)
    log_in(phone, "alice")
    phone.goto(f"/port-calls/{call.pk}/")

    row(phone, first).get_by_role("button", name="Lấy mẫu", exact=True).tap()
    assert seconds_left(phone, first) == 15 * 60
    expect(row(phone, second).locator("[data-kit-timer]")).to_be_hidden()
    phone.clock.fast_forward("05:00")
    row(phone, second).get_by_role("button", name="Lấy mẫu", exact=True).tap()

    phone.reload()
    # Each row still has its own sample, in its field and in its timer.
    expect(row(phone, first).locator(f"input[name=sampled_{first.pk}]")).to_have_value(local(start))
    expect(row(phone, second).locator(f"input[name=sampled_{second.pk}]")).to_have_value(
        local(start + timedelta(minutes=5))
    )
    expect(row(phone, third).locator(f"input[name=sampled_{third.pk}]")).to_have_value("")
    assert seconds_left(phone, first) == 10 * 60
    assert seconds_left(phone, second) == 15 * 60
    expect(row(phone, third).locator("[data-kit-timer]")).to_be_hidden()

    phone.locator("h1.reg").tap()  # the inspector touches the phone: it may vibrate
    phone.clock.fast_forward("10:05")
    first_timer = row(phone, first).locator("[data-kit-timer]")
    expect(first_timer).to_have_text("Đã đến giờ đọc kit này.")
    expect(first_timer).to_have_class(re.compile(r"\bready\b"))
    phone.wait_for_function("window.vibrations.length > 0")
    assert len(vibrations(phone)) == 1
    assert seconds_left(phone, second) == 4 * 60 + 55
    phone.screenshot(path=tmp_path / "kit-timers.png", full_page=True)

    phone.reload()
    phone.locator("h1.reg").tap()
    phone.clock.fast_forward("00:02")
    expect(first_timer).to_have_text("Đã đến giờ đọc kit này.")
    assert seconds_left(phone, second) == 4 * 60 + 53
    assert vibrations(phone) == []  # rung once already, before the reload

    # Once their results are stored, their timers are gone; the third person's sheet has none.
    assert set(phone.evaluate(KIT_RECORDS)) == {
        f"portguard-kit:{call.pk}:{first.pk}",
        f"portguard-kit:{call.pk}:{second.pk}",
    }
    row(phone, first).locator(".opt-negative").tap()
    row(phone, second).locator(".opt-negative").tap()
    phone.get_by_role("button", name="Lưu kết quả").tap()
    expect(phone.locator(".msg-success")).to_have_text("Đã lưu 2 kết quả.")
    assert phone.evaluate(KIT_RECORDS) == []
    expect(row(phone, first).locator("[data-kit-timer]")).to_be_hidden()
    expect(row(phone, first).locator(f"input[name=sampled_{first.pk}]")).to_have_value("")
    assert dict(ScreeningTest.objects.filter(port_call=call).values_list("person_id", "sampled_at")) == {
        first.pk: start,
        second.pk: start + timedelta(minutes=5),
    }
