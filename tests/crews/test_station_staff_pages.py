"""The station page's staff management and staff sheet (issue 15): each write through
the page, refused by role (403) and scope (404), and the schedule following at once on
the page, in the API's JSON and in the PDF. The sheet records a rapid test or an RT-PCR
per person, each with its own client key, through the same ``record_tests`` as every
other result: sent twice, it stores once."""

import io
import re
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse

from crews import staffing
from crews.models import Person, ScreeningTest, Shift, StaffMember
from portguard.domain import DomainError
from tests.crews.helpers import START, STATION_PAGE_QUERIES, staff_id, staff_name
from tests.helpers import VN
from vessels.models import Alert

NOW = datetime.combine(START + timedelta(days=2), time(10), tzinfo=VN)  # Wednesday 10:00
WEDNESDAY = START + timedelta(days=2)
NEWCOMER = "022099000777"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def api_schedule(client, station) -> list[dict]:
    response = client.get(f"/api/v1/stations/{station.code}/schedule/?start=2021-08-09&days=7")
    assert response.status_code == 200
    return response.json()


def pdf_text(client, station) -> str:
    pypdf = pytest.importorskip("pypdf")
    response = client.get(f"/api/v1/stations/{station.code}/schedule.pdf?start=2021-08-09&days=7")
    assert response.status_code == 200
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)


def station_url(station, name="station", *args) -> str:
    return reverse(name, args=[station.code, *args])


# --- Through the page: the schedule (page, API, PDF) follows at once -------------------


def test_a_staff_member_added_on_the_page_is_on_the_schedule_page_api_and_pdf(client, station, supervisor):
    client.force_login(supervisor)
    form = {
        "staff-id_number": NEWCOMER,
        "staff-full_name": "Vũ Thị Mai",
        "staff-date": "2021-08-11",
        "staff-shift": "S2",
    }
    response = client.post(station_url(station, "station-staff-add") + "?start=2021-08-09", form)
    assert response.status_code == 302 and response["Location"].endswith("?start=2021-08-09#staff")
    page = client.get(response["Location"]).content.decode()
    assert "Vũ Thị Mai đã vào danh sách nhân viên từ 11/08/2021, ca S2." in page
    assert f'<tr data-staff="{NEWCOMER}">' in page
    assert f'data-staff-member="{NEWCOMER}"' in page
    rows = [r for r in api_schedule(client, station) if r["id_number"] == NEWCOMER]
    assert [(r["date"], r["kind"], r["shift"], r["due_from"]) for r in rows] == [
        ("2021-08-11", "rapid", "S2", "2021-08-11T22:00:00+07:00")
    ]
    assert "Vũ Thị Mai" in pdf_text(client, station)


def test_a_bad_staff_row_on_the_page_is_shown_on_its_fields(client, station, supervisor):
    client.force_login(supervisor)
    form = {"staff-id_number": "12", "staff-full_name": "", "staff-date": "2021-08-11", "staff-shift": "S2"}
    response = client.post(station_url(station, "station-staff-add"), form)
    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(r'<div class="field has-error">\s*<label for="id_staff-id_number">', page)
    assert not StaffMember.objects.exists()


def test_an_assignment_ended_on_the_page_leaves_the_schedule_page_api_and_pdf(client, rostered, supervisor):
    station = rostered(staff=2, days=7)
    person = Person.objects.get(id_number=staff_id(0))
    client.force_login(supervisor)
    assert staff_name(0) in pdf_text(client, station)
    response = client.post(
        station_url(station, "station-staff-end", person.pk) + "?start=2021-08-09",
        {f"end-{person.pk}-left_on": "2021-08-09"},
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert f"{staff_name(0)} đã rời danh sách nhân viên từ 09/08/2021." in page
    assert f'data-staff="{staff_id(0)}"' not in page
    assert f'data-staff-member="{staff_id(0)}"' not in page  # off the results sheet too
    assert not [r for r in api_schedule(client, station) if r["id_number"] == staff_id(0)]
    text = pdf_text(client, station)
    assert staff_name(0) not in text and staff_name(1) in text
    assert StaffMember.objects.get(person=person).ended_by == supervisor


def test_a_shift_changed_on_the_page_moves_the_schedule_on_the_page_api_and_pdf(client, rostered, supervisor):
    station = rostered(staff=1, days=7)
    client.force_login(supervisor)
    form = {"shift-S1-name": "Ca 1", "shift-S1-starts_at": "07:00", "shift-S1-ends_at": "15:30"}
    response = client.post(station_url(station, "station-shift", "S1") + "?start=2021-08-09", form)
    assert response.status_code == 302 and response["Location"].endswith("#shifts")
    page = client.get(response["Location"]).content.decode()
    assert '<li data-shift="S1"><b>S1</b> 07:00–15:30</li>' in page
    assert "15:30–17:30" in page  # the rapid test's window in the grid
    rapid = [r for r in api_schedule(client, station) if r["kind"] == "rapid"]
    assert {r["due_from"][11:16] for r in rapid} == {"15:30"}
    text = pdf_text(client, station)
    assert "15h30" in text and "16h" not in text  # was 14h–16h
    assert Shift.objects.get(station=station, code="S1").changed_by == supervisor


def test_a_shift_ending_when_it_starts_is_refused_on_its_form(client, station, supervisor):
    client.force_login(supervisor)
    form = {"shift-S1-name": "", "shift-S1-starts_at": "08:00", "shift-S1-ends_at": "08:00"}
    response = client.post(station_url(station, "station-shift", "S1"), form)
    assert response.status_code == 400
    assert "Ca trực không thể kết thúc đúng lúc bắt đầu." in response.content.decode()


@pytest.mark.parametrize(
    ("name", "args", "data"),
    [
        (
            "station-staff-add",
            (),
            {"staff-id_number": NEWCOMER, "staff-full_name": "Mai", "staff-date": "2021-08-11", "staff-shift": "S1"},
        ),
        ("station-shift", ("S1",), {"shift-S1-starts_at": "07:00", "shift-S1-ends_at": "15:00"}),
    ],
)
def test_the_authority_reads_the_station_but_may_not_manage_it(client, station, authority, name, args, data):
    client.force_login(authority)
    page = client.get(station_url(station)).content.decode()
    assert 'name="staff-id_number"' not in page and 'name="shift-S1-starts_at"' not in page
    assert client.post(station_url(station, name, *args), data).status_code == 403
    assert not StaffMember.objects.exists() and Shift.objects.get(station=station, code="S1").changed_by is None


def test_another_stations_supervisor_finds_no_such_station(client, rostered, other_supervisor):
    station = rostered(staff=1, days=1)
    person = Person.objects.get(id_number=staff_id(0))
    client.force_login(other_supervisor)
    assert client.post(station_url(station, "station-staff-end", person.pk), {}).status_code == 404
    assert client.post(station_url(station, "station-shift", "S1"), {}).status_code == 404
    assert client.post(station_url(station, "station-staff-add"), {}).status_code == 404
    assert client.post(station_url(station, "station-tests"), {}).status_code == 404


# --- The station's results sheet -----------------------------------------------------


KEY = re.compile(r'name="(key_\d+)" value="([0-9a-f-]{36})"')


def sheet_post(client, station, page: str, results: dict[int, str], kind="rapid", sampled_at="2021-08-11T09:30"):
    keys = dict(KEY.findall(page))
    data = {"kind": kind, "sampled_at": sampled_at, "kit_lot": "LOT-7"}
    for pk, result in results.items():
        data[f"result_{pk}"] = result
        data[f"key_{pk}"] = keys[f"key_{pk}"]
    return client.post(station_url(station, "station-tests") + "?start=2021-08-09", data)


def test_the_station_sheet_sent_twice_stores_each_result_once(client, rostered, supervisor):
    station = rostered(staff=3, days=7)
    people = list(Person.objects.order_by("id_number"))
    client.force_login(supervisor)
    page = client.get(station_url(station)).content.decode()
    assert 'data-queue="results"' in page
    results = {people[0].pk: "negative", people[1].pk: "negative"}
    first = sheet_post(client, station, page, results)
    again = sheet_post(client, station, page, results)
    assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"]
    assert "Đã lưu 2 kết quả." in client.get(again["Location"]).content.decode()
    stored = ScreeningTest.objects.order_by("person__id_number")
    assert [(t.person, t.station, t.kind, t.kit_lot, t.recorded_by) for t in stored] == [
        (people[0], station, "rapid", "LOT-7", supervisor),
        (people[1], station, "rapid", "LOT-7", supervisor),
    ]
    assert {str(t.client_uuid) for t in stored} == {v for k, v in KEY.findall(page) if k != f"key_{people[2].pk}"}


def test_a_pooled_rt_pcr_goes_into_the_pool_the_schedule_plans(client, rostered, supervisor):
    station = rostered(staff=6, days=7)
    pools = staffing.planned_pools(station, START, 7, NOW)
    today = [(pk, pool) for (pk, day), pool in pools.items() if day == WEDNESDAY]
    assert today, "the plan puts RT-PCRs on Wednesday"
    client.force_login(supervisor)
    page = client.get(station_url(station)).content.decode()
    response = sheet_post(client, station, page, {pk: "negative" for pk, _pool in today}, kind="rt_pcr_pooled")
    assert response.status_code == 302
    stored = dict(ScreeningTest.objects.values_list("person_id", "pool_id"))
    assert stored == dict(today)
    assert all(pool.startswith("KCS-CP-03-20210811-") for pool in stored.values())


def test_a_positive_on_the_station_sheet_raises_the_staff_alert_live(
    client, rostered, supervisor, broadcasts, django_capture_on_commit_callbacks
):
    station = rostered(staff=2, days=7)
    person = Person.objects.get(id_number=staff_id(1))
    client.force_login(supervisor)
    page = client.get(station_url(station)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert sheet_post(client, station, page, {person.pk: "positive"}).status_code == 302
    (alert,) = Alert.objects.all()
    assert (alert.kind, alert.station_id, alert.wharf_id, alert.person_id) == (
        "positive",
        station.pk,
        station.wharf_id,
        person.pk,
    )
    (event,) = [e for e in broadcasts if e["type"] == "alert.positive"]
    assert (event["wharf"], event["station"], event["alert"]) == ("CP-03", station.code, alert.pk)


def test_a_result_for_someone_off_the_staff_refuses_the_sheet(client, rostered, supervisor):
    station = rostered(staff=2, days=7)
    people = list(Person.objects.order_by("id_number"))
    client.force_login(supervisor)
    page = client.get(station_url(station)).content.decode()
    staffing.end_assignment(supervisor, station, people[0].pk, date(2021, 8, 10), now=NOW)
    response = sheet_post(client, station, page, {people[0].pk: "negative", people[1].pk: "negative"})
    assert response.status_code == 400
    assert staff_name(0) in response.content.decode()
    assert not ScreeningTest.objects.exists()


def test_the_authority_may_not_record_staff_results(client, rostered, authority):
    station = rostered(staff=1, days=1)
    person = Person.objects.get()
    client.force_login(authority)
    assert 'action="/stations/KCS-CP-03/tests/' not in client.get(station_url(station)).content.decode()
    data = {"kind": "rapid", "sampled_at": "2021-08-11T09:30", f"result_{person.pk}": "negative"}
    assert client.post(station_url(station, "station-tests"), data).status_code == 403
    with pytest.raises(DomainError):
        staffing.record_station_sheet(
            authority, station, "rapid", [staffing.StaffResult(person.pk, "negative", NOW)], now=NOW
        )
    assert not ScreeningTest.objects.exists()


@pytest.mark.parametrize("staff", [3, 40])
def test_the_station_sheet_posts_in_a_fixed_number_of_queries(
    client, rostered, supervisor, staff, django_assert_max_num_queries
):
    station = rostered(staff=staff, days=7)
    client.force_login(supervisor)
    page = client.get(station_url(station)).content.decode()
    people = Person.objects.all()
    with django_assert_max_num_queries(40):
        response = sheet_post(client, station, page, {p.pk: "negative" for p in people})
    assert response.status_code == 302 and ScreeningTest.objects.count() == staff


def test_time_moves_the_sheet_to_the_day_it_is(client, rostered, supervisor):
    station = rostered(staff=1, days=7)
    client.force_login(supervisor)
    with time_machine.travel(NOW + timedelta(days=7), tick=False):
        page = client.get(station_url(station)).content.decode()
    assert "Không có xét nghiệm nào theo lịch hôm nay." in page


@pytest.mark.parametrize("staff", [3, 40])
def test_another_week_costs_only_the_plan_of_this_week_for_the_sheet(
    client, rostered, supervisor, staff, django_assert_max_num_queries
):
    """The sheet says what is planned today whatever week the schedule shows: another
    week's page reads this week's plan too (five queries), whatever the number of staff."""
    station = rostered(staff=staff, days=7)
    client.force_login(supervisor)
    with django_assert_max_num_queries(STATION_PAGE_QUERIES + 5):
        page = client.get(station_url(station) + "?start=2021-08-16").content.decode()
    today = re.findall(r"data-today>(.*?)</div>", page, re.S)  # each staff member's plan of today
    assert len(today) == staff and all("Test nhanh sau ca S" in plan for plan in today)
    assert "Tuần này chưa có ai trong lịch trực." in page  # next week has no roster
