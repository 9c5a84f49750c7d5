"""The daily report per wharf and per locality (SPEC §5): port calls, people tested,
positives, cargo handovers approved, refused and suspended, KCS compliance.

``aggregate`` is pure: plain rows in, figures out, tested without a database. The
loader reads those rows for one day in a constant number of queries (plus the schedule
of each KCS station at the wharves reported, five queries a station).
"""

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crews import schedule
from crews.choices import RT_PCR_KINDS, TestKind, TestResult
from crews.models import KcsStation, ScreeningTest
from crews.stations import plan_station
from vessels.models import HandoverRefusal
from vessels.scope import visible_wharves

from .choices import Locality
from .models import Handover, PortCall

# --- Plain rows in ---------------------------------------------------------------------


class CallRow(NamedTuple):
    wharf: int
    arrived_at: datetime
    departed_at: datetime | None


class TestRow(NamedTuple):
    __test__ = False  # not a pytest class

    wharf: int
    person: int
    kind: str
    result: str


class HandoverRow(NamedTuple):
    wharf: int
    approved_at: datetime
    suspended_at: datetime | None


class RefusalRow(NamedTuple):
    wharf: int
    refused_at: datetime


class KcsRow(NamedTuple):
    """One test planned for the day by a KCS station at the wharf, and its state."""

    wharf: int
    state: str


@dataclass(frozen=True)
class Day:
    """The report's day as the local calendar has it: ``[start, end)``."""

    day: date
    start: datetime
    end: datetime

    @classmethod
    def of(cls, day: date, tz: ZoneInfo) -> "Day":
        start = datetime.combine(day, time.min, tzinfo=tz)
        return cls(day, start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz))

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


# --- Figures out -----------------------------------------------------------------------


@dataclass
class Figures:
    port_calls: int = 0
    arrivals: int = 0
    people_tested: int = 0
    tested_rapid: int = 0
    tested_rt_pcr: int = 0
    positives: int = 0
    handovers_approved: int = 0
    handovers_refused: int = 0
    handovers_suspended: int = 0
    kcs_planned: int = 0
    kcs_done: int = 0
    kcs_overdue: int = 0

    @property
    def kcs_done_percent(self) -> int | None:
        return round(100 * self.kcs_done / self.kcs_planned) if self.kcs_planned else None


FIGURES = tuple(f.name for f in fields(Figures))


def aggregate(
    day: Day,
    wharves: set[int],
    calls: Iterable[CallRow],
    tests: Iterable[TestRow],
    handovers: Iterable[HandoverRow],
    refusals: Iterable[RefusalRow],
    kcs: Iterable[KcsRow],
) -> Figures:
    """The day's figures for a set of wharves. People are counted once however many
    tests they took there; rows of other wharves or other days are ignored."""
    figures = Figures()
    for call in calls:
        if (
            call.wharf in wharves
            and call.arrived_at < day.end
            and (call.departed_at is None or call.departed_at >= day.start)
        ):
            figures.port_calls += 1
            figures.arrivals += day.holds(call.arrived_at)
    tested, rapid, rt_pcr, positive = set(), set(), set(), set()
    for test in tests:
        if test.wharf not in wharves:
            continue
        tested.add(test.person)
        if test.kind == TestKind.RAPID:
            rapid.add(test.person)
        elif test.kind in RT_PCR_KINDS:
            rt_pcr.add(test.person)
        # A positive pool says only that someone in it is positive: its members are
        # counted once an individual result says so.
        if test.result == TestResult.POSITIVE and test.kind != TestKind.RT_PCR_POOLED:
            positive.add(test.person)
    figures.people_tested, figures.tested_rapid = len(tested), len(rapid)
    figures.tested_rt_pcr, figures.positives = len(rt_pcr), len(positive)
    for handover in handovers:
        if handover.wharf in wharves:
            figures.handovers_approved += day.holds(handover.approved_at)
            figures.handovers_suspended += day.holds(handover.suspended_at)
    figures.handovers_refused = sum(1 for r in refusals if r.wharf in wharves and day.holds(r.refused_at))
    for planned in kcs:
        if planned.wharf in wharves:
            figures.kcs_planned += 1
            figures.kcs_done += planned.state == schedule.DONE
            figures.kcs_overdue += planned.state == schedule.OVERDUE
    return figures


WHARF, LOCALITY, TOTAL = "wharf", "locality", "total"


@dataclass
class ReportRow:
    level: str  # one wharf, a locality's total, or the total of everything reported
    locality: str
    locality_label: str
    wharf: str
    wharf_name: str
    figures: Figures


@dataclass
class DailyReport:
    day: date
    rows: list[ReportRow]

    @property
    def wharf_rows(self) -> list[ReportRow]:
        return [r for r in self.rows if r.level == WHARF]

    @property
    def total(self) -> ReportRow:
        return self.rows[-1]


def arrange(day: Day, wharves: Sequence[tuple[int, str, str, str]], **rows) -> DailyReport:
    """The report's rows from ``wharves`` as ``(id, code, name, locality)`` in route
    order and the day's plain ``rows`` (as ``aggregate`` takes them): each wharf, each
    locality's total after its wharves, the total last."""
    rows = {name: list(value) for name, value in rows.items()}
    labels = dict(Locality.choices)
    out: list[ReportRow] = []
    by_locality: dict[str, set[int]] = {}
    for pk, code, name, locality in wharves:
        by_locality.setdefault(locality, set()).add(pk)
        out.append(ReportRow(WHARF, locality, labels.get(locality, locality), code, name, aggregate(day, {pk}, **rows)))
    grouped = []
    for locality in sorted(by_locality, key=lambda value: list(labels).index(value) if value in labels else 99):
        grouped += [r for r in out if r.locality == locality]
        label = labels.get(locality, locality)
        figures = aggregate(day, by_locality[locality], **rows)
        grouped.append(ReportRow(LOCALITY, locality, label, "", _("Total %(locality)s") % {"locality": label}, figures))
    everything = {pk for pk, *_rest in wharves}
    grouped.append(ReportRow(TOTAL, "", "", "", _("Total"), aggregate(day, everything, **rows)))
    return DailyReport(day.day, grouped)


# --- Loading a day ---------------------------------------------------------------------


def report_wharves(user, locality: str = "", wharf: str = ""):
    """The wharves a user may report on, narrowed to a locality or one wharf."""
    wharves = visible_wharves(user)
    if locality:
        wharves = wharves.filter(locality=locality)
    if wharf:
        wharves = wharves.filter(code=wharf)
    return wharves.order_by("route_order", "code")


def daily_report(user, day: date, *, locality: str = "", wharf: str = "", now: datetime | None = None) -> DailyReport:
    """The day's report on the wharves the user may see (narrowed by the filters)."""
    now = now or timezone.now()
    period = Day.of(day, ZoneInfo(settings.TIME_ZONE))
    wharves = list(report_wharves(user, locality, wharf).values_list("pk", "code", "name", "locality"))
    ids = [pk for pk, *_rest in wharves]
    window = {"gte": period.start, "lt": period.end}
    calls = [
        CallRow(*row)
        for row in PortCall.objects.filter(wharf_id__in=ids, arrived_at__lt=period.end)
        .filter(Q(departed_at__isnull=True) | Q(departed_at__gte=period.start))
        .values_list("wharf_id", "arrived_at", "departed_at")
    ]
    tests = [
        TestRow(wharf_id or station_wharf_id, person_id, kind, result)
        for wharf_id, station_wharf_id, person_id, kind, result in ScreeningTest.objects.filter(
            sampled_at__gte=window["gte"], sampled_at__lt=window["lt"], superseded_by__isnull=True
        )
        .filter(Q(wharf_id__in=ids) | Q(station__wharf_id__in=ids))
        .values_list("wharf_id", "station__wharf_id", "person_id", "kind", "result")
    ]
    handovers = [
        HandoverRow(*row)
        for row in Handover.objects.filter(port_call__wharf_id__in=ids)
        .filter(
            Q(approved_at__gte=period.start, approved_at__lt=period.end)
            | Q(suspended_at__gte=period.start, suspended_at__lt=period.end)
        )
        .values_list("port_call__wharf_id", "approved_at", "suspended_at")
    ]
    refusals = [
        RefusalRow(*row)
        for row in HandoverRefusal.objects.filter(
            port_call__wharf_id__in=ids, refused_at__gte=period.start, refused_at__lt=period.end
        ).values_list("port_call__wharf_id", "refused_at")
    ]
    kcs = [
        KcsRow(station.wharf_id, state)
        for station in KcsStation.objects.filter(wharf_id__in=ids).order_by("code")
        for state in plan_station(station, day, 1, now).states
    ]
    return arrange(period, wharves, calls=calls, tests=tests, handovers=handovers, refusals=refusals, kcs=kcs)


# --- Export ----------------------------------------------------------------------------

REPORT_COLUMNS = ("date", "level", "locality", "wharf", "wharf_name", *FIGURES)


def report_rows(report: DailyReport) -> list[dict]:
    """One dict per row, in ``REPORT_COLUMNS`` order, for CSV and XLSX."""
    return [
        {
            "date": report.day.isoformat(),
            "level": row.level,
            "locality": row.locality_label,
            "wharf": row.wharf,
            "wharf_name": row.wharf_name,
            **asdict(row.figures),
        }
        for row in report.rows
    ]
