"""Rule R6 in a real browser: a captain declares on the wharf's public form from a phone,
the wharf dashboard open on an inspector's phone shows the expected arrival with its
flagged person without a reload, and the inspector registers the arrival from the
declaration: a port call with its crew, in two steps."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.helpers import elsewhere, log_in, open_live
from tests.vessels.helpers import declaration_data
from vessels.declarations import PortOfCallData, declare
from vessels.models import Declaration, PortCall

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fast_password_hasher():
    """Keep the default password hashers: the daphne process checks the passwords."""


def test_a_declaration_reaches_the_dashboard_and_becomes_a_call_with_its_crew(
    cam_pha, inspector, daphne, open_phone, tmp_path
):
    dashboard = open_phone(daphne.http)
    log_in(dashboard, "alice")
    open_live(dashboard, "/wharves/CP-03/")
    expect(dashboard.locator("[data-declarations-empty]")).to_be_visible()

    captain = open_phone(daphne.http)
    captain.goto("/declare/CP-03/")
    expected = timezone.localtime() + timedelta(hours=3)
    captain.fill("input[name=registration]", "QN 2468")
    captain.fill("input[name=vessel_name]", "Thành Đạt 09")
    captain.fill("input[name=expected_at]", expected.strftime("%Y-%m-%dT%H:%M"))
    captain.fill("input[name=declarant_name]", "Vũ Văn Thành")
    captain.fill("input[name=declarant_phone]", "0912 345 678")
    captain.fill("input[name=ports-0-port]", "Cảng Cái Lân")
    captain.fill("input[name=ports-0-left_on]", timezone.localdate().isoformat())
    captain.fill("input[name=people-0-full_name]", "Vũ Văn Thành")
    captain.fill("input[name=people-0-id_number]", "022081000777")
    captain.select_option("select[name=people-0-role]", "captain")
    captain.get_by_role("button", name="Thêm người").tap()
    captain.fill("input[name=people-1-full_name]", "Lê Thị Hoa")
    captain.fill("input[name=people-1-id_number]", "031234777")
    captain.check("input[name=people-1-fever]")
    captain.get_by_role("button", name="Gửi tờ khai").tap()
    expect(captain.locator("h1")).to_have_text("Đã nhận tờ khai")
    expect(captain.locator("[data-receipt]")).to_be_visible()
    captain.screenshot(path=tmp_path / "declaration-receipt.png", full_page=True)

    declaration = Declaration.objects.get()
    row = dashboard.locator(f'[data-declaration="{declaration.pk}"]')
    expect(row.locator('[data-field="registration"]')).to_have_text("QN-2468")
    expect(row.locator('[data-field="people"]')).to_have_text("2")
    expect(row.locator('[data-field="flagged"]')).to_have_text("1")
    expect(row.locator('[data-field="flagged-chip"]')).to_be_visible()
    expect(dashboard.locator("[data-declarations-count]")).to_have_text("1")
    expect(dashboard.locator("[data-declarations-empty]")).to_be_hidden()
    assert dashboard.evaluate("window.sameDocument") is True
    dashboard.screenshot(path=tmp_path / "dashboard-expected.png", full_page=True)

    # A second dashboard stays open while the arrival is registered.
    watcher = open_phone(daphne.http)
    log_in(watcher, "alice")
    open_live(watcher, "/wharves/CP-03/")
    expect(watcher.locator(f'[data-declaration="{declaration.pk}"]')).to_be_visible()

    # Two steps: open the declaration, register the arrival.
    row.locator('[data-field="link"]').tap()
    expect(dashboard.locator("[data-flagged]")).to_contain_text("Lê Thị Hoa")
    dashboard.get_by_role("button", name="Đăng ký cập bến").tap()
    dashboard.wait_for_url("**/port-calls/*/")
    call = PortCall.objects.get()
    assert dashboard.url.endswith(f"/port-calls/{call.pk}/")
    assert Declaration.objects.get().port_call == call
    expect(dashboard.locator(".msg-success")).to_contain_text("QN-2468")
    expect(dashboard.locator('li[data-person="031234777"]')).to_be_visible()
    expect(dashboard.locator('li[data-person="022081000777"]')).to_be_visible()

    # No longer expected: it leaves the open dashboard's list, with no reload.
    expect(watcher.locator(f'[data-declaration="{declaration.pk}"]')).to_have_count(0)
    expect(watcher.locator("[data-declarations-count]")).to_have_text("0")
    expect(watcher.locator("[data-declarations-empty]")).to_be_visible()
    assert watcher.evaluate("window.sameDocument") is True


def test_a_declaration_made_while_the_dashboard_was_away_appears_on_reconnecting(
    cam_pha, inspector, daphne, open_phone
):
    dashboard = open_phone(daphne.http)
    log_in(dashboard, "alice")
    open_live(dashboard, "/wharves/CP-03/")
    expect(dashboard.locator("[data-declarations-empty]")).to_be_visible()

    daphne.stop()
    status = dashboard.locator("[data-live-status]")
    expect(status).to_have_attribute("data-state", "reconnecting")
    # Declared while no socket can tell the dashboard.
    today = timezone.localdate()
    data = declaration_data(
        expected_at=timezone.now() + timedelta(hours=2), ports=[PortOfCallData("Cảng Cái Lân, Quảng Ninh", today)]
    )
    declaration, _code = elsewhere(lambda: declare(data, wharf=cam_pha))

    daphne.start()
    expect(status).to_have_attribute("data-state", "live", timeout=30_000)
    row = dashboard.locator(f'[data-declaration="{declaration.pk}"]')
    expect(row.locator('[data-field="registration"]')).to_have_text("QN-4567")
    expect(row.locator('[data-field="flagged"]')).to_have_text("1")
    expect(dashboard.locator("[data-declarations-count]")).to_have_text("1")
    expect(dashboard.locator("[data-declarations-empty]")).to_be_hidden()
    assert dashboard.evaluate("window.sameDocument") is True
