"""The screening sheet in a real browser on a phone-sized screen: an inspector taps
negative for everyone and saves once; the port authority then approves handover."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crews.models import ScreeningTest
from tests.browser.helpers import log_in
from tests.helpers import people_of
from vessels.models import Handover

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def call(make_call, authority):
    """A vessel berthed an hour ago with three people on board, made before the browser starts."""
    return make_call(crew=3, arrived_at=timezone.now() - timedelta(hours=1))


def log_out(page) -> None:
    page.click("form.logout button")
    page.wait_for_url("**/login/")


def test_inspector_records_everyone_negative_then_authority_approves(call, authority, phone, tmp_path):
    log_in(phone, "alice")
    assert phone.locator(".who").inner_text().endswith("Kiểm soát viên bến")
    phone.screenshot(path=tmp_path / "home.png", full_page=True)
    phone.click(f"text={call.vessel.registration}")
    phone.wait_for_url(f"**/port-calls/{call.pk}/")
    assert phone.locator(".call-head .chip").inner_text() == "Chờ xét nghiệm"

    timer = phone.locator("[data-timer]")
    assert not timer.is_visible()
    phone.get_by_role("button", name="Lấy mẫu lúc này").tap()
    assert timer.inner_text().startswith("Đọc kết quả test nhanh sau 1")  # about 15 minutes left

    for person in people_of(call):
        phone.locator(f'li[data-person="{person.id_number}"] .opt-negative').tap()
    phone.screenshot(path=tmp_path / "sheet-before-save.png", full_page=True)
    phone.get_by_role("button", name="Lưu kết quả").tap()
    phone.wait_for_selector(".msg-success")

    assert phone.locator(".msg-success").inner_text() == "Đã lưu 3 kết quả."
    assert phone.locator('[data-screening="negative"]').count() == 3
    assert phone.locator(".call-head .chip").inner_text() == "Đủ điều kiện"
    assert ScreeningTest.objects.filter(port_call=call, result="negative").count() == 3
    phone.screenshot(path=tmp_path / "sheet-saved.png", full_page=True)

    log_out(phone)
    log_in(phone, "bob")
    phone.click("nav >> text=Duyệt giao hàng")
    phone.wait_for_url("**/approvals/")
    phone.locator("#waiting").get_by_role("button", name="Duyệt giao nhận hàng").tap()
    phone.wait_for_selector(".msg-success")
    assert call.vessel.registration in phone.locator(".msg-success").inner_text()
    assert call.vessel.registration in phone.locator("#approved").inner_text()
    handover = Handover.objects.get(port_call=call)
    assert handover.approved_by == authority
    assert handover.evidence.count() == 3
    phone.screenshot(path=tmp_path / "approvals.png", full_page=True)
