"""Rule R1 as a pure function: who on a port call is cleared for cargo handover.

Nothing here touches the database or the clock: the caller passes the manifest, the
tests taken for the call (corrections already applied) and the moment to judge at.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _

from crews.choices import RT_PCR_KINDS, Screening, TestKind, TestResult

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

    @property
    def cleared(self) -> bool:
        return self.state == Screening.NEGATIVE

    @property
    def reason(self) -> str:
        return REASONS[self.reason_code]() if self.reason_code else ""


@dataclass
class CallClearance:
    status: str
    people: list[PersonScreening] = field(default_factory=list)

    @property
    def blocking(self) -> list[PersonScreening]:
        return [p for p in self.people if not p.cleared]

    @property
    def can_approve(self) -> bool:
        return bool(self.people) and not self.blocking

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
    "empty_manifest": lambda: _("Nobody is on the manifest."),
}


def screen_person(member: Any, tests: Sequence[Any], arrived_at: datetime, now: datetime, validity: Validity):
    """One person's state from their tests for this call, oldest first.

    A positive RT-PCR makes a confirmed case. A positive rapid test holds until an
    RT-PCR sampled after it answers it. Otherwise the latest result wins.
    """
    if not tests:
        return PersonScreening(member, Screening.UNTESTED, reason_code="untested")
    for test in reversed(tests):
        if test.kind in RT_PCR_KINDS and test.result == TestResult.POSITIVE:
            return PersonScreening(member, Screening.POSITIVE, test, "confirmed_case", confirmed_case=True)
    positive_rapid = next(
        (t for t in reversed(tests) if t.kind == TestKind.RAPID and t.result == TestResult.POSITIVE), None
    )
    if positive_rapid is not None and not any(
        t.kind in RT_PCR_KINDS and t.result == TestResult.NEGATIVE and t.sampled_at > positive_rapid.sampled_at
        for t in tests
    ):
        return PersonScreening(member, Screening.POSITIVE, positive_rapid, "positive_rapid")
    latest = tests[-1]
    if latest.result == TestResult.PENDING:
        return PersonScreening(member, Screening.PENDING, latest, "pending")
    if latest.result == TestResult.INVALID:
        return PersonScreening(member, Screening.INVALID, latest, "invalid")
    if latest.sampled_at < arrived_at:
        return PersonScreening(member, Screening.EXPIRED, latest, "before_arrival")
    if now - latest.sampled_at > validity.for_kind(latest.kind):
        return PersonScreening(member, Screening.EXPIRED, latest, "expired")
    return PersonScreening(member, Screening.NEGATIVE, latest)


def evaluate(
    *,
    arrived_at: datetime,
    departed_at: datetime | None,
    crew: Iterable[Any],
    tests_by_person: dict[int, list[Any]],
    latest_handover: Any,
    now: datetime,
    validity: Validity,
) -> CallClearance:
    """The port call's status and each person's screening.

    ``crew`` are manifest entries with a ``person_id``; ``tests_by_person`` maps a person
    to their tests for this call that no correction superseded, ordered by sample time.
    """
    people = [
        screen_person(member, tests_by_person.get(member.person_id, []), arrived_at, now, validity) for member in crew
    ]
    if departed_at is not None:
        status = PortCallStatus.DEPARTED
    elif any(p.confirmed_case for p in people):
        status = PortCallStatus.QUARANTINED
    elif latest_handover is not None and latest_handover.state == HandoverState.SUSPENDED:
        status = PortCallStatus.HANDOVER_SUSPENDED
    elif latest_handover is not None:
        status = PortCallStatus.HANDOVER_APPROVED
    elif any(p.state == Screening.POSITIVE for p in people):
        status = PortCallStatus.BLOCKED
    elif people and all(p.cleared for p in people):
        status = PortCallStatus.CLEARED
    else:
        status = PortCallStatus.AWAITING_TESTS
    return CallClearance(status, people)
