"""A port call's crew manifest: who is put on it and taken off it, under the call's lock."""

import uuid
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


def add_crew_member(user, port_call_id: int, data: PersonData, client_uuid: uuid.UUID | None = None) -> CrewMember:
    """Put a person on a port call's manifest; see ``add_crew_members``."""
    (member,) = add_crew_members(user, port_call_id, [data], field="", client_uuids=[client_uuid])
    return member


def add_crew_members(
    user,
    port_call_id: int,
    entries: Sequence[PersonData],
    now: datetime | None = None,
    field: str = "crew",
    client_uuids: Sequence[uuid.UUID | None] = (),
) -> list[CrewMember]:
    """Put people on a port call's manifest, all or none: one added by hand, or a whole
    crew list. People already registered are matched by their document, new ones are
    created. They block handover until tested; a handover already approved is
    suspended, since it did not cover them. A refusal names the entry as
    ``{field}[i].…`` (or the bare field when ``field`` is empty).

    ``client_uuids``, one per entry when given, make a retry safe: an entry whose key
    is already stored is not added again, the member its key added stands in its
    place, and an addition sent again whole answers as the first time did."""
    require_perm(user, "crews.add_crewmember", _("You may not change crew manifests."))

    def at(index: int, name: str) -> str:
        return f"{field}[{index}].{name}" if field else name

    for index, data in enumerate(entries):
        if data.role not in CrewRole.values:
            raise DomainError(_("Unknown role."), field=at(index, "role"))
    keys = list(client_uuids) or [None] * len(entries)
    now = now or timezone.now()
    with transaction.atomic():
        call = lock_port_call(port_call_id)
        require_wharf_in_scope(user, call.wharf)
        added = _added_with(call, keys)
        if keys and all(key in added for key in keys):
            announce_port_call(call)  # the first attempt's events may have been lost
            return [added[key] for key in keys]
        _refuse_if_departed(call)
        people = resolve_people(entries, field=field or "crew")
        on_board = set(call.crew.filter(person__in=people, removed_at__isnull=True).values_list("person_id", flat=True))
        fresh = []
        for index, (person, data, key) in enumerate(zip(people, entries, keys, strict=True)):
            if key in added:
                continue
            if person.pk in on_board:
                raise DomainError(
                    _("This person is already on the manifest."), field=at(index, "id_number"), code="on_manifest"
                )
            fresh.append(CrewMember(port_call=call, person=person, role=data.role, added_by=user, client_uuid=key))
        CrewMember.objects.bulk_create(fresh)
        if len(fresh) == 1:
            reason = _("%(name)s was added to the crew after approval.") % {"name": fresh[0].person.full_name}
        else:
            reason = _("%(names)s added to the crew after approval.") % {
                "names": ", ".join(m.person.full_name for m in fresh)
            }
        suspend_active_handover(call, reason, now)
        announce_port_call(call)
    members = iter(fresh)
    return [added[key] if key in added else next(members) for key in keys]


def _added_with(call: PortCall, keys: Sequence[uuid.UUID | None]) -> dict[uuid.UUID, CrewMember]:
    """The members already added to this call with these keys; a key that added
    someone to another call is refused."""
    wanted = [key for key in keys if key is not None]
    if not wanted:
        return {}
    if len(set(wanted)) < len(wanted):
        raise DomainError(_("The same client key is sent twice."), field="client_uuid")
    added = {m.client_uuid: m for m in CrewMember.objects.filter(client_uuid__in=wanted).select_related("person")}
    if any(member.port_call_id != call.pk for member in added.values()):
        raise DomainError(_("This client key was already used for another change."), field="client_uuid")
    return added


def remove_crew_member(user, port_call_id: int, person_id: int, client_uuid: uuid.UUID | None = None) -> CrewMember:
    """Take a person off the manifest. Refused while their latest result is positive.
    The same ``client_uuid`` sent again returns the member as that removal left them."""
    require_perm(user, "crews.change_crewmember", _("You may not change crew manifests."))
    with transaction.atomic():
        call = lock_port_call(port_call_id)
        require_wharf_in_scope(user, call.wharf)
        if client_uuid is not None:
            removed = CrewMember.objects.filter(removal_client_uuid=client_uuid).select_related("person").first()
            if removed is not None:
                if (removed.port_call_id, removed.person_id) != (call.pk, person_id):
                    raise DomainError(_("This client key was already used for another change."), field="client_uuid")
                announce_port_call(call)  # the first attempt's events may have been lost
                return removed
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
        member.removal_client_uuid = client_uuid
        member.save(update_fields=["removed_at", "removed_by", "removal_client_uuid"])
        announce_port_call(call)
    return member


def _refuse_if_departed(call: PortCall) -> None:
    if call.departed_at is not None:
        raise DomainError(_("The vessel has departed."), code="departed")
