"""PortGuard installed on a phone and used with no signal, in a real Chromium on a
phone-sized screen: the service worker registers for the whole site; the port call page,
once visited, opens offline from the phone's copy with when it was fetched; a screening
sheet submitted offline waits on the phone (through a reload), is sent when the connection
returns and is stored exactly once; one the server refuses stays with the reason until
the inspector discards it."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from crews.models import ScreeningTest
from tests.browser.helpers import KEPT, QUEUED, log_in, open_kept, wait_for_async
from tests.helpers import people_of

pytestmark = [pytest.mark.browser, pytest.mark.browser_side, pytest.mark.django_db(transaction=True)]

WORKER = """async () => {
  const registration = await navigator.serviceWorker.ready;
  return {scope: registration.scope, state: registration.active.state};
}"""
CALL_STATE = """async (url) => (await fetch(url, {headers: {Accept: "application/json"}})).json()"""


@pytest.fixture
def call(make_call):
    """A vessel berthed an hour ago with three people on board, made before the browser starts."""
    return make_call(crew=3, arrived_at=timezone.now() - timedelta(hours=1))


def waiting(phone):
    return phone.locator("[data-outbox] [data-outbox-count]")


def test_the_service_worker_registers_for_the_whole_site_and_becomes_active(call, phone, live_server):
    log_in(phone, "alice")
    worker = phone.evaluate(WORKER)
    assert worker == {"scope": live_server.url + "/", "state": "activated"}
    manifest = phone.evaluate("async () => (await fetch(document.querySelector('link[rel=manifest]').href)).json()")
    assert manifest["name"] == "PortGuard — Kiểm soát bến"
    assert not phone.locator("[data-offline-banner]").is_visible()


def test_a_visited_port_call_opens_offline_with_when_it_was_fetched(call, phone):
    log_in(phone, "alice")
    path = f"/port-calls/{call.pk}/"
    open_kept(phone, path)
    phone.context.set_offline(True)
    phone.reload()
    banner = phone.locator("[data-offline-banner]")
    expect(banner).to_be_visible()
    expect(phone.locator("body[data-offline-at]")).to_have_count(1)
    assert re.fullmatch(r"Ngoại tuyến — dữ liệu lúc \d\d:\d\d", banner.inner_text())
    assert phone.locator("h1.reg").inner_text() == call.vessel.registration
    assert phone.locator("li.person").count() == 3

    phone.context.set_offline(False)
    phone.reload()
    expect(phone.locator("h1.reg")).to_have_text(call.vessel.registration)
    assert not phone.locator("[data-offline-banner]").is_visible()


def test_the_first_page_opened_before_the_worker_ran_is_kept_too(call, inspector, phone, live_server):
    """Signed in already (a session cookie, no page opened before), the port call page is the
    first page the phone loads: it does not come through the worker, which is only then
    installed, yet it is kept and opens offline with no second visit."""
    client = Client()
    client.force_login(inspector, backend="django.contrib.auth.backends.ModelBackend")
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    phone.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
    path = f"/port-calls/{call.pk}/"
    phone.goto(path)
    assert phone.evaluate("performance.getEntriesByType('navigation')[0].workerStart") == 0
    wait_for_async(phone, KEPT, path)
    phone.context.set_offline(True)
    phone.reload()
    expect(phone.locator("[data-offline-banner]")).to_be_visible()
    assert phone.locator("h1.reg").inner_text() == call.vessel.registration
    assert phone.locator("li.person").count() == 3


def test_the_wharf_dashboard_and_the_arrival_form_open_offline_once_visited(call, phone):
    log_in(phone, "alice")
    pages = {
        f"/wharves/{call.wharf.code}/": call.vessel.registration,
        "/port-calls/new/": "Đăng ký phương tiện cập bến",
    }
    for path in pages:
        open_kept(phone, path)
    phone.context.set_offline(True)
    for path, shown in pages.items():
        phone.goto(path)
        expect(phone.locator("[data-offline-banner]")).to_be_visible()
        expect(phone.locator("body[data-offline-at]")).to_have_count(1)
        expect(phone.locator("main")).to_contain_text(shown)
    # A page never visited is not there to open.
    with pytest.raises(PlaywrightError):
        phone.goto(f"/vessels/{call.vessel.registration}/")


def test_logging_out_forgets_the_kept_pages(call, phone):
    log_in(phone, "alice")
    path = f"/port-calls/{call.pk}/"
    open_kept(phone, path)
    phone.click("form.logout button")
    phone.wait_for_url("**/login/")
    assert not phone.evaluate(KEPT, path)
    phone.context.set_offline(True)
    with pytest.raises(PlaywrightError):
        phone.goto(path)


def test_a_sheet_submitted_offline_waits_through_a_reload_and_is_stored_once_back_online(call, phone):
    log_in(phone, "alice")
    path = f"/port-calls/{call.pk}/"
    open_kept(phone, path)
    phone.context.set_offline(True)
    phone.get_by_role("button", name="Lấy mẫu lúc này").tap()
    for person in people_of(call):
        phone.locator(f'li[data-person="{person.id_number}"] .opt-negative').tap()
    phone.get_by_role("button", name="Lưu kết quả").tap()
    expect(waiting(phone)).to_have_text("3 kết quả chờ gửi")
    expect(phone.locator("[data-outbox-kept]")).to_have_text("Đã lưu trên máy: sẽ gửi khi có mạng trở lại.")

    phone.reload()
    expect(phone.locator("[data-offline-banner]")).to_be_visible()
    expect(waiting(phone)).to_have_text("3 kết quả chờ gửi")
    assert not ScreeningTest.objects.filter(port_call=call).exists()

    phone.context.set_offline(False)
    expect(waiting(phone)).to_have_text("0 kết quả chờ gửi")
    expect(phone.locator("[data-outbox-sent]")).to_contain_text("Đã gửi 3 kết quả chờ.")
    state = phone.evaluate(CALL_STATE, f"/api/v1/port-calls/{call.pk}/")
    assert state["counts"] == {"crew": 3, "tested": 3, "negative": 3, "blocking": 0}

    # Another page load sends nothing again: the queue is empty and each result stored once.
    phone.reload()
    expect(phone.locator(f'li[data-person="{people_of(call)[0].id_number}"] [data-screening]')).not_to_have_text(
        "Chờ xét nghiệm"
    )
    assert phone.evaluate(QUEUED) == []
    assert ScreeningTest.objects.filter(port_call=call).count() == 3


def test_a_sheet_the_server_refuses_stays_with_the_reason_until_discarded(call, phone):
    log_in(phone, "alice")
    path = f"/port-calls/{call.pk}/"
    open_kept(phone, path)
    phone.context.set_offline(True)
    # A sample time before the vessel arrived: rule R1 refuses it.
    before = timezone.localtime(call.arrived_at - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    phone.locator("input[name=sampled_at]").fill(before)
    phone.locator(f'li[data-person="{people_of(call)[0].id_number}"] .opt-negative').tap()
    phone.get_by_role("button", name="Lưu kết quả").tap()
    expect(waiting(phone)).to_have_text("1 kết quả chờ gửi")

    phone.context.set_offline(False)
    refused = phone.locator("[data-outbox-refused]")
    expect(refused).to_be_visible()
    reason = refused.locator("p").inner_text()
    assert re.fullmatch(
        rf"Bị từ chối: {call.vessel.registration}, phiếu lúc \d\d:\d\d — Mẫu được lấy trước khi phương tiện cập bến\.",
        reason,
    )
    expect(waiting(phone)).to_have_text("0 kết quả chờ gửi")
    assert not ScreeningTest.objects.filter(port_call=call).exists()

    phone.reload()
    expect(refused).to_be_visible()
    refused.get_by_role("button", name="Bỏ").tap()
    expect(refused).to_have_count(0)
    assert phone.evaluate(QUEUED) == []
