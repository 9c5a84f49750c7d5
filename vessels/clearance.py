"""Rule R1 as a pure function: who on a port call is cleared for cargo handover, with
what rules R2 and R4 add to it (quarantine releases, arrivals from epidemic areas).

Nothing here touches the database or the clock: the caller passes the manifest, the
tests taken for the call (corrections already applied), the cases a quarantine release
covered, whether only RT-PCR clears, and the moment to judge at.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _

from crews.choices import RT_PCR_KINDS, Screening, TestKind, TestResult
from portguard.collation import fold_place

from .choices import HandoverState, PortCallStatus


@dataclass(frozen=True)
class Validity:
    rapid: timedelta
    rt_pcr: timedelta

    def for_kind(self, kind: str) -> timedelta:
        return self.rt_pcr if kind in RT_PCR_KINDS else self.rapid


@dataclass
class PersonScreening:
    member: Any
    state: str
    test: Any = None
    reason_code: str = ""
    confirmed_case: bool = False
    repeat_offender: bool = False

    @property
    def cleared(self) -> bool:
        return self.state == Screening.NEGATIVE

    @property
    def reason(self) -> str:
        return REASONS[self.reason_code]() if self.reason_code else ""


@dataclass
class CallClearance:
    """A port call's status and each person's screening, with the flags every page shows
    beside the status: origin in an epidemic area (R4), repeat offenders (R5)."""

    status: str
    people: list[PersonScreening] = field(default_factory=list)
    origin_flagged: bool = False
    repeat_vessel: bool = False
    release: Any = None
    released_cases: frozenset[int] = frozenset()

    @property
    def repeat_offender(self) -> bool:
        return self.repeat_vessel or any(p.repeat_offender for p in self.people)

    @property
    def blocking(self) -> list[PersonScreening]:
        return [p for p in self.people if not p.cleared]

    @property
    def can_approve(self) -> bool:
        return bool(self.people) and not self.blocking

    @property
    def awaits_approval(self) -> bool:
        """Everyone on board cleared and handover not approved yet: what the approvals
        page lists as waiting, and every dashboard counts the same way."""
        return self.status != PortCallStatus.HANDOVER_APPROVED and self.can_approve

    @property
    def tested_count(self) -> int:
        return sum(1 for p in self.people if p.state != Screening.UNTESTED)

    @property
    def negative_count(self) -> int:
        return sum(1 for p in self.people if p.cleared)


REASONS = {
    "untested": lambda: _("No test taken for this port call."),
    "pending": lambda: _("Result pending."),
    "invalid": lambda: _("Invalid result: test again."),
    "expired": lambda: _("Negative result too old: test again."),
    "before_arrival": lambda: _("Sample taken before the vessel arrived."),
    "positive_rapid": lambda: _("Positive rapid test, awaiting RT-PCR confirmation."),
    "confirmed_case": lambda: _("Confirmed case (positive RT-PCR)."),
    "pool_positive": lambda: _("In a positive RT-PCR pool: awaiting an individual retest."),
    "released_case": lambda: _("Confirmed case, quarantine released: a negative RT-PCR sampled after it clears."),
    "rt_pcr_required": lambda: _("Arrived from an epidemic area: only a negative RT-PCR clears."),
    "empty_manifest": lambda: _("Nobody is on the manifest."),
}


def screen_person(
    member: Any,
    tests: Sequence[Any],
    arrived_at: datetime,
    now: datetime,
    validity: Validity,
    released_cases: frozenset[int] = frozenset(),
    rt_pcr_only: bool = False,
):
    """One person's state from their tests for this call, oldest first.

    A positive individual RT-PCR makes a confirmed case, which quarantines the call
    until a release covers it (``released_cases`` holds the covered tests' ids); once
    released it holds, like a positive rapid test, until a negative RT-PCR sampled after
    it. A positive rapid test holds until an RT-PCR sampled after it answers it. A
    positive pool confirms nobody: each member awaits an individual retest, and only an
    individual RT-PCR sampled after the pool answers it. Otherwise the latest result
    wins; with ``rt_pcr_only`` (arrivals from an epidemic area) a rapid negative does not
    clear, an RT-PCR negative must.
    """
    if not tests:
        return PersonScreening(member, Screening.UNTESTED, reason_code="untested")
    cases = [t for t in tests if t.kind == TestKind.RT_PCR and t.result == TestResult.POSITIVE]
    unreleased = [t for t in cases if t.pk not in released_cases]
    if unreleased:
        return PersonScreening(member, Screening.POSITIVE, unreleased[-1], "confirmed_case", confirmed_case=True)
    if cases and not _answered(cases[-1], tests):
        return PersonScreening(member, Screening.POSITIVE, cases[-1], "released_case")
    positive_rapid = next(
        (t for t in reversed(tests) if t.kind == TestKind.RAPID and t.result == TestResult.POSITIVE), None
    )
    if positive_rapid is not None and not _answered(positive_rapid, tests):
        return PersonScreening(member, Screening.POSITIVE, positive_rapid, "positive_rapid")
    pool = next(
        (t for t in reversed(tests) if t.kind == TestKind.RT_PCR_POOLED and t.result == TestResult.POSITIVE), None
    )
    if pool is not None and not _retested(pool, tests):
        return PersonScreening(member, Screening.RETEST, pool, "pool_positive")
    latest = tests[-1]
    if latest.result == TestResult.PENDING:
        return PersonScreening(member, Screening.PENDING, latest, "pending")
    if latest.result == TestResult.INVALID:
        return PersonScreening(member, Screening.INVALID, latest, "invalid")
    if rt_pcr_only and latest.kind not in RT_PCR_KINDS:
        rt_pcr = next((t for t in reversed(tests) if t.kind in RT_PCR_KINDS), None)
        if rt_pcr is None or rt_pcr.result != TestResult.NEGATIVE:
            return PersonScreening(member, Screening.EXPIRED, latest, "rt_pcr_required")
        latest = rt_pcr
    if latest.sampled_at < arrived_at:
        return PersonScreening(member, Screening.EXPIRED, latest, "before_arrival")
    if now - latest.sampled_at > validity.for_kind(latest.kind):
        return PersonScreening(member, Screening.EXPIRED, latest, "expired")
    return PersonScreening(member, Screening.NEGATIVE, latest)


def _answered(positive: Any, tests: Sequence[Any]) -> bool:
    """Whether a negative RT-PCR sampled after ``positive`` answers it."""
    return any(
        t.kind in RT_PCR_KINDS and t.result == TestResult.NEGATIVE and t.sampled_at > positive.sampled_at for t in tests
    )


def _retested(pool: Any, tests: Sequence[Any]) -> bool:
    """Whether an individual RT-PCR sampled after a positive ``pool`` answers it."""
    return any(t.kind == TestKind.RT_PCR and t.result in ANSWERS and t.sampled_at > pool.sampled_at for t in tests)


ANSWERS = frozenset({TestResult.NEGATIVE, TestResult.POSITIVE})


def evaluate(
    *,
    arrived_at: datetime,
    departed_at: datetime | None,
    crew: Iterable[Any],
    tests_by_person: dict[int, list[Any]],
    latest_handover: Any,
    now: datetime,
    validity: Validity,
    released_cases: frozenset[int] = frozenset(),
    rt_pcr_only: bool = False,
) -> CallClearance:
    """The port call's status and each person's screening.

    ``crew`` are manifest entries with a ``person_id``; ``tests_by_person`` maps a person
    to their tests for this call that no correction superseded, ordered by sample time.
    ``released_cases`` are the confirming tests a quarantine release covered; ``rt_pcr_only``
    says that only a negative RT-PCR clears (an arrival from an epidemic area, rule R4).
    """
    people = [
        screen_person(
            member, tests_by_person.get(member.person_id, []), arrived_at, now, validity, released_cases, rt_pcr_only
        )
        for member in crew
    ]
    if departed_at is not None:
        status = PortCallStatus.DEPARTED
    elif any(p.confirmed_case for p in people):
        status = PortCallStatus.QUARANTINED
    elif latest_handover is not None and latest_handover.state == HandoverState.SUSPENDED:
        status = PortCallStatus.HANDOVER_SUSPENDED
    elif latest_handover is not None:
        status = PortCallStatus.HANDOVER_APPROVED
    elif any(p.state in HOLDS for p in people):
        status = PortCallStatus.BLOCKED
    elif people and all(p.cleared for p in people):
        status = PortCallStatus.CLEARED
    else:
        status = PortCallStatus.AWAITING_TESTS
    return CallClearance(status, people)


# States that block a call until answered (not merely not cleared yet).
HOLDS = frozenset({Screening.POSITIVE, Screening.RETEST})


# --- Rule R4: is the origin in an epidemic area? ----------------------------------

# Words that name the kind of place, not the place: "Tỉnh Hải Dương" is "Hải Dương".
_PLACE_KINDS = re.compile(r"^(tinh|thanh pho|tp|quan|huyen|thi xa|tx|thi tran)\b\.?\s*")


def place_name(text: str) -> str:
    """A place's own name, folded, without the word for its kind (tỉnh, huyện, TP…)."""
    return _PLACE_KINDS.sub("", fold_place(text)).strip()


@dataclass(frozen=True)
class Area:
    """An epidemic area as plain data: a province, or one district of it."""

    province: str
    district: str
    active_from: date
    active_to: date | None

    def active_on(self, day: date) -> bool:
        return self.active_from <= day and (self.active_to is None or day <= self.active_to)

    def named_in(self, origin: str) -> bool:
        """Whether ``origin`` names this area: its district if it has one, else its
        province, as a whole word, whatever the case or the diacritics."""
        name = place_name(self.district or self.province)
        return bool(name) and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", fold_place(origin)) is not None


def origin_flagged(origin: str, arrived_on: date, areas: Iterable[Area]) -> bool:
    """Rule R4: the origin is in an area that was active on the day of arrival."""
    return bool(origin.strip()) and any(a.active_on(arrived_on) and a.named_in(origin) for a in areas)
