"""A KCS station's staff and shifts as its supervisors manage them (rule R3): adding a
staff member, ending an assignment, changing a shift's times, and a station's result
sheet. Each write names who made it and when; the schedule is computed from what is
stored, so its page, API and PDF follow at once.

The station's own pages call these; rosters by file stay in ``crews.stations``.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portguard.domain import DomainError
from portguard.roles import require_perm

from . import schedule, stations
from .choices import TestKind
from .models import KcsStation, RosterEntry, ScreeningTest, Shift, StaffMember
from .people import resolve_people
from .pools import printed_pools
from .results import TestData
from .scope import require_station_in_scope


def current_staff(station: KcsStation, today: date) -> list[StaffMember]:
    """The station's staff whose assignment has not ended by ``today``, people loaded,
    in name order; one query."""
    return list(
        StaffMember.objects.filter(station=station)
        .exclude(left_on__lte=today)
        .select_related("person")
        .order_by("person__full_name", "person__id_number")
    )


# --- Staff ---------------------------------------------------------------------------


def add_staff_member(
    user, station: KcsStation, line: stations.RosterLine, now: datetime | None = None
) -> tuple[StaffMember, RosterEntry]:
    """Put someone on the station's staff with their first shift, as one roster row
    (``id_number``, ``full_name``, ``date``, ``shift``) is checked in a roster file:
    someone already registered is found by their ID document (the name may then be
    left empty); someone new is registered. A bad cell is refused in ``InvalidFile``,
    by column.

    Someone whose assignment ended joins again from that day on (their roster before
    the end stays); someone on the staff already is refused."""
    _require(user, station, ("crews.add_staffmember", "crews.add_rosterentry"), _("You may not add staff."))
    now = now or timezone.now()
    ((_line, key, day, shift),), people = stations.check_roster_lines(station, [line], staff_rejoining=True)
    with transaction.atomic():
        KcsStation.objects.select_for_update().order_by().get(pk=station.pk)
        (person,) = resolve_people(list(people.values()), field="staff")
        member = StaffMember.objects.filter(station=station, person=person).first()
        if member is None:
            member = StaffMember.objects.create(
                station=station, person=person, added_by=user, added_at=now, active=True
            )
        elif member.left_on is None:
            raise DomainError(
                _("%(name)s is on the staff of station %(code)s already.")
                % {"name": person.full_name, "code": station.code},
                field="id_number",
                code="already_on_staff",
            )
        elif day < member.left_on:
            raise DomainError(
                _("%(name)s's assignment ended from %(day)s: they join again on that day or later.")
                % {"name": person.full_name, "day": member.left_on.strftime("%d/%m/%Y")},
                field="date",
                code="before_end",
            )
        else:
            member.left_on = member.ended_by = member.ended_at = None
            member.added_by, member.added_at, member.active = user, now, True
            member.save(update_fields=["left_on", "ended_by", "ended_at", "added_by", "added_at", "active"])
        entry = RosterEntry.objects.create(staff=member, date=day, shift=shift, loaded_by=user)
    return member, entry


def end_assignment(
    user, station: KcsStation, person_id: int, from_day: date, now: datetime | None = None
) -> StaffMember:
    """End a staff member's assignment from ``from_day`` (the first day they are off the
    staff). Their roster from that day on is taken off, so the schedule plans nothing
    for them and no contact list names them for it; their earlier roster, their tests
    and their staff record stay. Refused for someone whose assignment has ended."""
    _require(user, station, ("crews.change_staffmember", "crews.delete_rosterentry"), _("You may not end assignments."))
    now = now or timezone.now()
    with transaction.atomic():
        member = (
            StaffMember.objects.select_for_update()
            .select_related("person")
            .filter(station=station, person_id=person_id)
            .first()
        )
        if member is None:
            raise DomainError(
                _("Nobody with this ID is on the staff of station %(code)s.") % {"code": station.code},
                field="person",
                code="not_found",
            )
        if member.left_on is not None:
            raise DomainError(
                _("%(name)s's assignment ended from %(day)s already.")
                % {"name": member.person.full_name, "day": member.left_on.strftime("%d/%m/%Y")},
                field="left_on",
                code="already_ended",
            )
        member.left_on, member.ended_by, member.ended_at = from_day, user, now
        member.save(update_fields=["left_on", "ended_by", "ended_at"])
        RosterEntry.objects.filter(staff=member, date__gte=from_day).delete()
    return member


# --- Shifts --------------------------------------------------------------------------


def change_shift(
    user, station: KcsStation, code: str, starts_at: time, ends_at: time, name: str = "", now: datetime | None = None
) -> Shift:
    """Change the times (and the name, when given) of one of the station's shifts. The
    schedule is worked out from the shifts as they are stored, so every planned test of
    that shift follows, the weeks already printed too. A shift ending at its start time
    is refused; one ending before it ends the next day (the night shift)."""
    _require(user, station, ("crews.change_shift",), _("You may not change shifts."))
    if starts_at == ends_at:
        raise DomainError(_("A shift cannot end when it starts."), field="ends_at", code="empty_shift")
    name = name.strip()
    if len(name) > Shift._meta.get_field("name").max_length:
        raise DomainError(_("This name is too long."), field="name")
    now = now or timezone.now()
    with transaction.atomic():
        shift = Shift.objects.select_for_update().filter(station=station, code=code.strip().upper()).first()
        if shift is None:
            raise DomainError(
                _("Station %(station)s has no shift %(code)s.") % {"station": station.code, "code": code},
                field="shift",
                code="not_found",
            )
        shift.starts_at, shift.ends_at, shift.changed_by, shift.changed_at = starts_at, ends_at, user, now
        if name:
            shift.name = name
        shift.save(update_fields=["starts_at", "ends_at", "name", "changed_by", "changed_at"])
    return shift


# --- Results -------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffResult:
    """One staff member's result on the station's sheet."""

    person_id: int
    result: str
    sampled_at: datetime
    client_uuid: uuid.UUID | None = None


def record_station_sheet(
    user, station: KcsStation, kind: str, results: Sequence[StaffResult], kit_lot: str = "", now=None
) -> list[ScreeningTest]:
    """Record the station's sheet, all or nothing, through ``stations.record_staff_tests``
    (``crews.results.record_tests``, placed at the station): a rapid test after a shift,
    or an RT-PCR. A pooled RT-PCR goes into the pool the schedule plans for that person
    on the sample's day (the printed week's plan, from Monday), or, once that day's labels
    are printed, the pool on their label (``crews.pools``); someone with no RT-PCR
    planned that day is refused, to be recorded as a single RT-PCR. Each result keeps
    its own client key, so the sheet sent twice stores each result once."""
    require_perm(user, "crews.add_screeningtest", _("You may not record test results."))
    require_station_in_scope(user, station)
    now = now or timezone.now()
    staff = {
        m.person_id: m
        for m in StaffMember.objects.filter(station=station, person_id__in=[r.person_id for r in results])
        .select_related("person")
        .order_by()
    }
    entries = []
    for row in results:
        member = staff.get(row.person_id)
        if member is None:
            raise DomainError(
                _("Nobody with this ID is on the staff of station %(code)s.") % {"code": station.code},
                field="person",
                code="not_found",
            )
        entries.append(
            TestData(
                person=member.person,
                kind=kind,
                sampled_at=row.sampled_at,
                result=row.result,
                kit_lot=kit_lot,
                client_uuid=row.client_uuid,
            )
        )
    if kind == TestKind.RT_PCR_POOLED:
        entries = _pooled_as_planned(station, entries, now)
    return stations.record_staff_tests(user, station, entries, now=now)


def planned_pools(station: KcsStation, start: date, days: int, now: datetime) -> dict[tuple[int, date], str]:
    """The pool the schedule plans for each (person, day) of an RT-PCR, as stored on
    the results: ``<station code>-<day>-<n>``."""
    plan = stations.plan_station(station, start, days, now)
    return {
        (plan.staff[test[0]].person_id, test[1]): f"{station.code}-{test[6]}"
        for test in plan.planned
        if test[3] == schedule.RT_PCR
    }


def _pooled_as_planned(station: KcsStation, entries: list[TestData], now: datetime) -> list[TestData]:
    tz = stations.rules().tz
    days = {timezone.localtime(e.sampled_at, tz).date() for e in entries if not e.pool_id}
    pools: dict[tuple[int, date], str] = {}
    for monday in {day - timedelta(days=day.weekday()) for day in days}:
        pools |= planned_pools(station, monday, 7, now)
    # Once a day's labels are printed, its samples belong to the pools on their labels.
    pools |= printed_pools(station, days)
    # A result stored already (the sheet sent again) stands as it was stored, whatever the
    # plan says now: ``record_tests`` answers with it.
    keys = [
        e.client_uuid
        for e in entries
        if e.client_uuid and not e.pool_id and (e.person.pk, timezone.localtime(e.sampled_at, tz).date()) not in pools
    ]
    stored = (
        set(ScreeningTest.objects.filter(client_uuid__in=keys).values_list("client_uuid", flat=True)) if keys else set()
    )
    placed = []
    for entry in entries:
        day = timezone.localtime(entry.sampled_at, tz).date()
        pool = entry.pool_id or pools.get((entry.person.pk, day))
        if not pool and entry.client_uuid in stored:
            placed.append(entry)
            continue
        if not pool:
            error = DomainError(
                _("No RT-PCR is planned for %(name)s on %(day)s: record it as a single RT-PCR.")
                % {"name": entry.person.full_name, "day": day.strftime("%d/%m/%Y")},
                field="kind",
                code="no_pool_planned",
            )
            error.entry = entry
            raise error
        placed.append(replace(entry, pool_id=pool))
    return placed


def _require(user, station: KcsStation, perms: Sequence[str], message: str) -> None:
    for perm in perms:
        require_perm(user, perm, message)
    require_station_in_scope(user, station)
