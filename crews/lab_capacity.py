"""Rule R7's lab capacity as pure functions: a lab's planned RT-PCR load per day against
its daily capacity, and the province balancing of the stations that share a lab.

Nothing here touches the database or the clock. The caller passes the R3 schedules of
the lab's stations (``crews.schedule`` output, or each staff member's RT-PCR days), the
expected crew RT-PCRs per day and the lab's capacity.

A lab has two capacities a day: **single** samples (crew RT-PCRs, one sample a run)
and **pools** (KCS staff RT-PCRs, grouped by the schedule into pools of at most
``pool_size``, one pool a run). A day is over capacity when either count exceeds its
capacity.

**Province balancing.** R3 spreads each station's samples over the 3-day rotation
(at most ``⌈n / 3⌉ + 1`` a day for ``n`` staff), but stations sharing a lab may still
pile their samples on the same day. ``balance`` moves some staff members' RT-PCR one
day earlier (never later), while:

- the moved sample stays after the staff member's previous RT-PCR (planned, or last
  taken before the period) and not before the period's first day;
- the gap to the staff member's *next* planned RT-PCR stays at most ``interval_days``
  (so every day the moved sample covered is still covered): where it would not, the
  next sample moves one day earlier too, and so on (a rotation shifted by a day); a
  staff member's last RT-PCR of the period moves only if it still covers the period's
  last day;
- a sample moves at most once, so it is never more than one day earlier than R3 put it;
- the station's day stays within ``⌈n / 3⌉ + 1`` (or its count before, if R3 had to
  go over it);
- no day of the lab goes above the current peak, and the load gets flatter (its sum of
  squares falls with each move), so the peak never rises and the loop ends.
"""

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from math import ceil

from .schedule import RT_PCR

# A station's RT-PCR plan: staff member → RT-PCR days in order.
StationPlan = Mapping[Hashable, Sequence[date]]


@dataclass(frozen=True)
class LabDay:
    date: date
    single: int
    pools: int
    capacity_single: int
    capacity_pooled: int

    @property
    def over(self) -> bool:
        return self.single > self.capacity_single or self.pools > self.capacity_pooled


def station_cap(staff_count: int, interval_days: int = 3) -> int:
    """R3's most RT-PCR samples a station puts on one day: ``⌈n / 3⌉ + 1``."""
    return ceil(staff_count / interval_days) + 1


def pools_per_day(planned: Iterable, start: date, days: int) -> Counter:
    """Pools of the lab's stations per day, from ``crews.schedule`` planned tests (records
    or tuples in ``PlannedTest``'s field order), one station's plan after another: a
    pool is a distinct (station, pool id) pair, so the caller passes
    ``(station, planned)`` pairs."""
    end = start + timedelta(days=days)
    seen: set[tuple[Hashable, date, str]] = set()
    for station, tests in planned:
        for test in tests:
            day, kind, pool = test[1], test[3], test[6]
            if kind == RT_PCR and start <= day < end:
                seen.add((station, day, pool))
    return Counter(day for _station, day, _pool in seen)


def lab_days(
    pools: Mapping[date, int],
    single: Mapping[date, int],
    start: date,
    days: int,
    capacity_single: int,
    capacity_pooled: int,
) -> list[LabDay]:
    """The lab's load for each day of ``[start, start + days)``."""
    return [
        LabDay(day, single.get(day, 0), pools.get(day, 0), capacity_single, capacity_pooled)
        for day in (start + timedelta(days=k) for k in range(days))
    ]


def expected_single(recent: Iterable[date], start: date, days: int, weeks: int = 4) -> Counter:
    """Crew RT-PCRs to expect per day: the mean, over the last ``weeks`` weeks, of the crew
    RT-PCRs taken on the same weekday (rounded up). ``recent`` holds the days of those
    taken in the ``weeks`` weeks before ``start``."""
    by_weekday = Counter(day.weekday() for day in recent if start - timedelta(weeks=weeks) <= day < start)
    expected = Counter()
    for k in range(days):
        day = start + timedelta(days=k)
        if by_weekday[day.weekday()]:
            expected[day] = ceil(by_weekday[day.weekday()] / weeks)
    return expected


def lab_load(plans: Mapping[Hashable, StationPlan], fixed: Mapping[date, int] | None = None) -> Counter:
    """Samples per day across the stations' plans, plus ``fixed`` ones."""
    load = Counter(fixed or {})
    for plan in plans.values():
        for test_days in plan.values():
            load.update(test_days)
    return load


def balance(
    plans: Mapping[Hashable, StationPlan],
    staff_count: Mapping[Hashable, int],
    start: date,
    last_rt_pcr: Mapping[tuple[Hashable, Hashable], date | None] | None = None,
    fixed: Mapping[date, int] | None = None,
    interval_days: int = 3,
    end: date | None = None,
) -> dict[Hashable, dict[Hashable, tuple[date, ...]]]:
    """The stations' plans with some RT-PCRs moved one day earlier to flatten the lab's
    load (see the module's docstring). ``plans`` maps station → staff → RT-PCR days;
    ``last_rt_pcr`` gives (station, staff) → the last RT-PCR taken before ``start``;
    ``fixed`` is the lab's other load per day (crew samples); ``end`` is the first day
    after the period (without it a staff member's last RT-PCR never moves).
    Deterministic."""
    last_rt_pcr = last_rt_pcr or {}
    result = {station: {staff: sorted(days) for staff, days in plan.items()} for station, plan in plans.items()}
    original = {(station, staff): tuple(days) for station, plan in result.items() for staff, days in plan.items()}
    load = lab_load(result, fixed)
    per_station = {station: Counter(d for days in plan.values() for d in days) for station, plan in result.items()}
    caps = {station: station_cap(staff_count.get(station, 0), interval_days) for station in result}
    one = timedelta(days=1)

    def chain(station, staff, index) -> list[int] | None:
        """The samples to move with this one: it and the ones after it up to the first
        whose next sample stays within ``interval_days`` of it once moved."""
        days, first = result[station][staff], original[(station, staff)]
        previous = days[index - 1] if index else last_rt_pcr.get((station, staff))
        if days[index] - one < start or (previous is not None and days[index] - one <= previous):
            return None
        moved = []
        for k in range(index, len(days)):
            if days[k] != first[k]:
                return None  # a sample moves once at most
            moved.append(k)
            if k + 1 < len(days):
                if (days[k + 1] - (days[k] - one)).days <= interval_days:
                    return moved
            elif end is not None and (days[k] - one) + timedelta(days=interval_days) >= end:
                return moved
        return None

    def gain(station, staff, moved) -> bool:
        """Whether moving these samples keeps the station's caps and the peak, and
        flattens the load (the sum of squares falls, so the loop ends)."""
        days = result[station][staff]
        delta = Counter()
        for k in moved:
            delta[days[k]] -= 1
            delta[days[k] - one] += 1
        peak = max(load.values(), default=0)
        for d, change in delta.items():
            if change > 0 and (per_station[station][d] + change > max(caps[station], per_station[station][d])):
                return False
            if change > 0 and load[d] + change > peak:
                return False
        return sum((load[d] + c) ** 2 - load[d] ** 2 for d, c in delta.items()) < 0

    moved_any = True
    while moved_any:
        moved_any = False
        # The busiest day first; among equals, the latest.
        for day in sorted(load, key=lambda d: (-load[d], -d.toordinal())):
            for station in sorted(result, key=repr):
                for staff in sorted(result[station], key=repr):
                    days = result[station][staff]
                    if day not in days:
                        continue
                    moved = chain(station, staff, days.index(day))
                    if moved and gain(station, staff, moved):
                        for k in moved:
                            load[days[k]] -= 1
                            per_station[station][days[k]] -= 1
                            days[k] -= one
                            load[days[k]] += 1
                            per_station[station][days[k]] += 1
                        moved_any = True
            if moved_any:
                break
    return {station: {staff: tuple(days) for staff, days in plan.items()} for station, plan in result.items()}
