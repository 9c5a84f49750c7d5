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
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from portguard.domain import DomainError, InvalidFile
from portguard.pages import page

from . import corrections, schedule, stations
from .choices import TestResult
from .forms import RosterUploadForm, WeekForm
from .models import KcsStation, Person

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


def render_station(
    request,
    station: KcsStation,
    *,
    upload_form: RosterUploadForm | None = None,
    refused: InvalidFile | None = None,
    status: int = 200,
):
    week = WeekForm(request.GET)
    start = week.start_day()
    now = timezone.now()
    entries = stations.station_schedule(station, start, DAYS, now)
    attention = stations.needs_attention(station, now)
    can_load = request.user.has_perm("crews.add_rosterentry") and request.user.has_perm("crews.delete_rosterentry")
    return page(
        request,
        "crews/station.html",
        {
            "station": station,
            "shifts": list(station.shifts.all()),
            "week": week,
            "start": start,
            "end": start + timedelta(days=DAYS - 1),
            "days": [start + timedelta(days=d) for d in range(DAYS)],
            "today": timezone.localdate(),
            "previous_week": start - timedelta(days=DAYS),
            "next_week": start + timedelta(days=DAYS),
            "grid": week_grid(entries, start, DAYS, now),
            "attention": [PlannedRow(e, display_state(e, now)) for e in attention],
            "counts": attention_counts(attention),
            "upload_form": upload_form or (RosterUploadForm() if can_load else None),
            "refused": refused,
            "files": {fmt: schedule_file_url(station, fmt, start) for fmt in ("pdf", "csv", "xlsx")},
            "rapid_overdue_hours": int(stations.rules().overdue_after.total_seconds() // 3600),
            "rt_pcr_days": stations.rules().interval_days,
            "results": corrections.result_rows(
                request.user,
                corrections.results_at_station(station, start, DAYS),
                now,
                # Whoever sees the station records results there if their role records any.
                records_there=request.user.has_perm("crews.add_screeningtest"),
            ),
            "result_choices": TestResult.choices,
        },
        status=status,
    )
