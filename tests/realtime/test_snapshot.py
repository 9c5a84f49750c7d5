"""What a dashboard starts from: the open port calls and, for each wharf shown, the KCS
staff of its stations who are overdue for a test (rule R3), also on the wharf page."""

import json
import re
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils import timezone

from crews import schedule
from crews.results import TestData
from crews.stations import create_station, load_roster, needs_attention, record_staff_tests
from portguard import roles
from realtime.snapshot import dashboard_snapshot
from tests.crews.helpers import START, roster_lines, staff_id
from tests.helpers import VN, make_user, people_of
from tests.vessels.helpers import declaration_data
from vessels.alerts import acknowledge_alert
from vessels.declarations import declare
from vessels.models import Alert

NOW = datetime.combine(START + timedelta(days=2), time(10), tzinfo=VN)  # Wednesday 10:00
# Per KCS station at the wharves shown, on top of the dashboard's own queries.
QUERIES_PER_STATION = 10  # at most two printed weeks, five queries each
DECLARATION_QUERIES = 4  # a wharf's expected arrivals: declarations, people, ports, areas


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def kcs_supervisor(db):
    return make_user("son", roles.SUPERVISOR)


@pytest.fixture
def station_at(kcs_supervisor):
    """A station at ``wharf`` whose ``staff`` work every day from START and took no test."""

    def make(wharf, staff: int = 3, code: str = ""):
        station = create_station(
            code=code or f"KCS-{wharf.code}", name=f"Trạm KCS {wharf.name}", wharf=wharf, supervisors=[kcs_supervisor]
        )
        load_roster(kcs_supervisor, station, roster_lines(staff=staff, days=7, start=START))
        return station

    return make


def overdue_of(station) -> list:
    return [e for e in needs_attention(station, NOW) if e.state == schedule.OVERDUE]


def test_a_wharf_snapshot_lists_the_overdue_staff_of_its_stations(inspector, cam_pha, station_at):
    station = station_at(cam_pha)
    expected = overdue_of(station)
    assert expected and any(e.state == schedule.DUE for e in needs_attention(station, NOW)), "due ones are left out"

    snapshot = dashboard_snapshot(inspector, cam_pha)

    assert snapshot["overdue_staff"] == sorted(
        (
            {
                "id_number": e.person.id_number,
                "full_name": e.person.full_name,
                "station": "KCS-CP-03",
                "wharf": "CP-03",
                "kind": e.planned.kind,
                "date": e.planned.date,
                "shift": e.planned.shift,
                "due_by": e.planned.due_by,
            }
            for e in expected
        ),
        key=lambda e: (e["due_by"], e["full_name"], e["id_number"]),
    )
    due_by = [e["due_by"] for e in snapshot["overdue_staff"]]
    assert due_by == sorted(due_by)
    assert {e["kind"] for e in snapshot["overdue_staff"]} == {"rapid", "rt_pcr"}
    json.dumps(snapshot, cls=DjangoJSONEncoder)  # what the socket sends


def test_each_wharf_sees_only_its_own_stations_and_the_province_lists_no_staff(
    inspector, authority, cam_pha, ha_long, station_at
):
    here, _there = station_at(cam_pha, staff=2), station_at(ha_long, staff=1)
    assert {e["station"] for e in dashboard_snapshot(inspector, cam_pha)["overdue_staff"]} == {here.code}
    assert dashboard_snapshot(authority)["overdue_staff"] == []


def test_staff_who_took_their_tests_are_not_listed(inspector, cam_pha, station_at, kcs_supervisor):
    station = station_at(cam_pha, staff=1)
    owed = overdue_of(station)
    record_staff_tests(
        kcs_supervisor,
        station,
        [TestData(e.person, e.planned.kind, e.planned.due_from + timedelta(minutes=30), "negative") for e in owed],
        now=NOW,
    )
    assert dashboard_snapshot(inspector, cam_pha)["overdue_staff"] == []


@pytest.mark.parametrize("staff", [3, 40])
def test_overdue_staff_cost_a_fixed_number_of_queries_per_station(
    inspector, cam_pha, station_at, staff, django_assert_max_num_queries
):
    station_at(cam_pha, staff=staff)
    station_at(cam_pha, staff=staff, code="KCS-CP-03B")
    # The fixed cost: wharves, calls, their clearance, the open alerts (KCS staff's too),
    # and the expected arrivals (declarations, their people and ports, epidemic areas).
    with django_assert_max_num_queries(5 + DECLARATION_QUERIES + 2 * QUERIES_PER_STATION):
        snapshot = dashboard_snapshot(inspector, cam_pha)
    assert {e["station"] for e in snapshot["overdue_staff"]} == {"KCS-CP-03", "KCS-CP-03B"}


# --- The wharf dashboard page ------------------------------------------------------------


def overdue_section(page: str) -> str:
    return page.split("data-overdue-list>", 1)[1].split("</ol>", 1)[0]


def test_the_wharf_dashboard_shows_its_overdue_kcs_staff(client, inspector, cam_pha, ha_long, station_at):
    station = station_at(cam_pha, staff=3)
    station_at(ha_long, staff=1)
    expected = overdue_of(station)
    client.force_login(inspector)

    page = client.get(reverse("wharf-dashboard", args=["CP-03"])).content.decode()

    assert "Nhân viên KCS quá hạn xét nghiệm" in page
    assert f'<span class="badge" data-total="overdue">{len(expected)}</span>' in page
    section = overdue_section(page)
    assert re.findall(r'data-overdue="(\d+)"', section) == [
        e["id_number"] for e in dashboard_snapshot(inspector, cam_pha)["overdue_staff"]
    ]
    assert "KCS-HL-01" not in section
    assert re.search(r"■ RT-PCR \d\d/08<", section)
    assert "test nhanh sau ca S1 ngày 09/08" in section
    assert "quá hạn từ" in section and ">16:00 09/08</time>" in section
    assert "Không có nhân viên KCS nào quá hạn xét nghiệm." in page  # kept hidden for the script
    config = json.loads(re.search(r'<script id="live-config" type="application/json">(.*?)</script>', page, re.S)[1])
    assert config["text"]["overdueRapid"] == "test nhanh sau ca %(shift)s ngày %(day)s"


def test_the_wharf_dashboard_with_nobody_overdue(client, inspector, cam_pha):
    client.force_login(inspector)
    page = client.get(reverse("wharf-dashboard", args=["CP-03"])).content.decode()
    assert overdue_section(page).strip() == ""
    assert '<p class="empty" data-overdue-empty>' in page


@pytest.mark.parametrize("staff", [3, 40])
def test_the_wharf_dashboard_with_a_station_runs_a_fixed_number_of_queries(
    client, inspector, cam_pha, station_at, staff, django_assert_max_num_queries
):
    station_at(cam_pha, staff=staff)
    client.force_login(inspector)
    # 13: the page, its wharf's snapshot and the wharf's kit forecast (its stock, past
    # arrivals and declarations), whatever the number of staff.
    with django_assert_max_num_queries(13 + QUERIES_PER_STATION):
        response = client.get(reverse("wharf-dashboard", args=["CP-03"]))
    assert staff_id(0) in overdue_section(response.content.decode())


# --- Open alerts ---------------------------------------------------------------------------


@pytest.mark.parametrize("calls", [2, 6])
def test_a_snapshot_carries_the_unacknowledged_positives_as_their_live_alerts(
    inspector, health, cam_pha, make_call, record, calls, django_assert_max_num_queries
):
    made = [make_call(crew=2) for _ in range(calls)]
    tests = [record(call, people_of(call)[1], result="positive") for call in made]
    record(made[-1], people_of(made[-1])[0], result="negative")
    acknowledge_alert(health, Alert.objects.get(test=tests[0]).pk)

    with django_assert_max_num_queries(8 + DECLARATION_QUERIES):
        snapshot = dashboard_snapshot(inspector, cam_pha)

    assert [a["alert"] for a in snapshot["alerts"]] == [Alert.objects.get(test=t).pk for t in tests[1:]]
    last, test = snapshot["alerts"][-1], tests[-1]
    assert last["vessel"] == made[-1].vessel.registration and last["wharf"] == "CP-03"
    assert last["test"] == {
        "id": test.pk,
        "port_call": made[-1].pk,
        "id_number": test.person.id_number,
        "full_name": test.person.full_name,
        "kind": "rapid",
        "result": "positive",
        "sampled_at": test.sampled_at,
        "station": None,
        "pool_id": "",
    }


# --- Expected arrivals (rule R6) ------------------------------------------------------------


@pytest.mark.parametrize("declared", [1, 5])
def test_a_wharf_snapshot_carries_its_expected_arrivals_as_their_events(
    inspector, cam_pha, ha_long, declared, django_assert_max_num_queries
):
    """A dashboard away when a declaration came (a dropped socket) finds it on reconnecting:
    the snapshot lists the wharf's expected arrivals, shaped as ``declaration.received``
    events, soonest first, in a fixed number of queries."""
    made = [
        declare(
            declaration_data(registration=f"QN-{7000 + i}", expected_at=NOW + timedelta(hours=declared - i)),
            wharf=cam_pha,
        )[0]
        for i in range(declared)
    ]
    declare(declaration_data(registration="QN-9999", expected_at=NOW + timedelta(hours=1)), wharf=ha_long)
    with django_assert_max_num_queries(5 + DECLARATION_QUERIES):
        snapshot = dashboard_snapshot(inspector, cam_pha)
    rows = snapshot["declarations"]
    assert [row["id"] for row in rows] == [d.pk for d in reversed(made)]
    assert rows[0] == {
        "id": made[-1].pk,
        "wharf": "CP-03",
        "registration": f"QN-{7000 + declared - 1}",
        "vessel_name": "Hoàng Long 18",
        "expected_at": made[-1].expected_at,
        "expected_label": timezone.localtime(made[-1].expected_at).strftime("%H:%M %d/%m"),
        "people": 2,
        "flagged": 1,
        "epidemic_ports": 0,
        "amended": False,
    }
    # No names or health details travel to the dashboards.
    assert "Trần Thị Lan" not in json.dumps(snapshot, cls=DjangoJSONEncoder)


def test_the_province_snapshot_carries_no_declarations(health, cam_pha):
    declare(declaration_data(expected_at=NOW + timedelta(hours=2)), wharf=cam_pha)
    assert dashboard_snapshot(health)["declarations"] == []
