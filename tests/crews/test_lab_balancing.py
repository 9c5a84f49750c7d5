"""The province balancing applied to the printed schedules (issue 17, rule R7): where
stations share a lab, their RT-PCR days are balanced together in pools, and every door
prints and judges the balanced days (the station page, the schedule's JSON, CSV and
PDF, the lab's outlook, who is overdue). A station with no lab, or alone in its lab,
prints what R3 alone plans.

The scenario: two stations at Mông Dương, 16 staff each working every day from Monday
09/08/2021, nobody tested before. R3 deals each station's staff to the three days of
its rotation as 5, 5 and 6, the six on Thursday and Sunday at both stations, so the
lab gets 2 + 2 pools of at most 5 on those days and 1 + 1 on the others. Balanced,
one staff member of KCS-CP-03 is tested a day earlier on both of their days
(Wednesday and Saturday): the lab runs 3 pools on Wednesday, Thursday, Saturday and
Sunday, never 4."""

import csv
import io
import re
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from crews import schedule
from crews.lab_load import lab_outlook
from crews.models import Lab, Person, RosterEntry
from crews.results import TestData
from crews.stations import create_station, load_roster, needs_attention, record_staff_tests, station_schedule
from tests.crews.helpers import START, STATION_PAGE_QUERIES, roster_lines, staff_id, staff_name
from tests.helpers import VN, token_for
from vessels.clock import overdue_by_wharf

WEEK = [START + timedelta(days=d) for d in range(7)]
NOW = datetime.combine(START, time(5), tzinfo=VN)  # Monday, before any test is due
PERIOD = "?start=2021-08-09&days=7"
# The schedule's endpoint: token 1, permissions 2, station 1, plan_station 4 (the lab's
# other stations come in the station's own two reads).
SCHEDULE_QUERIES = 8
# The station page with a lab: its own queries, and the lab's outlook (lab_pages.py).
LAB_QUERIES = 5

# R3 alone, at each station: RT-PCR samples and pools a day, Monday to Sunday.
R3_SAMPLES = [0, 5, 5, 6, 5, 5, 6]
R3_LAB_POOLS = [0, 2, 2, 4, 2, 2, 4]
# Balanced across the lab.
BALANCED_SAMPLES = {"KCS-CP-03": [0, 5, 6, 5, 5, 6, 5], "KCS-CP-04": R3_SAMPLES}
BALANCED_LAB_POOLS = [0, 2, 3, 3, 2, 3, 3]


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def other_lines(staff: int, days: int):
    """The second station's roster: other people, the same pattern."""
    return [
        replace(line, id_number=staff_id(100 + i), full_name=staff_name(100 + i))
        for line in roster_lines(staff, days)
        for i in [int(line.id_number) % 100]
    ]


@pytest.fixture
def two_stations(station, cam_pha, supervisor):
    """KCS-CP-03 and KCS-CP-04, ``staff`` people each, working every day for two weeks;
    the lab is the caller's to assign."""

    def make(staff: int = 16):
        other = create_station(code="KCS-CP-04", name="Trạm KCS Cửa Ông", wharf=cam_pha, supervisors=[supervisor])
        load_roster(supervisor, station, roster_lines(staff, 14))
        load_roster(supervisor, other, other_lines(staff, 14))
        return station, other

    return make


def share_lab(*stations, name: str = "CDC Quảng Ninh") -> Lab:
    lab = Lab.objects.create(name=name, capacity_single=100, capacity_pooled=100)
    for station in stations:
        station.lab = lab
        station.save()
    return lab


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


def rt_pcr_rows(rows: list[dict]) -> list[tuple[str, str, str]]:
    """(ID number, day, pool) of each RT-PCR of the exported rows."""
    return sorted((r["id_number"], r["date"], r["pool"]) for r in rows if r["kind"] == schedule.RT_PCR)


def per_day(rows: list[tuple[str, str, str]]) -> list[int]:
    counts = Counter(day for _id, day, _pool in rows)
    return [counts[day.isoformat()] for day in WEEK]


def schedule_json(user, station) -> list[dict]:
    response = api(user).get(f"/api/v1/stations/{station.code}/schedule/{PERIOD}")
    assert response.status_code == 200
    return response.json()


def schedule_file(user, station, fmt: str) -> bytes:
    response = api(user).get(f"/api/v1/stations/{station.code}/schedule.{fmt}{PERIOD}")
    assert response.status_code == 200
    return response.content


def csv_rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def pdf_rt_pcr(content: bytes) -> list[tuple[str, str, str]]:
    """(ID number, day, pool) of each RT-PCR printed in the schedule's PDF, where every
    staff member works one shift every day: a row's cells follow its ID number, each with
    its shift's rapid test, an RT-PCR cell starting with the RT-PCR and its pool number."""
    pypdf = pytest.importorskip("pypdf")
    lines = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages).splitlines()
    found, person, cell = [], None, 0
    for line, following in zip(lines, lines[1:], strict=False):
        if re.fullmatch(r"0220\d{8}", line):
            person, cell = line, 0
        elif person and line.startswith("■ RT-PCR"):
            day = WEEK[cell]
            found.append((person, day.isoformat(), f"{day:%Y%m%d}-{following}"))
        elif person and re.match(r"S\d · ", line):
            cell += 1
    return sorted(found)


def grid_rt_pcr(page: str) -> dict[str, list[date]]:
    """Each staff member's RT-PCR days in the station page's week grid."""
    days = {}
    for id_number, row in re.findall(r'<tr data-staff="(\d+)">(.*?)</tr>', page, re.S):
        cells = re.findall(r'<td class="([^"]*)"', row)
        days[id_number] = [WEEK[k] for k, css in enumerate(cells) if "rt-pcr" in css.split()]
    return days


def lab_pools(lab: Lab) -> list[int]:
    return [day.pools for day in lab_outlook(lab, START)]


# --- The balanced plan, door by door ----------------------------------------------


def test_the_labs_outlook_is_balanced_in_pools(two_stations):
    station, other = two_stations()
    alone = share_lab(station)
    elsewhere = share_lab(other, name="Viện Pasteur")
    # Each station alone in its lab: R3's own spread, which piles 2 + 2 pools on Thursday
    # and Sunday once the two stations share a lab, unbalanced.
    assert lab_pools(alone) == [-(-n // 5) for n in R3_SAMPLES]
    assert [a + b for a, b in zip(lab_pools(alone), lab_pools(elsewhere), strict=True)] == R3_LAB_POOLS
    lab = share_lab(station, other, name="CDC Hạ Long")
    assert lab_pools(lab) == BALANCED_LAB_POOLS
    # A lab that can run 3 pools a day is not over capacity any day of the week.
    lab.capacity_pooled = 3
    lab.save()
    assert not [day for day in lab_outlook(lab, START) if day.over]


def test_the_schedule_json_csv_and_pdf_print_the_balanced_days(two_stations, supervisor):
    station, other = two_stations()
    unbalanced = {s.code: rt_pcr_rows(schedule_json(supervisor, s)) for s in (station, other)}
    share_lab(station, other)
    for s in (station, other):
        rows = rt_pcr_rows(schedule_json(supervisor, s))
        assert per_day(unbalanced[s.code]) == R3_SAMPLES
        assert per_day(rows) == BALANCED_SAMPLES[s.code]
        # The CSV and the JSON are the same rows.
        assert rt_pcr_rows(csv_rows(schedule_file(supervisor, s, "csv"))) == rows
    # One staff member of KCS-CP-03 moved, each of their RT-PCRs one day earlier.
    rows = rt_pcr_rows(schedule_json(supervisor, station))
    before = {(i, d) for i, d, _pool in unbalanced[station.code]}
    after = {(i, d) for i, d, _pool in rows}
    (moved,) = {i for i, _d in before ^ after}
    assert sorted(d for i, d in before if i == moved) == ["2021-08-12", "2021-08-15"]
    assert sorted(d for i, d in after if i == moved) == ["2021-08-11", "2021-08-14"]
    # Pools are formed again on the balanced days: six on Wednesday make two pools.
    pools = Counter((d, pool) for _i, d, pool in rows)
    assert pools == Counter(
        {
            ("2021-08-10", "20210810-1"): 5,
            ("2021-08-11", "20210811-1"): 5,
            ("2021-08-11", "20210811-2"): 1,
            ("2021-08-12", "20210812-1"): 5,
            ("2021-08-13", "20210813-1"): 5,
            ("2021-08-14", "20210814-1"): 5,
            ("2021-08-14", "20210814-2"): 1,
            ("2021-08-15", "20210815-1"): 5,
        }
    )
    # The lab's outlook counts the pools the two stations print.
    printed_pools = Counter(
        d for s in (station, other) for d, _pool in {(d, p) for _i, d, p in rt_pcr_rows(schedule_json(supervisor, s))}
    )
    assert [printed_pools[day.isoformat()] for day in WEEK] == lab_pools(station.lab) == BALANCED_LAB_POOLS
    # The PDF prints the same RT-PCRs in the same pools.
    for s in (station, other):
        assert pdf_rt_pcr(schedule_file(supervisor, s, "pdf")) == rt_pcr_rows(schedule_json(supervisor, s))


def test_the_station_page_prints_the_balanced_days(two_stations, supervisor, client):
    station, other = two_stations()
    share_lab(station, other)
    client.force_login(supervisor)
    for s in (station, other):
        page = client.get(reverse("station", args=[s.code]) + "?start=2021-08-09").content.decode()
        grid = grid_rt_pcr(page)
        assert len(grid) == 16
        printed = sorted((i, d.isoformat()) for i, days in grid.items() for d in days)
        assert printed == [(i, d) for i, d, _pool in rt_pcr_rows(schedule_json(supervisor, s))]
        assert per_day([(i, d, "") for i, d in printed]) == BALANCED_SAMPLES[s.code]


@pytest.mark.parametrize("staff", [3, 40])
def test_a_shared_lab_costs_the_schedule_no_query(
    two_stations, supervisor, client, staff, django_assert_max_num_queries
):
    station, other = two_stations(staff)
    share_lab(station, other)
    client_api = api(supervisor)
    for suffix in ("/", ".csv", ".pdf"):
        with django_assert_max_num_queries(SCHEDULE_QUERIES):
            response = client_api.get(f"/api/v1/stations/{station.code}/schedule{suffix}{PERIOD}")
        assert response.status_code == 200
    client.force_login(supervisor)
    with django_assert_max_num_queries(STATION_PAGE_QUERIES + LAB_QUERIES):
        page = client.get(reverse("station", args=[station.code]) + "?start=2021-08-09").content.decode()
    assert len(grid_rt_pcr(page)) == staff


# --- Who is overdue agrees with the balanced print ---------------------------------


def follow(supervisor, station, start: date, now: datetime, skip: set[tuple[str, date]] = frozenset()):
    """Take every test the station's printed week owes before ``now``, half an hour into
    its window, except the RT-PCRs of ``skip`` (ID number, day)."""
    plan = station_schedule(station, start, 7, now)
    record_staff_tests(
        supervisor,
        station,
        [
            TestData(e.person, e.planned.kind, e.planned.due_from + timedelta(minutes=30), "negative")
            for e in plan
            if e.planned.due_by < now
            and not (e.planned.kind == schedule.RT_PCR and (e.person.id_number, e.planned.date) in skip)
        ],
        now=now,
    )


def overdue_rt_pcr(station, now) -> list[tuple[str, date]]:
    return sorted(
        (e.person.id_number, e.planned.date)
        for e in needs_attention(station, now)
        if e.state == schedule.OVERDUE and e.planned.kind == schedule.RT_PCR
    )


def test_staff_who_follow_the_balanced_print_are_never_overdue(two_stations, supervisor, client):
    station, other = two_stations()
    share_lab(station, other)
    now = datetime.combine(START + timedelta(days=9), time(10), tzinfo=VN)  # Wednesday of week 2
    with time_machine.travel(now, tick=False):
        for week in (0, 1):
            for s in (station, other):
                follow(supervisor, s, START + timedelta(weeks=week), now)
        for s in (station, other):
            assert not [e for e in needs_attention(s, now) if e.state == schedule.OVERDUE]
        assert overdue_by_wharf(now) == {"CP-03": []}
        client.force_login(supervisor)
        page = client.get(reverse("station", args=[station.code])).content.decode()
        assert 'data-state="overdue"' not in page


def test_a_staff_member_moved_earlier_is_expected_on_the_earlier_day(two_stations, supervisor, client):
    station, other = two_stations()
    unbalanced = {(i, d) for i, d, _pool in rt_pcr_rows(schedule_json(supervisor, station))}
    share_lab(station, other)
    balanced = {(i, d) for i, d, _pool in rt_pcr_rows(schedule_json(supervisor, station))}
    (moved,) = {i for i, _d in unbalanced ^ balanced}
    wednesday, thursday = WEEK[2], WEEK[3]
    assert (moved, wednesday.isoformat()) in balanced and (moved, thursday.isoformat()) in unbalanced
    # Thursday 10:00: everyone followed the print, but the staff member moved to
    # Wednesday was tested on Thursday morning, their day before the balancing.
    now = datetime.combine(thursday, time(10), tzinfo=VN)
    with time_machine.travel(now, tick=False):
        follow(supervisor, station, START, now, skip={(moved, wednesday)})
        follow(supervisor, other, START, now)
        person = Person.objects.get(id_number=moved)
        record_staff_tests(
            supervisor,
            station,
            [TestData(person, schedule.RT_PCR, datetime.combine(thursday, time(7), tzinfo=VN), "negative")],
            now=now,
        )
        assert overdue_rt_pcr(station, now) == [(moved, wednesday)]
        assert overdue_rt_pcr(other, now) == []
        (entry,) = [e for e in overdue_by_wharf(now)["CP-03"] if e["kind"] == schedule.RT_PCR]
        assert (entry["id_number"], entry["station"], entry["date"]) == (moved, station.code, wednesday)
        client.force_login(supervisor)
        page = client.get(reverse("station", args=[station.code])).content.decode()
        assert re.findall(r'data-attention="(\d+)" data-state="overdue"', page) == [moved]


# --- A station alone prints what R3 plans ------------------------------------------


def printed(user, client, station) -> tuple:
    """Everything the station prints of the week: the JSON, the CSV, the PDF's
    RT-PCRs and the page's grid."""
    page = client.get(reverse("station", args=[station.code]) + "?start=2021-08-09").content.decode()
    return (
        schedule_json(user, station),
        csv_rows(schedule_file(user, station, "csv")),
        pdf_rt_pcr(schedule_file(user, station, "pdf")),
        grid_rt_pcr(page),
    )


def test_a_station_without_a_lab_or_alone_in_it_prints_r3s_plan(two_stations, supervisor, client):
    station, other = two_stations()
    client.force_login(supervisor)
    without = printed(supervisor, client, station)
    assert per_day(rt_pcr_rows(without[0])) == R3_SAMPLES
    # Alone in its lab.
    lab = share_lab(station)
    assert printed(supervisor, client, station) == without
    # With a station in the lab that has nobody rostered this week.
    other.lab = lab
    other.save()
    RosterEntry.objects.filter(staff__station=other).delete()
    assert printed(supervisor, client, station) == without
