"""The server-rendered pages. Thin: they read through and write through the services of
``vessels`` and ``crews`` and turn a ``DomainError`` into a message on the page."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.forms import BoundField
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from crews import corrections
from crews.access_log import door_of, record_read
from crews.choices import ReadKind, Screening, TestResult
from crews.kit_forms import offer_lots
from crews.kit_stock import Place, stock_at
from crews.manifest import add_crew_member, remove_crew_member
from crews.results import kit_warnings, record_tests
from portguard.domain import DomainError, HandoverBlocked, NotAllowed
from portguard.pages import page
from vessels.declarations import record_missing_declaration
from vessels.quarantine import release_quarantine as do_release_quarantine
from vessels.scope import sees_all_wharves, visible_port_calls, visible_wharves
from vessels.services import approve_handover, register_port_call
from vessels.services import record_departure as do_record_departure
from vessels.status import blocking_payload, clearance_for, clearance_of

from .choices import PortCallStatus
from .clearance import CallClearance, PersonScreening
from .forms import AddPersonForm, ArrivalForm, ClientKeyForm, DepartureForm, ScreeningSheetForm
from .models import Handover, PortCall

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
    """One person of the manifest: their screening, in words, their result field, its
    client key and their own sample time on the sheet, the client key of their removal,
    and when their latest stored result for this call was sampled (the page's kit timer
    of a sample whose result is stored stops)."""

    screening: PersonScreening
    state_label: str
    field: BoundField | None = None
    key: BoundField | None = None
    removal: BoundField | None = None
    sampled: BoundField | None = None
    last_sampled: datetime | None = None


def blocking_rows(payload: list[dict[str, str]]) -> list[dict[str, str]]:
    """``blocking_payload`` entries with the screening state in words."""
    return [
        {**row, "screening_label": Screening(row["screening"]).label if row["screening"] else ""} for row in payload
    ]


def call_or_404(request, pk: int) -> PortCall:
    """The port call if the user may see it: out of scope and unknown look the same."""
    return get_object_or_404(visible_port_calls(request.user).select_related("declaration"), pk=pk)


def safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def client_key(form: ClientKeyForm):
    """The client key a form was sent with (``None`` from a page made before forms had
    one); a malformed key is refused as the domain refuses a bad field."""
    if not form.is_valid():
        raise DomainError(form.errors["client_uuid"][0], field="client_uuid")
    return form.cleaned_data["client_uuid"]


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
    # The blocked calls name who blocks them and by which result.
    named = sum(len(r.clearance.blocking) for r in blocked)
    record_read(request.user, ReadKind.APPROVALS, **door_of(request), count=named)
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
    removal: tuple[int, ClientKeyForm] | None = None,
    departure: DepartureForm | None = None,
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
    if sheet is not None:
        offer_lots(sheet, stock_at(Place(wharf=call.wharf)))
    can_remove = is_open and user.has_perm("crews.change_crewmember")
    removals = dict([removal]) if removal else {}
    results = corrections.result_rows(
        user,
        corrections.with_corrections(call.tests.all()),
        timezone.now(),
        # Whoever sees the call records results for it if their role records any.
        records_there=user.has_perm("crews.add_screeningtest"),
    )
    last_sampled: dict[int, datetime] = {}
    for result in results:
        person_id = result.test.person_id
        last_sampled[person_id] = max(result.test.sampled_at, last_sampled.get(person_id, result.test.sampled_at))
    people = [
        PersonRow(
            p,
            Screening(p.state).label,
            sheet[sheet.result_field(p)] if sheet else None,
            sheet[sheet.key_field(p)] if sheet else None,
            # Each removal form its own key; a refused one shown again keeps the key it was sent with.
            removals.get(p.member.person_id, ClientKeyForm())["client_uuid"] if can_remove else None,
            sheet[sheet.sampled_field(p)] if sheet else None,
            last_sampled.get(p.member.person_id),
        )
        for p in clearance.people
    ]
    can_depart = is_open and user.has_perm("vessels.change_portcall")
    record_read(user, ReadKind.SCREENING_SHEET, **door_of(request), port_call=call, count=len(people))
    return page(
        request,
        "vessels/port_call.html",
        {
            "call": call,
            "row": CallRow(call, clearance),
            "sheet": sheet,
            "people": people,
            "add_form": add_form or (AddPersonForm() if is_open and user.has_perm("crews.add_crewmember") else None),
            "can_remove": can_remove,
            "can_approve": is_open and user.has_perm("vessels.approve_handover"),
            "can_depart": can_depart,
            # Rule R6: a call registered with no health declaration says so, and its
            # inspector can record the seed's violation for it in one step.
            "undeclared": not hasattr(call, "declaration"),
            "can_record_violation": user.has_perm("vessels.add_violation"),
            "departure": (departure or DepartureForm()) if can_depart else None,
            "can_release": clearance.status == PortCallStatus.QUARANTINED
            and user.has_perm("vessels.release_quarantine"),
            "blocked": blocking_rows(blocked) if blocked is not None else None,
            "crew_refused": crew_refused,
            "handover": handover,
            "evidence": evidence,
            "results": results,
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
        for warning in kit_warnings(tests):
            messages.warning(request, warning)
        return redirect(reverse("port-call", args=[call.pk]) + "#sheet")
    return render_call(request, call, clearance=clearance, sheet=sheet, status=400)


@login_required
@require_POST
def add_person(request, pk: int):
    call = call_or_404(request, pk)
    form = AddPersonForm(request.POST)
    if form.is_valid():
        try:
            member = add_crew_member(
                request.user, call.pk, form.person_data(), client_uuid=form.cleaned_data["client_uuid"]
            )
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
    form = ClientKeyForm(request.POST)
    try:
        member = remove_crew_member(request.user, call.pk, person_id, client_uuid=client_key(form))
    except DomainError as exc:
        messages.error(request, exc.message)
        return render_call(request, call, removal=(person_id, form), status=exc.status)
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
    form = DepartureForm(request.POST)
    if not form.is_valid():
        return render_call(request, call, departure=form, status=400)
    try:
        do_record_departure(
            request.user,
            call.pk,
            departed_at=form.cleaned_data["departed_at"],
            client_uuid=form.cleaned_data["client_uuid"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return render_call(request, call, departure=form, status=exc.status)
    messages.success(request, _("Departure of %(vessel)s recorded.") % {"vessel": call.vessel.registration})
    return redirect("port-call", pk=call.pk)


@login_required
@require_POST
def record_no_declaration(request, pk: int):
    call = call_or_404(request, pk)
    try:
        record_missing_declaration(request.user, call.pk)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("No health declaration: the violation is recorded."))
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
