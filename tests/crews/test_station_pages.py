"""The TKV supervisor's station pages: the list of their stations, and one station with
its roster upload, the week's schedule as it prints, and who must be tested now."""

import re
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse

from crews import schedule
from crews.models import Person, RosterEntry
from crews.results import TestData
from crews.stations import needs_attention, record_staff_tests
from tests.crews.helpers import START, STATION_PAGE_QUERIES, csv_file, staff_id, staff_name
from tests.helpers import VN

NOW = datetime.combine(START + timedelta(days=2), time(10), tzinfo=VN)  # Wednesday 11/08/2021 10:00
HEADER = "id_number,full_name,date,shift\n"
STATION_LIST_QUERIES = 16


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def station_url(code: str = "KCS-CP-03", **query) -> str:
    url = reverse("station", args=[code])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def upload_url(code: str = "KCS-CP-03", start: str = "2021-08-09") -> str:
    return reverse("station-roster", args=[code]) + f"?start={start}"


def grid(page: str) -> dict[str, list[str]]:
    """Each staff row of the schedule grid: its day cells' text, spaces squeezed."""
    table = page.split('class="schedule-grid"', 1)[1].split("</table>", 1)[0]
    rows = {}
    for staff, body in re.findall(r'<tr data-staff="(\d+)">(.*?)</tr>', table, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)
        rows[staff] = [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]
    return rows


def problems(page: str) -> list[tuple[int, str, str]]:
    table = page.split('class="problems"', 1)[1].split("</table>", 1)[0]
    found = re.findall(r"<tr data-row=\"\d+\"><td>(\d+)</td><td><code>(.*?)</code></td><td>(.*?)</td></tr>", table)
    return [(int(row), column, message) for row, column, message in found]


def take_rapid_tests(supervisor, station, staff: int, days: int) -> None:
    """Staff 0..staff-1 took the rapid test after each of their shifts of the first days."""
    entries = []
    for i in range(staff):
        person = Person.objects.get(id_number=staff_id(i))
        ends = [time(14), time(22), time(6)][i % 3]
        for d in range(days):
            day = START + timedelta(days=d + (1 if i % 3 == 2 else 0))
            entries.append(
                TestData(person, "rapid", datetime.combine(day, ends, tzinfo=VN) + timedelta(minutes=20), "negative")
            )
    record_staff_tests(supervisor, station, entries, now=NOW)


def take_owed(supervisor, station, staff) -> None:
    """A staff member takes every test they are overdue for, inside its window."""
    owed = [e.planned for e in needs_attention(station, NOW) if e.staff == staff and e.state == schedule.OVERDUE]
    record_staff_tests(
        supervisor,
        station,
        [TestData(staff.person, plan.kind, plan.due_from + timedelta(minutes=30), "negative") for plan in owed],
        now=NOW,
    )


# --- Who may open what -----------------------------------------------------------------


def test_station_pages_need_a_login(client, station):
    for url in (reverse("stations"), station_url()):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_a_station_outside_the_supervisors_scope_is_not_found(client, station, other_station, supervisor):
    client.force_login(supervisor)
    assert client.get(station_url("KCS-HL-01")).status_code == 404
    assert client.get(station_url("KCS-XX-99")).status_code == 404
    assert client.get(station_url("kcs-cp-03")).status_code == 200
    response = client.post(upload_url("KCS-HL-01"), {"file": csv_file(HEADER + f"{staff_id(1)},Lan,2021-08-09,S1\n")})
    assert response.status_code == 404
    assert not RosterEntry.objects.exists()


def test_an_inspector_has_no_station_pages(client, station, inspector):
    client.force_login(inspector)
    assert client.get(reverse("stations")).status_code == 403
    assert client.get(station_url()).status_code == 404
    assert reverse("stations") not in client.get(reverse("home")).content.decode()


def test_the_header_links_to_the_stations_for_those_who_may_see_them(client, station, supervisor, authority, health):
    for user in (supervisor, authority, health):
        client.force_login(user)
        page = client.get(reverse("home")).content.decode()
        assert f'<a href="{reverse("stations")}">Trạm KCS</a>' in page, user.username


def test_the_list_shows_each_visible_station_with_its_overdue_and_due_staff(
    client, rostered, other_station, supervisor, authority
):
    station = rostered(staff=3, days=7)
    # The one due for a test now catches up on the tests they missed.
    (diligent,) = {e.staff for e in needs_attention(station, NOW) if e.state == schedule.DUE}
    take_owed(supervisor, station, diligent)
    attention = needs_attention(station, NOW)
    overdue = {e.staff.pk for e in attention if e.state == schedule.OVERDUE}
    due = {e.staff.pk for e in attention if e.state == schedule.DUE} - overdue
    assert overdue == {s.pk for s in station.staff.all()} - {diligent.pk}
    assert due == {diligent.pk}
    client.force_login(supervisor)

    page = client.get(reverse("stations")).content.decode()

    assert re.findall(r'data-station="([\w-]+)"', page) == ["KCS-CP-03"]
    assert f'data-count="overdue">{len(overdue)} quá hạn<' in page
    assert f'data-count="due">{len(due)} đến hạn<' in page
    assert "Trạm KCS Mông Dương" in page and "CP-03 Bến Mông Dương" in page
    client.force_login(authority)
    page = client.get(reverse("stations")).content.decode()
    assert re.findall(r'data-station="([\w-]+)"', page) == ["KCS-CP-03", "KCS-HL-01"]


# --- One station -------------------------------------------------------------------------


def test_station_page_shows_the_station_its_wharf_and_shifts(client, station, supervisor):
    client.force_login(supervisor)
    page = client.get(station_url()).content.decode()
    assert "KCS-CP-03" in page and "Trạm KCS Mông Dương" in page
    assert "CP-03 Bến Mông Dương" in page
    for shift in ("<b>S1</b> 06:00–14:00", "<b>S2</b> 14:00–22:00", "<b>S3</b> 22:00–06:00"):
        assert shift in page


def test_the_week_shown_starts_on_this_weeks_monday_by_default(client, rostered, supervisor):
    rostered(staff=2, days=14)
    client.force_login(supervisor)
    page = client.get(station_url()).content.decode()
    assert 'name="start" value="2021-08-09"' in page
    assert "09/08/2021 – 15/08/2021" in page
    assert re.findall(r"<th scope=\"col\"[^>]*>(.*?)</th>", page)[1:] == [
        "Thứ 2<br>09/08",
        "Thứ 3<br>10/08",
        "Thứ 4<br>11/08",
        "Thứ 5<br>12/08",
        "Thứ 6<br>13/08",
        "Thứ 7<br>14/08",
        "Chủ nhật<br>15/08",
    ]
    page = client.get(station_url(start="2021-08-12")).content.decode()
    assert "12/08/2021 – 18/08/2021" in page


def test_a_bad_start_date_falls_back_to_this_week(client, station, supervisor):
    client.force_login(supervisor)
    response = client.get(station_url(start="2021-02-31"))
    assert response.status_code == 200
    assert "09/08/2021 – 15/08/2021" in response.content.decode()


def test_the_grid_has_a_row_per_staff_member_and_a_cell_per_day_with_shifts_tests_and_states(
    client, rostered, supervisor
):
    station = rostered(staff=3, days=7)
    take_rapid_tests(supervisor, station, staff=1, days=2)  # Hằng 0 tested after Monday's and Tuesday's shifts
    client.force_login(supervisor)

    page = client.get(station_url(start="2021-08-09")).content.decode()
    rows = grid(page)

    assert list(rows) == [staff_id(i) for i in (0, 2, 1)], "staff in name order: Nguyễn, Phạm, Trần"
    assert all(len(cells) == 7 for cells in rows.values())
    for i in range(3):
        assert staff_name(i) in page
    hang = rows[staff_id(0)]
    assert hang[0].startswith("S1") and "Test nhanh 14:00–16:00 Đã làm" in hang[0]
    assert "Test nhanh 14:00–16:00 Đã làm" in hang[1]
    assert "Test nhanh 14:00–16:00 Chưa đến hạn" in hang[2]  # Wednesday's shift has not ended at 10:00
    assert "Test nhanh 22:00–00:00 Quá hạn" in rows[staff_id(1)][0]
    assert "Test nhanh 06:00–08:00 Quá hạn" in rows[staff_id(2)][1]  # Tuesday's night shift ends Wednesday
    rt_pcr = [(staff, day) for staff, cells in rows.items() for day, text in enumerate(cells) if "■ RT-PCR" in text]
    assert rt_pcr, "RT-PCR days are in the grid"
    assert page.count('class="rt-pcr') == len(rt_pcr), "and their cells stand out"
    assert "mẫu gộp 1" in page


def test_the_attention_list_puts_the_overdue_first(client, rostered, supervisor):
    station = rostered(staff=3, days=7)
    client.force_login(supervisor)
    page = client.get(station_url()).content.decode()
    expected = [(e.person.id_number, e.state) for e in needs_attention(station, NOW)]
    shown = re.findall(r'data-attention="(\d+)" data-state="(\w+)"', page)
    assert shown == expected
    states = [state for _id, state in shown]
    assert states == sorted(states, key=lambda s: s != schedule.OVERDUE)
    assert {"overdue", "due"} <= set(states)
    assert "Quá hạn" in page and "Đến hạn" in page
    assert "sau ca S1 ngày Thứ 2 09/08" in page


def test_the_download_and_print_buttons_give_the_same_week(client, station, supervisor):
    client.force_login(supervisor)
    page = client.get(station_url(start="2021-08-16")).content.decode()
    for fmt in ("pdf", "csv", "xlsx"):
        url = f"/api/v1/stations/KCS-CP-03/schedule.{fmt}?start=2021-08-16&amp;days=7"
        assert f'href="{url}"' in page
    response = client.get("/api/v1/stations/KCS-CP-03/schedule.pdf?start=2021-08-16&days=7")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


# --- Roster upload -----------------------------------------------------------------------


def test_a_good_roster_is_loaded_and_the_week_shows_it(client, station, supervisor):
    client.force_login(supervisor)
    body = "".join(f"{staff_id(i)},{staff_name(i)},{day:02d}/08/2021,S{i + 1}\n" for i in range(2) for day in (9, 10))
    response = client.post(upload_url(), {"file": csv_file(HEADER + body)})
    assert response.status_code == 302
    assert response["Location"] == station_url(start="2021-08-09")
    assert RosterEntry.objects.filter(staff__station=station).count() == 4
    page = client.get(response["Location"]).content.decode()
    assert "Đã tải 4 mục lịch trực." in page
    assert list(grid(page)) == [staff_id(0), staff_id(1)]


def test_a_bad_roster_shows_every_bad_row_and_saves_nothing(client, station, supervisor):
    client.force_login(supervisor)
    upload = csv_file(
        HEADER + f"{staff_id(0)},{staff_name(0)},2021-08-09,S1\n"  # row 2: good
        f"12345,{staff_name(1)},2021-08-09,S1\n"  # row 3: malformed ID
        f"{staff_id(2)},{staff_name(2)},31/02/2021,S2\n"  # row 4: no such day
        f"{staff_id(3)},{staff_name(3)},2021-08-10,S9\n"  # row 5: unknown shift
        f"{staff_id(0)},{staff_name(0)},2021-08-09,S1\n"  # row 6: same as row 2
    )

    response = client.post(upload_url(), {"file": upload})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Lịch trực có 4 lỗi; chưa lưu gì." in page
    assert [(row, column) for row, column, _message in problems(page)] == [
        (3, "id_number"),
        (4, "date"),
        (5, "shift"),
        (6, "id_number"),
    ]
    assert problems(page)[3][2] == "Trùng người, ngày và ca với dòng 2."
    assert not RosterEntry.objects.exists() and not Person.objects.exists()
    assert page.index("data-refused") < page.index('id="attention"'), "the errors are at the top"


def test_a_bad_roster_in_english(client, station, supervisor):
    client.force_login(supervisor)
    upload = csv_file(HEADER + f"{staff_id(0)},{staff_name(0)},2021-08-09,S9\n")
    response = client.post(upload_url(), {"file": upload}, HTTP_ACCEPT_LANGUAGE="en")
    assert problems(response.content.decode()) == [
        (2, "shift", "Unknown shift S9: this station&#x27;s shifts are S1, S2, S3.")
    ]


def test_uploading_without_a_file_is_refused(client, station, supervisor):
    client.force_login(supervisor)
    response = client.post(upload_url(), {})
    assert response.status_code == 400
    assert "Trường này là bắt buộc." in response.content.decode()


def test_the_authority_reads_a_station_but_may_not_load_its_roster(client, station, authority):
    client.force_login(authority)
    page = client.get(station_url()).content.decode()
    assert 'name="file"' not in page
    response = client.post(upload_url(), {"file": csv_file(HEADER + f"{staff_id(0)},Lan,2021-08-09,S1\n")})
    assert response.status_code == 403
    assert "Bạn không được tải lên lịch trực." in response.content.decode()
    assert not RosterEntry.objects.exists()


# --- Query counts: the same ceiling for 3 and 40 staff ----------------------------------


@pytest.mark.parametrize("staff", [3, 40])
def test_station_pages_run_a_fixed_number_of_queries(
    client, rostered, supervisor, staff, django_assert_max_num_queries
):
    station = rostered(staff=staff, days=7)
    take_rapid_tests(supervisor, station, staff=staff, days=1)
    client.force_login(supervisor)
    with django_assert_max_num_queries(STATION_PAGE_QUERIES):
        response = client.get(station_url())
    assert len(grid(response.content.decode())) == staff
    with django_assert_max_num_queries(STATION_LIST_QUERIES):
        response = client.get(reverse("stations"))
    assert "KCS-CP-03" in response.content.decode()
