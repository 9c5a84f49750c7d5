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
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from .choices import RT_PCR_KINDS, TestKind, TestResult

VN = ZoneInfo("Asia/Ho_Chi_Minh")

RAPID = TestKind.RAPID.value
RT_PCR = TestKind.RT_PCR.value

DONE = "done"
DUE = "due"
OVERDUE = "overdue"


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

    Give the roster up to ``lookahead_days(rules)`` days past the period too: a shift
    there may need an RT-PCR inside the period, and planning it now keeps the samples
    spread across the boundary. Other rows outside the period are ignored. ``history``
    gives each staff member's last RT-PCR before ``start`` and first day ever rostered
    (by default their first day in the period). Sorted by date, due time, kind, staff.
    """
    end = start + timedelta(days=days)
    horizon = end + timedelta(days=lookahead_days(rules))
    rows = sorted({r for r in roster if start <= r.date < horizon}, key=lambda r: (r.date, r.starts, r.shift, r.staff))
    history = history or {}
    planned = [
        PlannedTest(
            staff=r.staff,
            date=r.date,
            shift=r.shift,
            kind=RAPID,
            due_from=(ended := shift_end(r.date, r.starts, r.ends, rules.tz)),
            due_by=ended + rules.overdue_after,
        )
        for r in rows
        if r.date < end
    ]
    worked: dict[Hashable, list[date]] = defaultdict(list)
    first_shift: dict[tuple[Hashable, date], str] = {}
    for r in rows:
        if (r.staff, r.date) not in first_shift:
            worked[r.staff].append(r.date)
            first_shift[(r.staff, r.date)] = r.shift
    rt_days = _rt_pcr_days(worked, start, history, rules.interval_days)
    by_day: dict[date, list[Hashable]] = defaultdict(list)
    for staff, test_days in rt_days.items():
        for day in test_days:
            if day < end:
                by_day[day].append(staff)
    for day in sorted(by_day):
        for index, staff in enumerate(sorted(by_day[day])):
            planned.append(
                PlannedTest(
                    staff=staff,
                    date=day,
                    shift=first_shift.get((staff, day), ""),
                    kind=RT_PCR,
                    due_from=day_start(day, rules.tz),
                    due_by=day_start(day + timedelta(days=1), rules.tz),
                    pool=f"{day:%Y%m%d}-{index // rules.pool_size + 1}",
                )
            )
    planned.sort(key=lambda p: (p.date, p.due_from, p.kind != RT_PCR, p.staff))
    return planned


def _rt_pcr_days(
    worked: Mapping[Hashable, Sequence[date]], start: date, history: Mapping[Hashable, History], interval: int
) -> dict[Hashable, list[date]]:
    """Each staff member's RT-PCR days: slot days that cover every day they work."""
    # The day each staff member first needs a new sample, and the earliest day it may be.
    first_need: dict[Hashable, tuple[date, date]] = {}
    for staff, days in worked.items():
        past = history.get(staff, History())
        anchor = past.last_rt_pcr or past.first_rostered or days[0]
        need = next((d for d in days if d >= anchor + timedelta(days=interval)), None)
        if need is not None:
            earliest = max(start, need - timedelta(days=interval - 1), anchor + timedelta(days=1))
            first_need[staff] = (earliest, need)
    slots = _deal_slots(first_need, interval)
    result: dict[Hashable, list[date]] = {}
    for staff, (_earliest, need) in first_need.items():
        slot = slots[staff]
        test_days: list[date] = []
        covered_until = None  # last day covered by the latest sample planned
        for day in worked[staff]:
            if day < need or (covered_until is not None and day <= covered_until):
                continue
            # The one slot day in [day - interval + 1, day]: after the previous sample, and
            # for the first one at or after ``earliest``, since the slot came from there.
            test_day = day - timedelta(days=(day.toordinal() - slot) % interval)
            test_days.append(test_day)
            covered_until = test_day + timedelta(days=interval - 1)
        result[staff] = test_days
    return result


def _deal_slots(first_need: Mapping[Hashable, tuple[date, date]], interval: int) -> dict[Hashable, int]:
    """Give each staff member a rotation slot, filling the emptiest slot they can make.

    Staff with the fewest slots to choose from go first; among equally empty slots the
    latest one wins, so nobody is tested earlier than needed without a reason.
    """
    load = [0] * interval
    slots: dict[Hashable, int] = {}

    def options(staff) -> list[int]:
        earliest, need = first_need[staff]
        span = min((need - earliest).days + 1, interval)
        # Latest day first: the preferred slot keeps the staff member's own rhythm.
        return [(need - timedelta(days=k)).toordinal() % interval for k in range(span)]

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
    do not count; one sample counts for one planned test only.
    """
    samples: dict[tuple[Hashable, str], list[TakenTest]] = defaultdict(list)
    for test in taken:
        if test.result != TestResult.INVALID and test.sampled_at <= now:
            samples[(test.staff, _family(test.kind))].append(test)
    for tests in samples.values():
        tests.sort(key=lambda t: t.sampled_at)
    order: dict[tuple[Hashable, str], list[int]] = defaultdict(list)
    for index, plan in enumerate(planned):
        order[(plan.staff, plan.kind)].append(index)
    matched: dict[int, TakenTest] = {}
    for key, indexes in order.items():
        tests = samples.get(key, [])
        # Windows of one kind all have the same length, so in order of start they are
        # also in order of end: the earliest unused sample in a window is the best match.
        position = 0
        for index in sorted(indexes, key=lambda i: planned[i].due_from):
            plan = planned[index]
            while position < len(tests) and tests[position].sampled_at < plan.due_from:
                position += 1
            if position < len(tests) and tests[position].sampled_at <= plan.due_by:
                matched[index] = tests[position]
                position += 1
    return [
        Judged(
            planned=plan,
            state=DONE if index in matched else (OVERDUE if now > plan.due_by else DUE),
            taken=matched.get(index),
        )
        for index, plan in enumerate(planned)
    ]


def _family(kind: str) -> str:
    return RT_PCR if kind in RT_PCR_KINDS else kind
