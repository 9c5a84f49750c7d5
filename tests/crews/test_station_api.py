"""KCS stations through the API (SPEC §6, rule R3): scope, rosters, schedules as JSON,
CSV and XLSX, compliance of recorded staff tests, and query counts."""

import io
from datetime import datetime, time, timedelta

import pandas as pd
import pytest
import time_machine
from rest_framework.test import APIClient

from crews.models import Person, RosterEntry, ScreeningTest
from crews.results import TestData
from crews.stations import (
    RosterLine,
    create_station,
    ensure_default_shifts,
    load_roster,
    needs_attention,
    record_staff_test,
    record_staff_tests,
    station_schedule,
)
from portguard.domain import NotAllowed
from tests.crews.helpers import START, csv_file, staff_id, staff_name
from tests.helpers import VN, refused, token_for

NOW = datetime.combine(START + timedelta(days=2), time(10), tzinfo=VN)  # Wednesday 10:00
COLUMNS = ["id_number", "full_name", "date", "shift", "kind", "due_from", "due_by", "state", "pool"]
SCHEDULE = "/api/v1/stations/KCS-CP-03/schedule"
PERIOD = "?start=2021-08-09&days=7"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(START + timedelta(days=day), time(hour, minute), tzinfo=VN)


def staff_test(user, station, i: int, sampled_at: datetime, kind: str = "rapid", result: str = "negative"):
    person = Person.objects.get(id_number=staff_id(i))
    return record_staff_test(
        user, station, TestData(person=person, kind=kind, sampled_at=sampled_at, result=result), now=NOW
    )[0]


# --- Stations and scope --------------------------------------------------------------


def test_new_station_gets_the_three_default_shifts(station):
    shifts = [(s.code, s.starts_at, s.ends_at, s.crosses_midnight) for s in station.shifts.all()]
    assert shifts == [
        ("S1", time(6), time(14), False),
        ("S2", time(14), time(22), False),
        ("S3", time(22), time(6), True),
    ]
    assert station.code == "KCS-CP-03"
    ensure_default_shifts(station)
    assert station.shifts.count() == 3


def test_stations_list_only_what_the_caller_may_see(station, other_station, supervisor, authority, inspector):
    def codes(user):
        return [s["code"] for s in client_for(user).get("/api/v1/stations/").json()]

    assert codes(supervisor) == ["KCS-CP-03"]
    assert codes(authority) == ["KCS-CP-03", "KCS-HL-01"]
    assert codes(inspector) == []
    assert client_for(supervisor).get("/api/v1/stations/").json()[0] == {
        "code": "KCS-CP-03",
        "name": "Trạm KCS Mông Dương",
        "wharf": "CP-03",
    }


def test_anonymous_calls_are_refused_with_json(station):
    response = APIClient().get("/api/v1/stations/")
    assert response.status_code == 401 and response.json()["error"] == "not_authenticated"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/stations/KCS-CP-03/roster/",
        "/api/v1/stations/KCS-CP-03/schedule/",
        "/api/v1/stations/KCS-CP-03/schedule.csv",
        "/api/v1/stations/KCS-CP-03/schedule.xlsx",
        "/api/v1/stations/KCS-XX-99/schedule/",
    ],
)
def test_station_outside_the_callers_scope_is_not_found(rostered, other_station, other_supervisor, path):
    rostered()
    response = client_for(other_supervisor).get(path + PERIOD)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_supervisor_of_another_station_cannot_post_its_roster(rostered, other_station, other_supervisor):
    rostered()
    upload = csv_file("id_number,full_name,date,shift\n001234567890,Hằng,2021-08-20,S1\n")
    response = client_for(other_supervisor).post("/api/v1/stations/KCS-CP-03/roster/", {"file": upload})
    assert response.status_code == 404
    assert not RosterEntry.objects.filter(date="2021-08-20").exists()


def test_port_authority_reads_a_roster_but_may_not_load_one(rostered, authority):
    rostered(staff=2, days=1)
    client = client_for(authority)
    assert len(client.get("/api/v1/stations/kcs-cp-03/roster/" + PERIOD).json()) == 2
    upload = csv_file("id_number,full_name,date,shift\n001234567890,Hằng,2021-08-20,S1\n")
    response = client.post("/api/v1/stations/KCS-CP-03/roster/", {"file": upload})
    assert response.status_code == 403 and response.json()["error"] == "forbidden"


# --- Roster in and out ---------------------------------------------------------------


def test_roster_posted_as_csv_is_read_back_as_json(station, supervisor):
    client = client_for(supervisor)
    upload = csv_file(
        "id_number,full_name,date,shift\n"
        "001234567890,Nguyễn Thị Hằng,2021-08-09,S3\n"
        "031234567,Trần Đức Mạnh,09/08/2021,S1\n"
        "001234567890,Nguyễn Thị Hằng,2021-08-20,S1\n"
    )
    response = client.post("/api/v1/stations/KCS-CP-03/roster/", {"file": upload})
    assert response.status_code == 201
    assert response.json() == {"station": "KCS-CP-03", "count": 3}
    assert client.get("/api/v1/stations/KCS-CP-03/roster/" + PERIOD).json() == [
        {"id_number": "031234567", "full_name": "Trần Đức Mạnh", "date": "2021-08-09", "shift": "S1"},
        {"id_number": "001234567890", "full_name": "Nguyễn Thị Hằng", "date": "2021-08-09", "shift": "S3"},
    ]


def test_bad_roster_answers_every_row_and_saves_nothing(station, supervisor):
    upload = csv_file(
        "id_number,full_name,date,shift\n001234567890,Nguyễn Thị Hằng,2021-08-09,S4\n12,Trần Đức Mạnh,hôm nay,S1\n"
    )
    response = client_for(supervisor).post("/api/v1/stations/KCS-CP-03/roster/", {"file": upload})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_file" and body["message"]
    assert [(r["row"], r["column"]) for r in body["rows"]] == [(2, "shift"), (3, "id_number"), (3, "date")]
    assert not RosterEntry.objects.exists() and not Person.objects.exists()


def test_roster_post_without_a_file_is_an_invalid_file(station, supervisor):
    response = client_for(supervisor).post("/api/v1/stations/KCS-CP-03/roster/", {})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_file" and response.json()["rows"] == []


@pytest.mark.parametrize("query", ["?days=0", "?days=100", "?start=09-08-2021"])
def test_bad_period_is_a_validation_error_naming_the_field(station, supervisor, query):
    response = client_for(supervisor).get(SCHEDULE + "/" + query)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "validation_error"
    assert set(body["fields"]) <= {"days", "start"}


# --- Schedule and compliance ---------------------------------------------------------


def test_schedule_rows_have_the_spec_columns_and_local_times(rostered, supervisor):
    rostered(staff=3, days=7)
    rows = client_for(supervisor).get(SCHEDULE + "/" + PERIOD).json()
    assert all(list(r) == COLUMNS for r in rows)
    first_rapid = next(r for r in rows if r["kind"] == "rapid" and r["id_number"] == staff_id(0))
    assert first_rapid == {
        "id_number": staff_id(0),
        "full_name": staff_name(0),
        "date": "2021-08-09",
        "shift": "S1",
        "kind": "rapid",
        "due_from": "2021-08-09T14:00:00+07:00",
        "due_by": "2021-08-09T16:00:00+07:00",
        "state": "overdue",
        "pool": "",
    }
    night = next(r for r in rows if r["kind"] == "rapid" and r["id_number"] == staff_id(2))
    assert (night["shift"], night["due_from"]) == ("S3", "2021-08-10T06:00:00+07:00")
    assert len([r for r in rows if r["kind"] == "rapid"]) == 3 * 7
    rt_pcr_days = sorted(r["date"] for r in rows if r["kind"] == "rt_pcr")
    assert rt_pcr_days == ["2021-08-10", "2021-08-11", "2021-08-12", "2021-08-13", "2021-08-14", "2021-08-15"]


def test_schedule_json_keeps_names_with_quotes_and_backslashes_intact(station, supervisor):
    name = 'Lê Văn "Tèo" \\ Út'
    load_roster(supervisor, station, [RosterLine(2, staff_id(7), name, "2021-08-09", "S1")])
    rows = client_for(supervisor).get(SCHEDULE + "/" + PERIOD).json()
    assert rows and {r["full_name"] for r in rows} == {name}


def test_schedule_lists_staff_in_vietnamese_alphabetical_order(station, supervisor):
    names = ["Vũ Thị Lan", "Đỗ Quốc Việt", "Dương Văn An", "Âu Minh Tú", "An Văn Nam"]
    load_roster(
        supervisor, station, [RosterLine(2 + i, staff_id(i), name, "2021-08-09", "S1") for i, name in enumerate(names)]
    )
    rows = client_for(supervisor).get(SCHEDULE + "/" + PERIOD).json()
    rapid = [r["full_name"] for r in rows if r["kind"] == "rapid"]
    assert rapid == ["An Văn Nam", "Âu Minh Tú", "Dương Văn An", "Đỗ Quốc Việt", "Vũ Thị Lan"]


def test_recorded_staff_tests_make_planned_tests_done(rostered, supervisor):
    station = rostered(staff=3, days=7)
    client = client_for(supervisor)
    staff_test(supervisor, station, 0, at(0, 14, 20))  # after Monday's day shift
    staff_test(supervisor, station, 0, at(1, 17))  # too late for Tuesday's
    rt_pcr = {r["date"]: r for r in client.get(SCHEDULE + "/" + PERIOD).json() if r["kind"] == "rt_pcr"}
    tuesdays = Person.objects.get(id_number=rt_pcr["2021-08-10"]["id_number"])
    pooled = TestData(person=tuesdays, kind="rt_pcr_pooled", sampled_at=at(1, 9), result="pending")
    record_staff_test(supervisor, station, pooled, now=NOW)

    rows = client.get(SCHEDULE + "/" + PERIOD).json()
    rapid_states = [r["state"] for r in rows if r["kind"] == "rapid" and r["id_number"] == staff_id(0)]
    assert rapid_states == ["done", "overdue", "due", "due", "due", "due", "due"]
    rt_pcr_states = {r["date"]: r["state"] for r in rows if r["kind"] == "rt_pcr" and r["date"] <= "2021-08-11"}
    assert rt_pcr_states == {"2021-08-10": "done", "2021-08-11": "due"}
    assert ScreeningTest.objects.filter(station=station).count() == 3


def test_rt_pcr_before_the_period_sets_when_the_next_is_due(rostered, supervisor):
    station = rostered(staff=1, days=7)
    client = client_for(supervisor)
    assert [r["date"] for r in client.get(SCHEDULE + "/" + PERIOD).json() if r["kind"] == "rt_pcr"] == [
        "2021-08-12",
        "2021-08-15",
    ]
    staff_test(supervisor, station, 0, at(-1, 9), kind="rt_pcr", result="negative")
    assert [r["date"] for r in client.get(SCHEDULE + "/" + PERIOD).json() if r["kind"] == "rt_pcr"] == [
        "2021-08-11",
        "2021-08-14",
    ]


def test_staff_tests_are_recorded_only_by_their_supervisor_and_only_for_staff(
    rostered, supervisor, other_station, other_supervisor, make_call
):
    station = rostered(staff=1, days=1)
    with refused("forbidden", NotAllowed, field="station"):
        staff_test(other_supervisor, station, 0, at(0, 14, 30))
    stranger = Person.objects.create(full_name="Lê Văn Tám", id_kind="cmnd", id_number="099999999")
    with refused("invalid", field="id_number"):
        record_staff_tests(
            supervisor,
            station,
            [TestData(person=stranger, kind="rapid", sampled_at=at(0, 14, 30), result="negative")],
            now=NOW,
        )
    test = staff_test(supervisor, station, 0, at(0, 14, 30))
    assert test.station == station and test.port_call is None and test.recorded_by == supervisor


def test_overdue_staff_come_first_in_needs_attention(rostered, supervisor):
    station = rostered(staff=3, days=7)
    attention = needs_attention(station, now=NOW)
    states = [e.state for e in attention]
    assert states == sorted(states, key=lambda s: s != "overdue")
    assert {e.person.id_number for e in attention if e.state == "overdue"} == {staff_id(i) for i in range(3)}
    overdue_dues = [e.planned.due_by for e in attention if e.state == "overdue"]
    assert overdue_dues == sorted(overdue_dues)


# --- Files ---------------------------------------------------------------------------


def test_schedule_csv_is_utf8_with_bom_and_reads_back_like_the_json(rostered, supervisor):
    rostered(staff=3, days=7)
    client = client_for(supervisor)
    response = client.get(SCHEDULE + ".csv" + PERIOD)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="schedule-KCS-CP-03-2021-08-09-7d.csv"' in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.BytesIO(response.content), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(frame.columns) == COLUMNS
    assert frame.to_dict("records") == client.get(SCHEDULE + "/" + PERIOD).json()
    assert staff_name(1) in set(frame["full_name"])


def test_schedule_xlsx_reads_back_like_the_json(rostered, supervisor):
    rostered(staff=3, days=7)
    client = client_for(supervisor)
    response = client.get(SCHEDULE + ".xlsx" + PERIOD)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    frame = pd.read_excel(io.BytesIO(response.content), dtype=str, keep_default_na=False)
    assert frame.to_dict("records") == client.get(SCHEDULE + "/" + PERIOD).json()
    assert frame["id_number"].iloc[0].startswith("0220")


def pdf_pages(content: bytes) -> list:
    pypdf = pytest.importorskip("pypdf")
    return pypdf.PdfReader(io.BytesIO(content)).pages


def test_schedule_pdf_is_a4_landscape_with_vietnamese_names(rostered, supervisor):
    rostered(staff=3, days=7)
    response = client_for(supervisor).get(SCHEDULE + ".pdf" + PERIOD)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert 'filename="schedule-KCS-CP-03-2021-08-09-7d.pdf"' in response["Content-Disposition"]
    (page,) = pdf_pages(response.content)
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (842, 595)
    text = page.extract_text()
    assert staff_name(0) in text and "Nguyễn Thị Hằng" in text
    assert "KCS-CP-03" in text and "Trạm KCS Mông Dương" in text and "CP-03" in text
    assert "RT-PCR" in text


def test_long_schedule_pdf_repeats_its_header_and_numbers_its_pages(rostered, supervisor):
    rostered(staff=40, days=14)
    response = client_for(supervisor).get(SCHEDULE + ".pdf?start=2021-08-09&days=14")
    pages = pdf_pages(response.content)
    assert len(pages) > 2
    for number, page in enumerate(pages, start=1):
        text = page.extract_text()
        assert "KCS-CP-03" in text
        assert f"{number}" in text and f"{len(pages)}" in text
    assert all(staff_name(i) in "".join(p.extract_text() for p in pages) for i in range(40))


# --- Query counts --------------------------------------------------------------------

SCHEDULE_QUERIES = 8  # token 1, permissions 2, station 1, plan_station 4


@pytest.mark.parametrize("staff", [3, 40])
def test_schedule_queries_do_not_grow_with_the_staff(rostered, supervisor, django_assert_max_num_queries, staff):
    station = rostered(staff=staff, days=7)
    for i in range(staff):
        staff_test(supervisor, station, i, at(0, 22, 30))
    client = client_for(supervisor)
    with django_assert_max_num_queries(SCHEDULE_QUERIES):
        rows = client.get(SCHEDULE + "/" + PERIOD).json()
    assert len([r for r in rows if r["kind"] == "rapid"]) == staff * 7
    for suffix in (".csv", ".xlsx", ".pdf"):
        with django_assert_max_num_queries(SCHEDULE_QUERIES):
            assert client.get(SCHEDULE + suffix + PERIOD).status_code == 200


@pytest.mark.parametrize("staff", [3, 40])
def test_roster_and_station_list_queries_do_not_grow(rostered, supervisor, django_assert_max_num_queries, staff):
    rostered(staff=staff, days=7)
    client = client_for(supervisor)
    with django_assert_max_num_queries(5):
        assert len(client.get("/api/v1/stations/KCS-CP-03/roster/" + PERIOD).json()) == staff * 7
    with django_assert_max_num_queries(4):
        assert len(client.get("/api/v1/stations/").json()) == 1


def test_station_schedule_loads_in_five_queries(rostered, django_assert_num_queries):
    station = rostered(staff=10, days=7)
    with django_assert_num_queries(5):
        station_schedule(station, START, 7, now=NOW)


def test_create_station_takes_its_supervisors(cam_pha, supervisor):
    station = create_station(code="KCS-CP-04", name="Trạm KCS Cửa Ông", wharf=cam_pha, supervisors=[supervisor])
    assert list(station.supervisors.all()) == [supervisor]
