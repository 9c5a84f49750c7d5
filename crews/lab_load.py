"""A lab's planned RT-PCR load for the next days against its daily capacity (rule R7).

- **Pools**: the R3 schedule of every station assigned to the lab, planned as the
  station page prints it (from the Monday of the first day's week, each staff member's
  last RT-PCR and first rostered day before it taken into account), its RT-PCR samples
  grouped into pools per station and day.
- **Single samples**: crew RT-PCRs to expect, the mean of those taken on the same
  weekday over the last 4 weeks at the wharves of the lab's stations (rounded up), plus
  the people on the declarations expected there that day that are not arrivals yet
  (``kit_forecast.declared_rows``, read in the same query).

A day is over capacity when either count exceeds the lab's capacity
(``crews.lab_capacity``). Four queries for any number of labs, stations and staff.
The province balancing (``lab_capacity.balance``) is not applied here yet: the load
shown is the schedule's as printed."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

from django.db.models import Min, OuterRef, Q, Subquery, Value
from django.utils import timezone

from . import schedule
from .choices import RT_PCR_KINDS, TestResult
from .kit_forecast import declared_by_day, declared_rows
from .lab_capacity import LabDay, expected_single, lab_days, pools_per_day
from .models import KcsStation, Lab, RosterEntry, ScreeningTest, StaffMember

DAYS = 7
WEEKS = 4


def _current_tests():
    return ScreeningTest.objects.filter(superseded_by__isnull=True).exclude(result=TestResult.INVALID)


def lab_outlook(lab: Lab, start: date, days: int = DAYS) -> list[LabDay]:
    """The lab's load for each day of ``[start, start + days)``; four queries."""
    return outlooks([lab], start, days)[lab.pk]


def outlooks(labs: Sequence[Lab], start: date, days: int = DAYS) -> dict[int, list[LabDay]]:
    """Each lab's load for each day of ``[start, start + days)``, by lab id; four queries
    whatever the number of labs, stations and staff."""
    if not labs:
        return {}
    stations = list(KcsStation.objects.filter(lab__in=labs).order_by().values_list("pk", "wharf_id", "lab_id"))
    station_ids = [pk for pk, _wharf, _lab in stations]
    wharf_ids = {wharf for _pk, wharf, _lab in stations}
    rules = schedule.Rules()
    # The RT-PCR days a plan picks depend on where it starts: plan as the station page
    # prints it, from the Monday of the first day's week.
    monday = start - timedelta(days=start.weekday())
    span = (start - monday).days + days
    period_start = schedule.day_start(monday, rules.tz)
    horizon = monday + timedelta(days=span + schedule.lookahead_days(rules))
    last_rt_pcr = (
        _current_tests()
        .filter(person=OuterRef("person"), kind__in=RT_PCR_KINDS, sampled_at__lt=period_start)
        .order_by("-sampled_at")
    )
    history: dict[int, dict[int, schedule.History]] = defaultdict(dict)
    for station_id, staff_id, first, last in (
        StaffMember.objects.filter(station_id__in=station_ids)
        .annotate(
            first_rostered=Min("roster__date", filter=Q(roster__date__lt=monday)),
            last_rt_pcr=Subquery(last_rt_pcr.values("sampled_at")[:1]),
        )
        .order_by()
        .values_list("station_id", "pk", "first_rostered", "last_rt_pcr")
    ):
        if first or last:
            history[station_id][staff_id] = schedule.History(
                last_rt_pcr=timezone.localtime(last, rules.tz).date() if last else None, first_rostered=first
            )
    rosters: dict[int, list[tuple]] = defaultdict(list)
    for station_id, staff_id, day, code, starts, ends in (
        RosterEntry.objects.filter(staff__station_id__in=station_ids, date__gte=monday, date__lt=horizon)
        .order_by()
        .values_list("staff__station_id", "staff_id", "date", "shift__code", "shift__starts_at", "shift__ends_at")
    ):
        rosters[station_id].append((staff_id, day, code, starts, ends))
    plans = {
        station_id: schedule.plan_tuples(rosters[station_id], monday, span, history[station_id], rules)
        for station_id in station_ids
    }
    crew = (
        _current_tests()
        .filter(
            kind__in=RT_PCR_KINDS,
            station__isnull=True,
            wharf_id__in=wharf_ids,
            sampled_at__gte=schedule.day_start(start - timedelta(weeks=WEEKS), rules.tz),
            sampled_at__lt=schedule.day_start(start, rules.tz),
        )
        .annotate(people=Value(1), source=Value("test"))
        .order_by()
        .values_list("wharf_id", "sampled_at", "people", "source")
    )
    # In the same query, the people on the declarations expected at those wharves that
    # are not arrivals yet (as the wharves' kit forecast counts them).
    rows = (
        list(crew.union(declared_rows(wharf_ids, start, days, source=Value("declared")), all=True)) if wharf_ids else []
    )
    recent: dict[int, list[date]] = defaultdict(list)
    for wharf_id, sampled_at, _people, source in rows:
        if source == "test":
            recent[wharf_id].append(timezone.localtime(sampled_at, rules.tz).date())
    declared = declared_by_day(row for row in rows if row[3] == "declared")
    result = {}
    for lab in labs:
        mine = [(pk, wharf) for pk, wharf, lab_id in stations if lab_id == lab.pk]
        lab_wharves = {wharf for _pk, wharf in mine}
        crew_days = [d for wharf in lab_wharves for d in recent[wharf]]
        single = expected_single(crew_days, start, days, WEEKS)
        for wharf in lab_wharves:
            single.update(declared.get(wharf, {}))
        result[lab.pk] = lab_days(
            pools_per_day([(pk, plans[pk]) for pk, _wharf in mine], start, days),
            single,
            start,
            days,
            lab.capacity_single,
            lab.capacity_pooled,
        )
    return result


def over_days(lab: Lab | None, start: date, days: int = DAYS) -> list[LabDay]:
    """The days of ``[start, start + days)`` the lab is over capacity; none without a lab."""
    return [day for day in lab_outlook(lab, start, days) if day.over] if lab else []


def labs_over(start: date, days: int = DAYS) -> list[tuple[Lab, list[LabDay]]]:
    """Every lab with a day over capacity in ``[start, start + days)``, with those days,
    for the province overview; five queries."""
    labs = list(Lab.objects.order_by("name"))
    loads = outlooks(labs, start, days)
    return [(lab, over) for lab in labs if (over := [day for day in loads[lab.pk] if day.over])]
