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

The lab's capacity for staff samples is counted in pools, so the stations' plans are
balanced in **pools** (``pool_size``): a station's samples of a day make
``⌈samples / pool_size⌉`` pools, and a move of one sample often changes no pool count
or opens a new pool the day before. So the moves are tried in batches: the first ``k``
movable samples of a station's day (``k`` up to a pool), and the batch that flattens
the pools most is taken (the sum of squares of the pools falls; where the pools stay
as they are, that of the samples). A batch that opens a pool without closing one is
never taken; a whole pool moves when that lowers the busiest day.
``balance_schedules`` does this for the R3 schedules of a lab's stations over one
printed period. Crew samples are not part of it: they are single samples, a capacity
of their own, and their days are the crews', not the schedule's.
"""

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from math import ceil

from portguard.collation import vietnamese_key

from .schedule import RT_PCR, History, Rules

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
    pool_size: int = 1,
) -> dict[Hashable, dict[Hashable, tuple[date, ...]]]:
    """The stations' plans with some RT-PCRs moved one day earlier to flatten the lab's
    load (see the module's docstring). ``plans`` maps station → staff → RT-PCR days;
    ``last_rt_pcr`` gives (station, staff) → the last RT-PCR taken before ``start``;
    ``fixed`` is the lab's other load per day, in the unit balanced; ``end`` is the
    first day after the period (without it a staff member's last RT-PCR never moves).
    With ``pool_size`` above 1 the load is counted in pools: a station's samples of a
    day make ``⌈samples / pool_size⌉`` pools. Deterministic."""
    last_rt_pcr = last_rt_pcr or {}
    result = {station: {staff: sorted(days) for staff, days in plan.items()} for station, plan in plans.items()}
    original = {(station, staff): tuple(days) for station, plan in result.items() for staff, days in plan.items()}
    per_station = {station: Counter(d for days in plan.values() for d in days) for station, plan in result.items()}
    caps = {station: station_cap(staff_count.get(station, 0), interval_days) for station in result}
    # Who has a sample on each day, per station.
    holders: dict[tuple[Hashable, date], set[Hashable]] = defaultdict(set)
    for station, plan in result.items():
        for staff, days in plan.items():
            for d in days:
                holders[(station, d)].add(staff)
    one = timedelta(days=1)

    def units(samples: int) -> int:
        return -(-samples // pool_size)

    # The lab's load per day in the unit balanced (pools, or samples with a pool_size
    # of 1), and in samples, which breaks ties between moves that leave the pools as
    # they are.
    load, samples = Counter(fixed or {}), Counter(fixed or {})
    for counts in per_station.values():
        for d, n in counts.items():
            load[d] += units(n)
            samples[d] += n

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

    def effect(station, delta: Counter) -> tuple[int, int] | None:
        """How moving the samples of ``delta`` (day → change, at ``station``) changes the
        sums of squares of the lab's load and samples, or None where it breaks the
        station's cap or raises the lab's peak."""
        peak = max(load.values(), default=0)
        counts = per_station[station]
        change_load = change_samples = 0
        for d, change in delta.items():
            if change > 0 and counts[d] + change > max(caps[station], counts[d]):
                return None
            new_load = load[d] + units(counts[d] + change) - units(counts[d])
            if new_load > load[d] and new_load > peak:
                return None
            change_load += new_load**2 - load[d] ** 2
            change_samples += (samples[d] + change) ** 2 - samples[d] ** 2
        return change_load, change_samples

    def best_batch(station, day) -> list[tuple[Hashable, list[int]]] | None:
        """The first ``k`` staff of the station whose sample of ``day`` can move (``k`` up
        to a pool), for the ``k`` that flattens the load most, or None if none does."""
        batch, delta, best, best_effect = [], Counter(), None, (0, 0)
        for staff in sorted(holders[(station, day)], key=repr):
            days = result[station][staff]
            moved = chain(station, staff, days.index(day))
            if not moved:
                continue
            batch.append((staff, moved))
            for k in moved:
                delta[days[k]] -= 1
                delta[days[k] - one] += 1
            found = effect(station, delta)
            if found is not None and found < best_effect:
                best, best_effect = list(batch), found
            if len(batch) == pool_size:
                break
        return best

    def move(station, staff, moved) -> None:
        days, counts = result[station][staff], per_station[station]
        for k in moved:
            for d, change in ((days[k], -1), (days[k] - one, 1)):
                load[d] += units(counts[d] + change) - units(counts[d])
                samples[d] += change
                counts[d] += change
            holders[(station, days[k])].discard(staff)
            days[k] -= one
            holders[(station, days[k])].add(staff)

    moved_any = True
    while moved_any:
        moved_any = False
        # The busiest day first; among equals, the one with most samples, then the latest.
        for day in sorted(load, key=lambda d: (-load[d], -samples[d], -d.toordinal())):
            for station in sorted(result, key=repr):
                if batch := best_batch(station, day):
                    for staff, moved in batch:
                        move(station, staff, moved)
                    moved_any = True
                    break
            if moved_any:
                break
    return {station: {staff: tuple(days) for staff, days in plan.items()} for station, plan in result.items()}


def printed_order(full_name: str, id_number: str, pk: int) -> tuple:
    """The order a station's schedule prints its staff in, by name. Every station's staff
    are keyed by their rank in it when a lab's stations are planned and balanced, so the
    lab's plan is the same from each of its stations and from the lab's outlook."""
    return vietnamese_key(full_name), id_number, pk


def rt_pcr_days(planned: Iterable) -> dict[Hashable, tuple[date, ...]]:
    """Each staff member's RT-PCR days in a plan (``crews.schedule`` planned tests,
    records or tuples in ``PlannedTest``'s field order, sorted by date)."""
    days: dict[Hashable, list[date]] = defaultdict(list)
    for test in planned:
        if test[3] == RT_PCR:
            days[test[0]].append(test[1])
    return {staff: tuple(test_days) for staff, test_days in days.items()}


def balance_schedules(
    planned: Mapping[Hashable, Iterable],
    history: Mapping[Hashable, Mapping[Hashable, History]],
    start: date,
    days: int,
    rules: Rules,
) -> dict[Hashable, dict[Hashable, tuple[date, ...]]]:
    """The RT-PCR days of a lab's stations for ``[start, start + days)``, balanced in
    pools across the lab: ``planned`` maps station → its R3 plan of that period,
    ``history`` station → staff → ``History``. A lab with one station with RT-PCRs
    planned keeps its plan as it is (R3's own spread)."""
    plans = {station: rt_pcr_days(tests) for station, tests in planned.items()}
    if sum(1 for plan in plans.values() if plan) < 2:
        return plans
    last = {
        (station, staff): past.last_rt_pcr
        for station, staff_history in history.items()
        for staff, past in staff_history.items()
        if past.last_rt_pcr
    }
    return balance(
        plans,
        {station: len(plan) for station, plan in plans.items()},
        start,
        last,
        interval_days=rules.interval_days,
        end=start + timedelta(days=days),
        pool_size=rules.pool_size,
    )


def pools_of(plans: Mapping[Hashable, StationPlan], pool_size: int, start: date, days: int) -> Counter:
    """Pools of the lab per day of ``[start, start + days)``: each station's samples of a
    day grouped into pools of at most ``pool_size``, as the schedule forms them."""
    end = start + timedelta(days=days)
    pools = Counter()
    for plan in plans.values():
        for day, samples in Counter(d for test_days in plan.values() for d in test_days).items():
            if start <= day < end:
                pools[day] += -(-samples // pool_size)
    return pools
