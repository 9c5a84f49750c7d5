"""A station's rapid kit need (rule R7) is R3's rapid tests counted: ``kit_forecast``
reads it as a grouped count of the roster (``rapid_counts``), and it must give, station
by station and day by day, what the schedule (``schedule.plan_tuples``) plans from the
same roster rows: a night shift's test on the day the shift starts, the roster of an
inactive staff member, of one whose assignment ended, days off, two shifts on a day, a
staff member put on another station's shift like their own, rows either side of the
period. The forecast and the live alert (``kit_alerts``) both read it through
``needs_of``."""

from datetime import date, time, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crews import schedule
from crews.kit_forecast import SHORT_DAYS, forecast, needs_of, rapid_counts, station_needs
from crews.kit_stock import Place
from crews.models import Person, RosterEntry, Shift, StaffMember
from crews.staffing import end_assignment
from crews.stations import RosterLine, ShiftSpec, create_station, load_roster
from tests.crews.helpers import roster_lines

MONDAY = date(2021, 8, 16)


def day(n: int) -> date:
    return MONDAY + timedelta(days=n)


def planned_rapid(station, start: date, days: int) -> dict[date, int]:
    """The rapid tests R3's schedule plans at ``station`` each day of the period, from
    its staff's roster rows read whole (two days either side of the period and its
    look-ahead, which the schedule must leave out)."""
    rows = (
        RosterEntry.objects.filter(
            staff__station=station,
            date__gte=start - timedelta(days=2),
            date__lt=start + timedelta(days=days + schedule.lookahead_days() + 2),
        )
        .order_by()
        .values_list("staff_id", "date", "shift__code", "shift__starts_at", "shift__ends_at")
    )
    needs = dict.fromkeys((start + timedelta(days=i) for i in range(days)), 0)
    for planned in schedule.plan_tuples(list(rows), start, days):
        if planned[3] == schedule.RAPID:
            needs[planned[1]] += 1
    return needs


def lines_for(first: int, staff: int, start: date, days: int, shift: str) -> list[RosterLine]:
    return [
        RosterLine(
            row=2 + i * days + d,
            id_number=f"0221{first + i:08d}",
            full_name=f"Hoàng Văn {first + i}",
            date=(start + timedelta(days=d)).isoformat(),
            shift=shift,
        )
        for i in range(staff)
        for d in range(days)
    ]


@pytest.fixture
def three_stations(station, other_station, supervisor, other_supervisor, cam_pha):
    """Mông Dương (S1 06–14, S2 14–22, S3 22–06): staff 0 to 3 on S1, S2, S3 (the night
    shift) and S1, every day from Sunday the 15th to Tuesday the 24th; staff 0 has Wednesday off and
    works S1 and S2 on Thursday; staff 1 is inactive, their roster kept; staff 3's
    assignment ends from Friday. Làng Khánh: 3 staff on S1 from Monday for 7 days, one
    of them also put on Mông Dương's S1 (the same code and times) on Tuesday. A third
    station with a 12-hour night shift (18:00–06:00) for 2 staff from Saturday the 21st
    to Monday the 23rd."""
    lines = [
        line
        for line in roster_lines(4, 10, start=day(-1))
        if not (line.id_number.endswith("0") and line.date == day(2).isoformat())
    ]
    load_roster(supervisor, station, lines)
    staff = {member.person.id_number[-1]: member for member in station.staff.select_related("person")}
    RosterEntry.objects.create(staff=staff["0"], date=day(3), shift=station.shifts.get(code="S2"))
    StaffMember.objects.filter(pk=staff["1"].pk).update(active=False)
    end_assignment(supervisor, station, staff["3"].person_id, day(4))
    load_roster(other_supervisor, other_station, lines_for(100, 3, MONDAY, 7, "S1"))
    visitor = other_station.staff.order_by("pk").first()
    RosterEntry.objects.create(staff=visitor, date=day(1), shift=station.shifts.get(code="S1"))
    third = create_station(
        code="KCS-CP-09",
        name="Trạm KCS Cửa Ông",
        wharf=cam_pha,
        shifts=[ShiftSpec("N", "Ca đêm", time(18), time(6)), ShiftSpec("D", "Ca ngày", time(6), time(18))],
        supervisors=[supervisor],
    )
    load_roster(supervisor, third, lines_for(200, 2, day(5), 3, "N"))
    return station, other_station, third


def test_the_need_is_the_schedules_rapid_tests(three_stations, django_assert_num_queries):
    stations = three_stations
    places = [Place(station=s) for s in stations]
    with django_assert_num_queries(1):
        alone = needs_of(places[:1], MONDAY)
    with django_assert_num_queries(1):
        needs = needs_of(places, MONDAY)
    assert alone[places[0].key] == needs[places[0].key]
    for place, station in zip(places, stations, strict=True):
        assert needs[place.key] == planned_rapid(station, MONDAY, 7), station.code
    # Worked out by hand. Mông Dương: staff 0 every day but Wednesday, twice on Thursday;
    # staff 1 (inactive, still rostered) and staff 2 (the night: Sunday the 15th's not
    # counted, Sunday the 22nd's is, though it ends on the 23rd) every day; staff 3 until Thursday.
    assert list(needs[places[0].key].values()) == [4, 4, 3, 5, 3, 3, 3]
    # Làng Khánh: 3 a day; Tuesday's visitor on Mông Dương's S1 is the same shift, tested once.
    assert list(needs[places[1].key].values()) == [3] * 7
    # Cửa Ông: its night shift on Saturday and Sunday (Monday the 23rd is after the week).
    assert list(needs[places[2].key].values()) == [0, 0, 0, 0, 0, 2, 2]


def test_the_alerts_two_days_agree_with_the_schedule(three_stations):
    stations = three_stations
    for start in (MONDAY, day(5), day(6)):
        needs = needs_of([Place(station=s) for s in stations], start, SHORT_DAYS)
        for station in stations:
            assert needs[(station.pk, None)] == planned_rapid(station, start, SHORT_DAYS), (station.code, start)
    # Sunday the 22nd: the night shift rostered that day is its need, due on the 23rd.
    assert needs_of([Place(station=stations[2])], day(6), 1)[(stations[2].pk, None)] == {day(6): 2}


def test_the_forecast_prints_the_counted_need(three_stations, django_assert_max_num_queries):
    station = three_stations[0]
    with django_assert_max_num_queries(4):
        result = forecast([Place(station=station)], MONDAY)[(station.pk, None)]
    assert [d.need for d in result.days] == [4, 4, 3, 5, 3, 3, 3]
    assert result.runs_out_on == MONDAY  # no kits delivered


# --- Small random rosters --------------------------------------------------------------

SHIFTS = [
    ShiftSpec("S1", "Ca 1", time(6), time(14)),
    ShiftSpec("S3", "Ca 3", time(22), time(6)),
    ShiftSpec("S9", "Ca 9", time(20), time(8)),
]
# The second station has S1 with the same times and S3 ending at 07:00.
OTHER_SHIFTS = [SHIFTS[0], ShiftSpec("S3", "Ca 3", time(22), time(7))]


@pytest.fixture
def small_stations(cam_pha, ha_long):
    stations = [
        create_station(code="KCS-RA-01", name="Trạm A", wharf=cam_pha, shifts=SHIFTS),
        create_station(code="KCS-RA-02", name="Trạm B", wharf=ha_long, shifts=OTHER_SHIFTS),
    ]
    staff = [
        StaffMember.objects.create(
            station=stations[i % 2],
            person=Person.objects.create(full_name=f"Người {i}", id_kind="cccd", id_number=f"0223{i:08d}"),
        )
        for i in range(6)
    ]
    shifts = list(Shift.objects.filter(station__in=stations).order_by("station_id", "code"))
    return stations, staff, shifts


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 5), st.integers(-3, 10), st.integers(0, 4)), max_size=40, unique_by=lambda r: r
    ),
    inactive=st.sets(st.integers(0, 5), max_size=2),
    start=st.integers(-1, 3),
    days=st.integers(1, 7),
)
def test_random_rosters_count_as_the_schedule_plans(small_stations, rows, inactive, start, days):
    """Any roster of 6 staff at 2 stations over 2 weeks, on their own shifts or the other
    station's (night ones among them), some inactive: ``rapid_counts`` gives each day
    what the schedule plans, for any period."""
    stations, staff, shifts = small_stations
    with transaction.atomic():
        RosterEntry.objects.bulk_create(
            RosterEntry(staff=staff[s], date=day(d), shift=shifts[k % len(shifts)]) for s, d, k in rows
        )
        StaffMember.objects.filter(pk__in=[staff[i].pk for i in inactive]).update(active=False)
        counts = rapid_counts([s.pk for s in stations], day(start), days)
        for station in stations:
            counted = station_needs(counts.get(station.pk, ()), day(start), days)
            assert counted == planned_rapid(station, day(start), days)
        transaction.set_rollback(True)


@pytest.mark.pure
def test_station_needs_sums_the_crews_of_each_day_in_the_period():
    counts = [(day(0), 2), (day(0), 3), (day(2), 1), (day(-1), 4), (day(3), 5)]
    assert station_needs(counts, MONDAY, 3) == {day(0): 5, day(1): 0, day(2): 1}
