"""KCS stations (rule R3): scope, shifts, rosters, staff tests and the test schedule.

Every entry point (station page, API, admin, seed_demo) calls these functions. The
schedule itself is computed by the pure functions of ``crews.schedule``; this module
loads their inputs from the database in a constant number of queries.
"""

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import IO, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crews.people import PersonData, parse_id_number, resolve_people
from crews.results import TestData, record_test, record_tests
from portguard.domain import DomainError, InvalidFile
from portguard.roles import require_perm
from portguard.tabular import read_upload
from vessels.models import Wharf

from . import lab_capacity, schedule
from .choices import RT_PCR_KINDS, TestResult
from .models import KcsStation, Person, RosterEntry, ScreeningTest, Shift, StaffMember
from .scope import require_station_in_scope, visible_stations  # noqa: F401 - the station pages read scope here

# How far before a schedule's period a positive is still looked for (rule R2: blocked
# from duty until a negative RT-PCR after it).
BLOCK_LOOKBACK_DAYS = 30

ROSTER_COLUMNS = ("id_number", "full_name", "date", "shift")
SCHEDULE_COLUMNS = ("id_number", "full_name", "date", "shift", "kind", "due_from", "due_by", "state", "pool")


@dataclass(frozen=True)
class ShiftSpec:
    code: str
    name: str
    starts_at: time
    ends_at: time


DEFAULT_SHIFTS = (
    ShiftSpec("S1", "Ca 1 (06:00–14:00)", time(6), time(14)),
    ShiftSpec("S2", "Ca 2 (14:00–22:00)", time(14), time(22)),
    ShiftSpec("S3", "Ca 3 (22:00–06:00)", time(22), time(6)),
)


def rules() -> schedule.Rules:
    """Rule R3's settings."""
    return schedule.Rules(
        overdue_after=timedelta(hours=settings.PORTGUARD_RAPID_OVERDUE_HOURS),
        interval_days=settings.PORTGUARD_RT_PCR_INTERVAL_DAYS,
        pool_size=settings.PORTGUARD_POOL_SIZE,
        tz=ZoneInfo(settings.TIME_ZONE),
    )


# --- Stations and shifts -------------------------------------------------------------


def create_station(
    *, code: str, name: str, wharf: Wharf, shifts: Sequence[ShiftSpec] = DEFAULT_SHIFTS, supervisors: Iterable = ()
) -> KcsStation:
    """A new station with its shift pattern (by default 06–14, 14–22, 22–06)."""
    with transaction.atomic():
        station = KcsStation.objects.create(code=code.strip().upper(), name=name, wharf=wharf)
        station.supervisors.set(supervisors)
        set_shifts(station, shifts)
    return station


def ensure_default_shifts(station: KcsStation) -> None:
    """Give a station the default shifts if it has none (a station saved in the admin)."""
    if not station.shifts.exists():
        set_shifts(station, DEFAULT_SHIFTS)


def set_shifts(station: KcsStation, shifts: Sequence[ShiftSpec]) -> list[Shift]:
    """Add or update a station's shifts by code. Shifts already on the roster stay."""
    codes = [s.code.strip().upper() for s in shifts]
    if len(set(codes)) != len(codes) or not all(codes):
        raise DomainError(_("Each shift needs its own code."), field="shifts")
    with transaction.atomic():
        return [
            Shift.objects.update_or_create(
                station=station, code=code, defaults={"name": s.name, "starts_at": s.starts_at, "ends_at": s.ends_at}
            )[0]
            for code, s in zip(codes, shifts, strict=True)
        ]


# --- Rosters -------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterLine:
    """One roster row as text, with its row number in the file (header = row 1)."""

    row: int
    id_number: str
    full_name: str
    date: str
    shift: str


_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")


def parse_day(value: str) -> date | None:
    """ISO ``2021-08-09`` or Vietnamese ``09/08/2021`` (day first); an XLSX date cell
    arrives as ``2021-08-09 00:00:00``."""
    text = re.sub(r"\s+", " ", value.strip())
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a calendar day, no time
        except ValueError:
            continue
    return None


def load_roster_file(user, station: KcsStation, upload: IO[bytes]) -> int:
    """Load a roster from an uploaded CSV or XLSX file; see ``load_roster``."""
    _require_roster_writer(user, station)
    table = read_upload(upload, ROSTER_COLUMNS, plain_text=("id_number", "full_name"))
    return load_roster(user, station, [RosterLine(row=number, **values) for number, values in table])


def load_roster(user, station: KcsStation, lines: Sequence[RosterLine]) -> int:
    """Save a roster whole, or nothing: every bad line is reported in ``InvalidFile``.

    For each date the lines mention, they *are* the station's roster of that day: its
    earlier entries for those dates are replaced, so a corrected file can be loaded
    again. People not yet registered are created; people not yet on the station's
    staff join it. A line on or after the day a staff member's assignment ended is
    refused (adding them again is ``crews.staffing.add_staff_member``'s). Returns the
    number of entries saved.
    """
    _require_roster_writer(user, station)
    if not lines:
        raise InvalidFile(_("The roster has no rows."), [{"row": 2, "column": "", "message": _("No rows.")}])
    parsed, people = check_roster_lines(station, lines)
    with transaction.atomic():
        # One loader at a time per station, so two uploads of the same days cannot interleave.
        KcsStation.objects.select_for_update().order_by().get(pk=station.pk)
        keys = list(people)
        persons = dict(zip(keys, resolve_people([people[k] for k in keys], field="roster"), strict=True))
        staff = _staff_for(user, station, list(persons.values()))
        RosterEntry.objects.filter(staff__station=station, date__in={day for _l, _k, day, _s in parsed}).delete()
        RosterEntry.objects.bulk_create(
            RosterEntry(staff=staff[persons[key].pk], date=day, shift=shift, loaded_by=user)
            for _line, key, day, shift in parsed
        )
    return len(parsed)


ParsedLine = tuple[RosterLine, tuple[str, str], date, Shift]


def check_roster_lines(
    station: KcsStation, lines: Sequence[RosterLine], *, staff_rejoining: bool = False
) -> tuple[list[ParsedLine], dict[tuple[str, str], PersonData]]:
    """Each line with its person's document key, its day and its shift, and one
    ``PersonData`` per person; or ``InvalidFile`` naming every bad cell. A line dated on
    or after the end of its person's assignment at the station is refused, unless they
    are ``staff_rejoining``."""
    shifts = {s.code.upper(): s for s in station.shifts.all()}
    shifts_by_name = {s.name.casefold(): s for s in shifts.values()}
    problems: list[dict] = []

    def refuse(line: RosterLine, column: str, message: str) -> None:
        problems.append({"row": line.row, "column": column, "message": message})

    parsed: list[ParsedLine] = []
    seen: dict[tuple, int] = {}
    for line in lines:
        key = day = shift = None
        empty = [column for column in ("id_number", "date", "shift") if not getattr(line, column).strip()]
        for column in empty:
            refuse(line, column, _("This cell is empty."))
        if "id_number" not in empty:
            try:
                number, kind = parse_id_number(line.id_number)
                key = (kind, number)
            except DomainError as error:
                refuse(line, "id_number", error.message)
        if len(line.full_name) > Person._meta.get_field("full_name").max_length:
            refuse(line, "full_name", _("This name is too long."))
        day = parse_day(line.date)
        if day is None and "date" not in empty:
            refuse(line, "date", _("%(value)s is not a date such as 2021-08-09 or 09/08/2021.") % {"value": line.date})
        shift = shifts.get(line.shift.strip().upper()) or shifts_by_name.get(line.shift.strip().casefold())
        if shift is None and "shift" not in empty:
            refuse(
                line,
                "shift",
                _("Unknown shift %(value)s: this station's shifts are %(codes)s.")
                % {"value": line.shift, "codes": ", ".join(shifts) or "—"},
            )
        if key is None or day is None or shift is None:
            continue
        entry = (key, day, shift.pk)
        if entry in seen:
            refuse(line, "id_number", _("Same person, date and shift as row %(row)d.") % {"row": seen[entry]})
            continue
        seen[entry] = line.row
        parsed.append((line, key, day, shift))

    # One PersonData per person, named by the first line that gives a name.
    people: dict[tuple[str, str], PersonData] = {}
    first_line: dict[tuple[str, str], RosterLine] = {}
    for line, key, _day, _shift in parsed:
        first_line.setdefault(key, line)
        data = people.setdefault(key, PersonData(id_number=key[1], id_kind=key[0]))
        if not data.full_name and line.full_name.strip():
            data.full_name = line.full_name.strip()
    known = set(Person.objects.filter(id_number__in=[n for _k, n in people]).values_list("id_kind", "id_number"))
    for key, data in people.items():
        if key not in known and not data.full_name:
            refuse(first_line[key], "full_name", _("%(n)s is not registered yet: give the full name.") % {"n": key[1]})
    if known and not staff_rejoining:
        ended = {
            (kind, number): left_on
            for kind, number, left_on in StaffMember.objects.filter(
                station=station, left_on__isnull=False, person__id_number__in=[n for _k, n in known]
            ).values_list("person__id_kind", "person__id_number", "left_on")
        }
        for line, key, day, _shift in parsed:
            if key in ended and day >= ended[key]:
                refuse(
                    line,
                    "date",
                    _("%(n)s's assignment at this station ended from %(day)s: add them to the staff again first.")
                    % {"n": key[1], "day": ended[key].strftime("%d/%m/%Y")},
                )
    if problems:
        problems.sort(key=lambda p: (p["row"], ROSTER_COLUMNS.index(p["column"])))
        message = ngettext(
            "The roster has %(count)d problem; nothing was saved.",
            "The roster has %(count)d problems; nothing was saved.",
            len(problems),
        )
        raise InvalidFile(message % {"count": len(problems)}, problems)
    return parsed, people


def _require_roster_writer(user, station: KcsStation) -> None:
    for perm in ("crews.add_rosterentry", "crews.delete_rosterentry"):
        require_perm(user, perm, _("You may not load rosters."))
    require_station_in_scope(user, station)


def _staff_for(user, station: KcsStation, persons: list[Person]) -> dict[int, StaffMember]:
    """Each person's staff membership at the station, joining (by ``user``) or
    re-activating them."""
    members = {m.person_id: m for m in StaffMember.objects.filter(station=station, person__in=persons)}
    StaffMember.objects.filter(pk__in=[m.pk for m in members.values() if not m.active]).update(active=True)
    now = timezone.now()
    new = [StaffMember(station=station, person=p, added_by=user, added_at=now) for p in persons if p.pk not in members]
    if new:
        StaffMember.objects.bulk_create(new)
        members = {m.person_id: m for m in StaffMember.objects.filter(station=station, person__in=persons)}
    return members


def roster_of(station: KcsStation, start: date, days: int) -> QuerySet[RosterEntry]:
    """The roster of ``[start, start + days)``, people and shifts loaded, in one query."""
    return (
        RosterEntry.objects.filter(staff__station=station, date__gte=start, date__lt=start + timedelta(days=days))
        .select_related("staff__person", "shift")
        .order_by("date", "shift__starts_at", "staff__person__full_name", "staff__person__id_number")
    )


# --- Staff tests ---------------------------------------------------------------------


def record_staff_tests(
    user, station: KcsStation, entries: Sequence[TestData], now: datetime | None = None
) -> list[ScreeningTest]:
    """Record KCS staff results taken at ``station`` (all or none), through the same
    ``record_tests`` as crew results."""
    _check_staff_entries(user, station, entries)
    return record_tests(user, [replace(e, station=station) for e in entries], now=now)


def record_staff_test(
    user, station: KcsStation, entry: TestData, now: datetime | None = None
) -> tuple[ScreeningTest, bool]:
    """One staff result; the same ``client_uuid`` sent again returns the first record."""
    _check_staff_entries(user, station, [entry])
    return record_test(user, replace(entry, station=station), now=now)


def _check_staff_entries(user, station: KcsStation, entries: Sequence[TestData]) -> None:
    require_perm(user, "crews.add_screeningtest", _("You may not record test results."))
    require_station_in_scope(user, station)
    on_staff = set(
        StaffMember.objects.filter(station=station, person__in=[e.person for e in entries]).values_list(
            "person_id", flat=True
        )
    )
    for entry in entries:
        if entry.port_call is not None:
            raise DomainError(_("A KCS staff test is not taken for a port call."), field="port_call")
        if entry.person.pk not in on_staff:
            raise DomainError(
                _("%(name)s is not on the staff of station %(code)s.")
                % {"name": entry.person.full_name, "code": station.code},
                field="id_number",
            )


# --- Schedule and compliance ---------------------------------------------------------


class ScheduleEntry(NamedTuple):
    """One planned test of one staff member, with its state at the time asked."""

    staff: StaffMember
    planned: schedule.PlannedTest
    state: str
    sampled_at: datetime | None = None

    @property
    def person(self) -> Person:
        return self.staff.person


class StaffRow(NamedTuple):
    pk: int
    person_id: int
    full_name: str
    id_number: str


@dataclass(frozen=True, slots=True)
class StationPlan:
    """A station's planned tests for a period and the state of each, as computed.

    ``planned`` holds plain tuples in ``schedule.PlannedTest``'s field order (see
    ``schedule.plan_tuples``), sorted by date, due time, RT-PCR before rapid, then name.
    Each names its staff member by their position in ``staff``, which is in name order.
    ``states`` runs parallel to ``planned``; ``sampled`` gives, by position in
    ``planned``, when the recorded test that made a planned test done was sampled.
    """

    staff: list[StaffRow]
    planned: list[tuple]
    states: list[str]
    sampled: dict[int, datetime]

    def entries(self, members: dict[int, StaffMember]) -> list[ScheduleEntry]:
        """One entry per planned test; ``members`` are the staff by primary key."""
        staff = [members[row.pk] for row in self.staff]
        sampled = self.sampled
        return [
            ScheduleEntry(staff[test[0]], schedule.PlannedTest._make(test), state, sampled.get(index))
            for index, (test, state) in enumerate(zip(self.planned, self.states, strict=True))
        ]

    def rows(self) -> list[dict]:
        """The exported rows (SPEC §6 columns, in ``SCHEDULE_COLUMNS`` order): dates ISO,
        times local in ISO 8601 with their offset."""
        staff = self.staff
        return [
            {
                "id_number": staff[test[0]].id_number,
                "full_name": staff[test[0]].full_name,
                **when,
                "state": state,
                "pool": test[6],
            }
            for test, state, when in zip(self.planned, self.states, self._when(dict), strict=True)
        ]

    def json(self) -> bytes:
        """``rows()`` as a JSON array, written from pieces formatted once each: thousands
        of rows share a few hundred people and a few dozen shift times."""
        people = [_json_members(id_number=row.id_number, full_name=row.full_name) for row in self.staff]
        states = {state: _json_members(state=state) for state in set(self.states)}
        pools = {pool: _json_members(pool=pool) for pool in {test[6] for test in self.planned}}
        rows = [
            f"{{{people[test[0]]},{when},{states[state]},{pools[test[6]]}}}"
            for test, state, when in zip(self.planned, self.states, self._when(_json_members), strict=True)
        ]
        return f"[{','.join(rows)}]".encode()

    def _when(self, shape) -> Iterator:
        """Each planned test's date, shift, kind and window, as ``shape(**columns)``
        called once per distinct value."""
        shaped: dict = {}
        for test in self.planned:
            key = test[1:6]
            value = shaped.get(key)
            if value is None:
                day, shift, kind, due_from, due_by = key
                value = shaped[key] = shape(
                    date=day.isoformat(),
                    shift=shift,
                    kind=kind,
                    due_from=due_from.isoformat(),
                    due_by=due_by.isoformat(),
                )
            yield value


def _json_members(**values) -> str:
    """``values`` as the members of a JSON object, without its braces."""
    return json.dumps(values, ensure_ascii=False)[1:-1]


def plan_station(station: KcsStation, start: date, days: int, now: datetime | None = None) -> StationPlan:
    """The station's planned tests for ``[start, start + days)`` and the state of each
    at ``now``, in four queries whatever the number of staff.

    Where the station's lab runs other stations' samples too, the lab's stations are
    planned over the same period and their RT-PCR days balanced together
    (``lab_capacity.balance_schedules``): the station's plan carries the balanced days
    and the pools formed on them. The other stations' staff and rosters come in the
    same two queries as the station's own (the roster with its shifts' times, so the
    station's shifts are not read apart): three queries then.

    Everything is read as plain values: a large station's plan would otherwise leave
    thousands of objects for the garbage collector to scan, request after request.
    """
    now = now or timezone.now()
    r = rules()
    period_start = schedule.day_start(start, r.tz)
    horizon = start + timedelta(days=days + schedule.lookahead_days(r))
    lab_id = station.lab_id
    # The station's staff, and with a lab every staff member of the lab's stations.
    staff_of = Q(station_id=station.pk) if lab_id is None else Q(station__lab_id=lab_id)
    first_rostered = RosterEntry.objects.filter(staff=OuterRef("pk"), date__lt=start).order_by("date")
    last_rt_pcr = (
        _current_tests()
        .filter(person=OuterRef("person"), kind__in=RT_PCR_KINDS, sampled_at__lt=period_start)
        .order_by("-sampled_at")
    )
    members = (
        StaffMember.objects.filter(staff_of)
        .annotate(
            first_rostered=Subquery(first_rostered.values("date")[:1]),
            last_rt_pcr=Subquery(last_rt_pcr.values("sampled_at")[:1]),
        )
        .order_by()
        .values_list(
            "station_id",
            "pk",
            "person_id",
            "person__full_name",
            "person__id_number",
            "first_rostered",
            "last_rt_pcr",
        )
    )
    lab_staff: dict[int, list[tuple[StaffRow, date | None, datetime | None]]] = defaultdict(list)
    for station_id, *member, first, last in members:
        lab_staff[station_id].append((StaffRow(*member), first, last))
    # Every station's staff are keyed by their rank in name order, so the plan comes
    # sorted as printed, and the lab's plan is the same from each of its stations.
    histories: dict[int, dict[int, schedule.History]] = {}
    rank: dict[int, int] = {}
    for station_id, rows in lab_staff.items():
        rows.sort(key=lambda row: lab_capacity.printed_order(row[0].full_name, row[0].id_number, row[0].pk))
        histories[station_id] = {
            i: _history(first, last, r) for i, (_row, first, last) in enumerate(rows) if first or last
        }
        rank.update((row.pk, i) for i, (row, _first, _last) in enumerate(rows))
    staff = [row for row, _first, _last in lab_staff[station.pk]]
    history = histories.get(station.pk, {})
    rank_of_person = {row.person_id: index for index, row in enumerate(staff)}
    rosters = RosterEntry.objects.filter(date__gte=start, date__lt=horizon).order_by()
    if lab_id is None:
        # Rosters are loaded with the station's own shifts only.
        shifts = {
            pk: (code, starts, ends)
            for pk, code, starts, ends in station.shifts.values_list("pk", "code", "starts_at", "ends_at")
        }
        roster = [
            (rank[staff_id], day, *shifts[shift_id])
            for staff_id, day, shift_id in rosters.filter(staff__station=station).values_list(
                "staff_id", "date", "shift_id"
            )
        ]
        planned = schedule.plan_tuples(roster, start, days, history, r)
    else:
        lab_rosters: dict[int, list[tuple]] = defaultdict(list)
        for station_id, staff_id, day, code, starts, ends in rosters.filter(staff__station__lab_id=lab_id).values_list(
            "staff__station_id", "staff_id", "date", "shift__code", "shift__starts_at", "shift__ends_at"
        ):
            lab_rosters[station_id].append((rank[staff_id], day, code, starts, ends))
        roster = lab_rosters.pop(station.pk, [])
        planned = schedule.plan_tuples(roster, start, days, history, r)
        if lab_rosters:
            lab_plans = {
                station_id: schedule.plan_tuples(rows, start, days, histories.get(station_id, {}), r)
                for station_id, rows in lab_rosters.items()
            }
            balanced = lab_capacity.balance_schedules({station.pk: planned, **lab_plans}, histories, start, days, r)[
                station.pk
            ]
            if balanced != lab_capacity.rt_pcr_days(planned):
                planned = schedule.plan_tuples(roster, start, days, history, r, rt_pcr_days=balanced)
    last_due = max((due_by for _s, _d, _sh, _k, _f, due_by, _p in planned), default=period_start)
    # A positive shortly before the period still blocks from duty (with the negative
    # RT-PCR that may have ended it): read those too, in the same query.
    lookback = period_start - timedelta(days=BLOCK_LOOKBACK_DAYS)
    recent_positive = _current_tests().filter(
        person__kcs_posts__station=station, result=TestResult.POSITIVE, sampled_at__gte=lookback
    )
    before = Q(result=TestResult.POSITIVE) | Q(
        kind__in=RT_PCR_KINDS, result=TestResult.NEGATIVE, person__in=recent_positive.values("person_id")
    )
    taken = [
        (rank_of_person[person_id], kind, sampled_at, result)
        for person_id, kind, sampled_at, result in _current_tests()
        .filter(person__kcs_posts__station=station, sampled_at__lte=min(max(last_due, period_start), now))
        .filter(Q(sampled_at__gte=period_start) | (Q(sampled_at__gte=lookback) & before))
        .order_by()
        .values_list("person_id", "kind", "sampled_at", "result")
    ]
    states, matched = schedule.assess(planned, taken, now)
    return StationPlan(staff, planned, states, {index: test[2] for index, test in matched.items()})


def _history(first_rostered: date | None, last_rt_pcr: datetime | None, r: schedule.Rules) -> schedule.History:
    return schedule.History(
        last_rt_pcr=timezone.localtime(last_rt_pcr, r.tz).date() if last_rt_pcr else None,
        first_rostered=first_rostered,
    )


def station_schedule(station: KcsStation, start: date, days: int, now: datetime | None = None) -> list[ScheduleEntry]:
    """``plan_station`` as one entry per planned test, in five queries whatever the
    number of staff."""
    plan = plan_station(station, start, days, now)
    return plan.entries(StaffMember.objects.select_related("person").in_bulk([row.pk for row in plan.staff]))


def needs_attention(station: KcsStation, now: datetime | None = None) -> list[ScheduleEntry]:
    """Who is blocked from duty after a positive (first), who is overdue (oldest first)
    and who is due right now, over the last RT-PCR interval: for the station page and
    its wharf's dashboard.

    The RT-PCR days a plan picks depend on where its period starts, so this judges the
    plans as they are printed, week by week from Monday: staff who followed the printed
    schedule are never shown as overdue.
    """
    now = now or timezone.now()
    r = rules()
    today = timezone.localtime(now, r.tz).date()
    first = today - timedelta(days=r.interval_days)
    recent = []
    monday = first - timedelta(days=first.weekday())
    while monday <= today:
        recent += [e for e in station_schedule(station, monday, 7, now) if first <= e.planned.date <= today]
        monday += timedelta(days=7)
    overdue = [e for e in recent if e.state == schedule.OVERDUE]
    due_now = [e for e in recent if e.state == schedule.DUE and e.planned.due_from <= now]
    # Who is off duty after a positive: once each, by their latest planned test.
    blocked = {e.staff.pk: e for e in sorted(recent, key=lambda e: e.planned.due_by) if e.state == schedule.BLOCKED}
    return (
        sorted(blocked.values(), key=lambda e: e.planned.due_by)
        + sorted(overdue, key=lambda e: e.planned.due_by)
        + sorted(due_now, key=lambda e: e.planned.due_by)
    )


def _current_tests() -> QuerySet[ScreeningTest]:
    """Current results: corrections applied, invalid ones left out."""
    return ScreeningTest.objects.filter(superseded_by__isnull=True).exclude(result=TestResult.INVALID)
