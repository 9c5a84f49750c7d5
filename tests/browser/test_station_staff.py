"""A TKV supervisor enters a staff member's rapid result on the station page, in a real
browser on a phone-sized screen: one tap on the person's row, one on Save; entered with
no signal, the sheet waits on the phone and is stored once when the connection returns."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crews.models import ScreeningTest
from crews.stations import RosterLine, create_station, load_roster
from portguard import roles
from tests.browser.helpers import log_in
from tests.helpers import make_user

pytestmark = [pytest.mark.browser, pytest.mark.browser_side, pytest.mark.django_db(transaction=True)]

STAFF = [("022186000123", "Nguyễn Thị Hằng"), ("022090000456", "Trần Đức Mạnh")]


@pytest.fixture
def station(cam_pha):
    """Sơn's station at Bến Mông Dương, its two staff on today's first shift."""
    supervisor = make_user("son", roles.SUPERVISOR)
    station = create_station(code="KCS-CP-03", name="Trạm KCS Mông Dương", wharf=cam_pha, supervisors=[supervisor])
    today = timezone.localdate().isoformat()
    lines = [
        RosterLine(row=i + 2, id_number=n, full_name=name, date=today, shift="S1") for i, (n, name) in enumerate(STAFF)
    ]
    load_roster(supervisor, station, lines)
    return station


def test_supervisor_enters_a_staff_members_rapid_result_on_a_phone(station, phone):
    log_in(phone, "son")
    phone.goto("/stations/KCS-CP-03/")
    sheet = phone.locator("form#station-sheet")
    assert sheet.get_attribute("data-queue") == "results"
    row = phone.locator(f'[data-staff-member="{STAFF[1][0]}"]')
    assert "Test nhanh sau ca S1" in row.locator("[data-today]").inner_text()
    # The page fits the phone's width: nothing to scroll sideways (the week's grid
    # scrolls in its own box).
    assert phone.evaluate("document.documentElement.scrollWidth") <= phone.evaluate("window.innerWidth")
    assert sheet.locator("input[name=kind][value=rapid]").is_checked()

    row.locator("label.opt-negative").tap()
    phone.get_by_role("button", name="Lưu kết quả").tap()
    phone.wait_for_selector(".msg-success")

    assert phone.locator(".msg-success").inner_text() == "Đã lưu 1 kết quả."
    (test,) = ScreeningTest.objects.all()
    assert (test.person.id_number, test.station, test.kind, test.result, test.recorded_by.username) == (
        STAFF[1][0],
        station,
        "rapid",
        "negative",
        "son",
    )
    recorded = phone.locator(f'#results [data-result="{test.pk}"]').inner_text()
    assert STAFF[1][1] in recorded and "âm tính" in recorded
    # The row is ready for the next result: nothing chosen, a fresh client key.
    row = phone.locator(f'[data-staff-member="{STAFF[1][0]}"]')
    assert row.locator("input[type=radio][value='']").is_checked()
    assert row.locator("input[name^=key_]").get_attribute("value") != str(test.client_uuid)


def test_a_staff_sheet_entered_offline_waits_on_the_phone_and_is_stored_once_back_online(station, phone):
    log_in(phone, "son")
    phone.goto("/stations/KCS-CP-03/")
    phone.context.set_offline(True)
    phone.locator(f'[data-staff-member="{STAFF[0][0]}"] label.opt-negative').tap()
    phone.get_by_role("button", name="Lưu kết quả").tap()
    waiting = phone.locator("[data-outbox] [data-outbox-count]")
    expect(waiting).to_have_attribute("data-outbox-count", "1")
    assert not ScreeningTest.objects.exists()

    phone.context.set_offline(False)
    expect(phone.locator("[data-outbox] [data-outbox-sent]")).to_have_attribute("data-outbox-sent", "1")
    expect(waiting).to_have_attribute("data-outbox-count", "0")
    (test,) = ScreeningTest.objects.all()
    assert (test.person.id_number, test.station, test.result) == (STAFF[0][0], station, "negative")
