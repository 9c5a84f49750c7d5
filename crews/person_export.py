"""Everything PortGuard holds about one person, for a request of theirs (Decree
13/2023/NĐ-CP, the data subject's right to their data): who they are, the port calls
they were on and in which role, their tests, their KCS assignments and roster, the
contact lists they are on, the alerts about them, the violations recorded against them
and their entries in health declarations. Health officers only (``crews.export_person``).

Other people are not named in it: a contact list says whose case it was by the case's
test, not by their name. ``as_json`` and ``as_csv`` write it; one query per part,
whatever the length of the person's history.
"""

import csv
import io
from datetime import date, datetime
from typing import Any

from django.db.models import Model
from django.utils import timezone

from portguard.tabular import EXPORT_FORMULA_START
from vessels.models import Alert, Contact, DeclaredPerson, Violation

from .models import CrewMember, Person, RosterEntry, ScreeningTest, StaffMember

SECTIONS = (
    "person",
    "port_calls",
    "tests",
    "staff_assignments",
    "roster",
    "contacts",
    "alerts",
    "violations",
    "declarations",
)


def _user(user) -> str:
    return user.get_username() if user is not None else ""


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Model):
        return str(value)
    return value


def _row(**fields) -> dict[str, Any]:
    return {name: _value(value) for name, value in fields.items()}


def person_record(person: Person) -> dict[str, Any]:
    """The person's data, section by section (``SECTIONS``), as JSON-ready values."""
    record: dict[str, Any] = {
        "exported_at": _value(timezone.now()),
        "person": _row(
            id=person.pk,
            full_name=person.full_name,
            id_kind=person.id_kind,
            id_number=person.id_number,
            date_of_birth=person.date_of_birth,
            phone=person.phone,
            nationality=person.nationality,
            anonymised_at=person.anonymised_at,
        ),
    }
    record["port_calls"] = [
        _row(
            port_call=m.port_call_id,
            vessel=m.port_call.vessel.registration,
            vessel_name=m.port_call.vessel.name,
            wharf=m.port_call.wharf.code,
            arrived_at=m.port_call.arrived_at,
            departed_at=m.port_call.departed_at,
            role=m.role,
            added_at=m.added_at,
            added_by=_user(m.added_by),
            removed_at=m.removed_at,
            removed_by=_user(m.removed_by),
        )
        for m in CrewMember.objects.filter(person=person)
        .select_related("port_call__vessel", "port_call__wharf", "added_by", "removed_by")
        .order_by("port_call__arrived_at", "id")
    ]
    record["tests"] = [
        _row(
            test=t.pk,
            kind=t.kind,
            result=t.result,
            sampled_at=t.sampled_at,
            result_at=t.result_at,
            port_call=t.port_call_id,
            wharf=t.wharf.code if t.wharf else "",
            station=t.station.code if t.station else "",
            kit_lot=t.kit_lot,
            pool_id=t.pool_id,
            lab=t.lab,
            recorded_by=_user(t.recorded_by),
            recorded_at=t.recorded_at,
            supersedes=t.supersedes_id,
            correction_reason=t.correction_reason,
        )
        for t in ScreeningTest.objects.filter(person=person)
        .select_related("wharf", "station", "recorded_by")
        .order_by("sampled_at", "id")
    ]
    record["staff_assignments"] = [
        _row(
            station=s.station.code,
            wharf=s.station.wharf.code,
            active=s.active,
            added_at=s.added_at,
            added_by=_user(s.added_by),
            left_on=s.left_on,
            ended_at=s.ended_at,
            ended_by=_user(s.ended_by),
        )
        for s in StaffMember.objects.filter(person=person)
        .select_related("station__wharf", "added_by", "ended_by")
        .order_by("station__code")
    ]
    record["roster"] = [
        _row(
            station=e.staff.station.code,
            date=e.date,
            shift=e.shift.code,
            starts_at=e.shift.starts_at.isoformat(timespec="minutes"),
            ends_at=e.shift.ends_at.isoformat(timespec="minutes"),
        )
        for e in RosterEntry.objects.filter(staff__person=person)
        .select_related("staff__station", "shift")
        .order_by("date", "shift__starts_at")
    ]
    record["contacts"] = [
        _row(
            level=c.level,
            reason=c.reason,
            case_test=c.case_test_id,
            port_call=c.port_call_id,
            station=c.station.code if c.station else "",
            computed_at=c.computed_at,
        )
        for c in Contact.objects.filter(person=person).select_related("station").order_by("computed_at", "id")
    ]
    record["alerts"] = [
        _row(
            kind=a.kind,
            message=a.message,
            wharf=a.wharf.code,
            port_call=a.port_call_id,
            test=a.test_id,
            created_at=a.created_at,
            acknowledged_at=a.acknowledged_at,
            closed_at=a.closed_at,
        )
        for a in Alert.objects.filter(person=person).select_related("wharf").order_by("created_at", "id")
    ]
    record["violations"] = [
        _row(
            kind=v.kind,
            occurred_at=v.occurred_at,
            vessel=v.vessel.registration,
            wharf=v.wharf.code,
            note=v.note,
            fine_vnd=v.fine_vnd,
        )
        for v in Violation.objects.filter(person=person).select_related("vessel", "wharf").order_by("occurred_at")
    ]
    record["declarations"] = [
        _row(
            declaration=d.declaration_id,
            registration=d.declaration.registration,
            wharf=d.declaration.wharf.code,
            expected_at=d.declaration.expected_at,
            declared_at=d.declaration.created_at,
            port_call=d.declaration.port_call_id,
            full_name=d.full_name,
            id_number=d.id_number,
            role=d.role,
            date_of_birth=d.date_of_birth,
            fever=d.fever,
            cough=d.cough,
            short_of_breath=d.short_of_breath,
            sore_throat=d.sore_throat,
            lost_taste_or_smell=d.lost_taste_or_smell,
            case_contact=d.case_contact,
            provinces=", ".join(d.provinces or []),
        )
        for d in DeclaredPerson.objects.filter(id_kind=person.id_kind, id_number=person.id_number)
        .select_related("declaration__wharf")
        .order_by("declaration__expected_at", "id")
    ]
    return record


CSV_COLUMNS = ("section", "item", "field", "value")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    return "'" + text if text.startswith(EXPORT_FORMULA_START) else text


def as_csv(record: dict[str, Any]) -> bytes:
    """One row per value: its section, the item's number in it (from 1), the field and
    the value. UTF-8 with a byte-order mark, as PortGuard's other CSV files; text that a
    spreadsheet would run as a formula is written as text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerow(["exported_at", "", "", _cell(record["exported_at"])])
    for section in SECTIONS:
        items = record[section]
        for number, item in enumerate([items] if isinstance(items, dict) else items, start=1):
            for field, value in item.items():
                writer.writerow([section, number, field, _cell(value)])
    return out.getvalue().encode("utf-8-sig")
