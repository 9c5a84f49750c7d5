"""KCS staff are screened people too (rule R2): a result is accepted only within the
recorder's wharves and stations and records where it was taken; a staff positive raises
an alert at the station's wharf, blocks the staff member from duty until a negative
RT-PCR sampled after it, and a confirmed staff case gets its contact list."""

import uuid
from datetime import datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from crews import schedule
from crews.choices import TestKind, TestResult
from crews.models import Person, ScreeningTest
from crews.results import TestData, record_test
from crews.stations import RosterLine, load_roster, station_schedule
from portguard.domain import NotAllowed
from realtime.snapshot import dashboard_snapshot
from tests.crews.helpers import START, csv_file, staff_id, staff_name
from tests.helpers import VN, client_for, people_of, refused
from vessels.choices import ContactReason, PortCallStatus
from vessels.contacts import confirmed_cases
from vessels.models import Alert, Contact
from vessels.services import approve_handover
from vessels.status import clearance_of

# Wednesday of the roster's week, after the morning shift (S1 06–14): staff 0 and 3
# work S1, staff 1 S2, staff 2 S3 (tests/crews/conftest.py).
AFTER_SHIFT = datetime(2021, 8, 11, 14, 30, tzinfo=VN)
NOW = AFTER_SHIFT + timedelta(hours=1)


@pytest.fixture(autouse=True)
def english_and_frozen_clock():
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


def post_result(user, id_number: str, result: str = "negative", kind: str = "rapid", at=AFTER_SHIFT, **extra):
    payload = {"id_number": id_number, "kind": kind, "sampled_at": at.isoformat(), "result": result, **extra}
    return client_for(user).post(reverse("api:tests"), payload, format="json")


def test_a_result_for_staff_of_another_station_is_refused_to_inspector_and_supervisor(
    rostered, other_station, other_supervisor, inspector, supervisor
):
    rostered(staff=2)
    # Staff 10 and 11 work only at the Hạ Long station.
    load_roster(other_supervisor, other_station, _lines_for(10, 2))
    for user in (inspector, supervisor):
        answer = post_result(user, staff_id(10))
        assert answer.status_code in (403, 404), answer.json()
        assert answer.json()["error"] in ("forbidden", "not_found")
    assert not ScreeningTest.objects.exists()


def _lines_for(first: int, count: int):
    return [
        RosterLine(
            row=2 + n * 7 + d,
            id_number=staff_id(first + n),
            full_name=staff_name(first + n),
            date=(START + timedelta(days=d)).isoformat(),
            shift="S1",
        )
        for n in range(count)
        for d in range(7)
    ]


def test_a_result_for_someone_on_no_call_and_no_roster_is_refused(db, inspector, supervisor, cam_pha):
    Person.objects.create(full_name="Vũ Văn Nam", id_kind="cccd", id_number="022099000001")
    for user in (inspector, supervisor):
        answer = post_result(user, "022099000001")
        assert answer.status_code == 403
        assert answer.json()["error"] == "forbidden"
    assert not ScreeningTest.objects.exists()


def test_a_staff_result_is_recorded_at_the_supervisors_station(rostered, supervisor):
    station = rostered(staff=3)
    answer = post_result(supervisor, staff_id(0))
    assert answer.status_code == 201, answer.json()
    test = ScreeningTest.objects.get(pk=answer.json()["id"])
    assert (test.station_id, test.port_call_id) == (station.pk, None)


def test_a_staff_positive_raises_an_alert_live_at_the_stations_wharf(
    rostered, supervisor, broadcasts, django_capture_on_commit_callbacks
):
    station = rostered(staff=3)
    with django_capture_on_commit_callbacks(execute=True):
        answer = post_result(supervisor, staff_id(0), result="positive")
    assert answer.status_code == 201
    (alert,) = Alert.objects.all()
    assert (alert.kind, alert.station_id, alert.wharf_id, alert.port_call_id) == (
        "positive",
        station.pk,
        station.wharf_id,
        None,
    )
    assert alert.person.id_number == staff_id(0)
    (event,) = [e for e in broadcasts if e["type"] == "alert.positive"]
    assert (event["wharf"], event["station"], event["alert"]) == ("CP-03", station.code, alert.pk)
    assert event["test"]["id_number"] == staff_id(0)
    assert station.code in event["message"]


def test_a_staff_positive_through_the_lab_upload_raises_the_same_alert(rostered, supervisor):
    rostered(staff=3)
    text = f"id_number,kind,sampled_at,result\n{staff_id(1)},rapid,11/08/2021 14:30,positive\n"
    answer = client_for(supervisor).post(reverse("api:tests-upload"), {"file": csv_file(text, "lab.csv")})
    assert answer.status_code == 201, answer.json()
    (alert,) = Alert.objects.all()
    assert (alert.kind, alert.person.id_number) == ("positive", staff_id(1))


def test_a_positive_staff_member_is_blocked_from_duty_until_a_negative_rt_pcr_after_it(rostered, supervisor, client):
    station = rostered(staff=3)
    assert post_result(supervisor, staff_id(0), result="positive").status_code == 201

    def states_of(person_number: str, now) -> dict:
        return {
            (e.planned.date, e.planned.kind): e.state
            for e in station_schedule(station, START, 7, now)
            if e.person.id_number == person_number
        }

    states = states_of(staff_id(0), NOW)
    assert states[(AFTER_SHIFT.date(), schedule.RAPID)] == schedule.BLOCKED  # not "done"
    assert states[(AFTER_SHIFT.date() + timedelta(days=1), schedule.RAPID)] == schedule.BLOCKED
    assert states_of(staff_id(1), NOW)[(AFTER_SHIFT.date(), schedule.RAPID)] != schedule.BLOCKED

    # The station page and the schedule API say so.
    client.force_login(supervisor)
    page = client.get(reverse("station", args=[station.code]), {"start": START.isoformat()})
    assert 'data-state="blocked"' in page.content.decode()
    rows = client_for(supervisor).get(
        reverse("api:station-schedule", args=[station.code]), {"start": START.isoformat(), "days": 7}
    )
    assert {(r["date"], r["kind"], r["state"]) for r in rows.json() if r["id_number"] == staff_id(0)} >= {
        (AFTER_SHIFT.date().isoformat(), "rapid", "blocked")
    }

    # A negative RT-PCR the next morning ends it: the shifts after it are owed again.
    next_day = AFTER_SHIFT + timedelta(hours=18)
    with time_machine.travel(next_day + timedelta(minutes=5), tick=False):
        answer = post_result(supervisor, staff_id(0), result="negative", kind="rt_pcr", at=next_day)
        assert answer.status_code == 201
        later = states_of(staff_id(0), next_day + timedelta(days=2))
    assert later[(AFTER_SHIFT.date(), schedule.RAPID)] == schedule.BLOCKED
    assert later[(next_day.date() + timedelta(days=1), schedule.RAPID)] != schedule.BLOCKED


def test_a_confirmed_staff_case_lists_the_crews_berthed_during_their_shifts_and_the_staff_on_them(
    rostered, supervisor, health, make_call, client
):
    station = rostered(staff=4)  # staff 0 and 3 on S1, 1 on S2, 2 on S3
    berthed = make_call(crew=2, arrived_at=datetime(2021, 8, 10, 9, 0, tzinfo=VN))
    answer = post_result(supervisor, staff_id(0), result="positive", kind="rt_pcr")
    assert answer.status_code == 201, answer.json()
    (alert,) = Alert.objects.all()
    assert alert.kind == "confirmed_case"

    contacts = {c.person.id_number: c for c in Contact.objects.select_related("person")}
    crew = {p.id_number for p in people_of(berthed)}
    assert crew <= set(contacts)
    assert contacts[staff_id(3)].reason_code == ContactReason.SAME_SHIFT
    assert staff_id(1) not in contacts and staff_id(2) not in contacts and staff_id(0) not in contacts
    assert {c.level for c in contacts.values()} == {"F1"}
    assert all(c.station_id == station.pk and c.port_call_id is None for c in contacts.values())

    (case,) = confirmed_cases(health)
    assert (case.where, case.person.id_number, len(case.contacts)) == (station.code, staff_id(0), len(contacts))
    client.force_login(health)
    assert staff_id(0) in client.get(reverse("cases")).content.decode()
    exported = client.get(reverse("staff-case-contacts-csv", args=[station.code, case.person.pk])).content.decode()
    assert staff_id(3) in exported and all(number in exported for number in crew)


def test_a_retry_with_a_known_client_uuid_is_answered_only_to_who_may_see_it(make_call, inspector, outsider, record):
    call = make_call(crew=2)
    person = people_of(call)[0]
    key = uuid.uuid4()
    travel = time_machine.travel(call.arrived_at + timedelta(hours=2), tick=False)
    travel.start()
    first = post_result(
        inspector, person.id_number, at=call.arrived_at + timedelta(hours=1), port_call=call.pk, client_uuid=str(key)
    )
    assert first.status_code in (200, 201), first.json()
    other_call_person = Person.objects.create(full_name="Đinh Văn Tú", id_kind="cccd", id_number="022099000002")
    snoop = post_result(outsider, other_call_person.id_number, at=call.arrived_at, client_uuid=str(key))
    travel.stop()
    assert snoop.status_code == 404
    assert snoop.json()["error"] == "not_found"
    assert person.full_name not in snoop.content.decode()
    # The one who recorded it gets it back.
    with time_machine.travel(call.arrived_at + timedelta(hours=2), tick=False):
        again = post_result(
            inspector,
            person.id_number,
            at=call.arrived_at + timedelta(hours=1),
            port_call=call.pk,
            client_uuid=str(key),
        )
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])


@pytest.fixture
def approved_call(make_call, record, authority):
    call = make_call(crew=3)
    for person in people_of(call):
        record(call, person)
    approve_handover(authority, call.pk, now=call.arrived_at + timedelta(hours=2))
    return call


@pytest.mark.parametrize("door", ["api", "upload"])
def test_a_positive_pool_after_approval_suspends_the_handover_through_every_door(approved_call, health, door):
    call = approved_call
    people = people_of(call)
    sampled = call.arrived_at + timedelta(hours=3)
    with time_machine.travel(sampled + timedelta(hours=1), tick=False):
        if door == "api":
            for person in people[:2]:
                answer = post_result(
                    health, person.id_number, "positive", "rt_pcr_pooled", sampled, port_call=call.pk, pool_id="P-1"
                )
                assert answer.status_code == 201, answer.json()
        else:
            text = "id_number,kind,sampled_at,result,pool_id,port_call\n" + "".join(
                f"{p.id_number},rt_pcr_pooled,{sampled.isoformat()},positive,P-1,{call.pk}\n" for p in people[:2]
            )
            answer = client_for(health).post(reverse("api:tests-upload"), {"file": csv_file(text, "lab.csv")})
            assert answer.status_code == 201, answer.json()
        clearance = clearance_of(call)
    assert clearance.status == PortCallStatus.HANDOVER_SUSPENDED
    states = {p.member.person_id: p.state for p in clearance.people}
    assert [states[p.pk] for p in people[:2]] == ["retest", "retest"]
    pool_alerts = Alert.objects.filter(kind="pool_positive")
    if door == "upload":
        assert pool_alerts.count() == 1  # one alert for the pool
    assert not Alert.objects.filter(kind="confirmed_case").exists()  # a pool confirms nobody
    assert Alert.objects.filter(kind="suspension").exists()


def test_only_an_individual_rt_pcr_answers_a_positive_pool(make_call, record):
    call = make_call(crew=1)
    (person,) = people_of(call)
    t = call.arrived_at + timedelta(hours=1)
    record(call, person, TestResult.POSITIVE, TestKind.RT_PCR_POOLED, sampled_at=t)
    record(call, person, TestResult.NEGATIVE, TestKind.RAPID, sampled_at=t + timedelta(hours=1))
    assert clearance_of(call, t + timedelta(hours=2)).people[0].state == "retest"
    record(call, person, TestResult.NEGATIVE, TestKind.RT_PCR, sampled_at=t + timedelta(hours=3))
    assert clearance_of(call, t + timedelta(hours=4)).people[0].state == "negative"


def test_a_health_officer_records_a_staff_result_anywhere(rostered, health):
    station = rostered(staff=1)
    assert post_result(health, staff_id(0)).status_code == 201
    assert ScreeningTest.objects.get().station_id == station.pk


def test_staff_alerts_are_in_the_wharf_snapshot_until_acknowledged(rostered, supervisor, inspector, cam_pha):
    station = rostered(staff=1)
    post_result(supervisor, staff_id(0), result="positive")
    snapshot = dashboard_snapshot(inspector, cam_pha)
    (alert,) = snapshot["alerts"]
    assert (alert["station"], alert["test"]["id_number"]) == (station.code, staff_id(0))


def test_record_test_refuses_a_staff_result_at_a_station_not_supervised(rostered, other_station, supervisor):
    rostered(staff=1)
    person = Person.objects.get(id_number=staff_id(0))

    with refused("forbidden", NotAllowed, field="station"):
        record_test(
            supervisor,
            TestData(person=person, kind="rapid", sampled_at=AFTER_SHIFT, result="negative", station=other_station),
        )
