"""Releasing a port call from quarantine (rule R2): health officers, with a reason."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portguard.domain import DomainError
from portguard.roles import require_perm
from vessels.alerts import confirming_tests
from vessels.announce import announce_port_call
from vessels.scope import lock_port_call
from vessels.status import clearance_of

from .choices import PortCallStatus
from .models import QuarantineRelease


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
        release.cases.set(confirming_tests(call))
        announce_port_call(call)
    return release
