"""A screening sheet sent twice from a real browser on a phone-sized screen: the answer of
the first submit is lost to the inspector, who sends the same sheet again (the same
form data, keys included, posted again from the page, as a browser's retry does); each
result is stored once and the page answers as the first time."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crews.models import ScreeningTest
from tests.browser.helpers import log_in
from tests.helpers import people_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESEND = """async ([action, entries]) => {
  const response = await fetch(action, {method: "POST", body: new URLSearchParams(entries)});
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  return {status: response.status, url: response.url, message: page.querySelector(".msg-success")?.textContent};
}"""

CALL_STATE = """async (url) => (await fetch(url, {headers: {Accept: "application/json"}})).json()"""


@pytest.fixture
def call(make_call):
    """A vessel berthed an hour ago with three people on board, made before the browser starts."""
    return make_call(crew=3, arrived_at=timezone.now() - timedelta(hours=1))


def fill_in_everyone_negative(phone, call) -> None:
    phone.get_by_role("button", name="Lấy mẫu lúc này").tap()
    for person in people_of(call):
        phone.locator(f'li[data-person="{person.id_number}"] .opt-negative').tap()


def test_a_sheet_posted_again_stores_each_result_once(call, phone):
    log_in(phone, "alice")
    phone.goto(f"/port-calls/{call.pk}/")
    fill_in_everyone_negative(phone, call)
    sheet = phone.locator("form[data-sheet]")
    action = sheet.evaluate("form => form.action")
    sent = sheet.evaluate("form => Array.from(new FormData(form))")
    assert sum(1 for name, _value in sent if name.startswith("key_")) == 3

    phone.get_by_role("button", name="Lưu kết quả").tap()
    phone.wait_for_selector(".msg-success")
    assert phone.locator(".msg-success").inner_text() == "Đã lưu 3 kết quả."

    again = phone.evaluate(RESEND, [action, sent])
    assert again["status"] == 200
    assert again["url"].endswith(f"/port-calls/{call.pk}/#sheet") or again["url"].endswith(f"/port-calls/{call.pk}/")
    assert again["message"] == "Đã lưu 3 kết quả."

    state = phone.evaluate(CALL_STATE, f"/api/v1/port-calls/{call.pk}/")
    assert state["counts"] == {"crew": 3, "tested": 3, "negative": 3, "blocking": 0}
    assert ScreeningTest.objects.filter(port_call=call).count() == 3
