"""The daily report per wharf and per locality: pure figures from plain rows, the page
with its charts, CSV and XLSX downloads that honour the filters, constant queries."""

import io
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
import time_machine
from django.urls import reverse

from crews.choices import TestKind, TestResult
from crews.models import Person
from crews.results import TestData
from crews.stations import create_station, load_roster, record_staff_tests
from portguard.domain import HandoverBlocked
from tests.crews.helpers import roster_lines, staff_id
from tests.helpers import ARRIVAL, VN, people_of, refused
from vessels import reports
from vessels.models import HandoverRefusal
from vessels.reports import CallRow, Day, HandoverRow, KcsRow, RefusalRow, TestRow, aggregate
from vessels.services import approve_handover

DAY = ARRIVAL.date()  # 2021-08-12
NOW = datetime(2021, 8, 13, 12, 0, tzinfo=VN)
H = timedelta(hours=1)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


# --- Pure figures ----------------------------------------------------------------------


def test_figures_count_the_day_only_and_each_person_once():
    day = Day.of(DAY, VN)
    start = day.start
    figures = aggregate(
        day,
        {1},
        calls=[
            CallRow(1, start - 30 * H, None),  # berthed since the day before
            CallRow(1, start + 8 * H, start + 20 * H),  # came and went
            CallRow(1, start - 30 * H, start - H),  # left the day before
            CallRow(1, start + 25 * H, None),  # the next day
            CallRow(2, start + 8 * H, None),  # another wharf
        ],
        tests=[
            TestRow(1, 10, TestKind.RAPID, TestResult.NEGATIVE),
            TestRow(1, 10, TestKind.RT_PCR, TestResult.NEGATIVE),
            TestRow(1, 11, TestKind.RAPID, TestResult.POSITIVE),
            TestRow(1, 11, TestKind.RAPID, TestResult.POSITIVE),
            TestRow(1, 12, TestKind.RT_PCR_POOLED, TestResult.PENDING),
            TestRow(1, 14, TestKind.RT_PCR_POOLED, TestResult.POSITIVE),  # a pool confirms nobody
            TestRow(2, 13, TestKind.RAPID, TestResult.POSITIVE),
        ],
        handovers=[
            HandoverRow(1, start + 10 * H, start + 12 * H),
            HandoverRow(1, start - 20 * H, start + 2 * H),  # approved the day before, suspended today
            HandoverRow(1, start + 26 * H, None),
        ],
        refusals=[RefusalRow(1, start + 9 * H), RefusalRow(1, start - H), RefusalRow(2, start + H)],
        kcs=[KcsRow(1, "done"), KcsRow(1, "overdue"), KcsRow(1, "due"), KcsRow(2, "overdue")],
    )
    assert figures == reports.Figures(
        port_calls=2,
        arrivals=1,
        people_tested=4,
        tested_rapid=2,
        tested_rt_pcr=3,
        positives=1,
        handovers_approved=1,
        handovers_refused=1,
        handovers_suspended=2,
        kcs_planned=3,
        kcs_done=1,
        kcs_overdue=1,
    )


def test_the_day_is_the_local_calendar_day():
    day = Day.of(date(2021, 8, 12), VN)
    assert day.start.isoformat() == "2021-08-12T00:00:00+07:00"
    assert day.holds(datetime(2021, 8, 11, 17, 0, tzinfo=UTC))  # midnight in Vietnam
    assert not day.holds(day.start - timedelta(microseconds=1))
    assert not day.holds(day.end)


# --- The day at the wharves -------------------------------------------------------------


@pytest.fixture
def kcs_station(cam_pha, supervisor):
    """The KCS station at Cẩm Phả: three staff on the three shifts every day from 9 August."""
    station = create_station(code="KCS-CP-03", name="Trạm KCS Mông Dương", wharf=cam_pha, supervisors=[supervisor])
    load_roster(supervisor, station, roster_lines(staff=3, days=7))
    return station


@pytest.fixture
def busy_day(make_call, record, inspector, outsider, authority, ha_long, kcs_station, supervisor):
    """At Cẩm Phả: a call cleared and approved then suspended by a positive, a refused
    approval, a KCS station whose staff tested once; at Hạ Long: one call tested."""

    def make(calls: int = 1, crew: int = 3):
        made = [make_call(crew=crew) for _ in range(calls)]
        first = made[0]
        for person in people_of(first):
            record(first, person, sampled_at=ARRIVAL + H)
        approve_handover(authority, first.pk, now=ARRIVAL + 2 * H)
        record(first, people_of(first)[0], result=TestResult.POSITIVE, sampled_at=ARRIVAL + 3 * H)
        for call in made[1:]:  # everyone but one negative: approval refused
            for person in people_of(call)[:-1]:
                record(call, person, kind=TestKind.RT_PCR, sampled_at=ARRIVAL + H)
        if len(made) > 1:
            with refused("handover_blocked", HandoverBlocked):
                approve_handover(authority, made[1].pk, now=ARRIVAL + 2 * H)
        blocked = make_call(crew=1)
        with refused("handover_blocked", HandoverBlocked):
            approve_handover(authority, blocked.pk, now=ARRIVAL + 2 * H)
        elsewhere = make_call(crew=2, wharf=ha_long, by=outsider)
        for person in people_of(elsewhere):
            record(elsewhere, person, by=outsider)
        after_shift = TestData(
            person=Person.objects.get(id_number=staff_id(0)),
            kind=TestKind.RAPID,
            sampled_at=datetime(2021, 8, 12, 14, 30, tzinfo=VN),
            result=TestResult.NEGATIVE,
        )
        record_staff_tests(supervisor, kcs_station, [after_shift], now=NOW)
        return made

    return make


def test_report_counts_each_wharf_locality_and_total(busy_day, authority):
    made = busy_day(calls=1, crew=3)
    report = reports.daily_report(authority, DAY, now=NOW)
    rows = {(r.level, r.wharf or r.locality): r.figures for r in report.rows}
    cam_pha = rows[("wharf", "CP-03")]
    assert cam_pha.port_calls == cam_pha.arrivals == 2
    assert cam_pha.people_tested == 4  # three on board and a KCS staff member
    assert (cam_pha.tested_rapid, cam_pha.tested_rt_pcr, cam_pha.positives) == (4, 0, 1)
    assert (cam_pha.handovers_approved, cam_pha.handovers_refused, cam_pha.handovers_suspended) == (1, 1, 1)
    assert cam_pha.kcs_planned >= 3 and cam_pha.kcs_done == 1
    assert cam_pha.kcs_overdue == cam_pha.kcs_planned - 1
    assert rows[("wharf", "HL-01")].people_tested == 2
    assert rows[("locality", "cam_pha")] == cam_pha
    total = report.total.figures
    assert total.port_calls == 3 and total.people_tested == 6 and total.positives == 1
    assert HandoverRefusal.objects.get().port_call != made[0]


def test_a_refused_approval_is_recorded_with_who_blocked(make_call, authority):
    call = make_call(crew=2)
    with refused("handover_blocked", HandoverBlocked):
        approve_handover(authority, call.pk, now=ARRIVAL + H)
    refusal = HandoverRefusal.objects.get()
    assert (refusal.port_call, refusal.requested_by, refusal.refused_at) == (call, authority, ARRIVAL + H)
    assert {b["id_number"] for b in refusal.blocking} == {p.id_number for p in people_of(call)}


def test_an_inspector_reports_on_their_wharves_only(busy_day, inspector):
    busy_day()
    report = reports.daily_report(inspector, DAY, now=NOW)
    assert [r.wharf for r in report.wharf_rows] == ["CP-03"]


# --- Page and downloads -------------------------------------------------------------------


def test_page_shows_figures_and_charts_filtered_by_locality(client, busy_day, authority):
    busy_day()
    client.force_login(authority)
    response = client.get(reverse("daily-report"), {"date": "2021-08-12", "locality": "ha_long"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-wharf="HL-01"' in page and 'data-wharf="CP-03"' not in page
    assert page.count("<svg viewBox") == 3
    assert "daily.csv?date=2021-08-12&amp;locality=ha_long" in page


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_downloads_honour_the_filters_and_read_back(client, busy_day, authority, fmt):
    busy_day()
    client.force_login(authority)
    response = client.get(reverse(f"daily-report-{fmt}"), {"date": "12/08/2021", "wharf": "CP-03"})
    assert response.status_code == 200
    assert 'filename="daily-report-2021-08-12.' in response["Content-Disposition"]
    reader = pd.read_csv if fmt == "csv" else pd.read_excel
    frame = reader(io.BytesIO(response.content), dtype=str, keep_default_na=False)
    assert tuple(frame.columns) == reports.REPORT_COLUMNS
    assert list(frame["level"]) == ["wharf", "locality", "total"]
    wharf = frame.iloc[0]
    assert (wharf["date"], wharf["locality"], wharf["wharf"]) == ("2021-08-12", "Cẩm Phả", "CP-03")
    assert (wharf["people_tested"], wharf["positives"], wharf["handovers_refused"]) == ("4", "1", "1")


def test_a_supervisor_has_no_daily_report(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("daily-report")).status_code == 403


@pytest.mark.parametrize(("calls", "crew"), [(2, 3), (8, 12)])
def test_report_queries_do_not_grow_with_the_day(
    client, busy_day, authority, calls, crew, django_assert_max_num_queries
):
    busy_day(calls=calls, crew=crew)
    client.force_login(authority)
    with django_assert_max_num_queries(17):
        assert client.get(reverse("daily-report"), {"date": "2021-08-12"}).status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(reverse("daily-report-xlsx"), {"date": "2021-08-12"}).status_code == 200
