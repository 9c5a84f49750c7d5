"""Every announcement of a port call carries a version higher than the last, in the
order the changes commit, so a dashboard can drop an update that another server process
happened to publish after a newer one."""

from datetime import timedelta

from crews.choices import TestResult
from crews.manifest import add_crew_member
from realtime.snapshot import dashboard_snapshot
from tests.helpers import ARRIVAL, crew_data, people_of
from vessels.areas import ViolationData, record_violation
from vessels.models import PortCall
from vessels.services import approve_handover


def updates(sent: list[dict], call: PortCall) -> list[int]:
    return [
        e["port_call"]["version"] for e in sent if e["type"] == "port_call.updated" and e["port_call"]["id"] == call.pk
    ]


def test_each_change_of_a_call_is_announced_with_a_higher_version(
    make_call, record, inspector, authority, cam_pha, broadcasts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call = make_call(crew=2)
    for person in people_of(call):
        with django_capture_on_commit_callbacks(execute=True):
            record(call, person, result=TestResult.NEGATIVE)
    with django_capture_on_commit_callbacks(execute=True):
        approve_handover(authority, call.pk, now=ARRIVAL + timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        add_crew_member(inspector, call.pk, crew_data(1, start=900)[0])
    with django_capture_on_commit_callbacks(execute=True):
        record_violation(
            inspector,
            ViolationData(vessel=call.vessel, kind="other", occurred_at=ARRIVAL + timedelta(hours=3), wharf=cam_pha),
            now=ARRIVAL + timedelta(hours=3),
        )

    versions = updates(broadcasts, call)
    assert len(versions) == 6
    assert versions == sorted(set(versions)), "strictly rising"
    call.refresh_from_db()
    assert versions[-1] == call.version


def test_a_snapshot_carries_the_version_of_each_call_it_shows(make_call, record, inspector, cam_pha):
    call = make_call(crew=1)
    record(call, people_of(call)[0])
    call.refresh_from_db()
    (summary,) = dashboard_snapshot(inspector, cam_pha)["port_calls"]
    assert summary["version"] == call.version >= 2
