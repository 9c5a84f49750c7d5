"""Rule R3 as pure functions: planned tests from a roster, and their compliance. No database."""

import math
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crews.schedule import (
    DONE,
    DUE,
    OVERDUE,
    RAPID,
    RT_PCR,
    VN,
    History,
    PlannedTest,
    RosterRow,
    Rules,
    TakenTest,
    judge,
    plan_tests,
)

# Functions of plain values, no database: the embedded pass runs them (tests/conftest.py).
pytestmark = pytest.mark.pure

START = date(2021, 8, 9)  # a Monday
SHIFTS = {"S1": (time(6), time(14)), "S2": (time(14), time(22)), "S3": (time(22), time(6))}


def row(staff, day: int, shift: str = "S1") -> RosterRow:
    starts, ends = SHIFTS[shift]
    return RosterRow(staff=staff, date=START + timedelta(days=day), shift=shift, starts=starts, ends=ends)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(START + timedelta(days=day), time(hour, minute), tzinfo=VN)


def rt_pcr_days(planned, staff) -> list[date]:
    return [p.date for p in planned if p.kind == RT_PCR and p.staff == staff]


def every_day(staff: list[str], days: int, shift: str = "S1") -> list[RosterRow]:
    return [row(s, d, shift) for s in staff for d in range(days)]


# --- Rapid tests after every shift ---------------------------------------------------


def test_rapid_test_is_due_from_the_end_of_the_day_shift_and_overdue_two_hours_later():
    (rapid,) = [p for p in plan_tests([row("lan", 0, "S1")], START, 1) if p.kind == RAPID]
    assert (rapid.staff, rapid.date, rapid.shift) == ("lan", START, "S1")
    assert rapid.due_from == at(0, 14) and rapid.due_by == at(0, 16)
    assert rapid.due_from.utcoffset() == timedelta(hours=7)


def test_night_shift_rapid_test_is_due_the_next_morning():
    (rapid,) = [p for p in plan_tests([row("lan", 0, "S3")], START, 1) if p.kind == RAPID]
    assert rapid.date == START
    assert rapid.due_from == at(1, 6) and rapid.due_by == at(1, 8)


def test_one_rapid_test_per_shift_worked_even_two_in_a_day():
    planned = plan_tests([row("lan", 0, "S1"), row("lan", 0, "S2"), row("lan", 1, "S1")], START, 2)
    rapids = [(p.date, p.shift) for p in planned if p.kind == RAPID]
    assert rapids == [(START, "S1"), (START, "S2"), (START + timedelta(days=1), "S1")]


def test_overdue_window_is_configurable():
    rules = Rules(overdue_after=timedelta(hours=4))
    (rapid,) = [p for p in plan_tests([row("lan", 0, "S2")], START, 1, rules=rules) if p.kind == RAPID]
    assert rapid.due_from == at(0, 22) and rapid.due_by == at(1, 2)


def test_shifts_outside_the_period_are_not_planned():
    roster = [row("lan", -1), row("lan", 0), row("lan", 2)]
    assert [p.date for p in plan_tests(roster, START, 2) if p.kind == RAPID] == [START]


def test_rules_refuse_an_empty_pool():
    with pytest.raises(ValueError):
        Rules(pool_size=0)


# --- RT-PCR every three days ---------------------------------------------------------


def test_new_staff_take_their_first_rt_pcr_within_three_days_of_their_first_shift():
    planned = plan_tests(every_day(["an"], 7), START, 7)
    days = rt_pcr_days(planned, "an")
    assert days[0] <= START + timedelta(days=3)
    assert all(b - a <= timedelta(days=3) for a, b in zip(days, days[1:], strict=False))


def test_three_staff_working_every_day_share_the_rt_pcr_samples_one_a_day():
    planned = plan_tests(every_day(["an", "binh", "chi"], 9), START, 9)
    per_day = Counter(p.date for p in planned if p.kind == RT_PCR)
    assert all(per_day[START + timedelta(days=d)] == 1 for d in range(1, 9))
    for staff in ("an", "binh", "chi"):
        days = rt_pcr_days(planned, staff)
        assert [b - a for a, b in zip(days, days[1:], strict=False)] == [timedelta(days=3)] * (len(days) - 1)


def test_the_next_rt_pcr_is_due_within_three_days_of_the_last_one_before_the_period():
    history = {"an": History(last_rt_pcr=START - timedelta(days=1))}
    days = rt_pcr_days(plan_tests(every_day(["an"], 7), START, 7, history), "an")
    assert START <= days[0] <= START + timedelta(days=2)


def test_staff_already_overdue_are_tested_on_their_first_day_even_if_that_day_is_crowded():
    staff = [f"s{i}" for i in range(9)]
    history = {s: History(last_rt_pcr=START - timedelta(days=5)) for s in staff}
    planned = plan_tests(every_day(staff, 3), START, 3, history)
    assert Counter(p.date for p in planned if p.kind == RT_PCR) == {START: 9}


def test_never_tested_staff_rostered_long_ago_are_overdue_at_once():
    history = {"an": History(first_rostered=START - timedelta(days=30))}
    assert rt_pcr_days(plan_tests(every_day(["an"], 3), START, 3, history), "an") == [START]


def test_staff_on_leave_are_not_tested_and_are_tested_by_their_first_day_back():
    roster = [row("an", d) for d in (0, 1, 2, 3, 10, 11)]
    days = rt_pcr_days(plan_tests(roster, START, 14), "an")
    assert days[0] <= START + timedelta(days=3)
    assert all(d <= START + timedelta(days=3) or d >= START + timedelta(days=8) for d in days)
    assert START + timedelta(days=8) <= days[-1] <= START + timedelta(days=10)


def test_rt_pcr_row_names_the_shift_worked_that_day_and_is_due_within_the_day():
    planned = plan_tests(every_day(["an"], 7, shift="S3"), START, 7)
    first = next(p for p in planned if p.kind == RT_PCR)
    assert first.shift == "S3"
    assert first.due_from == datetime.combine(first.date, time(0), tzinfo=VN)
    assert first.due_by == first.due_from + timedelta(days=1)


def test_rt_pcr_samples_are_pooled_by_five():
    staff = [f"s{i:02d}" for i in range(36)]
    planned = plan_tests(every_day(staff, 6), START, 6)
    pools = Counter(p.pool for p in planned if p.kind == RT_PCR)
    assert max(pools.values()) == 5
    assert all(p.pool.startswith(f"{p.date:%Y%m%d}-") for p in planned if p.kind == RT_PCR)
    assert all(p.pool == "" for p in planned if p.kind == RAPID)


def test_pool_size_is_configurable():
    staff = [f"s{i:02d}" for i in range(36)]
    planned = plan_tests(every_day(staff, 6), START, 6, rules=Rules(pool_size=2))
    assert max(Counter(p.pool for p in planned if p.kind == RT_PCR).values()) == 2


def test_plan_is_sorted_by_date_then_due_time():
    planned = plan_tests(every_day(["an", "binh"], 5, shift="S2") + every_day(["chi"], 5, shift="S1"), START, 5)
    assert planned == sorted(planned, key=lambda p: (p.date, p.due_from))


# --- Compliance ----------------------------------------------------------------------


def rapid_at(day: int, shift: str = "S1", staff="lan") -> PlannedTest:
    (rapid,) = [p for p in plan_tests([row(staff, day, shift)], START, day + 1) if p.kind == RAPID]
    return rapid


def test_rapid_test_in_its_window_is_done():
    plan = rapid_at(0)
    taken = TakenTest(staff="lan", kind="rapid", sampled_at=at(0, 14, 20), result="negative")
    (state,) = judge([plan], [taken], now=at(0, 15))
    assert state.state == DONE and state.taken == taken


def test_rapid_test_is_due_until_its_window_closes_then_overdue():
    plan = rapid_at(0)
    assert judge([plan], [], now=at(0, 12))[0].state == DUE
    assert judge([plan], [], now=at(0, 16))[0].state == DUE
    assert judge([plan], [], now=at(0, 16, 1))[0].state == OVERDUE


def test_sample_before_the_shift_ends_or_after_the_window_does_not_count():
    plan = rapid_at(0)
    early = TakenTest(staff="lan", kind="rapid", sampled_at=at(0, 13, 50))
    late = TakenTest(staff="lan", kind="rapid", sampled_at=at(0, 16, 30))
    assert judge([plan], [early, late], now=at(0, 17))[0].state == OVERDUE


def test_rt_pcr_sample_does_not_count_for_a_rapid_test_nor_another_persons_test():
    plan = rapid_at(0)
    others = [
        TakenTest(staff="lan", kind="rt_pcr", sampled_at=at(0, 14, 30)),
        TakenTest(staff="binh", kind="rapid", sampled_at=at(0, 14, 30)),
    ]
    assert judge([plan], others, now=at(0, 17))[0].state == OVERDUE


def test_pooled_rt_pcr_counts_for_a_planned_rt_pcr():
    plan = next(p for p in plan_tests(every_day(["lan"], 7), START, 7) if p.kind == RT_PCR)
    pooled = TakenTest(staff="lan", kind="rt_pcr_pooled", sampled_at=plan.due_from + timedelta(hours=9))
    assert judge([plan], [pooled], now=plan.due_by + timedelta(days=1))[0].state == DONE


def test_invalid_result_does_not_count_and_a_sample_counts_only_once():
    first, second = rapid_at(0, "S1"), rapid_at(0, "S2")
    invalid = TakenTest(staff="lan", kind="rapid", sampled_at=at(0, 14, 10), result="invalid")
    assert judge([first], [invalid], now=at(0, 17))[0].state == OVERDUE
    wide = Rules(overdue_after=timedelta(hours=12))
    first, second = (
        p for p in plan_tests([row("lan", 0, "S1"), row("lan", 0, "S2")], START, 1, rules=wide) if p.kind == RAPID
    )
    one = TakenTest(staff="lan", kind="rapid", sampled_at=at(0, 22, 30))
    states = judge([first, second], [one], now=at(1, 12))
    assert sorted(s.state for s in states) == [DONE, OVERDUE]


def test_sample_after_now_does_not_count_yet():
    plan = rapid_at(0)
    later = TakenTest(staff="lan", kind="rapid", sampled_at=at(0, 15))
    assert judge([plan], [later], now=at(0, 14, 30))[0].state == DUE


# --- Properties over random rosters --------------------------------------------------

DAYS = st.integers(min_value=1, max_value=21)
STAFF = st.integers(min_value=1, max_value=24)


@st.composite
def rosters(draw):
    """A random station: staff who each work some of the days, one or two shifts a day."""
    n = draw(STAFF)
    days = draw(DAYS)
    staff = [f"s{i:02d}" for i in range(n)]
    rows = []
    for person in staff:
        worked = draw(st.sets(st.integers(min_value=0, max_value=days - 1), min_size=1))
        for day in worked:
            for shift in draw(st.sets(st.sampled_from(sorted(SHIFTS)), min_size=1, max_size=2)):
                rows.append(row(person, day, shift))
    return staff, days, rows


@st.composite
def spread_history(draw, staff):
    """Last RT-PCRs before the period as a balanced station would have them: each of the
    last three days carries about a third; some staff are new."""
    order = draw(st.permutations(staff))
    history = {}
    for index, person in enumerate(order):
        if draw(st.booleans()):
            history[person] = History(last_rt_pcr=START - timedelta(days=1 + index % 3))
    return history


def coverage_anchor(history: dict, staff, rows: list[RosterRow]) -> date:
    past = history.get(staff, History())
    first_day = min(r.date for r in rows if r.staff == staff)
    return past.last_rt_pcr or past.first_rostered or first_day


def check_invariants(staff, roster, start, days, history, planned):
    rules = Rules()
    n = len(staff)
    end = start + timedelta(days=days)
    rows = [r for r in roster if start <= r.date < end]
    # One rapid test per shift worked, due from the shift's end, overdue two hours after.
    rapids = [p for p in planned if p.kind == RAPID]
    assert len(rapids) == len(set(rows))
    for p in rapids:
        starts, ends = SHIFTS[p.shift]
        end_day = p.date + timedelta(days=1) if ends <= starts else p.date
        assert p.due_from == datetime.combine(end_day, ends, tzinfo=VN)
        assert p.due_by - p.due_from == rules.overdue_after
    rt = [p for p in planned if p.kind == RT_PCR]
    # Inside the period, at most one a day per person.
    assert all(start <= p.date < end for p in rt)
    assert len({(p.staff, p.date) for p in rt}) == len(rt)
    # Every day worked is within three days of an RT-PCR (or the first rostered day).
    worked = defaultdict(set)
    for r in rows:
        worked[r.staff].add(r.date)
    for person, person_days in worked.items():
        samples = sorted([coverage_anchor(history, person, rows), *rt_pcr_days(planned, person)])
        for day in person_days:
            assert any(day - timedelta(days=rules.interval_days - 1) <= s <= day for s in samples), (person, day)
    # About a third of the station's samples a day.
    per_day = Counter(p.date for p in rt)
    assert max(per_day.values(), default=0) <= math.ceil(n / rules.interval_days) + 1
    # Pools of at most five, each on one day.
    pools = defaultdict(list)
    for p in rt:
        pools[p.pool].append(p)
    assert all(len(members) <= rules.pool_size for members in pools.values())
    assert all(len({p.date for p in members}) == 1 for members in pools.values())


@settings(max_examples=300, deadline=None)
@given(rosters())
def test_property_new_station_meets_every_rule(station):
    staff, days, rows = station
    planned = plan_tests(rows, START, days)
    check_invariants(staff, rows, START, days, {}, planned)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_property_station_with_spread_history_meets_every_rule(data):
    staff, days, rows = data.draw(rosters())
    history = data.draw(spread_history(staff))
    planned = plan_tests(rows, START, days, history)
    check_invariants(staff, rows, START, days, history, planned)


@settings(max_examples=300, deadline=None)
@given(rosters(), st.integers(min_value=1, max_value=20))
def test_property_consecutive_periods_keep_every_rule_across_the_boundary(station, split):
    """One roster printed as two periods: the second starts from the RT-PCRs the first
    planned, and the rules hold in both and across the boundary."""
    staff, days, rows = station
    split = min(split, days)
    first = plan_tests(rows, START, split)
    check_invariants(staff, rows, START, split, {}, first)
    second_start = START + timedelta(days=split)
    if split == days:
        return
    history = {}
    for person in staff:
        taken = rt_pcr_days(first, person)
        earlier = [r.date for r in rows if r.staff == person and r.date < second_start]
        history[person] = History(last_rt_pcr=taken[-1] if taken else None, first_rostered=min(earlier, default=None))
    second = plan_tests(rows, second_start, days - split, history)
    check_invariants(staff, rows, second_start, days - split, history, second)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=60))
def test_property_full_time_staff_split_into_thirds(n):
    staff = [f"s{i:02d}" for i in range(n)]
    planned = plan_tests(every_day(staff, 12), START, 12)
    per_day = Counter(p.date for p in planned if p.kind == RT_PCR)
    for day in range(1, 12):
        assert per_day[START + timedelta(days=day)] in (n // 3, math.ceil(n / 3))
