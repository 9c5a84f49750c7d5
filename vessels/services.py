"""The port-call domain: registering arrivals, reading clearance, approving handover.

Every entry point (pages, API, admin actions, commands) calls these functions, so a
rule cannot be skipped by coming in through another door.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crews.models import CrewMember
from crews.people import resolve_people
from portguard.domain import DomainError, HandoverBlocked
from portguard.roles import require_perm
from realtime.broadcast import send_event_on_commit
from vessels.alerts import raise_alert
from vessels.announce import announce_port_call
from vessels.models import HandoverRefusal
from vessels.scope import lock_port_call, require_wharf_in_scope, visible_port_calls
from vessels.status import blocking_payload, check_sample_time, clearance_of

from .choices import AlertKind, HandoverState, PortCallStatus
from .models import REGISTRATION_RE, Handover, HandoverEvidence, PortCall, Vessel, Wharf, normalise_registration

# --- Scope -------------------------------------------------------------------------


# --- Reading clearance -------------------------------------------------------------


# --- Writes ------------------------------------------------------------------------


@dataclass
class VesselData:
    registration: str
    name: str = ""
    kind: str = ""
    owner: str = ""


def register_port_call(user, **arrival) -> PortCall:
    """Register an arriving vessel and its crew manifest; ``register_port_call_once``
    without saying whether it was new. ``crew`` holds ``crews.people.PersonData`` with
    a ``role``."""
    call, _created = register_port_call_once(user, **arrival)
    return call


def register_port_call_once(
    user,
    *,
    wharf: Wharf,
    vessel: VesselData,
    arrived_at: datetime,
    origin: str = "",
    cargo_kind: str = "",
    cargo_tonnes=None,
    crew: Iterable[Any] = (),
    client_uuid: uuid.UUID | None = None,
    now: datetime | None = None,
) -> tuple[PortCall, bool]:
    """Register an arriving vessel and its crew manifest. Returns ``(call, created)``.

    The same ``client_uuid`` sent again returns the call it first registered and stores
    nothing (``created`` is false), so a page or a phone that lost the answer can send
    it again; only to a caller who may see that call (anyone else is told it does not
    exist).
    """
    require_perm(user, "vessels.add_portcall", _("You may not register arrivals."))
    if client_uuid is not None:
        existing = _registered_with(user, client_uuid)
        if existing is not None:
            return existing, False
    require_wharf_in_scope(user, wharf)
    now = now or timezone.now()
    check_sample_time(arrived_at, now, field="arrived_at")
    crew = list(crew)
    registration = normalise_registration(vessel.registration)
    if not REGISTRATION_RE.match(registration):
        raise DomainError(
            _("%(value)s is not a registration number such as QN-4567.") % {"value": vessel.registration},
            field="vessel.registration",
        )
    try:
        with transaction.atomic():
            boat, created = Vessel.objects.get_or_create(
                registration=registration,
                defaults={"name": vessel.name, "kind": vessel.kind or "other", "owner": vessel.owner},
            )
            if not created and vessel.name and (vessel.name, vessel.kind or boat.kind) != (boat.name, boat.kind):
                boat.name, boat.kind = vessel.name, vessel.kind or boat.kind
                boat.save(update_fields=["name", "kind"])
            if boat.port_calls.filter(departed_at__isnull=True).exists():
                raise DomainError(
                    _("Vessel %(reg)s is still berthed: record its departure first.") % {"reg": registration},
                    field="vessel",
                )
            call = PortCall.objects.create(
                vessel=boat,
                wharf=wharf,
                arrived_at=arrived_at,
                origin=origin,
                cargo_kind=cargo_kind,
                cargo_tonnes=cargo_tonnes,
                registered_by=user,
                client_uuid=client_uuid,
            )
            people = resolve_people(crew, field="crew")
            CrewMember.objects.bulk_create(
                CrewMember(port_call=call, person=person, role=data.role, added_by=user)
                for person, data in zip(people, crew, strict=True)
            )
            announce_port_call(call)
    except (IntegrityError, DomainError):
        # The same key sent twice at once: the other request stored it first (and its
        # call may be what makes this vessel "still berthed").
        existing = _registered_with(user, client_uuid) if client_uuid is not None else None
        if existing is None:
            raise
        return existing, False
    return call, True


def _registered_with(user, client_uuid: uuid.UUID) -> PortCall | None:
    """The call registered with this key, if any, told to the dashboards again: the
    first attempt's events may have died with the process that committed it."""
    if not PortCall.objects.filter(client_uuid=client_uuid).exists():
        return None
    call = visible_port_calls(user).filter(client_uuid=client_uuid).first()
    if call is None:
        raise DomainError(_("Unknown port call."), field="client_uuid", code="not_found")
    with transaction.atomic():
        announce_port_call(lock_port_call(call.pk))
    return call


def approve_handover(user, port_call_id: int, now: datetime | None = None) -> Handover:
    """Approve cargo handover if every person on board is cleared (rule R1).

    The check and the approval share one transaction holding the port call's lock, so a
    result recorded at the same moment is either seen here or arrives after approval
    (and then suspends it). Raises ``HandoverBlocked`` with who blocks and why. The
    handover returned carries its evidence rows (``evidence_given``, in the crew's order,
    each with its person and test).
    """
    require_perm(user, "vessels.approve_handover", _("Only the port authority approves cargo handover."))
    try:
        with transaction.atomic():
            call = lock_port_call(port_call_id)
            now = now or timezone.now()
            clearance = clearance_of(call, now)
            if clearance.status == PortCallStatus.DEPARTED:
                raise DomainError(_("The vessel has departed."), code="departed", field="port_call")
            if clearance.status == PortCallStatus.HANDOVER_APPROVED:
                raise DomainError(_("Cargo handover is already approved."), code="already_approved")
            if not clearance.can_approve:
                raise HandoverBlocked(_("Cargo handover cannot be approved yet."), blocking_payload(clearance))
            handover = Handover.objects.create(port_call=call, approved_by=user, approved_at=now)
            # Kept on the handover for the caller's answer, persons and tests loaded.
            handover.evidence_given = HandoverEvidence.objects.bulk_create(
                HandoverEvidence(handover=handover, person=p.member.person, role=p.member.role, test=p.test)
                for p in clearance.people
            )
            send_event_on_commit(
                call.wharf.code,
                "handover.approved",
                {"port_call": call.pk, "approved_by": user.get_username(), "approved_at": now},
            )
            clearance.status = PortCallStatus.HANDOVER_APPROVED
            announce_port_call(call, clearance)
    except HandoverBlocked as refusal:
        # The attempt rolled back; the refusal is kept, for the daily report.
        HandoverRefusal.objects.create(
            port_call_id=port_call_id, requested_by=user, refused_at=now, blocking=refusal.blocking
        )
        raise
    except DomainError as refusal:
        if refusal.code == "already_approved":
            # Most often a retry: the first approval's events may have died with the
            # process that committed it, so the dashboards are told the state again.
            with transaction.atomic():
                announce_port_call(lock_port_call(port_call_id))
        raise
    return handover


def suspend_active_handover(call: PortCall, reason: str, at: datetime) -> Handover | None:
    """Suspend the call's approved handover, if any, and raise an alert. Call while
    holding the call's lock."""
    handover = call.handovers.order_by("-approved_at", "-id").first()
    if handover is None or handover.state != HandoverState.APPROVED:
        return None
    handover.state = HandoverState.SUSPENDED
    handover.suspended_at = at
    handover.suspended_reason = reason[:300]
    handover.save(update_fields=["state", "suspended_at", "suspended_reason"])
    send_event_on_commit(
        call.wharf.code,
        "handover.suspended",
        {"port_call": call.pk, "reason": handover.suspended_reason, "suspended_at": at},
    )
    message = _("Cargo handover of %(vessel)s suspended: %(reason)s") % {
        "vessel": call.vessel.registration,
        "reason": handover.suspended_reason,
    }
    raise_alert(call, AlertKind.SUSPENSION, message, at)
    return handover


def record_departure(
    user, port_call_id: int, departed_at: datetime | None = None, client_uuid: uuid.UUID | None = None
) -> PortCall:
    """Record that the vessel has left. The same ``client_uuid`` sent again returns the
    call as that departure recorded it, rather than refusing it as already departed."""
    require_perm(user, "vessels.change_portcall", _("You may not record departures."))
    with transaction.atomic():
        call = lock_port_call(port_call_id)
        require_wharf_in_scope(user, call.wharf)
        if client_uuid is not None and call.departure_client_uuid == client_uuid:
            announce_port_call(call)  # the first attempt's events may have been lost
            return call
        if client_uuid is not None and PortCall.objects.filter(departure_client_uuid=client_uuid).exists():
            raise DomainError(_("This client key was already used for another change."), field="client_uuid")
        now = timezone.now()
        departed_at = departed_at or now
        check_sample_time(departed_at, now, field="departed_at")
        if call.departed_at is not None:
            raise DomainError(_("The vessel has already departed."), code="departed")
        if departed_at < call.arrived_at:
            raise DomainError(_("Departure cannot be before arrival."), field="departed_at")
        if clearance_of(call, now).status == PortCallStatus.QUARANTINED:
            raise DomainError(_("A quarantined vessel may not depart."), code="quarantined")
        call.departed_at, call.departed_by = departed_at, user
        call.departure_client_uuid = client_uuid
        call.save(update_fields=["departed_at", "departed_by", "departure_client_uuid"])
        announce_port_call(call)
    return call
