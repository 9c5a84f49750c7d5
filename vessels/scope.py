"""Who may see which wharves and port calls, and the one way to lock port calls.

A module that only asks "may this user see this wharf?" imports this one, not the
write layer."""

from collections.abc import Iterable, Sequence

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from portguard.domain import DomainError, NotAllowed
from portguard.roles import INSPECTOR

from .models import Alert, PortCall, Wharf


def sees_all_wharves(user) -> bool:
    return user.is_authenticated and user.has_perm("vessels.view_all_wharves")


def visible_wharves(user) -> QuerySet[Wharf]:
    """Every wharf for the province's roles; for an inspector, the wharves whose
    *inspectors* list them. Scope follows the role: being on that list gives nothing to
    a user outside the inspectors' group (an administrator who put themselves there, an
    inspector moved to another role), rule R8."""
    if not user.is_authenticated:
        return Wharf.objects.none()
    if sees_all_wharves(user):
        return Wharf.objects.all()
    return Wharf.objects.filter(inspectors=user, inspectors__groups__name=INSPECTOR)


def visible_port_calls(user) -> QuerySet[PortCall]:
    calls = PortCall.objects.select_related("vessel", "wharf")
    if sees_all_wharves(user):
        return calls
    return calls.filter(wharf__in=visible_wharves(user))


def visible_alerts(user) -> QuerySet[Alert]:
    alerts = Alert.objects.select_related(
        "wharf", "station", "port_call__vessel", "person", "test", "acknowledged_by"
    ).order_by("-created_at", "-id")
    if not user.has_perm("vessels.view_alert"):
        return alerts.none()
    if sees_all_wharves(user):
        return alerts
    return alerts.filter(wharf__in=visible_wharves(user))


def require_wharf_in_scope(user, wharf: Wharf) -> None:
    if not sees_all_wharves(user) and not wharf.inspectors.filter(pk=user.pk, groups__name=INSPECTOR).exists():
        raise NotAllowed(_("You are not assigned to wharf %(code)s.") % {"code": wharf.code}, field="wharf")


def lock_port_call(pk: int) -> PortCall:
    """Take the port call's lock; ``lock_port_calls`` for one."""
    return lock_port_calls([pk])[pk]


def lock_port_calls(call_ids: Sequence[int], scope_of=None) -> dict[int, PortCall]:
    """Take port calls' locks, in one query and in id order, as every writer of several
    calls takes them (two such writers then wait for each other rather than deadlock).
    The one way a port call is locked. Call inside ``transaction.atomic()``.

    With ``scope_of`` (a user), the same query also reads whether each call's wharf is
    theirs, for ``require_calls_in_scope`` to check without a query of its own.

    On PostgreSQL these are row locks on the calls' rows only (``of=("self",)``): the
    vessel and wharf read with them are not locked, so results for two calls at one
    wharf do not wait for each other. On SQLite every write transaction already holds
    the database's write lock from BEGIN IMMEDIATE.
    """
    if not call_ids:
        return {}
    query = PortCall.objects.select_for_update(of=("self",)).select_related("vessel", "wharf")
    scoped = scope_of is not None and not sees_all_wharves(scope_of)
    if scoped:
        query = query.annotate(in_scope=Exists(visible_wharves(scope_of).filter(pk=OuterRef("wharf_id"))))
    calls = {call.pk: call for call in query.filter(pk__in=call_ids).order_by("pk")}
    if len(calls) != len(set(call_ids)):
        raise DomainError(_("Unknown port call."), field="port_call", code="not_found")
    if scoped:
        for call in calls.values():
            call.scope_read = (scope_of.pk, call.in_scope)
    return calls


def require_calls_in_scope(user, calls: Iterable[PortCall]) -> None:
    """``require_wharf_in_scope`` for many calls, in one query at most (none for calls
    locked with ``lock_port_calls(…, scope_of=user)``)."""
    calls = list(calls)
    if not calls or sees_all_wharves(user):
        return
    if all(getattr(call, "scope_read", (None,))[0] == user.pk for call in calls):
        outside = [call for call in calls if not call.scope_read[1]]
    else:
        assigned = set(visible_wharves(user).values_list("pk", flat=True))
        outside = [call for call in calls if call.wharf_id not in assigned]
    if outside:
        code = outside[0].wharf.code
        raise NotAllowed(_("You are not assigned to wharf %(code)s.") % {"code": code}, field="wharf")
