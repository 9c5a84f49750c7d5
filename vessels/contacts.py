"""Contact lists stored and recomputed (rule R2): a crew member's case by its port call,
a KCS staff member's by their station; the cases health officers follow."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from crews.choices import TestKind, TestResult
from crews.models import CrewMember, KcsStation, Person, RosterEntry, ScreeningTest
from portguard.domain import DomainError
from portguard.roles import require_perm
from vessels.contact_rule import ContactRecord, OnBoard, OnShift, Stay, contacts_of, shift_window, staff_contacts_of
from vessels.scope import lock_port_call

from .choices import ContactLevel
from .models import Contact, PortCall, Wharf


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
