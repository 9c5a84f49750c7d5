"""A port call's crew manifest: who is put on it and taken off it, under the call's lock."""

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
    """Put a person on a port call's manifest. They block handover until tested; a
    handover already approved is suspended, since it did not cover them."""
    require_perm(user, "crews.add_crewmember", _("You may not change crew manifests."))
    if data.role not in CrewRole.values:
        raise DomainError(_("Unknown role."), field="role")
    with transaction.atomic():
        call = lock_port_call(port_call_id)
        require_wharf_in_scope(user, call.wharf)
        _refuse_if_departed(call)
        (person,) = resolve_people([data], field="crew")
        if call.crew.filter(person=person, removed_at__isnull=True).exists():
            raise DomainError(_("This person is already on the manifest."), field="id_number")
        member = CrewMember.objects.create(port_call=call, person=person, role=data.role, added_by=user)
        suspend_active_handover(
            call, _("%(name)s was added to the crew after approval.") % {"name": person.full_name}, timezone.now()
        )
        announce_port_call(call)
    return member


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
