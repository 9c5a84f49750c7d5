"""KCS stations: one at every wharf with its staff, three weeks of roster (last week, this
week and the next, so the kit forecast and the lab's load see a week ahead whatever day
the demo is seeded), the tests its staff took so far (a few forgotten) and, at one
station, a staff member's confirmed case."""

import zlib
from datetime import date, datetime, timedelta

from django.core.management import CommandError
from django.utils import timezone

from crews import schedule
from crews.choices import TestKind, TestResult
from crews.models import KcsStation, Person, RosterEntry
from crews.people import PersonData, resolve_people
from crews.results import TestData
from crews.stations import (
    RosterLine,
    create_station,
    load_roster,
    needs_attention,
    record_staff_tests,
    station_schedule,
)
from portguard.demo.data import RESULT_DELAY, STATIONS, USERS, DemoPerson, DemoStation, kit_lot
from portguard.demo.report import SeedReport
from portguard.domain import DomainError
from vessels.models import Wharf

# A staff member's fortnight: two mornings, two afternoons, two nights, two days off.
# The shifts move forward (a night ends at 06:00, never straight into a morning shift).
SHIFT_CYCLE = ("S1", "S1", "S2", "S2", "S3", "S3", None, None)
# From last week's Monday to next week's Sunday: the roster reaches at least 7 days past
# the day the demo is seeded (a Sunday's next 7 days end on the roster's last day).
ROSTER_DAYS = 21

# At Cảng Km6's station, one staff member tested positive after yesterday's shift and
# the lab confirmed it this morning: blocked from duty, with a contact list.
STAFF_CASE_WHARF = "CP-02"


def roster_lines(staff: list[DemoPerson], first_day: date, days: int = ROSTER_DAYS) -> list[RosterLine]:
    """Each person on the shift cycle, started at a different point so that every shift
    of every day is covered."""
    lines = []
    for j, person in enumerate(staff):
        phase = j * len(SHIFT_CYCLE) // len(staff)
        for d in range(days):
            shift = SHIFT_CYCLE[(d + phase) % len(SHIFT_CYCLE)]
            if shift:
                day = first_day + timedelta(days=d)
                lines.append(RosterLine(len(lines) + 2, person.id_number, person.full_name, day.isoformat(), shift))
    return lines


def seed_stations(report: SeedReport, wharves: dict[str, tuple[Wharf, bool]], users: dict, now: datetime) -> None:
    """A station at every wharf; a new one gets staff, three weeks of roster (from last
    week's Monday to next week's Sunday) and the tests its staff took so far, a few of
    them missed."""
    supervisors = {demo.username: demo.stations for demo in USERS if demo.stations}
    created_users = {entry.user.pk for entry in report.users if entry.created}
    existing = {s.code: s for s in KcsStation.objects.filter(code__in=[d.code for d in STATIONS])}
    today = timezone.localtime(now).date()
    first_day = today - timedelta(days=today.weekday() + 7)
    for demo in STATIONS:
        wharf, _new = wharves[demo.wharf.code]
        station = existing.get(demo.code)
        own = [users[name] for name, localities in supervisors.items() if wharf.locality in localities]
        if station is None:
            station = create_station(code=demo.code, name=demo.name, wharf=wharf, supervisors=own)
            report.stations_created += 1
        else:
            # As for wharves: add only a supervisor the command has just created.
            station.supervisors.add(*[user for user in own if user.pk in created_users])
        if RosterEntry.objects.filter(staff__station=station).exists():
            report.stations_skipped += 1
            continue
        if not own:
            raise CommandError(f"No demo supervisor for {demo.code}.")
        try:
            _play_station(demo, station, own[0], first_day, now)
        except DomainError as exc:
            raise CommandError(f"{demo.code}: {exc.message}") from exc
        report.stations_rostered += 1


def _play_station(demo: DemoStation, station: KcsStation, supervisor, first_day: date, now: datetime) -> None:
    staff = demo.staff
    # Registered with their birthdays and phones first; the roster then finds them.
    resolve_people(
        [
            PersonData(id_number=p.id_number, full_name=p.full_name, date_of_birth=p.date_of_birth, phone=p.phone)
            for p in staff
        ],
        field="staff",
    )
    load_roster(supervisor, station, roster_lines(staff, first_day))
    shift_starts = {shift.code: shift.starts_at for shift in station.shifts.all()}
    missed: set[tuple] = set()
    # Each week is worked from its printed schedule, planned from the tests done before
    # it. The station's list of who is overdue plans its last days again from the tests
    # before them and may ask for an RT-PCR on another day: staff take that one too, until
    # the printed weeks and the list agree that only the forgotten tests are missing.
    for _round in range(4):
        taken = 0
        for week in range(ROSTER_DAYS // 7):
            planned = [
                e
                for e in station_schedule(station, first_day + timedelta(weeks=week), 7, now)
                if e.planned.due_by < now
            ]
            if _round == 0:
                missed |= {_test_key(e) for e in _missed(demo, planned, now)}
            taken += _take_tests(station, supervisor, _owed(planned, missed), shift_starts, now)
        taken += _take_tests(station, supervisor, _owed(needs_attention(station, now), missed), shift_starts, now)
        if not taken:
            break
    if demo.wharf.code == STAFF_CASE_WHARF:
        _staff_case(station, supervisor, staff[0], now)


def _staff_case(station: KcsStation, supervisor, demo: DemoPerson, now: datetime) -> None:
    person = Person.objects.get(id_number=demo.id_number)
    yesterday = timezone.localtime(now).date() - timedelta(days=1)
    last_shift = (
        RosterEntry.objects.filter(staff__station=station, staff__person=person, date__lte=yesterday)
        .select_related("shift")
        .order_by("-date", "-shift__starts_at")
        .first()
    )
    ends = datetime.combine(last_shift.date, last_shift.shift.ends_at, tzinfo=timezone.get_current_timezone())
    if last_shift.shift.ends_at <= last_shift.shift.starts_at:
        ends += timedelta(days=1)
    positive = min(ends + timedelta(minutes=20), now - timedelta(hours=3))
    record_staff_tests(
        supervisor,
        station,
        [TestData(person, TestKind.RAPID, positive, TestResult.POSITIVE, kit_lot=kit_lot(TestKind.RAPID, positive))],
        now=positive + RESULT_DELAY,
    )
    confirm = positive + timedelta(minutes=30)
    record_staff_tests(supervisor, station, [TestData(person, TestKind.RT_PCR, confirm, TestResult.POSITIVE)], now=now)


def _test_key(entry) -> tuple:
    plan = entry.planned
    return (entry.staff.pk, plan.kind, plan.date, plan.shift if plan.kind == schedule.RAPID else "")


def _owed(entries: list, missed: set[tuple]) -> list:
    return [e for e in entries if e.state == schedule.OVERDUE and _test_key(e) not in missed]


def _take_tests(station: KcsStation, supervisor, planned: list, shift_starts: dict, now: datetime) -> int:
    """Record the ``planned`` tests as taken: one sheet of rapid results and one of RT-PCR."""
    yesterday = timezone.localtime(now).date() - timedelta(days=1)
    rounds: dict[str, list[TestData]] = {}
    for entry in planned:
        plan = entry.planned
        if plan.kind == schedule.RAPID:
            # Read at the station between 10 and 50 minutes after the shift.
            sampled_at = plan.due_from + timedelta(minutes=10 + zlib.crc32(entry.person.id_number.encode()) % 41)
            data = TestData(entry.person, TestKind.RAPID, sampled_at, TestResult.NEGATIVE)
        else:
            # Sampled as the shift of that day starts (mid-morning on a day off), pooled for the lab.
            start = shift_starts.get(plan.shift)
            sampled_at = plan.due_from + (
                timedelta(hours=start.hour, minutes=start.minute + 15) if start else timedelta(hours=9)
            )
            result = TestResult.PENDING if plan.date >= yesterday else TestResult.NEGATIVE
            data = TestData(entry.person, TestKind.RT_PCR_POOLED, sampled_at, result)
        data.kit_lot = kit_lot(data.kind, data.sampled_at)
        rounds.setdefault(data.kind, []).append(data)
    for kind, entries in rounds.items():
        last = max(e.sampled_at for e in entries)
        # Rapid kits are read on the spot; the lab answers RT-PCR pools the next day.
        delay = RESULT_DELAY if kind == TestKind.RAPID else timedelta(hours=20)
        record_staff_tests(supervisor, station, entries, now=min(now, last + delay))
    return len(planned)


def _missed(demo: DemoStation, planned: list, now: datetime) -> set:
    """The tests the demo staff forgot in the last two days, so the station page shows
    some overdue: one person's latest rapid test, and at every third station another's
    RT-PCR of yesterday."""
    recent = [e for e in planned if e.planned.due_by > now - timedelta(days=2)]
    missed = set()
    rapid = [e for e in recent if e.planned.kind == schedule.RAPID]
    if rapid:
        forgetful = rapid[-1 - demo.index % min(3, len(rapid))].staff.pk
        missed.add(max((e for e in rapid if e.staff.pk == forgetful), key=lambda e: e.planned.due_by))
    yesterday = timezone.localtime(now).date() - timedelta(days=1)
    rt_pcr = [e for e in recent if e.planned.kind == schedule.RT_PCR and e.planned.date == yesterday]
    if demo.index % 3 == 0 and rt_pcr:
        missed.add(rt_pcr[0])
    return missed
