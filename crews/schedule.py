"""Rule R3 as pure functions: a KCS station's roster → the tests its staff owe, and
whether each was done.

Nothing here touches the database or the clock. The caller passes the roster, each
staff member's history (last RT-PCR before the period, first day ever rostered), the
period and the moment to judge at. Staff are identified by keys of one sortable type.

The rules:

- a **rapid test after every shift worked**, due from the shift's end (a shift ending
  at or before its start ends the next day) and overdue ``overdue_after`` later;
- an **RT-PCR at most every ``interval_days`` days**: a staff member who works on day
  ``w`` must have had an RT-PCR within the ``interval_days - 1`` days before it or on
  that day, counting their last RT-PCR before the period or, if they never had one,
  their first rostered day as if it were a sample. Days off need no cover, so someone back
  from leave is tested on or before their first day back. Each staff member gets a
  *rotation slot* (day number modulo ``interval_days``) and is tested on slot days
  only; slots are dealt out so each holds about ``1 / interval_days`` of the staff,
  which puts about a third of the station's samples on each day. A staff member whose
  history leaves no slot free in time (already overdue when the period starts) takes
  the least loaded slot they can still make;
- each day's RT-PCR samples are grouped into pools of at most ``pool_size``.
"""

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

from .choices import RT_PCR_KINDS, TestKind, TestResult

VN = ZoneInfo("Asia/Ho_Chi_Minh")

RAPID = TestKind.RAPID.value
RT_PCR = TestKind.RT_PCR.value

DONE = "done"
DUE = "due"
OVERDUE = "overdue"
# Off duty after a positive (rule R2 for KCS staff), until a negative RT-PCR sampled
# after it: not done, not owed either.
BLOCKED = "blocked"


@dataclass(frozen=True)
class Rules:
    overdue_after: timedelta = timedelta(hours=2)
    interval_days: int = 3
    pool_size: int = 5
    tz: ZoneInfo = VN

    def __post_init__(self):
        if self.overdue_after <= timedelta(0) or self.interval_days < 1 or self.pool_size < 1:
            raise ValueError("overdue_after, interval_days and pool_size must be positive.")


class RosterRow(NamedTuple):
    """One shift worked: ``date`` is the day the shift starts; times are local."""

    staff: Hashable
    date: date
    shift: str
    starts: time
    ends: time


@dataclass(frozen=True)
class History:
    """What is known of a staff member before the period starts."""

    last_rt_pcr: date | None = None
    first_rostered: date | None = None


class PlannedTest(NamedTuple):
    staff: Hashable
    date: date
    shift: str
    kind: str
    due_from: datetime
    due_by: datetime
    pool: str = ""


# Where ``assess`` finds the fields of a planned test given as a plain tuple.
_STAFF, _KIND, _DUE_FROM, _DUE_BY = (PlannedTest._fields.index(f) for f in ("staff", "kind", "due_from", "due_by"))


class TakenTest(NamedTuple):
    """A recorded test, as far as compliance cares."""

    staff: Hashable
    kind: str
    sampled_at: datetime
    result: str = TestResult.PENDING.value


class Judged(NamedTuple):
    planned: PlannedTest
    state: str
    taken: TakenTest | None = None


@lru_cache(maxsize=4096)  # a roster repeats the same few shifts on the same few days
def shift_end(day: date, starts: time, ends: time, tz: ZoneInfo = VN) -> datetime:
    """When a shift that starts on ``day`` ends; the night shift ends the next morning."""
    end_day = day + timedelta(days=1) if ends <= starts else day
    return datetime.combine(end_day, ends, tzinfo=tz)


@lru_cache(maxsize=4096)
def day_start(day: date, tz: ZoneInfo = VN) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def lookahead_days(rules: Rules = Rules()) -> int:
    """How many days of roster past a period its plan looks at."""
    return rules.interval_days - 1


def plan_tests(
    roster: Iterable[RosterRow],
    start: date,
    days: int,
    history: Mapping[Hashable, History] | None = None,
    rules: Rules = Rules(),
) -> list[PlannedTest]:
    """The tests owed in ``[start, start + days)``: a rapid test for each shift rostered
    in the period, and the RT-PCRs that fall in it.

    ``roster`` holds ``RosterRow``s or plain tuples of the same fields in the same order.
    Give it up to ``lookahead_days(rules)`` days past the period too: a shift
    there may need an RT-PCR inside the period, and planning it now keeps the samples
    spread across the boundary. Other rows outside the period are ignored. ``history``
    gives each staff member's last RT-PCR before ``start`` and first day ever rostered
    (by default their first day in the period). Sorted by date, due time, kind (RT-PCR
    first), staff.
    """
    return list(map(PlannedTest._make, plan_tuples(roster, start, days, history, rules)))


def plan_tuples(
    roster: Iterable[RosterRow],
    start: date,
    days: int,
    history: Mapping[Hashable, History] | None = None,
    rules: Rules = Rules(),
    rt_pcr_days: Mapping[Hashable, Sequence[date]] | None = None,
) -> list[tuple]:
    """``plan_tests`` as plain tuples in ``PlannedTest``'s field order, for callers that
    hold tens of thousands of planned tests at once: the garbage collector stops scanning
    a tuple of plain values after its first look, but scans records every time.

    ``rt_pcr_days`` replaces the RT-PCR days of the staff it names (the province
    balancing, ``crews.lab_capacity``); their days' pools are formed again."""
    end = start + timedelta(days=days)
    horizon = end + timedelta(days=lookahead_days(rules))
    # A station has a few shifts and thousands of rows: group the rows by shift and day,
    # so each shift's times are worked out once per day rather than once per row.
    crews: dict[tuple[date, time, str, time], set[Hashable]] = defaultdict(set)
    for staff, day, shift, starts, ends in roster:
        if start <= day < horizon:
            crews[(day, starts, shift, ends)].add(staff)
    worked: dict[Hashable, list[date]] = defaultdict(list)
    first_shift: dict[tuple[Hashable, date], str] = {}
    # Rapid tests by day, then by due time: (staff, shift starts, shift) and the deadline.
    rapid: dict[date, dict[datetime, list[tuple[Hashable, time, str, datetime]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for day, starts, shift, ends in sorted(crews):
        staff = sorted(crews[(day, starts, shift, ends)])
        for person in staff:
            if (person, day) not in first_shift:
                worked[person].append(day)
                first_shift[(person, day)] = shift
        if day < end:
            due_from = shift_end(day, starts, ends, rules.tz)
            due_by = due_from + rules.overdue_after
            rapid[day][due_from] += [(person, starts, shift, due_by) for person in staff]
    rt_days = _rt_pcr_days(worked, start, history or {}, rules.interval_days)
    if rt_pcr_days:
        rt_days |= rt_pcr_days
    rt_pcr: dict[date, list[Hashable]] = defaultdict(list)
    for staff, test_days in rt_days.items():
        for day in test_days:
            if day < end:
                rt_pcr[day].append(staff)
    planned: list[tuple] = []
    # A day's RT-PCRs are due from its first moment, before any shift of that day ends.
    for day in sorted(rt_pcr.keys() | rapid.keys()):
        due_from, due_by = day_start(day, rules.tz), day_start(day + timedelta(days=1), rules.tz)
        pool = f"{day:%Y%m%d}-{{}}".format
        planned += [
            (
                staff,
                day,
                first_shift.get((staff, day), ""),
                RT_PCR,
                due_from,
                due_by,
                pool(index // rules.pool_size + 1),
            )
            for index, staff in enumerate(sorted(rt_pcr.get(day, ())))
        ]
        by_due = rapid.get(day, {})
        for due_from in sorted(by_due):
            planned += [
                (staff, day, shift, RAPID, due_from, due_by, "")
                for staff, _starts, shift, due_by in sorted(by_due[due_from])
            ]
    return planned


def _rt_pcr_days(
    worked: Mapping[Hashable, Sequence[date]], start: date, history: Mapping[Hashable, History], interval: int
) -> dict[Hashable, tuple[date, ...]]:
    """Each staff member's RT-PCR days: slot days that cover every day they work.

    ``worked`` lists each staff member's days in order.
    """
    # The day each staff member first needs a new sample, and the earliest day it may be,
    # as day numbers (ordinals): the loops below run once per day worked.
    first_need: dict[Hashable, tuple[int, int]] = {}
    no_history = History()
    first_day = start.toordinal()
    for staff, days in worked.items():
        past = history.get(staff, no_history)
        anchor = (past.last_rt_pcr or past.first_rostered or days[0]).toordinal()
        need = next((n for d in days if (n := d.toordinal()) >= anchor + interval), None)
        if need is not None:
            first_need[staff] = (max(first_day, need - interval + 1, anchor + 1), need)
    slots = _deal_slots(first_need, interval)
    result: dict[Hashable, tuple[date, ...]] = {}
    for staff, (_earliest, need) in first_need.items():
        slot = slots[staff]
        test_days: list[date] = []
        covered_until = need - 1  # last day covered by the latest sample planned
        for day in worked[staff]:
            number = day.toordinal()
            if number <= covered_until:
                continue
            # The one slot day in [day - interval + 1, day]: after the previous sample, and
            # for the first one at or after ``earliest``, since the slot came from there.
            test_day = number - (number - slot) % interval
            test_days.append(date.fromordinal(test_day))
            covered_until = test_day + interval - 1
        result[staff] = tuple(test_days)  # a tuple of dates drops out of the GC's sight
    return result


def _deal_slots(first_need: Mapping[Hashable, tuple[int, int]], interval: int) -> dict[Hashable, int]:
    """Give each staff member a rotation slot, filling the emptiest slot they can make.

    Staff with the fewest slots to choose from go first; among equally empty slots the
    latest one wins, so nobody is tested earlier than needed without a reason.
    """
    load = [0] * interval
    slots: dict[Hashable, int] = {}

    def options(staff) -> list[int]:
        earliest, need = first_need[staff]
        # Latest day first: the preferred slot keeps the staff member's own rhythm.
        return [(need - k) % interval for k in range(min(need - earliest + 1, interval))]

    order = sorted(first_need, key=lambda s: (len(options(s)), first_need[s][1], s))
    for staff in order:
        choices = options(staff)
        best = min(choices, key=lambda slot: (load[slot], choices.index(slot)))
        slots[staff] = best
        load[best] += 1
    return slots


def judge(planned: Sequence[PlannedTest], taken: Iterable[TakenTest], now: datetime) -> list[Judged]:
    """Each planned test's state at ``now``, in the order given.

    A planned test is *done* when a test of its kind (a rapid test for a rapid one, any
    RT-PCR for an RT-PCR) was sampled inside its window, *overdue* once ``due_by`` has
    passed without one, and *due* until then. Invalid results and samples after ``now``
    do not count; one sample counts for one planned test only. From a positive on, the
    staff member is *blocked* from duty until a negative RT-PCR sampled after it (an
    individual one after a positive pool): the planned tests whose windows reach into
    that span are *blocked*, unless a sample before the positive had done them.
    """
    states, matched = assess(planned, taken, now)
    return [
        Judged(plan, state, matched.get(index)) for index, (plan, state) in enumerate(zip(planned, states, strict=True))
    ]


def assess(
    planned: Sequence[PlannedTest], taken: Iterable[TakenTest], now: datetime
) -> tuple[list[str], dict[int, TakenTest]]:
    """``judge`` without a record per planned test: the states in the order given, and
    the test matched to each done one by its position in ``planned``. Both sequences
    may hold plain tuples in their records' field order (see ``plan_tuples``)."""
    # Comparing datetimes of two zones converts both to UTC each time: convert every moment
    # once (the plan shares a few hundred window bounds) and compare in UTC.
    now = now.astimezone(UTC)
    samples: dict[tuple[Hashable, str], list[tuple[datetime, TakenTest]]] = defaultdict(list)
    taken_by_staff: dict[Hashable, list[tuple[datetime, str, str]]] = defaultdict(list)
    for test in taken:
        staff, kind, sampled_at, result = test
        sampled_at = sampled_at.astimezone(UTC)
        if result != TestResult.INVALID and sampled_at <= now:
            samples[(staff, _family(kind))].append((sampled_at, test))
            if result in (TestResult.POSITIVE, TestResult.NEGATIVE):
                taken_by_staff[staff].append((sampled_at, kind, result))
    # The planned tests that have samples to match, by staff member and kind.
    order: dict[tuple[Hashable, str], list[int]] = defaultdict(list)
    for index, plan in enumerate(planned):
        if (key := (plan[_STAFF], plan[_KIND])) in samples:
            order[key].append(index)
    utc = {moment: moment.astimezone(UTC) for moment in {plan[i] for plan in planned for i in (_DUE_FROM, _DUE_BY)}}
    due_from = [utc[plan[_DUE_FROM]] for plan in planned]
    due_by = [utc[plan[_DUE_BY]] for plan in planned]
    matched: dict[int, TakenTest] = {}
    for key, indexes in order.items():
        tests = samples[key]
        tests.sort(key=itemgetter(0))
        # Windows of one kind all have the same length, so in order of start they are
        # also in order of end: the earliest unused sample in a window is the best match.
        position = 0
        for index in sorted(indexes, key=due_from.__getitem__):
            while position < len(tests) and tests[position][0] < due_from[index]:
                position += 1
            if position < len(tests) and tests[position][0] <= due_by[index]:
                matched[index] = tests[position][1]
                position += 1
    states = [OVERDUE if now > moment else DUE for moment in due_by]
    for index in matched:
        states[index] = DONE
    spans = blocked_spans(taken_by_staff)
    if spans:
        for index, plan in enumerate(planned):
            for start, end in spans.get(plan[_STAFF], ()):
                if due_by[index] < start or (end is not None and due_from[index] >= end):
                    continue
                if index in matched and matched[index][2].astimezone(UTC) < start:
                    continue
                states[index] = BLOCKED
                break
    return states, matched


def blocked_spans(
    taken_by_staff: Mapping[Hashable, list[tuple[datetime, str, str]]],
) -> dict[Hashable, list[tuple[datetime, datetime | None]]]:
    """When each staff member was blocked from duty: from a positive to the first
    negative RT-PCR sampled after it (individual, once a pool was positive), or still.
    ``taken_by_staff`` holds each one's ``(sampled_at in UTC, kind, result)``."""
    spans: dict[Hashable, list[tuple[datetime, datetime | None]]] = {}
    for staff, tests in taken_by_staff.items():
        start, pooled = None, False
        for sampled_at, kind, result in sorted(tests, key=itemgetter(0)):
            if result == TestResult.POSITIVE:
                start = start or sampled_at
                pooled = pooled or kind == TestKind.RT_PCR_POOLED
            elif (
                start is not None
                and result == TestResult.NEGATIVE
                and sampled_at > start
                and (kind == TestKind.RT_PCR or (kind in RT_PCR_KINDS and not pooled))
            ):
                spans.setdefault(staff, []).append((start, sampled_at))
                start, pooled = None, False
        if start is not None:
            spans.setdefault(staff, []).append((start, None))
    return spans


def _family(kind: str) -> str:
    return RT_PCR if kind in RT_PCR_KINDS else kind
