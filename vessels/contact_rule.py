"""Rule R2's contact lists as pure functions of plain records: who was near a case,
at what level, and why. No database, no clock: the caller passes both."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from django.utils.translation import gettext as _

from crews.choices import CrewRole

from .choices import ContactLevel, ContactReason


@dataclass(frozen=True)
class Stay:
    """A port call as the contact rule sees it: who, where, and when it was berthed."""

    port_call: int
    vessel: str
    wharf: str
    arrived_at: datetime
    departed_at: datetime | None

    def until(self, now: datetime) -> datetime:
        return self.departed_at or now


@dataclass(frozen=True)
class OnBoard:
    """A person on the manifest of ``stay``; ``removed_at`` if taken off it."""

    person: int
    role: str
    stay: Stay
    removed_at: datetime | None = None


@dataclass(frozen=True)
class OnShift:
    """A KCS staff member rostered on one shift of a station at the case's wharf."""

    person: int
    station: str
    shift: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class ContactRecord:
    person: int
    level: str
    reason_code: str
    reason: str


_LEVEL_ORDER = {ContactLevel.F1: 0, ContactLevel.F2: 1}


def contacts_of(
    case_person: int,
    stay: Stay,
    on_board: Iterable[OnBoard],
    on_shift: Iterable[OnShift],
    now: datetime,
    tz: tzinfo,
) -> list[ContactRecord]:
    """Rule R2: the contacts of a case confirmed on ``stay``, each once, with why.

    F1: everyone else on the case's manifest, and the KCS staff whose shift at the
    wharf overlapped the stay. F2: the people on board other vessels whose stay at the
    same wharf overlapped it. ``on_board`` holds the case's manifest and those of the
    other calls at the wharf; a person found several ways keeps the closest level and
    every reason.
    """
    start, end = stay.arrived_at, stay.until(now)
    roles = dict(CrewRole.choices)

    def at(moment: datetime) -> str:
        return moment.astimezone(tz).strftime("%H:%M %d/%m/%Y")

    found: list[ContactRecord] = []
    for entry in on_board:
        if entry.person == case_person:
            continue
        if entry.stay.port_call == stay.port_call:
            reason = _("On the manifest of %(vessel)s with the case (%(role)s).") % {
                "vessel": stay.vessel,
                "role": roles.get(entry.role, entry.role),
            }
            found.append(ContactRecord(entry.person, ContactLevel.F1, ContactReason.MANIFEST, reason))
            continue
        other = entry.stay
        overlap_start, overlap_end = max(start, other.arrived_at), min(end, other.until(now))
        if other.wharf != stay.wharf or overlap_start >= overlap_end:
            continue
        if entry.removed_at is not None and entry.removed_at <= overlap_start:
            continue
        reason = _("On board %(other)s, berthed at %(wharf)s from %(start)s to %(end)s while %(vessel)s was there.") % {
            "other": other.vessel,
            "wharf": other.wharf,
            "start": at(overlap_start),
            "end": at(overlap_end),
            "vessel": stay.vessel,
        }
        found.append(ContactRecord(entry.person, ContactLevel.F2, ContactReason.BERTHED_NEARBY, reason))
    for shift in on_shift:
        if shift.person == case_person or shift.starts_at >= end or shift.ends_at <= start:
            continue
        reason = _(
            "KCS staff of %(station)s on shift %(shift)s, %(start)s to %(end)s, while %(vessel)s was berthed."
        ) % {
            "station": shift.station,
            "shift": shift.shift,
            "start": at(shift.starts_at),
            "end": at(shift.ends_at),
            "vessel": stay.vessel,
        }
        found.append(ContactRecord(shift.person, ContactLevel.F1, ContactReason.KCS_ROSTER, reason))
    return _merge(found)


def _merge(found: list[ContactRecord]) -> list[ContactRecord]:
    """One record per person: the closest level, its reason first, every reason once."""
    by_person: dict[int, list[ContactRecord]] = {}
    for record in found:
        by_person.setdefault(record.person, []).append(record)
    merged = []
    for person, records in by_person.items():
        records.sort(key=lambda r: _LEVEL_ORDER[r.level])
        reasons = list(dict.fromkeys(r.reason for r in records))
        merged.append(ContactRecord(person, records[0].level, records[0].reason_code, " ".join(reasons)))
    return sorted(merged, key=lambda r: (_LEVEL_ORDER[r.level], r.person))


def shift_window(day: date, starts: time, ends: time, tz: tzinfo) -> tuple[datetime, datetime]:
    """When a shift worked on ``day`` begins and ends; a shift ending at or before its
    start time ends the next day."""
    end_day = day + timedelta(days=1) if ends <= starts else day
    return datetime.combine(day, starts, tzinfo=tz), datetime.combine(end_day, ends, tzinfo=tz)


def staff_contacts_of(
    case_person: int,
    shifts: Iterable[OnShift],
    on_board: Iterable[OnBoard],
    colleagues: Iterable[OnShift],
    now: datetime,
    tz: tzinfo,
) -> list[ContactRecord]:
    """Rule R2 for a KCS staff member's case: the contacts of their ``shifts`` (those of
    the last days at their station), each once, with why. F1: everyone on board a
    vessel berthed at the station's wharf during one of those shifts, and the staff
    rostered on the same shift of the same day."""

    def at(moment: datetime) -> str:
        return moment.astimezone(tz).strftime("%H:%M %d/%m/%Y")

    shifts = list(shifts)
    found: list[ContactRecord] = []
    for entry in on_board:
        if entry.person == case_person:
            continue
        stay = entry.stay
        for shift in shifts:
            start, end = max(shift.starts_at, stay.arrived_at), min(shift.ends_at, stay.until(now))
            if start >= end or (entry.removed_at is not None and entry.removed_at <= start):
                continue
            reason = _(
                "On board %(vessel)s, berthed at %(wharf)s from %(start)s to %(end)s while the case worked "
                "shift %(shift)s of %(station)s."
            ) % {
                "vessel": stay.vessel,
                "wharf": stay.wharf,
                "start": at(start),
                "end": at(end),
                "shift": shift.shift,
                "station": shift.station,
            }
            found.append(ContactRecord(entry.person, ContactLevel.F1, ContactReason.BERTHED_NEARBY, reason))
    worked = {(s.station, s.shift, s.starts_at) for s in shifts}
    for colleague in colleagues:
        if colleague.person == case_person or (colleague.station, colleague.shift, colleague.starts_at) not in worked:
            continue
        reason = _("KCS staff of %(station)s on shift %(shift)s, %(start)s to %(end)s, with the case.") % {
            "station": colleague.station,
            "shift": colleague.shift,
            "start": at(colleague.starts_at),
            "end": at(colleague.ends_at),
        }
        found.append(ContactRecord(colleague.person, ContactLevel.F1, ContactReason.SAME_SHIFT, reason))
    return _merge(found)
