"""Pages of rule R2's response: the alerts of a wharf or of all, their acknowledgement,
the confirmed cases and their contact lists (health officers)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from crews.access_log import door_of, record_read
from crews.choices import ReadKind
from portguard import tabular
from portguard.domain import DomainError, NotAllowed
from portguard.pages import page
from vessels.alerts import acknowledge_alert as do_acknowledge_alert
from vessels.contacts import CONTACT_COLUMNS, confirmed_cases, contact_rows
from vessels.contacts import recompute_contacts as do_recompute_contacts
from vessels.scope import visible_alerts, visible_wharves
from vessels.views import safe_next

ACKNOWLEDGED_SHOWN = 50  # the most recent acknowledged alerts shown under the open ones


@login_required
def alerts(request, code: str | None = None):
    """Open alerts first, all of them, then the latest acknowledged: of every wharf the
    user sees, or of one."""
    if not request.user.has_perm("vessels.view_alert"):
        raise PermissionDenied
    listed = visible_alerts(request.user).select_related("closed_by")
    wharf = None
    if code is not None:
        wharf = get_object_or_404(visible_wharves(request.user), code=code)
        listed = listed.filter(port_call__wharf=wharf)
    open_alerts = list(listed.filter(acknowledged_at__isnull=True, closed_at__isnull=True))
    # A closed alert (its result corrected away) needs no acknowledging.
    acknowledged = list(listed.exclude(acknowledged_at__isnull=True, closed_at__isnull=True)[:ACKNOWLEDGED_SHOWN])
    record_read(request.user, ReadKind.ALERTS, **door_of(request), count=len(open_alerts) + len(acknowledged))
    return page(
        request,
        "vessels/alerts.html",
        {
            "wharf": wharf,
            "open_alerts": open_alerts,
            "acknowledged": acknowledged,
            "can_acknowledge": request.user.has_perm("vessels.acknowledge_alert"),
        },
    )


@login_required
@require_POST
def acknowledge_alert(request, pk: int):
    alert = get_object_or_404(visible_alerts(request.user), pk=pk)
    try:
        do_acknowledge_alert(request.user, alert.pk)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Alert acknowledged."))
    return redirect(safe_next(request, reverse("alerts")))


@login_required
def cases(request):
    if not request.user.has_perm("vessels.view_contact"):
        raise PermissionDenied
    found = confirmed_cases(request.user)
    # Each case names its person and their contacts.
    named = sum(1 + len(case.contacts) for case in found)
    record_read(request.user, ReadKind.CASES, **door_of(request), count=named)
    return page(
        request,
        "vessels/cases.html",
        {
            "cases": found,
            "can_recompute": request.user.has_perm("vessels.add_contact"),
        },
    )


@login_required
@require_POST
def recompute_contacts(request, pk: int, person_id: int):
    if not request.user.has_perm("vessels.view_contact"):
        raise PermissionDenied
    try:
        contacts = do_recompute_contacts(request.user, pk, person_id)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except DomainError as exc:
        raise Http404(exc.message) from exc
    messages.success(
        request,
        ngettext(
            "Contact list computed again: %(count)d person.",
            "Contact list computed again: %(count)d people.",
            len(contacts),
        )
        % {"count": len(contacts)},
    )
    return redirect(reverse("cases") + f"#case-{pk}-{person_id}")


@login_required
def contacts_file(request, person_id: int, fmt: str, pk: int | None = None, station: str | None = None):
    """A case's contact list as CSV or XLSX: a crew member's case by its port call, a
    KCS staff member's by their station."""
    if not request.user.has_perm("vessels.view_contact"):
        raise PermissionDenied
    found = confirmed_cases(request.user, port_call_id=pk, person_id=person_id, station_code=station)
    if not found:
        raise Http404
    (case,) = found
    rows = contact_rows(case)
    record_read(
        request.user,
        ReadKind.CONTACT_LIST,
        **door_of(request),
        person=case.person,
        port_call=case.port_call,
        station=case.station,
        count=len(rows),
    )
    name = f"contacts-{case.where}-{case.person.id_number}"
    if fmt == "csv":
        body, content_type = tabular.to_csv(rows, CONTACT_COLUMNS), "text/csv; charset=utf-8"
    else:
        body = tabular.to_xlsx(rows, CONTACT_COLUMNS, sheet=case.where)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    reply = HttpResponse(body, content_type=content_type)
    reply["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return reply
