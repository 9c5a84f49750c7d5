"""Rule R7's lab capacity as pure functions: a lab's load per day against its capacity,
and the province balancing of stations sharing a lab. No database."""

from collections import Counter
from datetime import date, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crews.lab_capacity import (
    balance,
    balance_schedules,
    expected_single,
    lab_days,
    lab_load,
    pools_of,
    rt_pcr_days,
    station_cap,
)
from crews.schedule import History, RosterRow, Rules, plan_tests, plan_tuples

# Functions of plain values, no database: the embedded pass runs them (tests/conftest.py).
pytestmark = pytest.mark.pure

START = date(2021, 8, 9)  # a Monday


def day(n: int) -> date:
    return START + timedelta(days=n)


def test_a_day_is_over_capacity_when_singles_or_pools_exceed_it():
    days = lab_days({day(0): 4, day(1): 5}, {day(2): 11}, START, 4, capacity_single=10, capacity_pooled=4)
    assert [(d.single, d.pools, d.over) for d in days] == [(0, 4, False), (0, 5, True), (11, 0, True), (0, 0, False)]


def test_pools_are_counted_per_station_from_the_schedule():
    roster = [RosterRow(f"s{i}", day(d), "S1", time(6), time(14)) for i in range(12) for d in range(3)]
    planned = plan_tests(roster, START, 3)
    # The same plan at two stations: their pool ids repeat, but they are separate pools.
    pools = pools_of({"A": rt_pcr_days(planned), "B": rt_pcr_days(planned)}, 5, START, 3)
    samples = Counter(t.date for t in planned if t.kind == "rt_pcr")
    assert pools == Counter({d: 2 * -(-n // 5) for d, n in samples.items()})
    # As many as the schedule forms.
    formed = Counter(d for d, _pool in {(t.date, t.pool) for t in planned if t.pool})
    assert pools == Counter({d: 2 * n for d, n in formed.items()})


def test_expected_crew_samples_are_the_same_weekdays_mean_over_four_weeks():
    recent = [day(-7)] * 3 + [day(-14)] * 2 + [day(-28)] * 3 + [day(-29)] + [day(-6)]
    # day(-28) is exactly four weeks back: counted; day(-29) is not.
    expected = expected_single(recent, START, 7)
    assert expected[day(0)] == 2  # 8 Mondays' samples / 4, rounded up
    assert expected[day(1)] == 1  # 1 Tuesday sample / 4, rounded up
    assert day(2) not in expected


def test_two_stations_on_the_same_rotation_are_spread_across_the_lab():
    # Two stations of 3 staff, everyone tested on days 1 and 4 (and 7): day 1 carries 6.
    plan = {f"s{i}": (day(1), day(4), day(7)) for i in range(3)}
    plans = {"A": plan, "B": dict(plan)}
    before = lab_load(plans)
    after = lab_load(balance(plans, {"A": 3, "B": 3}, START, interval_days=3, end=day(9)))
    assert max(before.values()) == 6
    assert max(after.values()) == 3
    assert sum(after.values()) == sum(before.values())


def test_nothing_moves_before_the_period_nor_past_the_3_day_rule():
    plans = {"A": {"x": (day(0), day(3))}, "B": {"y": (day(0), day(3))}}
    assert balance(plans, {"A": 1, "B": 1}, START, end=day(6)) == plans
    # Without the period's end, a staff member's last sample stays where it is.
    plans = {"A": {"x": (day(1), day(4))}, "B": {"y": (day(1), day(4))}}
    assert balance(plans, {"A": 1, "B": 1}, START) == plans
    assert balance(plans, {"A": 1, "B": 1}, START, end=day(6)) != plans


def lab_pools(plans, pool_size, fixed=None) -> Counter:
    """The lab's pools per day (plus ``fixed``), as ``balance`` counts them."""
    return Counter(fixed or {}) + pools_of(plans, pool_size, START, 30)


def test_balancing_in_pools_moves_whole_pools():
    # Two stations of 10 staff, each tested on day 3 only: 4 pools of 5 that day. One
    # sample moved opens a pool the day before and closes none; five close one.
    plans = {s: {f"{s}{i}": (day(3),) for i in range(10)} for s in "AB"}
    result = balance(plans, {"A": 10, "B": 10}, START, end=day(5), pool_size=5)
    assert lab_pools(plans, 5) == Counter({day(3): 4})
    assert lab_pools(result, 5) == Counter({day(2): 2, day(3): 2})
    for station in "AB":
        assert Counter(days[0] for days in result[station].values()) == Counter({day(2): 5, day(3): 5})


def test_balancing_in_pools_opens_no_pool_that_closes_none():
    # Day 2: A's 5 (one full pool); day 3: A's 5 and B's 4 (two pools). Flattening the
    # samples would move two of B's to day 2: two pools on each day, one more pool to run.
    plans = {
        "A": {f"a{i}": (day(2 + i // 5),) for i in range(10)},
        "B": {f"b{i}": (day(3),) for i in range(4)},
    }
    counts = {"A": 10, "B": 4}
    in_samples = balance(plans, counts, START, end=day(5))
    assert lab_load(in_samples) == Counter({day(2): 7, day(3): 7})
    assert lab_pools(in_samples, 5) == Counter({day(2): 2, day(3): 2})
    assert balance(plans, counts, START, end=day(5), pool_size=5) == plans


def test_a_lab_with_one_station_keeps_r3s_plan():
    roster = [RosterRow(f"s{i}", day(d), "S1", time(6), time(14)) for i in range(16) for d in range(9)]
    planned = plan_tuples(roster, START, 7)
    assert balance_schedules({"A": planned}, {}, START, 7, Rules()) == {"A": rt_pcr_days(planned)}
    assert balance_schedules({"A": planned, "B": []}, {}, START, 7, Rules()) == {"A": rt_pcr_days(planned), "B": {}}


def test_two_stations_on_the_same_rotation_are_balanced_in_pools():
    # Two stations of 16 staff working every day, all last tested before the period on
    # the same day: R3 puts 6, 5 and 5 on the three days of each station's rotation, so
    # the lab runs 2 + 2 pools every third day and 1 + 1 the others. Balanced, one of the
    # six of one station moves a day earlier with its whole rotation: 3, 3 and 2 pools.
    roster = [RosterRow(i, day(d), "S1", time(6), time(14)) for i in range(16) for d in range(9)]
    history = {i: History(last_rt_pcr=day(-1)) for i in range(16)}
    planned = plan_tuples(roster, START, 7, history)
    plans = {"A": rt_pcr_days(planned), "B": rt_pcr_days(planned)}
    assert sorted(lab_pools(plans, 5).values()) == [2, 2, 2, 2, 2, 4, 4]
    result = balance_schedules({"A": planned, "B": planned}, {"A": history, "B": history}, START, 7, Rules())
    assert max(lab_pools(result, 5).values()) == 3
    assert sum(lab_load(result).values()) == sum(lab_load(plans).values())


# A staff member's RT-PCR days: a last sample before the period (or none), then gaps of
# 1..3 days, as R3 plans them.
staff_plan = st.tuples(
    st.one_of(st.none(), st.integers(-3, -1)),
    st.integers(0, 2),
    st.lists(st.integers(1, 3), max_size=5),
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from("ABC"),
        st.dictionaries(st.integers(0, 8), staff_plan, min_size=1, max_size=8),
        min_size=1,
    ),
    st.dictionaries(st.integers(0, 12), st.integers(0, 4)),
    st.one_of(st.none(), st.integers(1, 20)),
    st.sampled_from([1, 2, 5]),
)
def test_province_balancing_keeps_the_3_day_rule_the_station_caps_and_never_raises_the_peak(
    raw, raw_fixed, raw_end, pool_size
):
    plans, last = {}, {}
    for station, staff in raw.items():
        plans[station] = {}
        for person, (previous, first, gaps) in staff.items():
            if previous is not None and first - previous > 3:
                first = previous + 3
            days, current = [day(first)], first
            for gap in gaps:
                current += gap
                days.append(day(current))
            plans[station][person] = tuple(days)
            last[(station, person)] = day(previous) if previous is not None else None
    counts = {station: len(staff) for station, staff in plans.items()}
    fixed = {day(n): k for n, k in raw_fixed.items()}

    end = day(raw_end) if raw_end is not None else None
    result = balance(plans, counts, START, last, fixed, end=end, pool_size=pool_size)

    # What is balanced (pools, or samples with pools of one) gets flatter: its peak never
    # rises, nor its sum of squares. No sample is lost.
    before, after = lab_pools(plans, pool_size, fixed), lab_pools(result, pool_size, fixed)
    assert max(after.values(), default=0) <= max(before.values(), default=0)
    assert sum(n * n for n in after.values()) <= sum(n * n for n in before.values())
    assert sum(lab_load(result).values()) == sum(lab_load(plans).values())
    for station, plan in plans.items():
        cap = station_cap(counts[station])
        per_day_before = Counter(d for days in plan.values() for d in days)
        per_day_after = Counter(d for days in result[station].values() for d in days)
        for d, n in per_day_after.items():
            assert n <= max(cap, per_day_before[d])
        for person, days in plan.items():
            moved = result[station][person]
            # Each sample stays or moves one day earlier, never before the period; the
            # staff member's last one of the period still covers the period's last day.
            assert len(moved) == len(days)
            assert all(new in (old, old - timedelta(days=1)) for new, old in zip(moved, days, strict=True))
            assert all(new >= START for new in moved)
            if moved[-1] != days[-1]:
                assert end is not None and moved[-1] + timedelta(days=3) >= end
            # The 3-day rule: never more than 3 days from the previous RT-PCR.
            previous = last[(station, person)]
            chain = ([previous] if previous else []) + list(moved)
            assert all(0 < (b - a).days <= 3 for a, b in zip(chain, chain[1:], strict=False))


def test_balancing_a_real_schedule_keeps_every_worked_day_covered():
    # Three stations of 7 staff working every day: R3 plans each on its own rotation.
    roster = [RosterRow(f"s{i}", day(d), "S1", time(6), time(14)) for i in range(7) for d in range(12)]
    history = {f"s{i}": History(last_rt_pcr=day(-1 - i % 2)) for i in range(7)}
    planned = plan_tests(roster, START, 10, history)
    plan = {}
    for t in planned:
        if t.kind == "rt_pcr":
            plan.setdefault(t.staff, []).append(t.date)
    plans = {s: {p: tuple(d) for p, d in plan.items()} for s in "ABC"}
    last = {(s, p): h.last_rt_pcr for s in "ABC" for p, h in history.items()}
    result = balance(plans, dict.fromkeys("ABC", 7), START, last, end=day(10))
    assert max(lab_load(result).values()) < max(lab_load(plans).values())
    for station in result:
        for person, days in result[station].items():
            tested = [last[(station, person)], *days]
            for worked in range(10):
                assert any(0 <= (day(worked) - t).days < 3 for t in tested), (station, person, worked)
