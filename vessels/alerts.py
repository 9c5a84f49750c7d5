"""Rule R2's alerts: raised for positives (crews', KCS staff's, pools'), quarantines and
suspended handovers, sent live after commit, acknowledged by the people in scope."""

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crews.choices import TestKind, TestResult
from crews.models import KcsStation, Person, ScreeningTest
from portguard.domain import DomainError
from portguard.roles import require_perm
from realtime.broadcast import send_event_on_commit
from vessels.contacts import store_contacts, store_staff_contacts
from vessels.scope import require_wharf_in_scope

from .choices import AlertKind, PortCallStatus
from .clearance import CallClearance
from .events import alert_json
from .models import Alert, PortCall


def raise_alert(
    call: PortCall | None,
    kind: str,
    message: str,
    at: datetime,
    *,
    person: Person | None = None,
    test: ScreeningTest | None = None,
    station: KcsStation | None = None,
) -> Alert:
    """Record an alert at the call's wharf, or (for KCS staff, with no call) at the
    station's; all but a positive's and a pool's are sent live as ``alert.raised`` once
    the transaction commits (those go out with their result, as ``alert.positive``;
    a confirmed case goes out both ways).
    Call while holding the port call's lock."""
    alert = Alert.objects.create(
        kind=kind,
        wharf=call.wharf if call is not None else station.wharf,
        port_call=call,
        station=station,
        person=person,
        test=test,
        message=Truncator(message).chars(Alert._meta.get_field("message").max_length),
        created_at=at,
    )
    if kind not in (AlertKind.POSITIVE, AlertKind.POOL_POSITIVE):
        send_event_on_commit(alert.wharf.code, "alert.raised", {"alert": alert_json(alert)})
    return alert


# Alerts sent as ``alert.positive`` (with their result) and raised again by snapshots
# until acknowledged.
POSITIVE_ALERTS = (AlertKind.POSITIVE, AlertKind.CONFIRMED_CASE, AlertKind.POOL_POSITIVE)


def _positive_alerts(
    tests: Sequence[ScreeningTest], where: dict[str, str], raise_one
) -> tuple[list[Alert], list[ScreeningTest]]:
    """Rule R2's alerts for results just recorded at one place: one per positive
    individual result, one per positive pool (whose members await a retest, and which
    confirms nobody). ``raise_one(kind, message, test)`` records one; their e-mails to
    the officers who opted in join the outbox in the same transaction. Returns the alerts
    and the positive individual RT-PCR results, each a confirmed case."""
    alerts: list[Alert] = []
    confirmed: list[ScreeningTest] = []
    pools: dict[str, list[ScreeningTest]] = {}
    for test in tests:
        if test.result != TestResult.POSITIVE:
            continue
        if test.kind == TestKind.RT_PCR_POOLED:
            pools.setdefault(test.pool_id, []).append(test)
            continue
        facts = {**where, "name": test.person.full_name, "kind": test.get_kind_display()}
        if test.kind == TestKind.RT_PCR:
            confirmed.append(test)
            message = _("Confirmed case (positive %(kind)s): %(name)s %(place)s.") % facts
            alerts.append(raise_one(AlertKind.CONFIRMED_CASE, message, test))
        else:
            message = _("Positive %(kind)s: %(name)s %(place)s.") % facts
            alerts.append(raise_one(AlertKind.POSITIVE, message, test))
    for pool_id, members in pools.items():
        message = ngettext(
            "Positive pool %(pool)s %(place)s: %(count)d person to retest alone (%(names)s).",
            "Positive pool %(pool)s %(place)s: %(count)d people to retest alone (%(names)s).",
            len(members),
        ) % {
            **where,
            "pool": pool_id,
            "count": len(members),
            "names": ", ".join(t.person.full_name for t in members),
        }
        alerts.append(raise_one(AlertKind.POOL_POSITIVE, message, members[0]))
    return alerts, confirmed


def respond_to_results(
    call: PortCall, tests: Sequence[ScreeningTest], clearance: CallClearance, now: datetime
) -> list[Alert]:
    """Rule R2's response to results just recorded for ``call``: an alert for each
    positive (a positive individual RT-PCR confirms a case), one for each positive pool,
    one more when the call has just gone into quarantine, and each confirmed case's
    contact list. Returns the alerts sent as ``alert.positive``.

    Call while holding the port call's lock; ``clearance`` is the call's state with
    the new results.
    """
    where = {"place": _("on %(vessel)s at %(wharf)s") % {"vessel": call.vessel.registration, "wharf": call.wharf.code}}
    alerts, confirmed = _positive_alerts(
        tests,
        where,
        lambda kind, message, test: raise_alert(call, kind, message, now, person=test.person, test=test),
    )
    if (
        confirmed
        and clearance.status == PortCallStatus.QUARANTINED
        and not _was_quarantined(call, confirmed, clearance)
    ):
        message = _("%(vessel)s at %(wharf)s is in quarantine: no cargo handover, no departure.") % {
            "vessel": call.vessel.registration,
            "wharf": call.wharf.code,
        }
        raise_alert(call, AlertKind.QUARANTINE, message, now)
    for test in confirmed:
        store_contacts(test.recorded_by, call, test, now)
    return alerts


def respond_to_staff_results(station: KcsStation, tests: Sequence[ScreeningTest], now: datetime) -> list[Alert]:
    """Rule R2 for KCS staff: the same alerts as a crew's, raised at the station's
    wharf, and each confirmed case's contact list. Returns the alerts sent as
    ``alert.positive``. Call inside the transaction that recorded ``tests``."""
    where = {
        "place": _("(KCS staff of %(station)s at %(wharf)s)") % {"station": station.code, "wharf": station.wharf.code}
    }
    alerts, confirmed = _positive_alerts(
        tests,
        where,
        lambda kind, message, test: raise_alert(
            None, kind, message, now, person=test.person, test=test, station=station
        ),
    )
    for test in confirmed:
        store_staff_contacts(test.recorded_by, station, test, now)
    return alerts


def _was_quarantined(call: PortCall, new: Sequence[ScreeningTest], clearance: CallClearance) -> bool:
    """Whether a case confirmed before ``new`` already held the call in quarantine."""
    earlier = confirming_tests(call).exclude(pk__in=[t.pk for t in new])
    return earlier.exclude(pk__in=clearance.released_cases).exists()


def confirming_tests(call: PortCall) -> QuerySet[ScreeningTest]:
    """The call's positive individual RT-PCR results that stand (no correction
    superseded them)."""
    return ScreeningTest.objects.filter(
        port_call=call, kind=TestKind.RT_PCR, result=TestResult.POSITIVE, superseded_by__isnull=True
    )


def acknowledge_alert(user, alert_id: int, now: datetime | None = None) -> Alert:
    """Someone at the wharf, the port authority or a health officer has seen the alert."""
    require_perm(user, "vessels.acknowledge_alert", _("You may not acknowledge alerts."))
    with transaction.atomic():
        try:
            alert = Alert.objects.select_for_update(of=("self",)).select_related("wharf").get(pk=alert_id)
        except Alert.DoesNotExist:
            raise DomainError(_("Unknown alert."), field="alert", code="not_found") from None
        require_wharf_in_scope(user, alert.wharf)
        if alert.acknowledged_at is not None:
            raise DomainError(_("This alert was already acknowledged."), code="already_acknowledged")
        alert.acknowledged_by = user
        alert.acknowledged_at = now or timezone.now()
        alert.save(update_fields=["acknowledged_by", "acknowledged_at"])
        send_event_on_commit(
            alert.wharf.code,
            "alert.acknowledged",
            {"alert": alert.pk, "acknowledged_by": user.get_username(), "acknowledged_at": alert.acknowledged_at},
        )
    return alert
