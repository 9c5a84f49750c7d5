"""A lab's planned RT-PCR load for the next days against its daily capacity (rule R7).

- **Pools**: the R3 schedule of every station assigned to the lab, planned as the
  station page prints it, week by week from Monday. This week's plan is the one
  printed (each staff member's last RT-PCR and first rostered day before Monday taken
  into account); a later week's is the one its page will print if the staff follow
  the weeks before it (their last RT-PCR the last one planned). Where the lab has two
  stations or more with RT-PCRs planned, each week's RT-PCR days are balanced across
  the lab (``lab_capacity.balance_schedules``, in pools), exactly as the stations'
  pages, files, API and compliance check print and judge them. Each station's
  samples of a day are grouped into pools of at most ``pool_size``.
- **Single samples**: crew RT-PCRs to expect, the mean of those taken on the same
  weekday over the last 4 weeks at the wharves of the lab's stations (rounded up), plus
  the people on the declarations expected there that day that are not arrivals yet
  (``kit_forecast.declared_rows``, read in the same query).
  They are not balanced: they have a capacity of their own and their days are the
  crews'.

A day is over capacity when either count exceeds the lab's capacity
(``crews.lab_capacity``). Four queries for any number of labs, stations and staff."""

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Min, OuterRef, Q, Subquery, Value
from django.utils import timezone

from . import schedule
from .choices import RT_PCR_KINDS, TestResult
from .kit_forecast import declared_by_day, declared_rows
from .lab_capacity import LabDay, balance_schedules, expected_single, lab_days, pools_of, printed_order
from .models import KcsStation, Lab, RosterEntry, ScreeningTest, StaffMember

DAYS = 7
WEEKS = 4


def _rules() -> schedule.Rules:
    """Rule R3's settings as ``crews.stations.rules`` reads them (a layer above this
    one): the lab's plans are the stations' plans."""
    return schedule.Rules(
        overdue_after=timedelta(hours=settings.PORTGUARD_RAPID_OVERDUE_HOURS),
        interval_days=settings.PORTGUARD_RT_PCR_INTERVAL_DAYS,
        pool_size=settings.PORTGUARD_POOL_SIZE,
        tz=ZoneInfo(settings.TIME_ZONE),
    )


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
    rules = _rules()
    # The RT-PCR days a plan picks depend on where it starts: plan as the station page
    # prints it, week by week from Monday. This week's plan is the one printed; a later
    # week's is the one its page will print if the weeks before it are followed.
    first_monday = start - timedelta(days=start.weekday())
    weeks = (start + timedelta(days=days - 1) - first_monday).days // 7 + 1
    horizon = first_monday + timedelta(days=7 * weeks + schedule.lookahead_days(rules))
    period_start = schedule.day_start(first_monday, rules.tz)
    last_rt_pcr = (
        _current_tests()
        .filter(person=OuterRef("person"), kind__in=RT_PCR_KINDS, sampled_at__lt=period_start)
        .order_by("-sampled_at")
    )
    staff: dict[int, list[tuple]] = defaultdict(list)
    for station_id, *member in (
        StaffMember.objects.filter(station_id__in=station_ids)
        .annotate(
            first_rostered=Min("roster__date", filter=Q(roster__date__lt=first_monday)),
            last_rt_pcr=Subquery(last_rt_pcr.values("sampled_at")[:1]),
        )
        .order_by()
        .values_list("station_id", "pk", "person__full_name", "person__id_number", "first_rostered", "last_rt_pcr")
    ):
        staff[station_id].append(member)
    # Staff are keyed by their rank in name order, as their station's plan keys them.
    history: dict[int, dict[int, schedule.History]] = defaultdict(dict)
    rank: dict[int, int] = {}
    for station_id, members in staff.items():
        members.sort(key=lambda member: printed_order(member[1], member[2], member[0]))
        for index, (pk, _name, _id_number, first, last) in enumerate(members):
            rank[pk] = index
            if first or last:
                history[station_id][index] = schedule.History(
                    last_rt_pcr=timezone.localtime(last, rules.tz).date() if last else None, first_rostered=first
                )
    rosters: dict[int, list[tuple]] = defaultdict(list)
    for station_id, staff_id, day, code, starts, ends in (
        RosterEntry.objects.filter(staff__station_id__in=station_ids, date__gte=first_monday, date__lt=horizon)
        .order_by()
        .values_list("staff__station_id", "staff_id", "date", "shift__code", "shift__starts_at", "shift__ends_at")
    ):
        rosters[station_id].append((rank[staff_id], day, code, starts, ends))
    # Each lab's stations week by week, their RT-PCR days balanced across the lab.
    pools: dict[int, Counter] = defaultdict(Counter)
    for lab in labs:
        lab_history = {pk: history[pk] for pk, _wharf, lab_id in stations if lab_id == lab.pk}
        for week in range(weeks):
            monday = first_monday + timedelta(weeks=week)
            planned = {pk: schedule.plan_tuples(rosters[pk], monday, 7, lab_history[pk], rules) for pk in lab_history}
            balanced = balance_schedules(planned, lab_history, monday, 7, rules)
            pools[lab.pk] += pools_of(balanced, rules.pool_size, start, days)
            lab_history = {pk: _followed(lab_history[pk], balanced[pk], rosters[pk], monday) for pk in lab_history}
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
            pools[lab.pk],
            single,
            start,
            days,
            lab.capacity_single,
            lab.capacity_pooled,
        )
    return result


def _followed(
    history: dict[int, schedule.History], rt_pcr: dict[int, tuple[date, ...]], roster: list[tuple], monday: date
) -> dict[int, schedule.History]:
    """What the next week's plan will know of each staff member if this week's plan
    (``rt_pcr``, its RT-PCR days) is followed: their last RT-PCR and first rostered day."""
    first_this_week: dict[int, date] = {}
    for staff_id, day, *_shift in roster:
        if monday <= day < monday + timedelta(days=7) and day < first_this_week.get(staff_id, date.max):
            first_this_week[staff_id] = day
    following = {}
    for staff_id in history.keys() | rt_pcr.keys() | first_this_week.keys():
        past = history.get(staff_id, schedule.History())
        days = rt_pcr.get(staff_id)
        following[staff_id] = schedule.History(
            last_rt_pcr=days[-1] if days else past.last_rt_pcr,
            first_rostered=past.first_rostered or first_this_week.get(staff_id),
        )
    return following


def over_days(lab: Lab | None, start: date, days: int = DAYS) -> list[LabDay]:
    """The days of ``[start, start + days)`` the lab is over capacity; none without a lab."""
    return [day for day in lab_outlook(lab, start, days) if day.over] if lab else []


def labs_over(start: date, days: int = DAYS) -> list[tuple[Lab, list[LabDay]]]:
    """Every lab with a day over capacity in ``[start, start + days)``, with those days,
    for the province overview; five queries."""
    labs = list(Lab.objects.order_by("name"))
    loads = outlooks(labs, start, days)
    return [(lab, over) for lab in labs if (over := [day for day in loads[lab.pk] if day.over])]
