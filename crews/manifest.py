"""A port call's crew manifest: who is put on it and taken off it, under the call's lock."""

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crews.people import PersonData, resolve_people
from portguard.domain import DomainError
from portguard.roles import require_perm
from vessels.announce import announce_port_call
from vessels.models import PortCall
from vessels.scope import lock_port_call, require_wharf_in_scope
from vessels.services import suspend_active_handover
from vessels.status import clearance_of

from .choices import CrewRole, Screening
from .models import CrewMember


def add_crew_member(user, port_call_id: int, data: PersonData) -> CrewMember:
    """Put a person on a port call's manifest; see ``add_crew_members``."""
    (member,) = add_crew_members(user, port_call_id, [data], field="")
    return member


def add_crew_members(
    user, port_call_id: int, entries: Sequence[PersonData], now: datetime | None = None, field: str = "crew"
) -> list[CrewMember]:
    """Put people on a port call's manifest, all or none: one added by hand, or a whole
    crew list. People already registered are matched by their document, new ones are
    created. They block handover until tested; a handover already approved is
    suspended, since it did not cover them. A refusal names the entry as
    ``{field}[i].…`` (or the bare field when ``field`` is empty)."""
    require_perm(user, "crews.add_crewmember", _("You may not change crew manifests."))

    def at(index: int, name: str) -> str:
        return f"{field}[{index}].{name}" if field else name

    for index, data in enumerate(entries):
        if data.role not in CrewRole.values:
            raise DomainError(_("Unknown role."), field=at(index, "role"))
    now = now or timezone.now()
    with transaction.atomic():
        call = lock_port_call(port_call_id)
        require_wharf_in_scope(user, call.wharf)
        _refuse_if_departed(call)
        people = resolve_people(entries, field=field or "crew")
        on_board = set(call.crew.filter(person__in=people, removed_at__isnull=True).values_list("person_id", flat=True))
        for index, person in enumerate(people):
            if person.pk in on_board:
                raise DomainError(
                    _("This person is already on the manifest."), field=at(index, "id_number"), code="on_manifest"
                )
        members = CrewMember.objects.bulk_create(
            CrewMember(port_call=call, person=person, role=data.role, added_by=user)
            for person, data in zip(people, entries, strict=True)
        )
        if len(people) == 1:
            reason = _("%(name)s was added to the crew after approval.") % {"name": people[0].full_name}
        else:
            reason = _("%(names)s added to the crew after approval.") % {
                "names": ", ".join(p.full_name for p in people)
            }
        suspend_active_handover(call, reason, now)
        announce_port_call(call)
    return members


def remove_crew_member(user, port_call_id: int, person_id: int) -> CrewMember:
    """Take a person off the manifest. Refused while their latest result is positive."""
    require_perm(user, "crews.change_crewmember", _("You may not change crew manifests."))
    with transaction.atomic():
        call = lock_port_call(port_call_id)
        require_wharf_in_scope(user, call.wharf)
        _refuse_if_departed(call)
        clearance = clearance_of(call)
        screening = next((p for p in clearance.people if p.member.person_id == person_id), None)
        if screening is None:
            raise DomainError(_("This person is not on the manifest."), field="person", code="not_found")
        if screening.state == Screening.POSITIVE:
            raise DomainError(
                _("%(name)s tested positive and cannot be removed from the manifest.")
                % {"name": screening.member.person.full_name},
                field="person",
                code="positive_on_board",
            )
        member = screening.member
        member.removed_at = timezone.now()
        member.removed_by = user
        member.save(update_fields=["removed_at", "removed_by"])
        announce_port_call(call)
    return member


def _refuse_if_departed(call: PortCall) -> None:
    if call.departed_at is not None:
        raise DomainError(_("The vessel has departed."), code="departed")
