"""Rules R4 and R5: the epidemic areas health officers keep, and the violations
inspectors record (repeat offenders flagged)."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crews.models import Person
from portguard.domain import DomainError
from portguard.roles import require_perm
from vessels.announce import announce_port_calls
from vessels.scope import require_wharf_in_scope, visible_port_calls
from vessels.status import check_sample_time, flagged_origins, repeat_offenders

from .choices import ViolationKind, ViolationTarget
from .models import EpidemicArea, PortCall, Vessel, Violation, Wharf


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
