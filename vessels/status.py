"""A port call's state as the rules read it (R1 with R2, R4, R5), for many calls in a
constant number of queries, and as the dashboards show it."""

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crews.choices import CrewRole, TestKind, TestResult
from crews.models import CrewMember, ScreeningTest
from portguard.domain import DomainError

from .clearance import Area, CallClearance, Validity, evaluate, origin_flagged
from .models import EpidemicArea, Handover, PortCall, QuarantineRelease, Violation

# Rule R5: more than one violation in this many days makes a repeat offender.
REPEAT_OFFENDER_DAYS = 30


def validity() -> Validity:
    return Validity(
        rapid=timedelta(hours=settings.PORTGUARD_RAPID_VALIDITY_HOURS),
        rt_pcr=timedelta(hours=settings.PORTGUARD_RT_PCR_VALIDITY_HOURS),
    )


def clearance_for(
    calls: Iterable[PortCall], now: datetime | None = None, manifests: dict[int, list[CrewMember]] | None = None
) -> dict[int, CallClearance]:
    """Evaluate rule R1 for many port calls in a constant number of queries, whatever
    their number: the manifests, the tests, the handovers, the epidemic areas (R4), the
    violations of the last 30 days (R5) and, where a case was confirmed, the releases.
    A caller that has just read the calls' manifests under their locks (``manifests``,
    from ``read_manifests``) passes them, and they are not read again."""
    calls = list(calls)
    ids = [c.pk for c in calls]
    crew_by_call = manifests if manifests is not None else read_manifests(ids)
    return _judge(calls, now or timezone.now(), crew_by_call, _standing_tests(ids), order=_crew_order)


def call_summaries(calls: Iterable[PortCall], now: datetime | None = None) -> dict[int, dict[str, Any]]:
    """What the dashboards show of many port calls (``call_summary``), judged by rule R1
    as ``clearance_for`` judges them, in the same queries, but from bare rows: a member's
    id, person and role, a test's id, kind, result and sample time, not model instances
    with their persons. A province's snapshot reads about 18,000 members and 16,000
    tests, and building their instances was most of its time."""
    calls = list(calls)
    ids = [c.pk for c in calls]
    crew_by_call: dict[int, list[_Member]] = defaultdict(list)
    members = CrewMember.objects.filter(port_call_id__in=ids, removed_at__isnull=True)
    for member in map(_Member._make, members.values_list(*_Member._fields)):
        crew_by_call[member.port_call_id].append(member)
    tests = map(_Sample._make, _standing_tests(ids).values_list(*_Sample._fields))
    clearances = _judge(calls, now or timezone.now(), crew_by_call, tests, order=None)
    return {call.pk: call_summary(call, clearances[call.pk]) for call in calls}


class _Member(NamedTuple):
    """A manifest row as rule R1 reads it, for counts (``call_summaries``)."""

    pk: int
    port_call_id: int
    person_id: int
    role: str


class _Sample(NamedTuple):
    """A test as rule R1 reads it, for counts (``call_summaries``)."""

    pk: int
    port_call_id: int
    person_id: int
    kind: str
    result: str
    sampled_at: datetime


def _standing_tests(call_ids: list[int]):
    """The calls' tests that no correction superseded, oldest sample first."""
    return ScreeningTest.objects.filter(port_call_id__in=call_ids, superseded_by__isnull=True).order_by(
        "sampled_at", "id"
    )


def _judge(calls: list[PortCall], now: datetime, crew_by_call, tests: Iterable, order) -> dict[int, CallClearance]:
    """Rule R1 with R2, R4 and R5 for each call, from its manifest and its standing tests
    (oldest first); the handovers, releases, epidemic areas and violations read here."""
    ids = [c.pk for c in calls]
    tests_by_call: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    cases = set()
    for test in tests:
        tests_by_call[test.port_call_id][test.person_id].append(test)
        if test.kind == TestKind.RT_PCR and test.result == TestResult.POSITIVE:
            cases.add(test.port_call_id)
    latest_handover: dict[int, Handover] = {}
    for handover in Handover.objects.filter(port_call_id__in=ids).order_by("approved_at", "id"):
        latest_handover[handover.port_call_id] = handover
    releases, released_cases = _releases(cases)
    flagged = flagged_origins(calls)
    repeat_vessels, repeat_people = repeat_offenders(
        {c.vessel_id for c in calls}, {m.person_id for crew in crew_by_call.values() for m in crew}, now
    )
    clearances = {}
    for call in calls:
        clearance = evaluate(
            arrived_at=call.arrived_at,
            departed_at=call.departed_at,
            crew=sorted(crew_by_call[call.pk], key=order) if order else crew_by_call[call.pk],
            tests_by_person=tests_by_call[call.pk],
            latest_handover=latest_handover.get(call.pk),
            now=now,
            validity=validity(),
            released_cases=released_cases.get(call.pk, frozenset()),
            rt_pcr_only=call.pk in flagged and settings.PORTGUARD_EPIDEMIC_RT_PCR_ONLY,
        )
        clearance.origin_flagged = call.pk in flagged
        clearance.release = releases.get(call.pk)
        clearance.released_cases = released_cases.get(call.pk, frozenset())
        clearance.repeat_vessel = call.vessel_id in repeat_vessels
        for person in clearance.people:
            person.repeat_offender = person.member.person_id in repeat_people
        clearances[call.pk] = clearance
    return clearances


def read_manifests(call_ids: Iterable[int]) -> dict[int, list[CrewMember]]:
    """The people on board each call (not removed), with their persons; one query."""
    crew_by_call: dict[int, list[CrewMember]] = defaultdict(list)
    members = CrewMember.objects.filter(port_call_id__in=list(call_ids), removed_at__isnull=True)
    for member in members.select_related("person"):
        crew_by_call[member.port_call_id].append(member)
    return crew_by_call


def _releases(call_ids: set[int]) -> tuple[dict[int, QuarantineRelease], dict[int, frozenset[int]]]:
    """Each call's latest quarantine release and the cases its releases covered; one
    query, none when no case was confirmed."""
    if not call_ids:
        return {}, {}
    latest: dict[int, QuarantineRelease] = {}
    covered: dict[int, set[int]] = defaultdict(set)
    for row in (
        QuarantineRelease.cases.through.objects.filter(quarantinerelease__port_call_id__in=call_ids)
        .select_related("quarantinerelease__released_by")
        .order_by("quarantinerelease__released_at", "quarantinerelease_id")
    ):
        release = row.quarantinerelease
        latest[release.port_call_id] = release
        covered[release.port_call_id].add(row.screeningtest_id)
    return latest, {call: frozenset(tests) for call, tests in covered.items()}


def flagged_origins(calls: list[PortCall]) -> set[int]:
    """The calls whose origin was in an epidemic area on the day they arrived (R4); one
    query, none when no call gives its origin."""
    with_origin = [c for c in calls if c.origin.strip()]
    if not with_origin:
        return set()
    tz = ZoneInfo(settings.TIME_ZONE)
    days = {c.pk: c.arrived_at.astimezone(tz).date() for c in with_origin}
    areas = [
        Area(a.province, a.district, a.active_from, a.active_to)
        for a in EpidemicArea.objects.filter(active_from__lte=max(days.values())).filter(
            Q(active_to__isnull=True) | Q(active_to__gte=min(days.values()))
        )
    ]
    return {c.pk for c in with_origin if origin_flagged(c.origin, days[c.pk], areas)}


# Over this many vessels and people, the 30 days' violations are read whole and counted
# here: a dashboard snapshot of the province asks for about 18,000 people, and sending
# their ids took longer than reading the month's violations (a rare event) outright. A
# wharf's snapshot asks for about 900 (30 calls of 20-40 people): 18 ms with their ids,
# 2 ms read whole (the bench, with no violation in its month). A write asks about its
# one call's crew, whose ids it still sends.
WHOLE_WINDOW_OVER = 100


def repeat_offenders(vessel_ids: set[int], person_ids: set[int], now: datetime) -> tuple[set[int], set[int]]:
    """Rule R5: which of these vessels and people have more than one violation in the
    30 days up to ``now``. One query."""
    if not vessel_ids and not person_ids:
        return set(), set()
    window = Violation.objects.filter(occurred_at__gt=now - timedelta(days=REPEAT_OFFENDER_DAYS), occurred_at__lte=now)
    if len(vessel_ids) + len(person_ids) <= WHOLE_WINDOW_OVER:
        window = window.filter(Q(vessel_id__in=vessel_ids) | Q(person_id__in=person_ids))
    vessels: Counter[int] = Counter()
    people: Counter[int] = Counter()
    for vessel_id, person_id in window.values_list("vessel_id", "person_id"):
        vessels[vessel_id] += 1
        if person_id is not None:
            people[person_id] += 1
    return (
        {v for v in vessel_ids if vessels[v] > 1},
        {p for p in person_ids if people[p] > 1},
    )


# Captain first, then crew, then workers: the order choices.py gives them.
_ROLE_RANK = {role: rank for rank, role in enumerate(CrewRole.values)}


def _crew_order(member: CrewMember):
    return (_ROLE_RANK[member.role], member.person.full_name, member.pk)


def clearance_of(call: PortCall, now: datetime | None = None) -> CallClearance:
    return clearance_for([call], now)[call.pk]


def blocking_payload(clearance: CallClearance) -> list[dict[str, str]]:
    if not clearance.people:
        return [{"id_number": "", "full_name": "", "screening": "", "reason": _("Nobody is on the manifest.")}]
    return [
        {
            "id_number": p.member.person.id_number,
            "full_name": p.member.person.full_name,
            "screening": p.state,
            "reason": p.reason,
        }
        for p in clearance.blocking
    ]


def call_summary(call: PortCall, clearance: CallClearance) -> dict[str, Any]:
    """What a dashboard shows of one port call: the same in snapshots and events."""
    return {
        "id": call.pk,
        "wharf": call.wharf.code,
        "vessel": {"registration": call.vessel.registration, "name": call.vessel.name},
        "arrived_at": call.arrived_at,
        "origin": call.origin,
        "version": call.version,
        "status": clearance.status,
        "origin_flagged": clearance.origin_flagged,
        "repeat_offender": clearance.repeat_offender,
        "awaits_approval": clearance.awaits_approval,
        "counts": {
            "crew": len(clearance.people),
            "tested": clearance.tested_count,
            "negative": clearance.negative_count,
            "blocking": len(clearance.blocking),
        },
    }


def check_sample_time(sampled_at: datetime, now: datetime, field: str = "sampled_at") -> None:
    if timezone.is_naive(sampled_at):
        raise DomainError(_("Give the time with its time zone."), field=field)
    if sampled_at > now + timedelta(minutes=settings.PORTGUARD_CLOCK_SKEW_MINUTES):
        raise DomainError(_("This time is in the future."), field=field)
