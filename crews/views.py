"""The TKV supervisor's station pages (rule R3). Thin: scope, rosters, the schedule and
who needs attention come from ``crews.stations``; this module arranges them for the
templates, one row per staff member and one column per day, as the PDF prints them."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from portguard.domain import DomainError, InvalidFile
from portguard.pages import page

from . import corrections, schedule, staffing, stations
from .access_log import door_of, record_read
from .choices import ReadKind, TestResult
from .forms import (
    EndAssignmentForm,
    RosterUploadForm,
    ShiftForm,
    StaffMemberForm,
    StationSheetForm,
    WeekForm,
    monday_of,
)
from .kit_forecast import forecast_at
from .kit_forms import offer_lots
from .kit_stock import Place, stock_at
from .lab_load import over_days
from .models import KcsStation, Person, StaffMember
from .results import kit_warnings

DAYS = 7

# What a supervisor reads in a cell: a test not yet due is not "due" for them.
UPCOMING = "upcoming"
STATE_LABELS = {
    schedule.DONE: gettext_lazy("done"),
    schedule.DUE: gettext_lazy("due now"),
    UPCOMING: gettext_lazy("upcoming"),
    schedule.OVERDUE: gettext_lazy("overdue"),
    schedule.BLOCKED: gettext_lazy("blocked from duty"),
}


def display_state(entry: stations.ScheduleEntry, now: datetime) -> str:
    if entry.state == schedule.DUE and entry.planned.due_from > now:
        return UPCOMING
    return entry.state


@dataclass
class PlannedRow:
    """One planned test with its state in words."""

    entry: stations.ScheduleEntry
    state: str

    @property
    def plan(self) -> schedule.PlannedTest:
        return self.entry.planned

    @property
    def person(self) -> Person:
        return self.entry.person

    @property
    def is_rt_pcr(self) -> bool:
        return self.plan.kind == schedule.RT_PCR

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def pool(self) -> str:
        return self.plan.pool.rsplit("-", 1)[-1]


@dataclass
class Cell:
    day: date
    shifts: list[str] = field(default_factory=list)
    tests: list[PlannedRow] = field(default_factory=list)

    @property
    def rt_pcr(self) -> bool:
        return any(t.is_rt_pcr for t in self.tests)


@dataclass
class GridRow:
    person: Person
    cells: list[Cell]


def week_grid(entries: list[stations.ScheduleEntry], start: date, days: int, now: datetime) -> list[GridRow]:
    """The schedule as it prints: staff by name, a cell per day with the shifts worked
    and the tests owed, RT-PCR first."""
    people: dict[int, Person] = {}
    cells: dict[int, list[Cell]] = {}
    for entry in entries:
        plan = entry.planned
        staff_id = entry.staff.pk
        if staff_id not in cells:
            people[staff_id] = entry.person
            cells[staff_id] = [Cell(start + timedelta(days=d)) for d in range(days)]
        cell = cells[staff_id][(plan.date - start).days]
        if plan.shift and plan.shift not in cell.shifts:
            cell.shifts.append(plan.shift)
        cell.tests.append(PlannedRow(entry, display_state(entry, now)))
    for row in cells.values():
        for cell in row:
            cell.tests.sort(key=lambda t: (not t.is_rt_pcr, t.plan.due_from))
    order = sorted(people, key=lambda pk: (people[pk].full_name, people[pk].id_number))
    return [GridRow(people[pk], cells[pk]) for pk in order]


def attention_counts(entries: list[stations.ScheduleEntry]) -> dict[str, int]:
    """How many staff members are overdue, and how many more are due now."""
    staff: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        staff[entry.state].add(entry.staff.pk)
    return {
        "overdue": len(staff[schedule.OVERDUE]),
        "due": len(staff[schedule.DUE] - staff[schedule.OVERDUE]),
    }


def station_or_404(request, code: str) -> KcsStation:
    """The station if the user may see it: out of scope and unknown look the same."""
    return get_object_or_404(stations.visible_stations(request.user), code=code.strip().upper())


def schedule_file_url(station: KcsStation, fmt: str, start: date) -> str:
    query = urlencode({"start": start.isoformat(), "days": DAYS})
    return reverse(f"api:station-schedule-{fmt}", args=[station.code]) + "?" + query


def pool_file_urls(station: KcsStation, day: date) -> dict[str, str]:
    """The day's sample labels and pool manifest (rule R7)."""
    query = "?" + urlencode({"date": day.isoformat()})
    return {
        name: reverse(f"api:station-{route}", args=[station.code]) + query
        for name, route in (("labels", "labels-pdf"), ("manifest_pdf", "pools-pdf"), ("manifest_csv", "pools-csv"))
    }


# --- Pages ---------------------------------------------------------------------------


@login_required
def station_list(request):
    if not request.user.has_perm("crews.view_kcsstation"):
        raise PermissionDenied
    now = timezone.now()
    rows = [
        (station, attention_counts(stations.needs_attention(station, now)))
        for station in stations.visible_stations(request.user)
    ]
    return page(request, "crews/station_list.html", {"rows": rows})


@login_required
def station_detail(request, code: str):
    return render_station(request, station_or_404(request, code))


@login_required
@require_POST
def upload_roster(request, code: str):
    station = station_or_404(request, code)
    form = RosterUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render_station(request, station, upload_form=form, status=400)
    try:
        count = stations.load_roster_file(request.user, station, form.cleaned_data["file"])
    except InvalidFile as exc:
        return render_station(request, station, upload_form=form, refused=exc, status=exc.status)
    except DomainError as exc:
        messages.error(request, exc.message)
        return render_station(request, station, upload_form=form, status=exc.status)
    messages.success(
        request,
        ngettext("%(count)d roster entry loaded.", "%(count)d roster entries loaded.", count) % {"count": count},
    )
    week = WeekForm(request.GET)
    return redirect(reverse("station", args=[station.code]) + "?" + urlencode({"start": week.start_day().isoformat()}))


def station_page(request, station: KcsStation, anchor: str = "") -> str:
    """The station page as it was shown (its week kept), at ``anchor``."""
    query = urlencode({"start": WeekForm(request.GET).start_day().isoformat()})
    return reverse("station", args=[station.code]) + "?" + query + anchor


@login_required
@require_POST
def add_staff(request, code: str):
    station = station_or_404(request, code)
    form = StaffMemberForm(request.POST, shifts=station.shifts.all())
    if not form.is_valid():
        return render_station(request, station, staff_form=form, status=400)
    try:
        member, entry = staffing.add_staff_member(request.user, station, form.roster_line())
    except InvalidFile as exc:
        form.add_file_errors(exc)
        return render_station(request, station, staff_form=form, status=exc.status)
    except DomainError as exc:
        form.add_domain_error(exc)
        return render_station(request, station, staff_form=form, status=exc.status)
    messages.success(
        request,
        _("%(name)s is on the staff from %(day)s, shift %(shift)s.")
        % {"name": member.person.full_name, "day": entry.date.strftime("%d/%m/%Y"), "shift": entry.shift.code},
    )
    return redirect(station_page(request, station, "#staff"))


@login_required
@require_POST
def end_staff(request, code: str, person_id: int):
    station = station_or_404(request, code)
    member = get_object_or_404(StaffMember.objects.select_related("person"), station=station, person_id=person_id)
    form = EndAssignmentForm(request.POST, member=member)
    if not form.is_valid():
        return render_station(request, station, end_form=form, status=400)
    try:
        staffing.end_assignment(request.user, station, person_id, form.cleaned_data["left_on"])
    except DomainError as exc:
        form.add_error(None, exc.message)
        return render_station(request, station, end_form=form, status=exc.status)
    messages.success(
        request,
        _("%(name)s is off the staff from %(day)s.")
        % {"name": member.person.full_name, "day": form.cleaned_data["left_on"].strftime("%d/%m/%Y")},
    )
    return redirect(station_page(request, station, "#staff"))


@login_required
@require_POST
def change_shift(request, code: str, shift: str):
    station = station_or_404(request, code)
    current = get_object_or_404(station.shifts, code=shift.strip().upper())
    form = ShiftForm(request.POST, shift=current)
    if not form.is_valid():
        return render_station(request, station, shift_form=form, status=400)
    data = form.cleaned_data
    try:
        changed = staffing.change_shift(
            request.user, station, current.code, data["starts_at"], data["ends_at"], name=data["name"]
        )
    except DomainError as exc:
        form.add_domain_error(exc)
        return render_station(request, station, shift_form=form, status=exc.status)
    messages.success(request, _("Shift %(shift)s changed: the schedule follows.") % {"shift": changed})
    return redirect(station_page(request, station, "#shifts"))


@login_required
@require_POST
def record_results(request, code: str):
    station = station_or_404(request, code)
    sheet = StationSheetForm(request.POST, staff=staffing.current_staff(station, timezone.localdate()))
    if not sheet.is_valid():
        return render_station(request, station, sheet=sheet, status=400)
    data = sheet.cleaned_data
    try:
        tests = staffing.record_station_sheet(
            request.user, station, data["kind"], sheet.results(), kit_lot=data["kit_lot"]
        )
    except DomainError as exc:
        sheet.add_domain_error(exc)
        return render_station(request, station, sheet=sheet, status=exc.status)
    messages.success(
        request,
        ngettext("%(count)d result saved.", "%(count)d results saved.", len(tests)) % {"count": len(tests)},
    )
    for warning in kit_warnings(tests):
        messages.warning(request, warning)
    return redirect(station_page(request, station, "#station-sheet"))


@dataclass
class SheetRow:
    """A current staff member on the station's sheet: what the schedule plans for them
    today, their result field and its client key."""

    member: StaffMember
    today: list[PlannedRow]
    result: object = None
    key: object = None
    end_form: EndAssignmentForm | None = None


def todays_plan(entries: list[stations.ScheduleEntry], today: date, now: datetime) -> dict[int, list[PlannedRow]]:
    """Each staff member's tests planned today (a rapid test due from a shift ending
    today, an RT-PCR of today with its pool), by staff member."""
    plan: dict[int, list[PlannedRow]] = defaultdict(list)
    for entry in entries:
        day = (
            entry.planned.date if entry.planned.kind == schedule.RT_PCR else timezone.localdate(entry.planned.due_from)
        )
        if day == today:
            plan[entry.staff.pk].append(PlannedRow(entry, display_state(entry, now)))
    return plan


def render_station(
    request,
    station: KcsStation,
    *,
    upload_form: RosterUploadForm | None = None,
    refused: InvalidFile | None = None,
    staff_form: StaffMemberForm | None = None,
    end_form: EndAssignmentForm | None = None,
    shift_form: ShiftForm | None = None,
    sheet: StationSheetForm | None = None,
    status: int = 200,
):
    week = WeekForm(request.GET)
    start = week.start_day()
    now = timezone.now()
    today = timezone.localdate(now)
    user = request.user
    entries = stations.station_schedule(station, start, DAYS, now)
    attention = stations.needs_attention(station, now)
    can_load = user.has_perm("crews.add_rosterentry") and user.has_perm("crews.delete_rosterentry")
    shifts = list(station.shifts.all())
    staff = staffing.current_staff(station, today)
    # The sheet's rows say what is planned today, from this week's plan as printed.
    this_week = entries if start == monday_of(today) else stations.station_schedule(station, monday_of(today), 7, now)
    planned_today = todays_plan(this_week, today, now)
    if sheet is None and user.has_perm("crews.add_screeningtest"):
        sheet = StationSheetForm(staff=staff)
    # The day the station's kits run out (rule R7), for those who see its kits.
    kit_forecast = forecast_at(Place(station=station), today) if user.has_perm("crews.view_kitdelivery") else None
    if sheet is not None:
        offer_lots(sheet, kit_forecast.stock if kit_forecast else stock_at(Place(station=station)))
    may_end = user.has_perm("crews.change_staffmember") and user.has_perm("crews.delete_rosterentry")
    rows = [
        SheetRow(
            member,
            sorted(planned_today.get(member.pk, []), key=lambda t: (not t.is_rt_pcr, t.plan.due_from)),
            sheet[sheet.result_field(member)] if sheet else None,
            sheet[sheet.key_field(member)] if sheet else None,
            (end_form if end_form and end_form.member.pk == member.pk else EndAssignmentForm(member=member))
            if may_end
            else None,
        )
        for member in staff
    ]
    may_add = user.has_perm("crews.add_staffmember") and can_load
    shift_forms = (
        [shift_form if shift_form and shift_form.shift.pk == s.pk else ShiftForm(shift=s) for s in shifts]
        if user.has_perm("crews.change_shift")
        else []
    )
    record_read(user, ReadKind.STATION_SHEET, **door_of(request), station=station, count=len(staff))
    # The day's labels: today's when this week is shown, else the week's first day's.
    label_day = today if start <= today < start + timedelta(days=DAYS) else start
    return page(
        request,
        "crews/station.html",
        {
            "station": station,
            "kit_forecast": kit_forecast,
            "shifts": shifts,
            "shift_forms": shift_forms,
            "staff_form": staff_form or (StaffMemberForm(shifts=shifts) if may_add else None),
            "staff_rows": rows,
            "sheet": sheet,
            "week": week,
            "start": start,
            "end": start + timedelta(days=DAYS - 1),
            "days": [start + timedelta(days=d) for d in range(DAYS)],
            "today": today,
            "previous_week": start - timedelta(days=DAYS),
            "next_week": start + timedelta(days=DAYS),
            "grid": week_grid(entries, start, DAYS, now),
            "attention": [PlannedRow(e, display_state(e, now)) for e in attention],
            "counts": attention_counts(attention),
            "upload_form": upload_form or (RosterUploadForm() if can_load else None),
            "refused": refused,
            "files": {fmt: schedule_file_url(station, fmt, start) for fmt in ("pdf", "csv", "xlsx")},
            "label_day": label_day,
            "pool_files": pool_file_urls(station, label_day),
            "rapid_overdue_hours": int(stations.rules().overdue_after.total_seconds() // 3600),
            "rt_pcr_days": stations.rules().interval_days,
            "results": corrections.result_rows(
                user,
                corrections.results_at_station(station, start, DAYS),
                now,
                # Whoever sees the station records results there if their role records any.
                records_there=user.has_perm("crews.add_screeningtest"),
            ),
            "result_choices": TestResult.choices,
            "lab_over": over_days(station.lab, today),
        },
        status=status,
    )
