"""A positive reaches an inspector whose PortGuard tab is in the background: the page of
all my wharves shows a system notification (the Notification API) naming the person,
the vessel and the wharf, once notifications are allowed; not for a positive its
snapshot replays, which was told when it came."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crews.choices import TestResult
from tests.browser.helpers import log_in, open_live
from tests.helpers import people_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Wraps the page's Notification: each one made is recorded with the page's visibility
# and focus, then made for real.
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  if (!Real) { return; }
  window.notified = [];
  function Recorded(title, options) {
    window.notified.push({
      title, body: options.body, tag: options.tag, visibility: document.visibilityState, focused: document.hasFocus(),
    });
    return new Real(title, options);
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Recorded.requestPermission = (...args) => Real.requestPermission(...args);
  Recorded.prototype = Real.prototype;
  window.Notification = Recorded;
})();
"""

# Headless Chromium draws every page as visible, whichever is on top: the page behind is
# told it is hidden as a browser tells a tab sent to the background.
SEND_TO_BACKGROUND = """
Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
document.dispatchEvent(new Event("visibilitychange"));
"""


@pytest.fixture(autouse=True)
def fast_password_hasher():
    """Keep the default password hashers: the daphne process checks the passwords."""


@pytest.fixture
def calls(make_call, record, inspector, ha_long):
    """Alice covers Cẩm Phả and Hạ Long, a vessel at each; the one at Cẩm Phả already
    has a positive, unacknowledged. Made before the server starts."""
    ha_long.inspectors.add(inspector)
    arrived = timezone.now() - timedelta(hours=1)
    at_cam_pha = make_call(crew=2, arrived_at=arrived)
    record(at_cam_pha, people_of(at_cam_pha)[0], result=TestResult.POSITIVE, sampled_at=arrived + timedelta(minutes=5))
    return at_cam_pha, make_call(crew=2, wharf=ha_long, arrived_at=arrived)


def test_a_background_tab_shows_a_notification_for_a_positive(calls, daphne, open_phone, tmp_path):
    at_cam_pha, at_ha_long = calls
    already, _ = people_of(at_cam_pha)
    positive, negative = people_of(at_ha_long)

    dashboard = open_phone(daphne.http)
    context = dashboard.context
    context.grant_permissions(["notifications"], origin=daphne.http)
    context.add_init_script(RECORD_NOTIFICATIONS)
    log_in(dashboard, "alice")
    open_live(dashboard, "/wharves/mine/")
    expect(dashboard.locator('[data-wharf-group="CP-03"] [data-call]')).to_have_count(1)
    expect(dashboard.locator('[data-wharf-group="HL-01"] [data-call]')).to_have_count(1)
    # The positive replayed by the snapshot is in the banner, not notified again.
    expect(dashboard.locator("[data-alert-banner] .alert-name")).to_have_text(already.full_name)
    assert dashboard.evaluate("window.notified") == []
    # Allowed already: no button to ask.
    expect(dashboard.get_by_role("button", name="Bật thông báo")).to_be_hidden()
    dashboard.screenshot(path=tmp_path / "my-wharves.png", full_page=True)

    # Another page of the same browser on top: the dashboard goes to the background. It
    # loses the focus (Playwright otherwise lets every page keep it) and is hidden.
    context.new_cdp_session(dashboard).send("Emulation.setFocusEmulationEnabled", {"enabled": False})
    sheet = context.new_page()
    sheet.bring_to_front()
    dashboard.evaluate(SEND_TO_BACKGROUND)
    sheet.goto(f"/port-calls/{at_ha_long.pk}/")
    assert dashboard.evaluate("[document.visibilityState, document.hasFocus()]") == ["hidden", False]
    sheet.get_by_role("button", name="Lấy mẫu lúc này").tap()
    sheet.locator(f'li[data-person="{positive.id_number}"] .opt-positive').tap()
    sheet.locator(f'li[data-person="{negative.id_number}"] .opt-negative').tap()
    sheet.get_by_role("button", name="Lưu kết quả").tap()
    expect(sheet.locator(".msg-success")).to_have_text("Đã lưu 2 kết quả.")

    dashboard.wait_for_function("window.notified.length > 0")
    notified = dashboard.evaluate("window.notified")
    assert [(n["title"], n["body"], n["visibility"], n["focused"]) for n in notified] == [
        (
            f"Dương tính: {positive.full_name}",
            f"Phương tiện {at_ha_long.vessel.registration} tại HL-01 {at_ha_long.wharf.name}",
            "hidden",
            False,
        )
    ]
    assert notified[0]["tag"].startswith("portguard-alert-")
    # The sheet's page made none: it shows no dashboard.
    assert sheet.evaluate("window.notified") == []


def test_the_button_asks_for_permission_only_when_tapped(cam_pha, inspector, daphne, open_phone):
    page = open_phone(daphne.http)
    page.context.add_init_script(
        "window.asked = 0; if (window.Notification) { Object.defineProperty(Notification, 'permission', "
        "{ get: () => 'default' }); Notification.requestPermission = () => { window.asked += 1; "
        "return Promise.resolve('default'); }; }"
    )
    log_in(page, "alice")
    open_live(page, "/wharves/mine/")
    button = page.get_by_role("button", name="Bật thông báo")
    expect(button).to_be_visible()
    assert page.evaluate("window.asked") == 0
    button.tap()
    page.wait_for_function("window.asked === 1")
