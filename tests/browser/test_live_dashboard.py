"""The live dashboards in a real browser, served by a real daphne process: a result
entered on one phone reaches the wharf and province dashboards without a reload, a
positive takes over the top of the screen, and a dashboard that loses its socket says
so, reconnects by itself and shows the state as it is now."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crews.choices import TestKind, TestResult
from crews.results import TestData, record_tests
from tests.browser.helpers import log_in, open_live
from tests.helpers import people_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Reconnection backs off up to 10 s; daphne takes a few seconds to start again.
RECONNECT_TIMEOUT_MS = 30_000


@pytest.fixture(autouse=True)
def fast_password_hasher():
    """Keep the default password hashers: the daphne process checks the passwords."""


@pytest.fixture
def call(make_call, authority):
    """A vessel berthed an hour ago with three people on board, made before the server starts."""
    return make_call(crew=3, arrived_at=timezone.now() - timedelta(hours=1))


def test_a_positive_entered_on_one_phone_reaches_the_dashboards_without_reload(call, daphne, open_phone, tmp_path):
    registration = call.vessel.registration
    positive, *negatives = people_of(call)

    dashboard = open_phone(daphne.http)
    log_in(dashboard, "alice")
    open_live(dashboard, "/wharves/CP-03/")
    card = dashboard.locator(f'[data-call="{call.pk}"]')
    expect(card.locator('[data-field="status"]')).to_have_text("Chờ xét nghiệm")
    dashboard.screenshot(path=tmp_path / "live-wharf.png", full_page=True)

    province = open_phone(daphne.http)
    log_in(province, "bob")
    open_live(province, "/province/")
    cam_pha_row = province.locator('[data-wharf="CP-03"]')
    expect(cam_pha_row.locator('[data-count="awaiting"]')).to_have_text("1")

    sheet = open_phone(daphne.http)
    log_in(sheet, "alice")
    sheet.goto(f"/port-calls/{call.pk}/")
    sheet.get_by_role("button", name="Lấy mẫu lúc này").tap()
    sheet.locator(f'li[data-person="{positive.id_number}"] .opt-positive').tap()
    for person in negatives:
        sheet.locator(f'li[data-person="{person.id_number}"] .opt-negative').tap()
    sheet.get_by_role("button", name="Lưu kết quả").tap()
    expect(sheet.locator(".msg-success")).to_have_text("Đã lưu 3 kết quả.")

    # The wharf dashboard: chip, counts, feed and the alert, with no reload.
    expect(card.locator('[data-field="status"]')).to_have_text("Bị chặn")
    expect(card.locator('[data-field="status"]')).to_have_class("chip status-blocked")
    expect(card).to_have_attribute("data-status", "blocked")
    expect(card.locator('[data-field="tested"]')).to_have_text("3")
    expect(card.locator('[data-field="negative"]')).to_have_text("2")
    expect(card.locator('[data-field="blocking"]')).to_have_text("1")
    feed = dashboard.locator("[data-feed]")
    expect(feed).to_contain_text(f"{positive.full_name} ({registration}): Test nhanh kháng nguyên, dương tính.")
    expect(feed).to_contain_text(f"{registration} tại CP-03 Bến Mông Dương: Bị chặn, 2/3 người âm tính.")
    expect(feed.locator(".feed-alert")).to_contain_text(f"DƯƠNG TÍNH: {positive.full_name}")
    banner = dashboard.locator("[data-alert-banner]")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Kết quả dương tính")
    expect(banner.locator(".alert-name")).to_have_text(positive.full_name)
    expect(banner).to_contain_text(f"Phương tiện {registration} tại CP-03 Bến Mông Dương")
    expect(banner).to_contain_text("Test nhanh kháng nguyên, lấy mẫu lúc")
    assert banner.bounding_box()["y"] == 0  # it takes over the top of the screen
    dashboard.screenshot(path=tmp_path / "live-alert.png")

    # The province overview: the same alert, and the wharf's counts.
    expect(province.locator("[data-alert-banner]")).to_be_visible()
    expect(province.locator("[data-alert-banner]")).to_contain_text(positive.full_name)
    expect(cam_pha_row.locator('[data-count="blocked"]')).to_have_text("1")
    expect(cam_pha_row.locator('[data-count="awaiting"]')).to_have_text("0")
    expect(province.locator('[data-total="blocked"]')).to_have_text("1")
    province.screenshot(path=tmp_path / "live-province.png", full_page=True)

    # The alert stays until someone taps "Đã biết".
    banner.get_by_role("button", name="Đã biết").tap()
    expect(banner).to_be_hidden()
    expect(card.locator('[data-field="status"]')).to_have_text("Bị chặn")
    dashboard.screenshot(path=tmp_path / "live-feed.png", full_page=True)
    assert dashboard.evaluate("window.sameDocument") is True
    assert province.evaluate("window.sameDocument") is True


def test_after_the_server_drops_the_socket_the_dashboard_reconnects_to_the_fresh_state(
    call, inspector, daphne, open_phone, tmp_path
):
    dashboard = open_phone(daphne.http)
    log_in(dashboard, "alice")
    open_live(dashboard, "/wharves/CP-03/")
    status = dashboard.locator("[data-live-status]")
    card = dashboard.locator(f'[data-call="{call.pk}"]')
    expect(card.locator('[data-field="status"]')).to_have_text("Chờ xét nghiệm")

    daphne.stop()
    expect(status).to_have_attribute("data-state", "reconnecting")
    expect(status).to_contain_text("Đang kết nối lại…")
    dashboard.screenshot(path=tmp_path / "live-reconnecting.png", full_page=True)

    # Results recorded while the dashboard is away, one of them positive: no event can
    # reach it, not even the positive's alert.
    positive, *negatives = people_of(call)
    sampled_at = timezone.now() - timedelta(minutes=20)
    record_tests(
        inspector,
        [
            TestData(person=p, kind=TestKind.RAPID, sampled_at=sampled_at, result=result, port_call=call)
            for p, result in [(positive, TestResult.POSITIVE)] + [(p, TestResult.NEGATIVE) for p in negatives]
        ],
    )
    expect(status).to_contain_text("Đang kết nối lại…")
    expect(card.locator('[data-field="status"]')).to_have_text("Chờ xét nghiệm")
    banner = dashboard.locator("[data-alert-banner]")
    expect(banner).to_be_hidden()

    daphne.start()
    expect(status).to_have_attribute("data-state", "live", timeout=RECONNECT_TIMEOUT_MS)
    expect(status.locator("[data-live-text]")).to_have_text("Trực tiếp")
    expect(card.locator('[data-field="status"]')).to_have_text("Bị chặn")
    expect(card.locator('[data-field="negative"]')).to_have_text("2")
    expect(card.locator('[data-field="blocking"]')).to_have_text("1")
    expect(dashboard.locator("[data-feed]")).to_contain_text("Đã kết nối lại: đã tải lại tình trạng hiện tại.")
    # The positive missed while away takes over the top of the screen all the same.
    expect(banner).to_be_visible()
    expect(banner.locator(".alert-name")).to_have_text(positive.full_name)
    assert dashboard.evaluate("window.sameDocument") is True
    dashboard.screenshot(path=tmp_path / "live-reconnected.png", full_page=True)


def test_a_dashboard_whose_session_ended_stops_reconnecting_and_asks_to_log_in(call, daphne, open_phone, tmp_path):
    dashboard = open_phone(daphne.http)
    log_in(dashboard, "alice")
    open_live(dashboard, "/wharves/CP-03/")
    # Logging out in another tab of the same phone ends the session the socket came with.
    other_tab = dashboard.context.new_page()
    other_tab.goto("/")
    other_tab.click("form.logout button")
    other_tab.wait_for_url("**/login/")

    daphne.stop()
    daphne.start()

    status = dashboard.locator("[data-live-status]")
    expect(status).to_have_attribute("data-state", "unauthenticated", timeout=RECONNECT_TIMEOUT_MS)
    expect(status).to_contain_text("Phiên đăng nhập đã hết hạn.")
    expect(status.get_by_role("link", name="Đăng nhập")).to_have_attribute("href", "/login/?next=/wharves/CP-03/")
    dashboard.screenshot(path=tmp_path / "live-logged-out.png", full_page=True)


def test_a_confirmed_case_puts_the_quarantine_in_the_dashboard_feed(call, daphne, open_phone):
    positive = people_of(call)[0]
    dashboard = open_phone(daphne.http)
    log_in(dashboard, "alice")
    open_live(dashboard, "/wharves/CP-03/")

    sheet = open_phone(daphne.http)
    log_in(sheet, "alice")
    sheet.goto(f"/port-calls/{call.pk}/")
    sheet.locator(".seg", has_text="RT-PCR").first.tap()
    sheet.get_by_role("button", name="Lấy mẫu lúc này").tap()
    sheet.locator(f'li[data-person="{positive.id_number}"] .opt-positive').tap()
    sheet.get_by_role("button", name="Lưu kết quả").tap()
    expect(sheet.locator(".msg-success")).to_have_text("Đã lưu 1 kết quả.")

    card = dashboard.locator(f'[data-call="{call.pk}"]')
    expect(card).to_have_attribute("data-status", "quarantined")
    quarantine = dashboard.locator("[data-feed] .feed-alert", has_text="đang bị cách ly")
    expect(quarantine).to_contain_text(
        f"{call.vessel.registration} tại CP-03 đang bị cách ly: không giao nhận hàng, không rời"
    )
    expect(dashboard.locator("[data-alert-banner] .alert-name")).to_have_text(positive.full_name)
