"""Every write an inspector makes at the berth survives having no signal, in a real
Chromium on a phone-sized screen: an arrival, a person added to the manifest, a departure
(with the time it was entered), a removal are kept on the phone, said to wait, sent in
order when the connection returns and stored exactly once; the service worker sends the
queue on a Background Sync with no PortGuard page open."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crews.choices import TestKind, TestResult
from crews.manifest import remove_crew_member
from crews.models import CrewMember, ScreeningTest
from crews.results import TestData, record_tests
from tests.browser.helpers import QUEUED, elsewhere, log_in, open_kept, wait_for_async
from tests.helpers import people_of
from vessels.choices import HandoverState
from vessels.models import Handover, PortCall
from vessels.services import approve_handover

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CALL_STATE = """async (url) => (await fetch(url, {headers: {Accept: "application/json"}})).json()"""


@pytest.fixture
def call(make_call):
    """A vessel berthed an hour ago with two people on board, made before the browser starts."""
    return make_call(crew=2, arrived_at=timezone.now() - timedelta(hours=1))


def offline_on(phone, path: str) -> None:
    """Open a page once so that the phone keeps it, then lose the signal and reopen it."""
    open_kept(phone, path)
    phone.context.set_offline(True)
    phone.reload()


def sheet(phone, results: dict) -> None:
    """Fill the screening sheet, sampled now, with one result per person, and save it."""
    phone.get_by_role("button", name="Lấy mẫu lúc này").tap()
    for person, result in results.items():
        phone.locator(f'li[data-person="{person.id_number}"] .opt-{result}').tap()
    phone.get_by_role("button", name="Lưu kết quả").tap()


def waiting(phone, kind: str):
    return phone.locator(f'[data-outbox] [data-outbox-waiting="{kind}"]')


def sent(phone, kind: str):
    return phone.locator(f'[data-outbox] [data-outbox-sent-entry="{kind}"]')


def test_an_arrival_registered_offline_is_sent_once_back_online(inspector, cam_pha, phone):
    log_in(phone, "alice")
    offline_on(phone, "/port-calls/new/")
    expect(phone.locator("[data-offline-banner]")).to_be_visible()
    phone.fill("input[name=registration]", "QN-7777")
    phone.fill("input[name=name]", "Thành Đạt 07")
    phone.get_by_role("button", name="Đăng ký cập bến").tap()
    expect(waiting(phone, "arrival")).to_have_text(re.compile(r"^Chờ gửi: Đăng ký cập bến QN-7777 \(\d\d:\d\d\)$"))
    # The form starts again for the next vessel.
    expect(phone.locator("input[name=registration]")).to_have_value("")

    phone.reload()
    expect(waiting(phone, "arrival")).to_have_count(1)
    assert not PortCall.objects.exists()

    phone.context.set_offline(False)
    expect(sent(phone, "arrival")).to_contain_text("Đã gửi: Đăng ký cập bến QN-7777.")
    expect(waiting(phone, "arrival")).to_have_count(0)
    call = PortCall.objects.get()
    assert call.vessel.registration == "QN-7777"
    assert call.wharf == cam_pha
    # Arrived when the form was filled in, on the phone's clock, not when the page was fetched.
    assert abs(call.arrived_at - timezone.now()) < timedelta(minutes=2)
    sent(phone, "arrival").get_by_role("link", name="Mở").tap()
    expect(phone.locator("h1.reg")).to_have_text("QN-7777")

    phone.reload()
    assert phone.evaluate(QUEUED) == []
    assert PortCall.objects.count() == 1


def test_a_person_added_and_a_departure_offline_arrive_in_order_once(call, phone):
    phone.on("dialog", lambda dialog: dialog.accept())
    log_in(phone, "alice")
    path = f"/port-calls/{call.pk}/"
    offline_on(phone, path)
    phone.locator("#add-person summary").tap()
    phone.fill("#add-person input[name=id_number]", "031234567")
    phone.fill("#add-person input[name=full_name]", "Vũ Văn Nam")
    phone.get_by_role("button", name="Thêm vào danh sách").tap()
    expect(waiting(phone, "crew")).to_contain_text(
        f"Chờ gửi: Thêm vào danh sách {call.vessel.registration}: Vũ Văn Nam"
    )
    entered = timezone.now()
    phone.get_by_role("button", name="Ghi nhận rời bến").tap()
    expect(waiting(phone, "departure")).to_contain_text(f"Chờ gửi: {call.vessel.registration} rời bến")

    phone.reload()
    expect(waiting(phone, "crew")).to_have_count(1)
    expect(waiting(phone, "departure")).to_have_count(1)

    phone.context.set_offline(False)
    expect(sent(phone, "departure")).to_have_count(1)
    expect(sent(phone, "crew")).to_have_count(1)
    call.refresh_from_db()
    # In the order they were made: the person joined the manifest before the vessel left.
    assert [p.full_name for p in people_of(call)][-1] == "Vũ Văn Nam"
    assert call.departed_at is not None
    assert abs(call.departed_at - entered) < timedelta(minutes=2)
    state = phone.evaluate(CALL_STATE, f"/api/v1/port-calls/{call.pk}/")
    assert state["counts"]["crew"] == 3
    assert state["departed_at"] is not None
    assert phone.evaluate(QUEUED) == []
    assert CrewMember.objects.filter(port_call=call).count() == 3


def test_an_entry_the_server_refuses_says_why_and_stays_until_discarded(call, inspector, phone):
    """A removal kept offline, of someone who tested positive meanwhile: refused, with the
    server's reason, and kept for the inspector to discard; the next entry is still sent."""
    phone.on("dialog", lambda dialog: dialog.accept())
    log_in(phone, "alice")
    path = f"/port-calls/{call.pk}/"
    _captain, sailor = people_of(call)
    offline_on(phone, path)
    phone.locator(f'li[data-person="{sailor.id_number}"] .btn-link').tap()
    expect(waiting(phone, "removal")).to_contain_text(f"Chờ gửi: Rút {sailor.full_name} khỏi danh sách")
    phone.locator("#add-person summary").tap()
    phone.fill("#add-person input[name=id_number]", "031234567")
    phone.fill("#add-person input[name=full_name]", "Vũ Văn Nam")
    phone.get_by_role("button", name="Thêm vào danh sách").tap()

    # Meanwhile, at the lab: the sailor's RT-PCR is positive.
    positive = TestData(
        person=sailor,
        kind=TestKind.RT_PCR,
        sampled_at=timezone.now() - timedelta(minutes=30),
        result=TestResult.POSITIVE,
        port_call=call,
    )
    elsewhere(lambda: record_tests(inspector, [positive]))

    phone.context.set_offline(False)
    refused = phone.locator("[data-outbox-refused]")
    expect(refused).to_contain_text(f"Bị từ chối: Rút {sailor.full_name} khỏi danh sách")
    expect(refused).to_contain_text("dương tính")
    expect(sent(phone, "crew")).to_have_count(1)
    assert CrewMember.objects.filter(port_call=call, person=sailor).exists()

    phone.reload()
    expect(refused).to_have_count(1)
    refused.get_by_role("button", name="Bỏ").tap()
    expect(refused).to_have_count(0)
    assert phone.evaluate(QUEUED) == []


SENT_WITH_NO_PAGE = """async ([url, count]) => {
  const state = await (await fetch(url, {headers: {Accept: "application/json"}})).json();
  return state.counts.tested === count;
}"""


def test_the_service_worker_sends_the_queue_on_a_background_sync_with_no_page_open(call, phone, live_server):
    log_in(phone, "alice")
    path = f"/port-calls/{call.pk}/"
    offline_on(phone, path)
    sheet(phone, {person: "negative" for person in people_of(call)})
    expect(phone.locator("[data-outbox] [data-outbox-count]")).to_have_text("2 kết quả chờ gửi")
    cdp = phone.context.new_cdp_session(phone)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")

    # No PortGuard page is open any more when the connection returns and the browser
    # fires the sync the page registered: only the worker can send the queue.
    phone.goto("about:blank")
    phone.context.set_offline(False)
    worker = next(r for r in registrations if r["scopeURL"] == live_server.url + "/" and not r["isDeleted"])
    cdp.send(
        "ServiceWorker.dispatchSyncEvent",
        {
            "origin": live_server.url,
            "registrationId": worker["registrationId"],
            "tag": "portguard-outbox",
            "lastChance": False,
        },
    )
    phone.goto("/manifest.webmanifest")  # not a page that sends the queue: a place to ask from
    wait_for_async(phone, SENT_WITH_NO_PAGE, [f"/api/v1/port-calls/{call.pk}/", 2])
    assert ScreeningTest.objects.filter(port_call=call).count() == 2

    # The next page opened finds the queue empty (or, opened while the worker finished,
    # is told what it sent) and sends nothing again.
    phone.goto(path)
    expect(phone.locator("[data-outbox] [data-outbox-count]")).to_have_attribute("data-outbox-count", "0")
    assert phone.evaluate(QUEUED) == []
    assert ScreeningTest.objects.filter(port_call=call).count() == 2


def test_an_entry_for_a_wharf_no_longer_in_scope_is_refused_with_the_reason(call, inspector, phone):
    log_in(phone, "alice")
    path = f"/port-calls/{call.pk}/"
    offline_on(phone, path)
    phone.locator("#add-person summary").tap()
    phone.fill("#add-person input[name=id_number]", "031234567")
    phone.fill("#add-person input[name=full_name]", "Vũ Văn Nam")
    phone.get_by_role("button", name="Thêm vào danh sách").tap()
    expect(waiting(phone, "crew")).to_have_count(1)

    # Meanwhile the inspector is moved off the wharf.
    elsewhere(lambda: call.wharf.inspectors.remove(inspector))
    phone.context.set_offline(False)
    refused = phone.locator("[data-outbox-refused]")
    expect(refused).to_contain_text(f"Bị từ chối: Thêm vào danh sách {call.vessel.registration}: Vũ Văn Nam")
    expect(refused).to_contain_text("Không tìm thấy")
    assert CrewMember.objects.filter(port_call=call).count() == 2


def test_a_queued_positive_that_arrives_after_the_approval_suspends_the_handover(call, inspector, authority, phone):
    sampled = timezone.now() - timedelta(minutes=40)
    record_tests(
        inspector,
        [
            TestData(person=p, kind=TestKind.RAPID, sampled_at=sampled, result=TestResult.NEGATIVE, port_call=call)
            for p in people_of(call)
        ],
    )
    log_in(phone, "alice")
    path = f"/port-calls/{call.pk}/"
    offline_on(phone, path)
    sheet(phone, {people_of(call)[1]: "positive"})
    expect(phone.locator("[data-outbox] [data-outbox-count]")).to_have_text("1 kết quả chờ gửi")

    # Meanwhile the port authority approves on what it knows: everyone negative.
    elsewhere(lambda: approve_handover(authority, call.pk))
    phone.context.set_offline(False)
    expect(phone.locator("[data-outbox] [data-outbox-count]")).to_have_text("0 kết quả chờ gửi")
    state = phone.evaluate(CALL_STATE, f"/api/v1/port-calls/{call.pk}/")
    assert state["status"] == "handover_suspended"
    handover = Handover.objects.get(port_call=call)
    assert handover.state == HandoverState.SUSPENDED


def test_a_sheet_with_someone_removed_meanwhile_is_refused_naming_them(call, inspector, phone):
    log_in(phone, "alice")
    path = f"/port-calls/{call.pk}/"
    captain, sailor = people_of(call)
    offline_on(phone, path)
    sheet(phone, {person: "negative" for person in (captain, sailor)})
    expect(phone.locator("[data-outbox] [data-outbox-count]")).to_have_text("2 kết quả chờ gửi")

    # Meanwhile, from another phone, the sailor is taken off the manifest.
    elsewhere(lambda: remove_crew_member(inspector, call.pk, sailor.pk))
    phone.context.set_offline(False)
    refused = phone.locator("[data-outbox-refused]")
    expect(refused).to_contain_text(f"Không còn trong danh sách thuyền viên: {sailor.full_name}.")
    assert not ScreeningTest.objects.filter(port_call=call).exists()


def test_a_refused_sheet_is_put_back_in_its_form_to_fix_and_send_again(call, phone):
    log_in(phone, "alice")
    path = f"/port-calls/{call.pk}/"
    open_kept(phone, path)
    captain, sailor = people_of(call)
    phone.context.set_offline(True)
    before = timezone.localtime(call.arrived_at - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    phone.locator("input[name=sampled_at]").fill(before)
    phone.locator(f'li[data-person="{sailor.id_number}"] .opt-positive').tap()
    phone.get_by_role("button", name="Lưu kết quả").tap()
    phone.context.set_offline(False)
    refused = phone.locator("[data-outbox-refused]")
    expect(refused).to_contain_text("Mẫu được lấy trước khi phương tiện cập bến.")

    refused.get_by_role("button", name="Sửa").tap()
    expect(refused).to_have_count(0)
    expect(phone.locator("input[name=sampled_at]")).to_have_value(before)
    expect(phone.locator(f'li[data-person="{sailor.id_number}"] .opt-positive input')).to_be_checked()
    assert phone.evaluate(QUEUED) == []

    phone.get_by_role("button", name="Lấy mẫu lúc này").tap()
    phone.get_by_role("button", name="Lưu kết quả").tap()
    expect(phone.locator(f'li[data-person="{sailor.id_number}"] [data-screening]')).to_have_text("Dương tính")
    stored = ScreeningTest.objects.get(port_call=call)
    assert (stored.person, stored.result) == (sailor, TestResult.POSITIVE)
    assert not ScreeningTest.objects.filter(person=captain).exists()
