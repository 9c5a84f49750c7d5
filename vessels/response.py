"""Rules R2, R4 and R5: the response to a positive (quarantine release, alerts, contact
lists), epidemic areas and violations.

Every entry point (pages, API, admin, commands) calls these functions. The contact list
itself is computed by ``contacts_of``, a pure function of plain records.
"""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crews.choices import CrewRole, TestKind, TestResult
from crews.models import CrewMember, KcsStation, Person, RosterEntry, ScreeningTest
from portguard.domain import DomainError
from realtime.broadcast import send_event_on_commit

from .choices import AlertKind, ContactLevel, ContactReason, PortCallStatus, ViolationKind, ViolationTarget
from .clearance import CallClearance
from .events import alert_json
from .models import Alert, Contact, EpidemicArea, PortCall, QuarantineRelease, Vessel, Violation, Wharf
from .services import (
    announce_port_call,
    announce_port_calls,
    check_sample_time,
    clearance_of,
    flagged_origins,
    lock_port_call,
    repeat_offenders,
    require_perm,
    require_wharf_in_scope,
    sees_all_wharves,
    visible_port_calls,
    visible_wharves,
)

# --- Quarantine ----------------------------------------------------------------------


def release_quarantine(user, port_call_id: int, reason: str, now: datetime | None = None) -> QuarantineRelease:
    """Lift a port call's quarantine (rule R2): health officers only, with a reason.

    The release covers the confirmed cases recorded so far, and only those. Under the
    port call's lock, like approval: a positive RT-PCR recorded at the same moment is
    either seen here (and covered) or comes after the release and quarantines the call
    again.
    """
    require_perm(user, "vessels.release_quarantine", _("Only a health officer releases a quarantine."))
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Give the reason for the release."), field="reason")
    if len(reason) > QuarantineRelease._meta.get_field("reason").max_length:
        raise DomainError(_("This reason is too long."), field="reason")
    with transaction.atomic():
        call = lock_port_call(port_call_id)
        now = now or timezone.now()
        clearance = clearance_of(call, now)
        if clearance.status != PortCallStatus.QUARANTINED:
            raise DomainError(_("This port call is not in quarantine."), code="not_quarantined", field="port_call")
        release = QuarantineRelease.objects.create(port_call=call, released_by=user, released_at=now, reason=reason)
        release.cases.set(_confirming_tests(call))
        announce_port_call(call)
    return release


# --- Alerts --------------------------------------------------------------------------


def raise_alert(
    call: PortCall | None,
    kind: str,
    message: str,
    at: datetime,
    *,
    person: Person | None = None,
    test: ScreeningTest | None = None,
    station: KcsStation | None = None,
) -> Alert:
    """Record an alert at the call's wharf, or (for KCS staff, with no call) at the
    station's; all but a positive's and a pool's are sent live as ``alert.raised`` once
    the transaction commits (those go out with their result, as ``alert.positive``;
    a confirmed case goes out both ways).
    Call while holding the port call's lock."""
    alert = Alert.objects.create(
        kind=kind,
        wharf=call.wharf if call is not None else station.wharf,
        port_call=call,
        station=station,
        person=person,
        test=test,
        message=Truncator(message).chars(Alert._meta.get_field("message").max_length),
        created_at=at,
    )
    if kind not in (AlertKind.POSITIVE, AlertKind.POOL_POSITIVE):
        send_event_on_commit(alert.wharf.code, "alert.raised", {"alert": alert_json(alert)})
    return alert


# Alerts sent as ``alert.positive`` (with their result) and raised again by snapshots
# until acknowledged.
POSITIVE_ALERTS = (AlertKind.POSITIVE, AlertKind.CONFIRMED_CASE, AlertKind.POOL_POSITIVE)


def _positive_alerts(
    tests: Sequence[ScreeningTest], where: dict[str, str], raise_one
) -> tuple[list[Alert], list[ScreeningTest]]:
    """Rule R2's alerts for results just recorded at one place: one per positive
    individual result, one per positive pool (whose members await a retest, and which
    confirms nobody). ``raise_one(kind, message, test)`` records one. Returns the alerts
    and the positive individual RT-PCR results, each a confirmed case."""
    alerts: list[Alert] = []
    confirmed: list[ScreeningTest] = []
    pools: dict[str, list[ScreeningTest]] = {}
    for test in tests:
        if test.result != TestResult.POSITIVE:
            continue
        if test.kind == TestKind.RT_PCR_POOLED:
            pools.setdefault(test.pool_id, []).append(test)
            continue
        facts = {**where, "name": test.person.full_name, "kind": test.get_kind_display()}
        if test.kind == TestKind.RT_PCR:
            confirmed.append(test)
            message = _("Confirmed case (positive %(kind)s): %(name)s %(place)s.") % facts
            alerts.append(raise_one(AlertKind.CONFIRMED_CASE, message, test))
        else:
            message = _("Positive %(kind)s: %(name)s %(place)s.") % facts
            alerts.append(raise_one(AlertKind.POSITIVE, message, test))
    for pool_id, members in pools.items():
        message = ngettext(
            "Positive pool %(pool)s %(place)s: %(count)d person to retest alone (%(names)s).",
            "Positive pool %(pool)s %(place)s: %(count)d people to retest alone (%(names)s).",
            len(members),
        ) % {
            **where,
            "pool": pool_id,
            "count": len(members),
            "names": ", ".join(t.person.full_name for t in members),
        }
        alerts.append(raise_one(AlertKind.POOL_POSITIVE, message, members[0]))
    return alerts, confirmed


def respond_to_results(
    call: PortCall, tests: Sequence[ScreeningTest], clearance: CallClearance, now: datetime
) -> list[Alert]:
    """Rule R2's response to results just recorded for ``call``: an alert for each
    positive (a positive individual RT-PCR confirms a case), one for each positive pool,
    one more when the call has just gone into quarantine, and each confirmed case's
    contact list. Returns the alerts sent as ``alert.positive``.

    Call while holding the port call's lock; ``clearance`` is the call's state with
    the new results.
    """
    where = {"place": _("on %(vessel)s at %(wharf)s") % {"vessel": call.vessel.registration, "wharf": call.wharf.code}}
    alerts, confirmed = _positive_alerts(
        tests,
        where,
        lambda kind, message, test: raise_alert(call, kind, message, now, person=test.person, test=test),
    )
    if (
        confirmed
        and clearance.status == PortCallStatus.QUARANTINED
        and not _was_quarantined(call, confirmed, clearance)
    ):
        message = _("%(vessel)s at %(wharf)s is in quarantine: no cargo handover, no departure.") % {
            "vessel": call.vessel.registration,
            "wharf": call.wharf.code,
        }
        raise_alert(call, AlertKind.QUARANTINE, message, now)
    for test in confirmed:
        store_contacts(test.recorded_by, call, test, now)
    return alerts


def respond_to_staff_results(station: KcsStation, tests: Sequence[ScreeningTest], now: datetime) -> list[Alert]:
    """Rule R2 for KCS staff: the same alerts as a crew's, raised at the station's
    wharf, and each confirmed case's contact list. Returns the alerts sent as
    ``alert.positive``. Call inside the transaction that recorded ``tests``."""
    where = {
        "place": _("(KCS staff of %(station)s at %(wharf)s)") % {"station": station.code, "wharf": station.wharf.code}
    }
    alerts, confirmed = _positive_alerts(
        tests,
        where,
        lambda kind, message, test: raise_alert(
            None, kind, message, now, person=test.person, test=test, station=station
        ),
    )
    for test in confirmed:
        store_staff_contacts(test.recorded_by, station, test, now)
    return alerts


def _was_quarantined(call: PortCall, new: Sequence[ScreeningTest], clearance: CallClearance) -> bool:
    """Whether a case confirmed before ``new`` already held the call in quarantine."""
    earlier = _confirming_tests(call).exclude(pk__in=[t.pk for t in new])
    return earlier.exclude(pk__in=clearance.released_cases).exists()


def _confirming_tests(call: PortCall) -> QuerySet[ScreeningTest]:
    """The call's positive individual RT-PCR results that stand (no correction
    superseded them)."""
    return ScreeningTest.objects.filter(
        port_call=call, kind=TestKind.RT_PCR, result=TestResult.POSITIVE, superseded_by__isnull=True
    )


def visible_alerts(user) -> QuerySet[Alert]:
    alerts = Alert.objects.select_related(
        "wharf", "station", "port_call__vessel", "person", "test", "acknowledged_by"
    ).order_by("-created_at", "-id")
    if not user.has_perm("vessels.view_alert"):
        return alerts.none()
    if sees_all_wharves(user):
        return alerts
    return alerts.filter(wharf__in=visible_wharves(user))


def acknowledge_alert(user, alert_id: int, now: datetime | None = None) -> Alert:
    """Someone at the wharf, the port authority or a health officer has seen the alert."""
    require_perm(user, "vessels.acknowledge_alert", _("You may not acknowledge alerts."))
    with transaction.atomic():
        try:
            alert = Alert.objects.select_for_update(of=("self",)).select_related("wharf").get(pk=alert_id)
        except Alert.DoesNotExist:
            raise DomainError(_("Unknown alert."), field="alert", code="not_found") from None
        require_wharf_in_scope(user, alert.wharf)
        if alert.acknowledged_at is not None:
            raise DomainError(_("This alert was already acknowledged."), code="already_acknowledged")
        alert.acknowledged_by = user
        alert.acknowledged_at = now or timezone.now()
        alert.save(update_fields=["acknowledged_by", "acknowledged_at"])
        send_event_on_commit(
            alert.wharf.code,
            "alert.acknowledged",
            {"alert": alert.pk, "acknowledged_by": user.get_username(), "acknowledged_at": alert.acknowledged_at},
        )
    return alert


# --- Contact lists: the rule, as a pure function --------------------------------------


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


# --- Contact lists: stored and recomputed ---------------------------------------------


def store_contacts(user, call: PortCall, case_test: ScreeningTest, now: datetime) -> list[Contact]:
    """Compute and store the contact list of the case ``case_test`` confirmed, in place
    of any earlier list of that case, in four queries whatever the number of people.
    Call while holding the port call's lock."""
    tz = ZoneInfo(settings.TIME_ZONE)
    stay = _stay(call)
    end = stay.until(now)
    nearby = Q(port_call__wharf_id=call.wharf_id, port_call__arrived_at__lt=end) & (
        Q(port_call__departed_at__isnull=True) | Q(port_call__departed_at__gt=stay.arrived_at)
    )
    on_board = [
        OnBoard(m.person_id, m.role, stay if m.port_call_id == call.pk else _stay(m.port_call), m.removed_at)
        for m in CrewMember.objects.filter(Q(port_call=call) | nearby).select_related(
            "port_call__vessel", "port_call__wharf"
        )
    ]
    first_day = stay.arrived_at.astimezone(tz).date() - timedelta(days=1)
    on_shift = []
    for entry in RosterEntry.objects.filter(
        staff__station__wharf_id=call.wharf_id, date__gte=first_day, date__lte=end.astimezone(tz).date()
    ).select_related("staff__station", "shift"):
        starts_at, ends_at = shift_window(entry.date, entry.shift.starts_at, entry.shift.ends_at, tz)
        on_shift.append(OnShift(entry.staff.person_id, entry.staff.station.code, entry.shift.code, starts_at, ends_at))
    records = contacts_of(case_test.person_id, stay, on_board, on_shift, now, tz)
    Contact.objects.filter(port_call=call, case_person_id=case_test.person_id).delete()
    return _store(user, records, case_test, now, port_call=call)


def store_staff_contacts(user, station: KcsStation, case_test: ScreeningTest, now: datetime) -> list[Contact]:
    """Compute and store the contact list of a KCS staff member's case, in place of any
    earlier list of that case, in four queries whatever the number of people: their
    shifts at ``station`` of the last ``PORTGUARD_RT_PCR_INTERVAL_DAYS`` days up to the
    sample, the vessels berthed at its wharf meanwhile and the staff on those shifts."""
    tz = ZoneInfo(settings.TIME_ZONE)
    since = case_test.sampled_at - timedelta(days=settings.PORTGUARD_RT_PCR_INTERVAL_DAYS)
    entries = RosterEntry.objects.filter(
        staff__station=station,
        date__gte=since.astimezone(tz).date() - timedelta(days=1),
        date__lte=case_test.sampled_at.astimezone(tz).date(),
    ).select_related("staff__station", "shift")
    on_shift = []
    for entry in entries:
        starts_at, ends_at = shift_window(entry.date, entry.shift.starts_at, entry.shift.ends_at, tz)
        if starts_at < case_test.sampled_at and ends_at > since:
            on_shift.append(OnShift(entry.staff.person_id, station.code, entry.shift.code, starts_at, ends_at))
    shifts = [s for s in on_shift if s.person == case_test.person_id]
    on_board = []
    if shifts:
        first, last = min(s.starts_at for s in shifts), max(s.ends_at for s in shifts)
        on_board = [
            OnBoard(m.person_id, m.role, _stay(m.port_call), m.removed_at)
            for m in CrewMember.objects.filter(
                Q(port_call__departed_at__isnull=True) | Q(port_call__departed_at__gt=first),
                port_call__wharf_id=station.wharf_id,
                port_call__arrived_at__lt=last,
            ).select_related("port_call__vessel", "port_call__wharf")
        ]
    records = staff_contacts_of(case_test.person_id, shifts, on_board, on_shift, now, tz)
    Contact.objects.filter(port_call__isnull=True, station=station, case_person_id=case_test.person_id).delete()
    return _store(user, records, case_test, now, station=station)


def _store(user, records: list[ContactRecord], case_test: ScreeningTest, now: datetime, **place) -> list[Contact]:
    return Contact.objects.bulk_create(
        Contact(
            **place,
            case_person_id=case_test.person_id,
            case_test=case_test,
            person_id=record.person,
            level=record.level,
            reason_code=record.reason_code,
            reason=Truncator(record.reason).chars(Contact._meta.get_field("reason").max_length),
            computed_at=now,
            computed_by=user,
        )
        for record in records
    )


def _stay(call: PortCall) -> Stay:
    return Stay(call.pk, call.vessel.registration, call.wharf.code, call.arrived_at, call.departed_at)


@dataclass
class Case:
    """A confirmed case (F0): the person, where it was confirmed (a port call, or a KCS
    station for its staff), the latest confirming test, and the stored contact list."""

    test: ScreeningTest
    contacts: list[Contact]

    @property
    def port_call(self) -> PortCall | None:
        return self.test.port_call

    @property
    def station(self) -> KcsStation | None:
        return self.test.station if self.test.port_call_id is None else None

    @property
    def person(self) -> Person:
        return self.test.person

    @property
    def where(self) -> str:
        """The vessel's registration, or the station's code: what names the case's place."""
        return self.port_call.vessel.registration if self.port_call else self.station.code

    @property
    def wharf(self) -> Wharf:
        return self.port_call.wharf if self.port_call else self.station.wharf

    @property
    def levels(self) -> dict[str, int]:
        """How many contacts of each level: ``{"F1": 7, "F2": 12}``."""
        return {level: sum(1 for c in self.contacts if c.level == level) for level in ContactLevel.values}


def confirmed_cases(
    user, port_call_id: int | None = None, person_id: int | None = None, station_code: str | None = None
) -> list[Case]:
    """The confirmed cases (positive individual RT-PCR), crews' and KCS staff's, latest
    first, each with its contacts; in two queries. Health officers only. With
    ``person_id``, that person's case on the port call or at the station given."""
    require_perm(user, "vessels.view_contact", _("Only health officers see contact lists."))
    tests = ScreeningTest.objects.filter(
        Q(port_call__isnull=False) | Q(station__isnull=False),
        kind=TestKind.RT_PCR,
        result=TestResult.POSITIVE,
        superseded_by__isnull=True,
    )
    if person_id is not None:
        place = Q(port_call_id=port_call_id) if port_call_id is not None else Q(station__code=station_code)
        tests = tests.filter(place, person_id=person_id)
    latest: dict[tuple, ScreeningTest] = {}
    for test in tests.select_related("person", "port_call__vessel", "port_call__wharf", "station__wharf").order_by(
        "-sampled_at", "-id"
    ):
        latest.setdefault(_case_key(test.port_call_id, test.station_id, test.person_id), test)
    contacts: dict[tuple, list[Contact]] = {key: [] for key in latest}
    for contact in Contact.objects.filter(
        Q(port_call_id__in={t.port_call_id for t in latest.values()})
        | Q(port_call__isnull=True, station_id__in={t.station_id for t in latest.values()}),
        case_person_id__in={t.person_id for t in latest.values()},
    ).select_related("person"):
        key = _case_key(contact.port_call_id, contact.station_id, contact.case_person_id)
        if key in contacts:
            contacts[key].append(contact)
    return [Case(test, contacts[key]) for key, test in latest.items()]


def _case_key(port_call_id: int | None, station_id: int | None, person_id: int) -> tuple:
    return ("call", port_call_id, person_id) if port_call_id is not None else ("station", station_id, person_id)


def recompute_contacts(user, port_call_id: int, person_id: int, now: datetime | None = None) -> list[Contact]:
    """Compute a case's contact list again (a roster corrected, a vessel registered
    late). Under the port call's lock, like every write on the call."""
    require_perm(user, "vessels.add_contact", _("Only health officers compute contact lists."))
    with transaction.atomic():
        call = lock_port_call(port_call_id)
        case_test = (
            ScreeningTest.objects.filter(
                port_call=call,
                person_id=person_id,
                kind=TestKind.RT_PCR,
                result=TestResult.POSITIVE,
                superseded_by__isnull=True,
            )
            .order_by("-sampled_at", "-id")
            .first()
        )
        if case_test is None:
            raise DomainError(_("This person is not a confirmed case on this port call."), code="not_found")
        return store_contacts(user, call, case_test, now or timezone.now())


CONTACT_COLUMNS = (
    "level",
    "full_name",
    "id_number",
    "date_of_birth",
    "phone",
    "reason",
    "case_full_name",
    "case_id_number",
    "vessel",
    "wharf",
    "computed_at",
)


def contact_rows(case: Case) -> list[dict[str, str]]:
    """A case's contact list as exported rows (``CONTACT_COLUMNS``): text only, so ID
    numbers keep their leading zeros; times local, ISO 8601."""
    return [
        {
            "level": contact.level,
            "full_name": contact.person.full_name,
            "id_number": contact.person.id_number,
            "date_of_birth": contact.person.date_of_birth.isoformat() if contact.person.date_of_birth else "",
            "phone": contact.person.phone,
            "reason": contact.reason,
            "case_full_name": case.person.full_name,
            "case_id_number": case.person.id_number,
            "vessel": case.where,
            "wharf": case.wharf.code,
            "computed_at": timezone.localtime(contact.computed_at).isoformat(),
        }
        for contact in case.contacts
    ]


# --- Epidemic areas (rule R4) ----------------------------------------------------------


@dataclass
class AreaData:
    province: str
    district: str = ""
    active_from: date | None = None
    active_to: date | None = None


def add_epidemic_area(user, data: AreaData) -> EpidemicArea:
    """Declare an epidemic area. Health officers only; open port calls whose flag it
    changes are announced again."""
    require_perm(user, "vessels.add_epidemicarea", _("Only health officers keep the list of epidemic areas."))
    area = EpidemicArea(created_by=user)
    _fill_area(area, data)
    with transaction.atomic(), _reflagging():
        area.save()
    return area


def change_epidemic_area(user, area_id: int, data: AreaData) -> EpidemicArea:
    """Correct an area or end it (``active_to``). Health officers only."""
    require_perm(user, "vessels.change_epidemicarea", _("Only health officers keep the list of epidemic areas."))
    with transaction.atomic(), _reflagging():
        area = _area(area_id, lock=True)
        _fill_area(area, data)
        area.changed_by, area.changed_at = user, timezone.now()
        area.save()
    return area


def delete_epidemic_area(user, area_id: int) -> None:
    """Take an area entered by mistake off the list (an area that ended is ended, not
    deleted: arrivals judged under it stay explained). Health officers only."""
    require_perm(user, "vessels.delete_epidemicarea", _("Only health officers keep the list of epidemic areas."))
    with transaction.atomic(), _reflagging():
        _area(area_id, lock=True).delete()


def _area(area_id: int, lock: bool = False) -> EpidemicArea:
    areas = EpidemicArea.objects.select_for_update() if lock else EpidemicArea.objects
    try:
        return areas.get(pk=area_id)
    except EpidemicArea.DoesNotExist:
        raise DomainError(_("Unknown epidemic area."), field="area", code="not_found") from None


def _fill_area(area: EpidemicArea, data: AreaData) -> None:
    province, district = " ".join(data.province.split()), " ".join(data.district.split())
    if not province:
        raise DomainError(_("Give the province."), field="province")
    for name, value in (("province", province), ("district", district)):
        if len(value) > EpidemicArea._meta.get_field(name).max_length:
            raise DomainError(_("This name is too long."), field=name)
    if data.active_from is None:
        raise DomainError(_("Give the first day the area is active."), field="active_from")
    if data.active_to is not None and data.active_to < data.active_from:
        raise DomainError(_("The area cannot end before it starts."), field="active_to")
    area.province, area.district = province, district
    area.active_from, area.active_to = data.active_from, data.active_to


@contextmanager
def _reflagging() -> Iterator[None]:
    """Around a change to the list of epidemic areas: afterwards, announce each open
    port call whose flag (and so whose rule for clearance) the change turned. Status is
    computed when read, so the calls need no update, only the dashboards."""
    calls = list(PortCall.objects.filter(departed_at__isnull=True).select_related("vessel", "wharf"))
    before = flagged_origins(calls)
    yield
    after = flagged_origins(calls)
    announce_port_calls([call for call in calls if (call.pk in before) != (call.pk in after)])


# --- Violations (rule R5) ----------------------------------------------------------------


@dataclass
class ViolationData:
    vessel: Vessel
    kind: str
    occurred_at: datetime
    wharf: Wharf
    against: str = ViolationTarget.VESSEL
    person: Person | None = None
    owner_name: str = ""
    note: str = ""
    fine_vnd: int | None = None


def record_violation(user, data: ViolationData, now: datetime | None = None) -> Violation:
    """Record a violation against a vessel, its owner or a person on board, at one of
    the inspector's wharves. The owner's name is kept as it is at the time."""
    require_perm(user, "vessels.add_violation", _("Only wharf inspectors record violations."))
    require_wharf_in_scope(user, data.wharf)
    now = now or timezone.now()
    if data.kind not in ViolationKind.values:
        raise DomainError(_("Unknown kind of violation."), field="kind")
    if data.against not in ViolationTarget.values:
        raise DomainError(_("Say whom the violation is against."), field="against")
    check_sample_time(data.occurred_at, now, field="occurred_at")
    if data.against == ViolationTarget.PERSON and data.person is None:
        raise DomainError(_("Give the ID number of the person."), field="id_number")
    if data.against != ViolationTarget.PERSON and data.person is not None:
        raise DomainError(_("A person is named only for a violation against a person."), field="id_number")
    owner_name = " ".join(data.owner_name.split()) or data.vessel.owner
    if data.against == ViolationTarget.OWNER and not owner_name:
        raise DomainError(_("The vessel's owner is not known: give the owner's name."), field="owner_name")
    if data.fine_vnd is not None and data.fine_vnd < 0:
        raise DomainError(_("A fine cannot be negative."), field="fine_vnd")
    for name, value in (("owner_name", owner_name), ("note", data.note)):
        if len(value) > Violation._meta.get_field(name).max_length:
            raise DomainError(_("This text is too long."), field=name)
    with transaction.atomic():
        violation = Violation.objects.create(
            vessel=data.vessel,
            against=data.against,
            owner_name=owner_name,
            person=data.person,
            kind=data.kind,
            occurred_at=data.occurred_at,
            wharf=data.wharf,
            note=data.note.strip(),
            fine_vnd=data.fine_vnd,
            recorded_by=user,
        )
        # The repeat-offender flag of the vessel's, or the person's, open calls may turn.
        concerned = Q(vessel=data.vessel)
        if data.person is not None:
            concerned |= Q(crew__person=data.person, crew__removed_at__isnull=True)
        calls = list(
            PortCall.objects.filter(concerned, departed_at__isnull=True).select_related("vessel", "wharf").distinct()
        )
        announce_port_calls(calls, now)
    return violation


@dataclass
class VesselHistory:
    vessel: Vessel
    violations: list[Violation]
    port_calls: list[PortCall]
    repeat_vessel: bool
    repeat_people: set[int]


def vessel_history(user, vessel: Vessel, now: datetime | None = None) -> VesselHistory:
    """A vessel's violations (all of them: repeat offending counts every wharf) and the
    port calls the user may see; in three queries."""
    now = now or timezone.now()
    violations = list(vessel.violations.select_related("person", "wharf", "recorded_by"))
    people = {v.person_id for v in violations if v.person_id is not None}
    repeat_vessels, repeat_people = repeat_offenders({vessel.pk}, people, now)
    return VesselHistory(
        vessel=vessel,
        violations=violations,
        port_calls=list(visible_port_calls(user).filter(vessel=vessel).order_by("-arrived_at", "-pk")),
        repeat_vessel=vessel.pk in repeat_vessels,
        repeat_people=repeat_people,
    )
