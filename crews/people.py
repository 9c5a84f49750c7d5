"""People by their identity documents: one record per person, reused across port calls
and roles, found or created in a constant number of queries."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

from portguard.domain import DomainError

from .choices import CrewRole
from .models import Person, id_kind_of, normalise_id_number


@dataclass
class PersonData:
    id_number: str
    full_name: str = ""
    date_of_birth: date | None = None
    role: str = CrewRole.CREW
    id_kind: str = ""
    phone: str = ""
    nationality: str = ""


def parse_id_number(value: str, id_kind: str = "", field: str = "id_number") -> tuple[str, str]:
    """Normalise an ID number and tell its document kind, or refuse a malformed one."""
    number = normalise_id_number(value)
    kind = id_kind_of(number)
    if kind is None:
        raise DomainError(
            _("%(value)s is not a 12-digit CCCD, a 9-digit CMND or a passport number.") % {"value": value},
            field=field,
        )
    if id_kind and id_kind != kind:
        raise DomainError(_("This number does not fit the document kind given."), field=field)
    return number, kind


def resolve_people(rows: Sequence[PersonData], field: str = "crew") -> list[Person]:
    """Find each row's person by document, creating the missing ones; in two queries."""
    keys = []
    for index, row in enumerate(rows):
        number, kind = parse_id_number(row.id_number, row.id_kind, field=f"{field}[{index}].id_number")
        if (kind, number) in keys:
            raise DomainError(_("This person is listed twice."), field=f"{field}[{index}].id_number")
        keys.append((kind, number))
    existing = {(p.id_kind, p.id_number): p for p in Person.objects.filter(id_number__in=[n for _k, n in keys])}
    missing = []
    for index, (key, row) in enumerate(zip(keys, rows, strict=True)):
        if key in existing:
            continue
        if not row.full_name.strip():
            raise DomainError(_("A new person needs a full name."), field=f"{field}[{index}].full_name")
        person = Person(
            id_kind=key[0],
            id_number=key[1],
            full_name=row.full_name.strip(),
            date_of_birth=row.date_of_birth,
            phone=row.phone,
            **({"nationality": row.nationality} if row.nationality else {}),
        )
        existing[key] = person
        missing.append(person)
    if missing:
        Person.objects.bulk_create(missing)  # PostgreSQL and SQLite both return the new ids
    return [existing[key] for key in keys]


def find_person(id_number: str, field: str = "id_number") -> Person:
    number, kind = parse_id_number(id_number, field=field)
    try:
        return Person.objects.get(id_kind=kind, id_number=number)
    except Person.DoesNotExist:
        raise DomainError(_("Nobody with ID number %(n)s is registered.") % {"n": number}, field=field) from None
