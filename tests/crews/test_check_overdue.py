"""``manage.py check_overdue``: the periodic check that tells each wharf's dashboards
which KCS staff are overdue for a test (rule R3), one ``staff.overdue`` event per wharf."""

import json
from datetime import datetime, time, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder

from crews import schedule
from crews.stations import create_station, load_roster, needs_attention
from realtime.snapshot import dashboard_snapshot
from tests.crews.helpers import START, roster_lines
from tests.helpers import VN

NOW = datetime.combine(START + timedelta(days=2), time(10), tzinfo=VN)  # Wednesday 10:00


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def sent(monkeypatch):
    """Every event the broadcast helper sends, as (wharf code, decoded message)."""
    events = []
    monkeypatch.setattr(
        "realtime.broadcast._deliver", lambda sent: events.extend((wharf, json.loads(text)) for wharf, text in sent)
    )
    return events


def check_overdue(capture) -> str:
    out = StringIO()
    with capture(execute=True):
        call_command("check_overdue", stdout=out)
    return out.getvalue()


def test_one_event_per_wharf_lists_its_overdue_staff(
    rostered, other_station, supervisor, cam_pha, sent, django_capture_on_commit_callbacks
):
    station = rostered(staff=3, days=7)
    # A second station at the same wharf: still one event for the wharf.
    annex = create_station(code="KCS-CP-03B", name="Trạm KCS Mông Dương 2", wharf=cam_pha, supervisors=[supervisor])
    load_roster(supervisor, annex, roster_lines(staff=1, days=7, start=START))
    overdue = [e for s in (station, annex) for e in needs_attention(s, NOW) if e.state == schedule.OVERDUE]
    assert overdue

    output = check_overdue(django_capture_on_commit_callbacks)

    assert [(wharf, event["type"], event["wharf"]) for wharf, event in sent] == [
        ("CP-03", "staff.overdue", "CP-03"),
        ("HL-01", "staff.overdue", "HL-01"),
    ]
    cam_pha_staff = sent[0][1]["overdue_staff"]
    assert len(cam_pha_staff) == len(overdue)
    assert {(e["id_number"], e["station"], e["kind"], e["due_by"]) for e in cam_pha_staff} == {
        (e.person.id_number, e.staff.station.code, e.planned.kind, e.planned.due_by.isoformat()) for e in overdue
    }
    assert {e["station"] for e in cam_pha_staff} == {"KCS-CP-03", "KCS-CP-03B"}
    assert [e["due_by"] for e in cam_pha_staff] == sorted(e["due_by"] for e in cam_pha_staff), "oldest first"
    assert set(cam_pha_staff[0]) == {"id_number", "full_name", "station", "wharf", "kind", "date", "shift", "due_by"}
    assert sent[1][1]["overdue_staff"] == [], "an empty list clears the dashboard's"
    assert f"CP-03: {len(overdue)} overdue" in output
    assert "2 wharves told" in output


def test_the_event_lists_what_a_dashboard_snapshot_lists(rostered, inspector, sent, django_capture_on_commit_callbacks):
    station = rostered(staff=2, days=7)
    check_overdue(django_capture_on_commit_callbacks)
    snapshot = json.loads(json.dumps(dashboard_snapshot(inspector, station.wharf), cls=DjangoJSONEncoder))
    ((_wharf, event),) = sent
    assert event["overdue_staff"] == snapshot["overdue_staff"] != []


def test_no_station_no_event(cam_pha, sent, django_capture_on_commit_callbacks):
    output = check_overdue(django_capture_on_commit_callbacks)
    assert sent == []
    assert "0 wharves told, 0 tests overdue." in output
