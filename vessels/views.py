"""The server-rendered pages. Thin: they read through and write through the services of
``vessels`` and ``crews`` and turn a ``DomainError`` into a message on the page."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.forms import BoundField
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from crews import corrections
from crews.choices import Screening, TestKind, TestResult
from crews.manifest import add_crew_member, remove_crew_member
from crews.results import record_tests
from portguard import tabular
from portguard.domain import DomainError, HandoverBlocked, NotAllowed
from portguard.pages import page
from realtime.snapshot import dashboard_snapshot
from vessels.alerts import acknowledge_alert as do_acknowledge_alert
from vessels.alerts import visible_alerts
from vessels.areas import (
    AreaData,
    add_epidemic_area,
    change_epidemic_area,
    record_violation,
    vessel_history,
)
from vessels.areas import delete_epidemic_area as do_delete_epidemic_area
from vessels.contacts import CONTACT_COLUMNS, confirmed_cases, contact_rows
from vessels.contacts import recompute_contacts as do_recompute_contacts
from vessels.quarantine import release_quarantine as do_release_quarantine
from vessels.scope import sees_all_wharves, visible_port_calls, visible_wharves
from vessels.services import approve_handover, register_port_call
from vessels.services import record_departure as do_record_departure
from vessels.status import blocking_payload, clearance_for, clearance_of

from .choices import Locality, PortCallStatus
from .clearance import CallClearance, PersonScreening
from .forms import AddPersonForm, ArrivalForm, EndAreaForm, EpidemicAreaForm, ScreeningSheetForm, ViolationForm
from .models import EpidemicArea, Handover, PortCall, Vessel, normalise_registration

RAPID_READ_MINUTES = 15  # a rapid antigen kit is read 15 minutes after the sample


@dataclass
class CallRow:
    """A port call with its clearance, as the lists show it."""

    call: PortCall
    clearance: CallClearance

    @property
    def status_label(self) -> str:
        return PortCallStatus(self.clearance.status).label

    @property
    def blocking(self) -> list[dict[str, str]]:
        return blocking_rows(blocking_payload(self.clearance))


@dataclass
class PersonRow:
    """One person of the manifest: their screening, in words, and their result field on the sheet."""

    screening: PersonScreening
    state_label: str
    field: BoundField | None = None


def blocking_rows(payload: list[dict[str, str]]) -> list[dict[str, str]]:
    """``blocking_payload`` entries with the screening state in words."""
    return [
        {**row, "screening_label": Screening(row["screening"]).label if row["screening"] else ""} for row in payload
    ]


def call_or_404(request, pk: int) -> PortCall:
    """The port call if the user may see it: out of scope and unknown look the same."""
    return get_object_or_404(visible_port_calls(request.user), pk=pk)


def safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


# --- Lists ---------------------------------------------------------------------------


@login_required
def home(request):
    wharves = list(visible_wharves(request.user))
    calls = list(visible_port_calls(request.user).filter(departed_at__isnull=True).order_by("arrived_at", "pk"))
    clearances = clearance_for(calls)
    rows_by_wharf: dict[int, list[CallRow]] = {w.pk: [] for w in wharves}
    for call in calls:
        rows_by_wharf.setdefault(call.wharf_id, []).append(CallRow(call, clearances[call.pk]))
    return page(
        request,
        "vessels/home.html",
        {
            "wharves": [(wharf, rows_by_wharf[wharf.pk]) for wharf in wharves],
            "call_count": len(calls),
            "sees_all": sees_all_wharves(request.user),
        },
    )


@login_required
def approvals(request):
    if not sees_all_wharves(request.user):
        raise PermissionDenied
    calls = list(
        visible_port_calls(request.user)
        .filter(departed_at__isnull=True)
        .order_by("wharf__route_order", "wharf__code", "arrived_at", "pk")
    )
    clearances = clearance_for(calls)
    rows = [CallRow(call, clearances[call.pk]) for call in calls]
    approved = [r for r in rows if r.clearance.status == PortCallStatus.HANDOVER_APPROVED]
    undecided = [r for r in rows if r.clearance.status != PortCallStatus.HANDOVER_APPROVED]
    waiting = [r for r in undecided if r.clearance.awaits_approval]
    blocked = [r for r in undecided if not r.clearance.awaits_approval]
    return page(
        request,
        "vessels/approvals.html",
        {
            "waiting": waiting,
            "blocked": blocked,
            "approved": approved,
            "can_approve": request.user.has_perm("vessels.approve_handover"),
        },
    )


# --- Registering an arrival ----------------------------------------------------------


@login_required
def register_arrival(request):
    if not request.user.has_perm("vessels.add_portcall"):
        raise PermissionDenied
    wharves = visible_wharves(request.user)
    form = ArrivalForm(request.POST or None, wharves=wharves)
    if request.method == "POST" and form.is_valid():
        try:
            call = register_port_call(request.user, **form.register_kwargs())
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(
                request,
                _("Arrival of %(vessel)s registered. Add the crew below.") % {"vessel": call.vessel.registration},
            )
            return redirect("port-call", pk=call.pk)
    return page(request, "vessels/register_arrival.html", {"form": form}, status=400 if form.errors else 200)


# --- One port call -------------------------------------------------------------------


def render_call(
    request,
    call: PortCall,
    *,
    clearance: CallClearance | None = None,
    sheet: ScreeningSheetForm | None = None,
    add_form: AddPersonForm | None = None,
    blocked: list[dict] | None = None,
    crew_refused: DomainError | None = None,
    status: int = 200,
):
    clearance = clearance or clearance_of(call)
    user = request.user
    is_open = call.departed_at is None
    handover = (
        Handover.objects.filter(port_call=call).select_related("approved_by").order_by("-approved_at", "-id").first()
    )
    evidence = (
        list(handover.evidence.select_related("person", "test").order_by("person__full_name", "id")) if handover else []
    )
    if sheet is None and is_open and user.has_perm("crews.add_screeningtest"):
        sheet = ScreeningSheetForm(people=clearance.people)
    people = [
        PersonRow(p, Screening(p.state).label, sheet[sheet.result_field(p)] if sheet else None)
        for p in clearance.people
    ]
    return page(
        request,
        "vessels/port_call.html",
        {
            "call": call,
            "row": CallRow(call, clearance),
            "sheet": sheet,
            "people": people,
            "add_form": add_form or (AddPersonForm() if is_open and user.has_perm("crews.add_crewmember") else None),
            "can_remove": is_open and user.has_perm("crews.change_crewmember"),
            "can_approve": is_open and user.has_perm("vessels.approve_handover"),
            "can_depart": is_open and user.has_perm("vessels.change_portcall"),
            "can_release": clearance.status == PortCallStatus.QUARANTINED
            and user.has_perm("vessels.release_quarantine"),
            "blocked": blocking_rows(blocked) if blocked is not None else None,
            "crew_refused": crew_refused,
            "handover": handover,
            "evidence": evidence,
            "results": corrections.result_rows(
                user,
                corrections.with_corrections(call.tests.all()),
                timezone.now(),
                # Whoever sees the call records results for it if their role records any.
                records_there=user.has_perm("crews.add_screeningtest"),
            ),
            "result_choices": TestResult.choices,
            "rapid_read_minutes": RAPID_READ_MINUTES,
            "utc_offset_minutes": int(timezone.localtime().utcoffset().total_seconds() // 60),
        },
        status=status,
    )


@login_required
def port_call(request, pk: int):
    return render_call(request, call_or_404(request, pk))


@login_required
@require_POST
def record_results(request, pk: int):
    call = call_or_404(request, pk)
    clearance = clearance_of(call)
    sheet = ScreeningSheetForm(request.POST, people=clearance.people)
    if sheet.is_valid():
        try:
            tests = record_tests(request.user, sheet.entries(call))
        except DomainError as exc:
            sheet.add_domain_error(exc)
            return render_call(request, call, clearance=clearance, sheet=sheet, status=exc.status)
        messages.success(
            request,
            ngettext("%(count)d result saved.", "%(count)d results saved.", len(tests)) % {"count": len(tests)},
        )
        return redirect(reverse("port-call", args=[call.pk]) + "#sheet")
    return render_call(request, call, clearance=clearance, sheet=sheet, status=400)


@login_required
@require_POST
def add_person(request, pk: int):
    call = call_or_404(request, pk)
    form = AddPersonForm(request.POST)
    if form.is_valid():
        try:
            member = add_crew_member(request.user, call.pk, form.person_data())
        except DomainError as exc:
            form.add_domain_error(exc)
            return render_call(request, call, add_form=form, status=exc.status)
        messages.success(request, _("%(name)s added to the manifest.") % {"name": member.person.full_name})
        return redirect(reverse("port-call", args=[call.pk]) + "#sheet")
    return render_call(request, call, add_form=form, status=400)


@login_required
@require_POST
def remove_person(request, pk: int, person_id: int):
    call = call_or_404(request, pk)
    try:
        member = remove_crew_member(request.user, call.pk, person_id)
    except DomainError as exc:
        messages.error(request, exc.message)
        return render_call(request, call, status=exc.status)
    messages.success(request, _("%(name)s removed from the manifest.") % {"name": member.person.full_name})
    return redirect(reverse("port-call", args=[call.pk]) + "#sheet")


@login_required
@require_POST
def approve(request, pk: int):
    call = call_or_404(request, pk)
    try:
        approve_handover(request.user, call.pk)
    except HandoverBlocked as exc:
        messages.error(request, exc.message)
        return render_call(request, call, blocked=exc.blocking, status=exc.status)
    except DomainError as exc:
        messages.error(request, exc.message)
        return render_call(request, call, status=exc.status)
    messages.success(request, _("Cargo handover approved for %(vessel)s.") % {"vessel": call.vessel.registration})
    return redirect(safe_next(request, reverse("port-call", args=[call.pk])))


@login_required
@require_POST
def record_departure(request, pk: int):
    call = call_or_404(request, pk)
    try:
        do_record_departure(request.user, call.pk)
    except DomainError as exc:
        messages.error(request, exc.message)
        return render_call(request, call, status=exc.status)
    messages.success(request, _("Departure of %(vessel)s recorded.") % {"vessel": call.vessel.registration})
    return redirect("port-call", pk=call.pk)


@login_required
@require_POST
def release_quarantine(request, pk: int):
    call = call_or_404(request, pk)
    try:
        do_release_quarantine(request.user, call.pk, request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
        return render_call(request, call, status=exc.status)
    messages.success(request, _("Quarantine of %(vessel)s released.") % {"vessel": call.vessel.registration})
    return redirect("port-call", pk=call.pk)


# --- Alerts ---------------------------------------------------------------------------

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
    return page(
        request,
        "vessels/alerts.html",
        {
            "wharf": wharf,
            "open_alerts": list(listed.filter(acknowledged_at__isnull=True, closed_at__isnull=True)),
            # A closed alert (its result corrected away) needs no acknowledging.
            "acknowledged": list(
                listed.exclude(acknowledged_at__isnull=True, closed_at__isnull=True)[:ACKNOWLEDGED_SHOWN]
            ),
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


# --- Cases and their contacts (health officers) -----------------------------------------


@login_required
def cases(request):
    if not request.user.has_perm("vessels.view_contact"):
        raise PermissionDenied
    return page(
        request,
        "vessels/cases.html",
        {
            "cases": confirmed_cases(request.user),
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
    name = f"contacts-{case.where}-{case.person.id_number}"
    if fmt == "csv":
        body, content_type = tabular.to_csv(rows, CONTACT_COLUMNS), "text/csv; charset=utf-8"
    else:
        body = tabular.to_xlsx(rows, CONTACT_COLUMNS, sheet=case.where)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    reply = HttpResponse(body, content_type=content_type)
    reply["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return reply


# --- Epidemic areas (health officers keep the list) --------------------------------------


@login_required
def epidemic_areas(request):
    if not request.user.has_perm("vessels.view_epidemicarea"):
        raise PermissionDenied
    can_edit = request.user.has_perm("vessels.add_epidemicarea")
    form = EpidemicAreaForm(request.POST or None) if can_edit else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                area = add_epidemic_area(request.user, form.area_data())
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, _("%(area)s added to the epidemic areas.") % {"area": area})
                return redirect("epidemic-areas")
    today = timezone.localdate()
    areas = list(EpidemicArea.objects.select_related("created_by"))
    return page(
        request,
        "vessels/epidemic_areas.html",
        {
            "active": [a for a in areas if a.active_to is None or a.active_to >= today],
            "ended": [a for a in areas if a.active_to is not None and a.active_to < today],
            "today": today,
            "form": form,
            "can_change": request.user.has_perm("vessels.change_epidemicarea"),
            "can_delete": request.user.has_perm("vessels.delete_epidemicarea"),
        },
        status=400 if form is not None and form.errors else 200,
    )


@login_required
@require_POST
def end_epidemic_area(request, pk: int):
    area = get_object_or_404(EpidemicArea, pk=pk)
    form = EndAreaForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["active_to"][0])
        return redirect("epidemic-areas")
    try:
        data = AreaData(area.province, area.district, area.active_from, form.cleaned_data["active_to"])
        change_epidemic_area(request.user, area.pk, data)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(area)s ended.") % {"area": area})
    return redirect("epidemic-areas")


@login_required
@require_POST
def delete_epidemic_area(request, pk: int):
    area = get_object_or_404(EpidemicArea, pk=pk)
    try:
        do_delete_epidemic_area(request.user, area.pk)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    messages.success(request, _("%(area)s taken off the list.") % {"area": area})
    return redirect("epidemic-areas")


# --- A vessel's history and violations ---------------------------------------------------


@login_required
def vessel(request, registration: str):
    if not request.user.has_perm("vessels.view_vessel"):
        raise PermissionDenied
    boat = get_object_or_404(Vessel, registration=normalise_registration(registration))
    form = None
    if request.user.has_perm("vessels.add_violation"):
        form = ViolationForm(
            request.POST or None,
            wharves=visible_wharves(request.user),
            initial={"wharf": request.GET.get("wharf")},
        )
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                record_violation(request.user, form.violation_data(boat))
            except NotAllowed as exc:
                raise PermissionDenied(exc.message) from exc
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, _("Violation recorded against %(vessel)s.") % {"vessel": boat.registration})
                return redirect(reverse("vessel", args=[boat.registration]) + "#violations")
    return page(
        request,
        "vessels/vessel.html",
        {"history": vessel_history(request.user, boat), "form": form},
        status=400 if form is not None and form.errors else 200,
    )


# --- Live dashboards -----------------------------------------------------------------
# The pages render the same snapshot the socket sends first; static/portguard/dashboard.js
# then keeps them current and re-reads the snapshot after every reconnection.

# How the province dashboard groups the open calls of a wharf.
STATUS_BUCKETS: dict[str, tuple[str, ...]] = {
    "cleared": (PortCallStatus.CLEARED, PortCallStatus.HANDOVER_APPROVED),
    "blocked": (PortCallStatus.BLOCKED, PortCallStatus.QUARANTINED, PortCallStatus.HANDOVER_SUSPENDED),
    "awaiting": (PortCallStatus.AWAITING_TESTS,),
}


def wharf_tally(summaries: list[dict[str, Any]]) -> dict[str, int]:
    tally = {"open": len(summaries), **{bucket: 0 for bucket in STATUS_BUCKETS}}
    for summary in summaries:
        for bucket, statuses in STATUS_BUCKETS.items():
            if summary["status"] in statuses:
                tally[bucket] += 1
    return tally


def live_cards(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Snapshot summaries with their status in words, for the server-rendered cards."""
    return [{**s, "status_label": capfirst(PortCallStatus(s["status"]).label)} for s in summaries]


def live_config(socket_path: str) -> dict[str, Any]:
    """What dashboard.js needs: where to connect and every word it may have to show."""
    return {
        "socket": socket_path,
        "callUrl": reverse("port-call", args=[0]),
        "wharfUrl": reverse("wharf-dashboard", args=["__code__"]),
        "timeZone": timezone.get_current_timezone_name(),
        "statuses": {status.value: capfirst(status.label) for status in PortCallStatus},
        "testKinds": {kind.value: capfirst(kind.label) for kind in TestKind},
        "testResults": {result.value: str(result.label) for result in TestResult},
        "localities": {locality.value: str(locality.label) for locality in Locality},
        "buckets": STATUS_BUCKETS,
        "text": {
            "connecting": _("Connecting…"),
            "live": _("Live"),
            "reconnecting": _("Reconnecting…"),
            "stale": _("The data shown may be out of date."),
            "unauthenticated": _("Your session has expired. Log in again to see live updates."),
            "forbidden": _("You no longer have access to this dashboard."),
            "resynced": _("Reconnected: the current state was reloaded."),
            "arrived": _("%(vessel)s arrived at %(wharf)s."),
            "portCallUpdated": _("%(vessel)s at %(wharf)s: %(status)s, %(negative)s of %(crew)s negative."),
            "testRecorded": _("%(name)s (%(vessel)s): %(kind)s, %(result)s."),
            "alertPositive": _("POSITIVE: %(name)s on %(vessel)s at %(wharf)s."),
            "handoverApproved": _("Cargo handover approved for %(vessel)s by %(user)s."),
            "handoverSuspended": _("Cargo handover suspended for %(vessel)s: %(reason)s"),
            "alertVessel": _("Vessel %(vessel)s at %(wharf)s"),
            "alertSample": _("%(kind)s sampled at %(time)s"),
            "staffOverdue": _("Overdue KCS test: %(name)s (%(station)s), %(what)s."),
            "overdueRapid": _("rapid test after shift %(shift)s of %(day)s"),
        },
    }


@login_required
def wharf_dashboard(request, code: str):
    wharf = get_object_or_404(visible_wharves(request.user), code=code)
    snapshot = dashboard_snapshot(request.user, wharf)
    return page(
        request,
        "vessels/dashboard_wharf.html",
        {
            "wharf": wharf,
            "cards": live_cards(snapshot["port_calls"]),
            "overdue_staff": snapshot["overdue_staff"],
            "live_config": live_config(f"/ws/wharves/{quote(wharf.code)}/"),
        },
    )


@login_required
def province_dashboard(request):
    if not sees_all_wharves(request.user):
        raise PermissionDenied
    snapshot = dashboard_snapshot(request.user)
    calls_by_wharf: dict[str, list[dict[str, Any]]] = {w["code"]: [] for w in snapshot["wharves"]}
    for summary in snapshot["port_calls"]:
        calls_by_wharf.setdefault(summary["wharf"], []).append(summary)
    localities = dict(Locality.choices)
    rows = [
        {
            **w,
            "locality_label": localities.get(w["locality"], w["locality"]),
            "tally": wharf_tally(calls_by_wharf[w["code"]]),
        }
        for w in snapshot["wharves"]
    ]
    return page(
        request,
        "vessels/dashboard_province.html",
        {
            "rows": rows,
            "totals": {
                **wharf_tally(snapshot["port_calls"]),
                "pending": sum(1 for s in snapshot["port_calls"] if s["awaits_approval"]),
            },
            "live_config": live_config("/ws/province/"),
        },
    )
