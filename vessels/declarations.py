"""Rule R6: the health declaration (khai báo y tế) a captain or agent makes before a
vessel arrives, by the public form of a wharf or over the API.

The declarant gets a receipt code, and whoever holds it (nobody else) reads and amends
the declaration until the vessel arrives. Only the code's SHA-256 is stored: the code
carries 60 random bits, so its hash cannot be reversed nor the code guessed. Every field
is checked here, for every door, and every problem is reported at once, each naming its
field; nothing is stored unless all of it is right. Inspectors register the arrival from
the declaration, which fills the crew list through ``register_port_call``.
"""

import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from crews.choices import CrewRole
from crews.people import PersonData, parse_id_number
from portguard.domain import DomainError
from portguard.roles import require_perm
from realtime.broadcast import send_event_on_commit
from vessels.areas import ViolationData, record_violation
from vessels.scope import lock_port_call, visible_wharves
from vessels.services import VesselData, register_port_call

from .choices import VesselKind, ViolationKind
from .clearance import Area, origin_flagged
from .models import (
    REGISTRATION_RE,
    Declaration,
    DeclaredPerson,
    DeclaredPortOfCall,
    EpidemicArea,
    PortCall,
    Violation,
    Wharf,
    normalise_registration,
)

# Ports of call and provinces visited count for this many days before the arrival.
LOOKBACK_DAYS = 14
# A declaration may be made this long after the time it gives for the arrival (a late
# vessel), and this far ahead of it.
LATE_HOURS = 12
AHEAD_DAYS = 30
# A declaration not turned into an arrival stays on the wharf's list, and holds its
# vessel against a second declaration, this long after its expected arrival.
OPEN_HOURS = 48
MAX_PEOPLE = 60  # the public form posts about 12 fields a person, under Django's 1,000
MAX_PORTS = 20
MAX_PROVINCES = 30
EARLIEST_BIRTH = date(1900, 1, 1)
PHONE_RE = re.compile(r"^\+?[0-9][0-9 .\-]{6,18}[0-9]$")

# Receipt codes: 12 characters of an alphabet without 0/O, 1/I (60 bits), shown in
# groups of four; read back in any case, with or without the dashes and spaces.
RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
RECEIPT_LENGTH = 12
RECEIPT_RE = re.compile(rf"^[{RECEIPT_ALPHABET}]{{{RECEIPT_LENGTH}}}$")

SYMPTOMS = ("fever", "cough", "short_of_breath", "sore_throat", "lost_taste_or_smell")


@dataclass
class PortOfCallData:
    port: str
    left_on: date | None


@dataclass
class DeclaredPersonData:
    full_name: str
    id_number: str
    role: str = CrewRole.CREW
    date_of_birth: date | None = None
    fever: bool = False
    cough: bool = False
    short_of_breath: bool = False
    sore_throat: bool = False
    lost_taste_or_smell: bool = False
    case_contact: bool = False
    provinces: Sequence[str] = ()


@dataclass
class DeclarationData:
    registration: str
    expected_at: datetime | None
    declarant_name: str
    declarant_phone: str
    vessel_name: str = ""
    vessel_kind: str = VesselKind.OTHER
    ports: Sequence[PortOfCallData] = ()
    people: Sequence[DeclaredPersonData] = ()


class DeclarationInvalid(DomainError):
    """Every problem of a declaration at once: ``errors`` maps each field (``people[1].id_number``)
    to its messages, each message naming the field for a reader who sees it alone."""

    code = "validation_error"

    def __init__(self, errors: dict[str, list[str]]):
        first_field, messages = next(iter(errors.items()))
        super().__init__(messages[0], field=first_field)
        self.errors = errors


class AlreadyDeclared(DomainError):
    code = "already_declared"
    status = 409


class DeclarationArrived(DomainError):
    code = "arrived"
    status = 409


# --- Receipt codes ---------------------------------------------------------------------


def new_receipt_code() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _i in range(RECEIPT_LENGTH))


def normalise_receipt(code: str) -> str:
    return re.sub(r"[\s\-]+", "", code or "").upper()


def receipt_hash(code: str) -> str:
    return hashlib.sha256(normalise_receipt(code).encode("ascii", "replace")).hexdigest()


def format_receipt(code: str) -> str:
    """``ABCDEFGHJKLM`` → ``ABCD-EFGH-JKLM``, easier to read out and copy."""
    code = normalise_receipt(code)
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def declaration_by_receipt(code: str) -> Declaration | None:
    """The declaration this receipt code opens, or None: a malformed, wrong or unknown code
    all answer None. The lookup is by the code's hash, never by the code."""
    code = normalise_receipt(code)
    if not RECEIPT_RE.match(code):
        return None
    return (
        Declaration.objects.select_related("wharf", "port_call")
        .prefetch_related("people", "ports")
        .filter(receipt_hash=receipt_hash(code))
        .first()
    )


# --- Validation ------------------------------------------------------------------------


class _Errors:
    def __init__(self):
        self.errors: dict[str, list[str]] = {}

    def add(self, path: str, label: str, problem: str) -> None:
        self.errors.setdefault(path, []).append(f"{label}: {problem}")

    def raise_any(self) -> None:
        if self.errors:
            raise DeclarationInvalid(self.errors)


def _local_date(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def _text(errors: _Errors, path: str, label: str, value: str, max_length: int, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        errors.add(path, label, _("this field is required."))
    elif len(value) > max_length:
        errors.add(path, label, _("at most %(n)d characters.") % {"n": max_length})
    return value


def _check(data: DeclarationData, now: datetime, exclude_pk: int | None = None) -> tuple[dict, list, list]:
    """Check every field; answer the declaration's, the ports' and the people's clean
    values, or raise ``DeclarationInvalid`` with every problem found."""
    errors = _Errors()
    registration = normalise_registration(data.registration or "")
    if not registration:
        errors.add("registration", _("Registration number"), _("this field is required."))
    elif not REGISTRATION_RE.match(registration):
        errors.add(
            "registration",
            _("Registration number"),
            _("%(value)s is not a registration number such as QN-4567.") % {"value": data.registration},
        )
    vessel_name = _text(errors, "vessel_name", _("Vessel name"), data.vessel_name, 200, required=False)
    if data.vessel_kind not in VesselKind.values:
        errors.add("vessel_kind", _("Kind of vessel"), _("choose one of the kinds listed."))
    expected_at = data.expected_at
    if expected_at is None:
        errors.add("expected_at", _("Expected arrival"), _("this field is required."))
    elif expected_at < now - timedelta(hours=LATE_HOURS):
        errors.add(
            "expected_at",
            _("Expected arrival"),
            _("it is more than %(h)d hours ago: declare before the vessel arrives.") % {"h": LATE_HOURS},
        )
    elif expected_at > now + timedelta(days=AHEAD_DAYS):
        errors.add("expected_at", _("Expected arrival"), _("at most %(d)d days from now.") % {"d": AHEAD_DAYS})
    declarant_name = _text(errors, "declarant_name", _("Declarant's name"), data.declarant_name, 200, required=True)
    phone = (data.declarant_phone or "").strip()
    if not phone:
        errors.add("declarant_phone", _("Declarant's phone"), _("this field is required."))
    elif not PHONE_RE.match(phone) or not 8 <= sum(c.isdigit() for c in phone) <= 15:
        errors.add(
            "declarant_phone", _("Declarant's phone"), _("%(value)s is not a phone number.") % {"value": phone[:30]}
        )
    arrival_day = _local_date(expected_at) if expected_at else None

    ports = list(data.ports)
    if not ports:
        errors.add("ports", _("Ports of call"), _("give at least the last port the vessel left."))
    elif len(ports) > MAX_PORTS:
        errors.add("ports", _("Ports of call"), _("at most %(n)d.") % {"n": MAX_PORTS})
        ports = []
    clean_ports = []
    for index, port in enumerate(ports):
        n = index + 1
        name = _text(errors, f"ports[{index}].port", _("Port of call %(n)d") % {"n": n}, port.port, 200, required=True)
        label = _("Port of call %(n)d, date left") % {"n": n}
        if port.left_on is None:
            errors.add(f"ports[{index}].left_on", label, _("this field is required."))
        elif arrival_day and port.left_on > arrival_day:
            errors.add(f"ports[{index}].left_on", label, _("it is after the expected arrival."))
        elif arrival_day and port.left_on < arrival_day - timedelta(days=LOOKBACK_DAYS):
            errors.add(
                f"ports[{index}].left_on",
                label,
                _("only the ports of the last %(d)d days before arrival are declared.") % {"d": LOOKBACK_DAYS},
            )
        clean_ports.append({"port": name, "left_on": port.left_on})

    people = list(data.people)
    if not people:
        errors.add("people", _("People on board"), _("declare everyone on board, at least one person."))
    elif len(people) > MAX_PEOPLE:
        errors.add("people", _("People on board"), _("at most %(n)d.") % {"n": MAX_PEOPLE})
        people = []
    clean_people = []
    seen: dict[tuple[str, str], int] = {}
    today = _local_date(now)
    for index, person in enumerate(people):
        n = index + 1
        path = f"people[{index}]"
        full_name = _text(
            errors, f"{path}.full_name", _("Person %(n)d, full name") % {"n": n}, person.full_name, 200, required=True
        )
        id_label = _("Person %(n)d, ID number") % {"n": n}
        number = kind = ""
        if not (person.id_number or "").strip():
            errors.add(f"{path}.id_number", id_label, _("this field is required."))
        else:
            try:
                number, kind = parse_id_number(person.id_number, field=f"{path}.id_number")
            except DomainError as exc:
                errors.add(f"{path}.id_number", id_label, exc.message)
            else:
                if (kind, number) in seen:
                    errors.add(
                        f"{path}.id_number",
                        id_label,
                        _("the same as person %(n)d's: each person is declared once.") % {"n": seen[(kind, number)]},
                    )
                seen.setdefault((kind, number), n)
        if person.role not in CrewRole.values:
            errors.add(f"{path}.role", _("Person %(n)d, role") % {"n": n}, _("choose captain, crew member or worker."))
        birth = person.date_of_birth
        if birth is not None and not EARLIEST_BIRTH <= birth <= today:
            errors.add(
                f"{path}.date_of_birth", _("Person %(n)d, date of birth") % {"n": n}, _("this is not a possible date.")
            )
        provinces = [p.strip() for p in person.provinces if p and p.strip()]
        provinces_label = _("Person %(n)d, provinces visited") % {"n": n}
        if len(provinces) > MAX_PROVINCES:
            errors.add(f"{path}.provinces", provinces_label, _("at most %(n)d.") % {"n": MAX_PROVINCES})
        elif any(len(p) > 100 for p in provinces):
            errors.add(f"{path}.provinces", provinces_label, _("a province's name is at most 100 characters."))
        clean_people.append(
            {
                "position": index,
                "full_name": full_name,
                "id_kind": kind,
                "id_number": number,
                "role": person.role,
                "date_of_birth": birth,
                "provinces": list(dict.fromkeys(provinces)),
                "case_contact": bool(person.case_contact),
                **{symptom: bool(getattr(person, symptom)) for symptom in SYMPTOMS},
            }
        )
    errors.raise_any()
    if open_declarations().filter(registration=registration).exclude(pk=exclude_pk).exists():
        raise AlreadyDeclared(
            _(
                "Vessel %(reg)s has already been declared and has not arrived yet: amend that declaration "
                "with its receipt code."
            )
            % {"reg": registration},
            field="registration",
        )
    values = {
        "registration": registration,
        "vessel_name": vessel_name,
        "vessel_kind": data.vessel_kind,
        "expected_at": expected_at,
        "declarant_name": declarant_name,
        "declarant_phone": phone,
    }
    return values, clean_ports, clean_people


def open_declarations(now: datetime | None = None) -> QuerySet[Declaration]:
    """Declarations not yet turned into an arrival, and not long past their expected time."""
    now = now or timezone.now()
    return Declaration.objects.filter(port_call__isnull=True, expected_at__gte=now - timedelta(hours=OPEN_HOURS))


def _store_lists(declaration: Declaration, ports: list[dict], people: list[dict]) -> None:
    DeclaredPortOfCall.objects.bulk_create(
        DeclaredPortOfCall(declaration=declaration, position=i, **port) for i, port in enumerate(ports)
    )
    DeclaredPerson.objects.bulk_create(DeclaredPerson(declaration=declaration, **person) for person in people)


# --- Writes ----------------------------------------------------------------------------


def declare(data: DeclarationData, *, wharf: Wharf, by=None, now: datetime | None = None) -> tuple[Declaration, str]:
    """Store a declaration for a vessel expected at ``wharf``, whole or not at all.

    Answers the declaration and its receipt code, which is shown to the declarant once
    and never stored. ``by`` is the account that sent it over the API, if any."""
    now = now or timezone.now()
    values, ports, people = _check(data, now)
    code = new_receipt_code()
    with transaction.atomic():
        declaration = Declaration.objects.create(
            wharf=wharf,
            receipt_hash=receipt_hash(code),
            submitted_by=by if by is not None and by.is_authenticated else None,
            created_at=now,
            **values,
        )
        _store_lists(declaration, ports, people)
        announce_declaration(declaration)
    return declaration, code


def amend(code: str, data: DeclarationData, now: datetime | None = None) -> Declaration:
    """Replace what a declaration says, for whoever holds its receipt code, until the
    vessel arrives. An unknown or wrong code is ``not_found``, as for any lookup."""
    now = now or timezone.now()
    with transaction.atomic():
        code = normalise_receipt(code)
        declaration = (
            Declaration.objects.select_for_update()
            .select_related("wharf")
            .filter(receipt_hash=receipt_hash(code))
            .first()
            if RECEIPT_RE.match(code)
            else None
        )
        if declaration is None:
            raise DomainError(_("Not found."), code="not_found")
        if declaration.port_call_id is not None:
            raise DeclarationArrived(_("The vessel has arrived: its declaration can no longer be amended."))
        values, ports, people = _check(data, now, exclude_pk=declaration.pk)
        for name, value in values.items():
            setattr(declaration, name, value)
        declaration.amended_at = now
        declaration.save()
        declaration.ports.all().delete()
        declaration.people.all().delete()
        _store_lists(declaration, ports, people)
        announce_declaration(declaration)
    return declaration


def register_from_declaration(
    user, declaration_id: int, *, arrived_at: datetime, now: datetime | None = None
) -> PortCall:
    """Register the arrival a declaration announced: the port call with its crew list
    filled in from the people declared (editable afterwards as any crew list), linked to
    the declaration. A declaration outside the user's wharves is ``not_found``."""
    now = now or timezone.now()
    with transaction.atomic():
        declaration = (
            Declaration.objects.select_for_update()
            .filter(pk=declaration_id, wharf__in=visible_wharves(user))
            .select_related("wharf")
            .first()
        )
        if declaration is None:
            raise DomainError(_("Not found."), code="not_found")
        if declaration.port_call_id is not None:
            raise DeclarationArrived(_("The arrival of this declaration is already registered."))
        ports = list(declaration.ports.order_by("-left_on", "position"))
        call = register_port_call(
            user,
            wharf=declaration.wharf,
            vessel=VesselData(
                registration=declaration.registration, name=declaration.vessel_name, kind=declaration.vessel_kind
            ),
            arrived_at=arrived_at,
            origin=ports[0].port if ports else "",
            crew=[
                PersonData(
                    id_number=p.id_number,
                    id_kind=p.id_kind,
                    full_name=p.full_name,
                    date_of_birth=p.date_of_birth,
                    role=p.role,
                )
                for p in declaration.people.all()
            ],
            now=now,
        )
        declaration.port_call = call
        declaration.save(update_fields=["port_call"])
        # No longer expected: the dashboards take it off their list.
        send_event_on_commit(
            declaration.wharf.code, "declaration.arrived", {"declaration": declaration.pk, "port_call": call.pk}
        )
    return call


# --- What inspectors see -----------------------------------------------------------------


@dataclass
class PersonFlags:
    person: DeclaredPerson
    symptoms: list[str] = field(default_factory=list)
    epidemic_provinces: list[str] = field(default_factory=list)

    @property
    def case_contact(self) -> bool:
        return self.person.case_contact

    @property
    def role_label(self) -> str:
        return CrewRole(self.person.role).label if self.person.role in CrewRole.values else self.person.role

    @property
    def flagged(self) -> bool:
        return bool(self.symptoms or self.epidemic_provinces or self.person.case_contact)


@dataclass
class DeclarationFlags:
    declaration: Declaration
    people: list[PersonFlags]
    epidemic_ports: list[str]

    @property
    def flagged_people(self) -> list[PersonFlags]:
        return [p for p in self.people if p.flagged]

    @property
    def flagged(self) -> bool:
        return bool(self.epidemic_ports or self.flagged_people)


def symptom_labels() -> dict[str, str]:
    return {name: capfirst(DeclaredPerson._meta.get_field(name).verbose_name) for name in SYMPTOMS}


def _areas_for(declarations: Sequence[Declaration]) -> list[Area]:
    if not declarations:
        return []
    days = [_local_date(d.expected_at) for d in declarations]
    return [
        Area(a.province, a.district, a.active_from, a.active_to)
        for a in EpidemicArea.objects.filter(active_from__lte=max(days)).filter(
            Q(active_to__isnull=True) | Q(active_to__gte=min(days) - timedelta(days=LOOKBACK_DAYS))
        )
    ]


def flags_of(declarations: Iterable[Declaration]) -> list[DeclarationFlags]:
    """Who is flagged, and why, on each declaration (with its people and ports prefetched):
    declared symptoms, contact with a case, and provinces or ports in an epidemic area
    (rule R4) active in the 14 days before arrival. One query, for the areas."""
    declarations = list(declarations)
    areas = _areas_for(declarations)
    labels = symptom_labels()
    out = []
    for declaration in declarations:
        arrival = _local_date(declaration.expected_at)
        window = [arrival - timedelta(days=d) for d in range(LOOKBACK_DAYS + 1)]

        def in_area(place: str, days: Sequence[date] = window) -> bool:
            return any(origin_flagged(place, day, areas) for day in days)

        people = [
            PersonFlags(
                person,
                symptoms=[labels[s] for s in SYMPTOMS if getattr(person, s)],
                epidemic_provinces=[p for p in person.provinces if in_area(p)],
            )
            for person in declaration.people.all()
        ]
        ports = [p.port for p in declaration.ports.all() if in_area(p.port, [p.left_on])]
        out.append(DeclarationFlags(declaration, people, ports))
    return out


def expected_arrivals(wharves: Iterable[Wharf], now: datetime | None = None) -> list[DeclarationFlags]:
    """The declarations of these wharves whose vessel has not arrived yet, soonest first,
    with their flags; four queries whatever their number."""
    declarations = (
        open_declarations(now)
        .filter(wharf__in=list(wharves))
        .select_related("wharf")
        .prefetch_related("people", "ports")
        .order_by("expected_at", "pk")
    )
    return flags_of(declarations)


def declaration_summary(flags: DeclarationFlags) -> dict:
    """What the dashboards are told of a declaration: no names, no health details."""
    declaration = flags.declaration
    return {
        "id": declaration.pk,
        "wharf": declaration.wharf.code,
        "registration": declaration.registration,
        "vessel_name": declaration.vessel_name,
        "expected_at": declaration.expected_at,
        "expected_label": timezone.localtime(declaration.expected_at).strftime("%H:%M %d/%m"),
        "people": len(flags.people),
        "flagged": len(flags.flagged_people),
        "epidemic_ports": len(flags.epidemic_ports),
        "amended": declaration.amended_at is not None,
    }


def announce_declaration(declaration: Declaration) -> None:
    """Tell the wharf's dashboards of a new or amended declaration, after commit."""
    declaration = Declaration.objects.select_related("wharf").prefetch_related("people", "ports").get(pk=declaration.pk)
    send_event_on_commit(
        declaration.wharf.code,
        "declaration.received",
        {"declaration": declaration_summary(flags_of([declaration])[0])},
    )


def record_missing_declaration(user, port_call_id: int, now: datetime | None = None) -> Violation:
    """Rules R6 and R5: a port call registered with no health declaration, recorded once
    as the *no health declaration* violation against its vessel, at its wharf. Refused
    for a call that was declared, or whose missing declaration is already recorded."""
    require_perm(user, "vessels.add_violation", _("Only wharf inspectors record violations."))
    now = now or timezone.now()
    with transaction.atomic():
        call = lock_port_call(port_call_id)
        if Declaration.objects.filter(port_call=call).exists():
            raise DomainError(_("This vessel declared before arriving."), code="declared")
        recorded = Violation.objects.filter(
            vessel=call.vessel,
            wharf=call.wharf,
            kind=ViolationKind.NO_DECLARATION,
            occurred_at__gte=call.arrived_at,
        )
        if recorded.exists():
            raise DomainError(_("The missing declaration is already recorded."), code="already_recorded")
        note = _("Arrived at %(wharf)s with no health declaration.") % {"wharf": call.wharf.code}
        return record_violation(
            user,
            ViolationData(
                vessel=call.vessel, kind=ViolationKind.NO_DECLARATION, occurred_at=now, wharf=call.wharf, note=note
            ),
            now=now,
        )
