"""A TKV supervisor's station page in a real browser on a phone-sized screen: a roster
with one bad row is refused whole with that row's error, a good one fills the week."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crews.models import RosterEntry
from crews.stations import create_station
from portguard import roles
from tests.browser.helpers import log_in
from tests.helpers import make_user

pytestmark = [pytest.mark.browser, pytest.mark.browser_side, pytest.mark.django_db(transaction=True)]

HEADER = "id_number,full_name,date,shift\n"
STAFF = [("022186000123", "Nguyễn Thị Hằng"), ("022090000456", "Trần Đức Mạnh"), ("022195000789", "Phạm Văn Quý")]


@pytest.fixture
def station(cam_pha):
    """A station at Bến Mông Dương supervised by Sơn, made before the browser starts."""
    supervisor = make_user("son", roles.SUPERVISOR)
    return create_station(code="KCS-CP-03", name="Trạm KCS Mông Dương", wharf=cam_pha, supervisors=[supervisor])


def this_week(days: int) -> list[str]:
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    return [(monday + timedelta(days=d)).strftime("%d/%m/%Y") for d in range(days)]


def roster_csv(path, rows: list[str]):
    path.write_text(HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def test_supervisor_loads_a_roster_and_sees_the_week(station, phone, tmp_path):
    monday, tuesday, wednesday = this_week(3)
    log_in(phone, "son")
    phone.get_by_role("link", name="Trạm KCS", exact=True).tap()
    phone.wait_for_url("**/stations/")
    phone.locator('[data-station="KCS-CP-03"]').tap()
    phone.wait_for_url("**/stations/KCS-CP-03/")
    assert phone.locator(".schedule-grid tbody").inner_text().strip() == "Tuần này chưa có ai trong lịch trực."

    bad = roster_csv(
        tmp_path / "lich-truc-loi.csv",
        [f"{number},{name},{monday},S1" for number, name in STAFF[:2]] + [f"{STAFF[2][0]},{STAFF[2][1]},31/02/2021,S2"],
    )
    phone.set_input_files("input[name=file]", str(bad))
    phone.get_by_role("button", name="Tải lên lịch trực").tap()
    phone.wait_for_selector("[data-refused]")
    assert phone.locator("[data-refused] > p").first.inner_text() == "Lịch trực có 1 lỗi; chưa lưu gì."
    assert phone.locator(".problems tbody tr").all_inner_texts() == [
        "4\tdate\t31/02/2021 không phải là ngày dạng 2021-08-09 hoặc 09/08/2021."
    ]
    assert not RosterEntry.objects.exists()
    phone.screenshot(path=tmp_path / "station-refused.png", full_page=True)

    good = roster_csv(
        tmp_path / "lich-truc.csv",
        [
            f"{number},{name},{day},S{(i + d) % 3 + 1}"
            for i, (number, name) in enumerate(STAFF)
            for d, day in enumerate((monday, tuesday, wednesday))
        ],
    )
    phone.set_input_files("input[name=file]", str(good))
    phone.get_by_role("button", name="Tải lên lịch trực").tap()
    phone.wait_for_selector(".msg-success")

    assert phone.locator(".msg-success").inner_text() == "Đã tải 9 mục lịch trực."
    assert RosterEntry.objects.filter(staff__station=station).count() == 9
    rows = phone.locator(".schedule-grid tbody tr")
    assert rows.count() == 3
    shown = phone.locator(".schedule-grid tbody th").all_inner_texts()
    assert [text.split("\n")[0] for text in shown] == ["Nguyễn Thị Hằng", "Phạm Văn Quý", "Trần Đức Mạnh"]
    first_row = rows.first.locator("td")
    assert first_row.count() == 7
    assert first_row.nth(0).locator(".shift").inner_text() == "S1"
    assert "Test nhanh" in first_row.nth(0).inner_text()
    assert first_row.nth(6).inner_text().strip() == "nghỉ"
    phone.screenshot(path=tmp_path / "station.png", full_page=True)
