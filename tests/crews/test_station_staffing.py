"""Supervisors manage their station's staff and shifts (issue 15, ``crews.staffing``):
adding a staff member as one roster row, ending an assignment from a day, changing a
shift's times; each refused by role and scope, attributed, and followed at once by the
schedule. A pooled RT-PCR on the station's sheet goes into the pool the schedule plans."""

import uuid
from datetime import datetime, time, timedelta

import pytest
import time_machine

from crews import staffing
from crews.models import Person, RosterEntry, ScreeningTest, Shift, StaffMember
from crews.stations import RosterLine, load_roster, station_schedule
from portguard.domain import InvalidFile, NotAllowed
from tests.crews.helpers import START, roster_lines, staff_id
from tests.helpers import VN, refused

NOW = datetime.combine(START + timedelta(days=2), time(10), tzinfo=VN)  # Wednesday 10:00
WEDNESDAY = START + timedelta(days=2)
NEWCOMER = "022099000777"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def line(id_number=NEWCOMER, full_name="Vũ Thị Mai", day="2021-08-11", shift="S2") -> RosterLine:
    return RosterLine(row=0, id_number=id_number, full_name=full_name, date=day, shift=shift)


def planned_of(station, id_number: str, start=START, days=7) -> list[tuple]:
    """(date, shift, kind, due from as local HH:MM) of one person's planned tests."""
    return [
        (e.planned.date, e.planned.shift, e.planned.kind, f"{e.planned.due_from.astimezone(VN):%H:%M}")
        for e in station_schedule(station, start, days, NOW)
        if e.person.id_number == id_number
    ]


def test_a_new_staff_member_is_registered_attributed_and_planned_from_their_first_shift(station, supervisor):
    member, entry = staffing.add_staff_member(supervisor, station, line(), now=NOW)
    assert (member.person.full_name, member.station, member.added_by, member.added_at) == (
        "Vũ Thị Mai",
        station,
        supervisor,
        NOW,
    )
    assert (entry.date, entry.shift.code, entry.loaded_by) == (WEDNESDAY, "S2", supervisor)
    # A first rostered day counts as a sample for the RT-PCR rotation (rule R3).
    assert planned_of(station, NEWCOMER) == [(WEDNESDAY, "S2", "rapid", "22:00")]


def test_someone_already_registered_is_found_by_their_id_document_without_a_name(station, supervisor, rostered):
    rostered(staff=1, days=1)  # a colleague on the staff already
    person = Person.objects.create(full_name="Hoàng Văn Thái", id_kind="cccd", id_number=NEWCOMER)
    people = Person.objects.count()
    member, _entry = staffing.add_staff_member(supervisor, station, line(full_name=""), now=NOW)
    assert member.person == person and Person.objects.count() == people


def test_a_bad_row_is_refused_by_its_cells_and_nothing_is_saved(station, supervisor):
    with refused("invalid_file", InvalidFile) as error:
        staffing.add_staff_member(supervisor, station, line(id_number="12", full_name="", day="31/02/2021", shift="S9"))
    assert {problem["column"] for problem in error.value.rows} == {"id_number", "date", "shift"}
    with refused("invalid_file", InvalidFile) as error:
        staffing.add_staff_member(supervisor, station, line(full_name=""))
    assert [problem["column"] for problem in error.value.rows] == ["full_name"]
    assert not StaffMember.objects.exists() and not RosterEntry.objects.exists()


def test_someone_on_the_staff_already_is_refused(rostered, supervisor):
    station = rostered(staff=1, days=1)
    with refused("already_on_staff", field="id_number"):
        staffing.add_staff_member(supervisor, station, line(id_number=staff_id(0)))


def test_only_a_supervisor_of_the_station_adds_staff(station, other_station, authority, health, other_supervisor):
    for user in (authority, health):
        with refused("forbidden", NotAllowed, field=None):
            staffing.add_staff_member(user, station, line())
    with refused("forbidden", NotAllowed, field="station"):
        staffing.add_staff_member(other_supervisor, station, line())
    assert not StaffMember.objects.exists()


# --- Ending an assignment ------------------------------------------------------------


def test_ending_an_assignment_stops_the_schedule_from_that_day_and_keeps_the_history(rostered, supervisor):
    station = rostered(staff=2, days=7)
    person = Person.objects.get(id_number=staff_id(0))
    assert {day for day, *_ in planned_of(station, staff_id(0))} == {START + timedelta(days=d) for d in range(7)}
    member = staffing.end_assignment(supervisor, station, person.pk, WEDNESDAY + timedelta(days=1), now=NOW)
    stored = StaffMember.objects.get(pk=member.pk)
    assert (stored.left_on, stored.ended_by, stored.ended_at) == (WEDNESDAY + timedelta(days=1), supervisor, NOW)
    assert {day for day, *_ in planned_of(station, staff_id(0))} == {START + timedelta(days=d) for d in range(3)}
    kept = sorted(RosterEntry.objects.filter(staff=member).values_list("date", flat=True))
    assert kept == [START + timedelta(days=d) for d in range(3)]
    assert {day for day, *_ in planned_of(station, staff_id(1))} == {START + timedelta(days=d) for d in range(7)}


def test_an_ended_assignment_is_not_ended_again_and_a_roster_after_it_is_refused(rostered, supervisor):
    station = rostered(staff=1, days=2)
    person = Person.objects.get(id_number=staff_id(0))
    staffing.end_assignment(supervisor, station, person.pk, WEDNESDAY, now=NOW)
    with refused("already_ended", field="left_on"):
        staffing.end_assignment(supervisor, station, person.pk, WEDNESDAY, now=NOW)
    with refused("invalid_file", InvalidFile) as error:
        load_roster(supervisor, station, roster_lines(staff=1, days=1, start=WEDNESDAY))
    assert [problem["column"] for problem in error.value.rows] == ["date"]
    load_roster(supervisor, station, roster_lines(staff=1, days=1, start=START))  # before the end: still corrected


def test_someone_whose_assignment_ended_joins_again_from_that_day_on(rostered, supervisor, other_supervisor):
    station = rostered(staff=1, days=7)
    person = Person.objects.get(id_number=staff_id(0))
    staffing.end_assignment(supervisor, station, person.pk, WEDNESDAY, now=NOW)
    with refused("before_end", field="date"):
        staffing.add_staff_member(supervisor, station, line(id_number=staff_id(0), day="2021-08-10"))
    station.supervisors.add(other_supervisor)
    member, _entry = staffing.add_staff_member(other_supervisor, station, line(id_number=staff_id(0), day="2021-08-13"))
    assert (member.left_on, member.ended_by, member.added_by) == (None, None, other_supervisor)
    assert (START + timedelta(days=4), "S2", "rapid", "22:00") in planned_of(station, staff_id(0))


def test_only_a_supervisor_of_the_station_ends_an_assignment(rostered, authority, other_supervisor):
    station = rostered(staff=1, days=1)
    person = Person.objects.get(id_number=staff_id(0))
    with refused("forbidden", NotAllowed, field=None):
        staffing.end_assignment(authority, station, person.pk, WEDNESDAY)
    with refused("forbidden", NotAllowed, field="station"):
        staffing.end_assignment(other_supervisor, station, person.pk, WEDNESDAY)
    with refused("not_found", field="person"):
        staffing.end_assignment(station.supervisors.get(), station, person.pk + 1000, WEDNESDAY)
    assert StaffMember.objects.get().left_on is None


# --- Changing a shift ----------------------------------------------------------------


def test_a_changed_shift_moves_every_planned_test_of_it_and_names_who_changed_it(rostered, supervisor):
    station = rostered(staff=3, days=7)
    assert (WEDNESDAY, "S1", "rapid", "14:00") in planned_of(station, staff_id(0))
    shift = staffing.change_shift(supervisor, station, "s1", time(7), time(15), name="Ca sáng", now=NOW)
    assert (shift.name, shift.starts_at, shift.ends_at, shift.changed_by, shift.changed_at) == (
        "Ca sáng",
        time(7),
        time(15),
        supervisor,
        NOW,
    )
    assert (WEDNESDAY, "S1", "rapid", "15:00") in planned_of(station, staff_id(0))
    assert (WEDNESDAY, "S2", "rapid", "22:00") in planned_of(station, staff_id(1))  # other shifts unchanged


def test_a_shift_ending_when_it_starts_or_unknown_is_refused(station, supervisor):
    with refused("empty_shift", field="ends_at"):
        staffing.change_shift(supervisor, station, "S1", time(8), time(8))
    with refused("not_found", field="shift"):
        staffing.change_shift(supervisor, station, "S9", time(8), time(9))
    assert Shift.objects.get(station=station, code="S1").starts_at == time(6)


def test_only_a_supervisor_of_the_station_changes_its_shifts(station, authority, health, other_supervisor):
    for user in (authority, health):
        with refused("forbidden", NotAllowed, field=None):
            staffing.change_shift(user, station, "S1", time(7), time(15))
    with refused("forbidden", NotAllowed, field="station"):
        staffing.change_shift(other_supervisor, station, "S1", time(7), time(15))
    assert Shift.objects.get(station=station, code="S1").changed_by is None


# --- The station sheet ---------------------------------------------------------------


def test_a_pooled_rt_pcr_for_someone_with_none_planned_that_day_is_refused(rostered, supervisor):
    station = rostered(staff=6, days=7)
    pools = staffing.planned_pools(station, START, 7, NOW)
    planned = {pk for (pk, day) in pools if day == WEDNESDAY}
    (free, *_rest) = [p for p in Person.objects.all() if p.pk not in planned]
    row = staffing.StaffResult(person_id=free.pk, result="negative", sampled_at=NOW - timedelta(hours=1))
    with refused("no_pool_planned", field="kind"):
        staffing.record_station_sheet(supervisor, station, "rt_pcr_pooled", [row], now=NOW)
    staffing.record_station_sheet(supervisor, station, "rt_pcr", [row], now=NOW)
    assert ScreeningTest.objects.get().pool_id == ""


def test_a_pooled_sheet_sent_again_after_the_plan_changed_answers_as_the_first_time(rostered, supervisor):
    station = rostered(staff=6, days=7)
    pools = staffing.planned_pools(station, START, 7, NOW)
    person_id, pool = next((pk, pool) for (pk, day), pool in pools.items() if day == WEDNESDAY)
    row = staffing.StaffResult(person_id, "negative", NOW - timedelta(hours=1), client_uuid=uuid.uuid4())
    (first,) = staffing.record_station_sheet(supervisor, station, "rt_pcr_pooled", [row], now=NOW)
    # Their assignment ends that day: the plan has no pool for them any more.
    staffing.end_assignment(supervisor, station, person_id, WEDNESDAY, now=NOW)
    (again,) = staffing.record_station_sheet(supervisor, station, "rt_pcr_pooled", [row], now=NOW)
    assert again.pk == first.pk and first.pool_id == pool
    assert ScreeningTest.objects.count() == 1
