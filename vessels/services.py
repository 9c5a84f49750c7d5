"""The port-call domain: registering arrivals, reading clearance, approving handover.

Every entry point (pages, API, admin actions, commands) calls these functions, so a
rule cannot be skipped by coming in through another door.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crews.choices import CrewRole, TestKind, TestResult
from crews.models import CrewMember, HandoverRefusal, ScreeningTest
from portguard.domain import DomainError, HandoverBlocked, NotAllowed
from realtime.broadcast import send_event_on_commit

from .choices import AlertKind, HandoverState, PortCallStatus
from .clearance import Area, CallClearance, Validity, evaluate, origin_flagged
from .models import (
    REGISTRATION_RE,
    EpidemicArea,
    Handover,
    HandoverEvidence,
    PortCall,
    QuarantineRelease,
    Vessel,
    Violation,
    Wharf,
    normalise_registration,
)

# Rule R5: more than one violation in this many days makes a repeat offender.
REPEAT_OFFENDER_DAYS = 30


def validity() -> Validity:
    return Validity(
        rapid=timedelta(hours=settings.PORTGUARD_RAPID_VALIDITY_HOURS),
        rt_pcr=timedelta(hours=settings.PORTGUARD_RT_PCR_VALIDITY_HOURS),
    )


# --- Scope -------------------------------------------------------------------------


def sees_all_wharves(user) -> bool:
    return user.is_authenticated and user.has_perm("vessels.view_all_wharves")


def visible_wharves(user) -> QuerySet[Wharf]:
    if not user.is_authenticated:
        return Wharf.objects.none()
    if sees_all_wharves(user):
        return Wharf.objects.all()
    return Wharf.objects.filter(inspectors=user)


def visible_port_calls(user) -> QuerySet[PortCall]:
    calls = PortCall.objects.select_related("vessel", "wharf")
    if sees_all_wharves(user):
        return calls
    return calls.filter(wharf__in=visible_wharves(user))


def require_wharf_in_scope(user, wharf: Wharf) -> None:
    if not sees_all_wharves(user) and not wharf.inspectors.filter(pk=user.pk).exists():
        raise NotAllowed(_("You are not assigned to wharf %(code)s.") % {"code": wharf.code}, field="wharf")


def require_perm(user, perm: str, message: str) -> None:
    if not (user.is_authenticated and user.has_perm(perm)):
        raise NotAllowed(message)


# --- Reading clearance -------------------------------------------------------------


def clearance_for(calls: Iterable[PortCall], now: datetime | None = None) -> dict[int, CallClearance]:
    """Evaluate rule R1 for many port calls in a constant number of queries, whatever
    their number: the manifests, the tests, the handovers, the epidemic areas (R4), the
    violations of the last 30 days (R5) and, where a case was confirmed, the releases."""
    calls = list(calls)
    now = now or timezone.now()
    ids = [c.pk for c in calls]
    crew_by_call: dict[int, list[CrewMember]] = defaultdict(list)
    for member in CrewMember.objects.filter(port_call_id__in=ids, removed_at__isnull=True).select_related("person"):
        crew_by_call[member.port_call_id].append(member)
    tests_by_call: dict[int, dict[int, list[ScreeningTest]]] = defaultdict(lambda: defaultdict(list))
    cases = set()
    for test in ScreeningTest.objects.filter(port_call_id__in=ids, superseded_by__isnull=True).order_by(
        "sampled_at", "id"
    ):
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
            crew=sorted(crew_by_call[call.pk], key=_crew_order),
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


def repeat_offenders(vessel_ids: set[int], person_ids: set[int], now: datetime) -> tuple[set[int], set[int]]:
    """Rule R5: which of these vessels and people have more than one violation in the
    30 days up to ``now``. One query."""
    if not vessel_ids and not person_ids:
        return set(), set()
    window = Violation.objects.filter(
        occurred_at__gt=now - timedelta(days=REPEAT_OFFENDER_DAYS), occurred_at__lte=now
    ).filter(Q(vessel_id__in=vessel_ids) | Q(person_id__in=person_ids))
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


def announce_port_call(call: PortCall, clearance: CallClearance | None = None) -> None:
    """Tell the dashboards the call's new state, once the current transaction commits.

    ``clearance`` is the call's state as just written, when the caller already has it
    (read while holding the call's lock).
    """
    bump_versions([call])
    clearance = clearance or clearance_of(call)
    send_event_on_commit(call.wharf.code, "port_call.updated", {"port_call": call_summary(call, clearance)})


def announce_port_calls(calls: Sequence[PortCall], now: datetime | None = None) -> None:
    """``announce_port_call`` for calls whose locks the caller does not hold, in a
    constant number of queries: their rows are held from the version raise on, so
    the state read after it is not older than any announcement with a lower version."""
    # Their locks in id order, as every other writer of several calls takes them, so
    # that two such writers wait for each other rather than deadlock.
    list(PortCall.objects.select_for_update().filter(pk__in=[c.pk for c in calls]).order_by("pk").values_list("pk"))
    bump_versions(calls)
    clearances = clearance_for(calls, now)
    for call in calls:
        send_event_on_commit(
            call.wharf.code, "port_call.updated", {"port_call": call_summary(call, clearances[call.pk])}
        )


def bump_versions(calls: Iterable[PortCall]) -> None:
    """Raise each call's ``version``, in one query. The row stays locked until the
    transaction ends, so versions rise in the order the changes commit; a dashboard
    keeps the highest version it has seen of a call and drops an older update that
    another process happened to publish later. Call inside the write's transaction."""
    by_id = {call.pk: call for call in calls}
    if not by_id:
        return
    table = PortCall._meta.db_table
    marks = ", ".join(["%s"] * len(by_id))
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" SET "version" = "version" + 1 WHERE "id" IN ({marks}) RETURNING "id", "version"',
            list(by_id),
        )
        for pk, version in cursor.fetchall():
            by_id[pk].version = version


# --- Writes ------------------------------------------------------------------------


def lock_port_call(pk: int) -> PortCall:
    """Take the port call's lock. Call inside ``transaction.atomic()``.

    On PostgreSQL this is a row lock; on SQLite every write transaction already holds
    the database's write lock from BEGIN IMMEDIATE.
    """
    try:
        return PortCall.objects.select_for_update().select_related("vessel", "wharf").get(pk=pk)
    except PortCall.DoesNotExist:
        raise DomainError(_("Unknown port call."), field="port_call", code="not_found") from None


def check_sample_time(sampled_at: datetime, now: datetime, field: str = "sampled_at") -> None:
    if timezone.is_naive(sampled_at):
        raise DomainError(_("Give the time with its time zone."), field=field)
    if sampled_at > now + timedelta(minutes=settings.PORTGUARD_CLOCK_SKEW_MINUTES):
        raise DomainError(_("This time is in the future."), field=field)


@dataclass
class VesselData:
    registration: str
    name: str = ""
    kind: str = ""
    owner: str = ""


def register_port_call(
    user,
    *,
    wharf: Wharf,
    vessel: VesselData,
    arrived_at: datetime,
    origin: str = "",
    cargo_kind: str = "",
    cargo_tonnes=None,
    crew: Iterable[Any] = (),
    now: datetime | None = None,
) -> PortCall:
    """Register an arriving vessel and its crew manifest.

    ``crew`` holds ``crews.services.PersonData`` with a ``role``.
    """
    from crews.services import resolve_people

    require_perm(user, "vessels.add_portcall", _("You may not register arrivals."))
    require_wharf_in_scope(user, wharf)
    now = now or timezone.now()
    check_sample_time(arrived_at, now, field="arrived_at")
    crew = list(crew)
    registration = normalise_registration(vessel.registration)
    if not REGISTRATION_RE.match(registration):
        raise DomainError(
            _("%(value)s is not a registration number such as QN-4567.") % {"value": vessel.registration},
            field="vessel.registration",
        )
    with transaction.atomic():
        boat, created = Vessel.objects.get_or_create(
            registration=registration,
            defaults={"name": vessel.name, "kind": vessel.kind or "other", "owner": vessel.owner},
        )
        if not created and vessel.name and (vessel.name, vessel.kind or boat.kind) != (boat.name, boat.kind):
            boat.name, boat.kind = vessel.name, vessel.kind or boat.kind
            boat.save(update_fields=["name", "kind"])
        if boat.port_calls.filter(departed_at__isnull=True).exists():
            raise DomainError(
                _("Vessel %(reg)s is still berthed: record its departure first.") % {"reg": registration},
                field="vessel",
            )
        call = PortCall.objects.create(
            vessel=boat,
            wharf=wharf,
            arrived_at=arrived_at,
            origin=origin,
            cargo_kind=cargo_kind,
            cargo_tonnes=cargo_tonnes,
            registered_by=user,
        )
        people = resolve_people(crew, field="crew")
        CrewMember.objects.bulk_create(
            CrewMember(port_call=call, person=person, role=data.role, added_by=user)
            for person, data in zip(people, crew, strict=True)
        )
        announce_port_call(call)
    return call


def approve_handover(user, port_call_id: int, now: datetime | None = None) -> Handover:
    """Approve cargo handover if every person on board is cleared (rule R1).

    The check and the approval share one transaction holding the port call's lock, so a
    result recorded at the same moment is either seen here or arrives after approval
    (and then suspends it). Raises ``HandoverBlocked`` with who blocks and why.
    """
    require_perm(user, "vessels.approve_handover", _("Only the port authority approves cargo handover."))
    try:
        with transaction.atomic():
            call = lock_port_call(port_call_id)
            now = now or timezone.now()
            clearance = clearance_of(call, now)
            if clearance.status == PortCallStatus.DEPARTED:
                raise DomainError(_("The vessel has departed."), code="departed", field="port_call")
            if clearance.status == PortCallStatus.HANDOVER_APPROVED:
                raise DomainError(_("Cargo handover is already approved."), code="already_approved")
            if not clearance.can_approve:
                raise HandoverBlocked(_("Cargo handover cannot be approved yet."), blocking_payload(clearance))
            handover = Handover.objects.create(port_call=call, approved_by=user, approved_at=now)
            HandoverEvidence.objects.bulk_create(
                HandoverEvidence(handover=handover, person=p.member.person, role=p.member.role, test=p.test)
                for p in clearance.people
            )
            send_event_on_commit(
                call.wharf.code,
                "handover.approved",
                {"port_call": call.pk, "approved_by": user.get_username(), "approved_at": now},
            )
            clearance.status = PortCallStatus.HANDOVER_APPROVED
            announce_port_call(call, clearance)
    except HandoverBlocked as refusal:
        # The attempt rolled back; the refusal is kept, for the daily report.
        HandoverRefusal.objects.create(
            port_call_id=port_call_id, requested_by=user, refused_at=now, blocking=refusal.blocking
        )
        raise
    except DomainError as refusal:
        if refusal.code == "already_approved":
            # Most often a retry: the first approval's events may have died with the
            # process that committed it, so the dashboards are told the state again.
            with transaction.atomic():
                announce_port_call(lock_port_call(port_call_id))
        raise
    return handover


def suspend_active_handover(call: PortCall, reason: str, at: datetime) -> Handover | None:
    """Suspend the call's approved handover, if any, and raise an alert. Call while
    holding the call's lock."""
    from .response import raise_alert

    handover = call.handovers.order_by("-approved_at", "-id").first()
    if handover is None or handover.state != HandoverState.APPROVED:
        return None
    handover.state = HandoverState.SUSPENDED
    handover.suspended_at = at
    handover.suspended_reason = reason[:300]
    handover.save(update_fields=["state", "suspended_at", "suspended_reason"])
    send_event_on_commit(
        call.wharf.code,
        "handover.suspended",
        {"port_call": call.pk, "reason": handover.suspended_reason, "suspended_at": at},
    )
    message = _("Cargo handover of %(vessel)s suspended: %(reason)s") % {
        "vessel": call.vessel.registration,
        "reason": handover.suspended_reason,
    }
    raise_alert(call, AlertKind.SUSPENSION, message, at)
    return handover


def record_departure(user, port_call_id: int, departed_at: datetime | None = None) -> PortCall:
    require_perm(user, "vessels.change_portcall", _("You may not record departures."))
    with transaction.atomic():
        call = lock_port_call(port_call_id)
        require_wharf_in_scope(user, call.wharf)
        now = timezone.now()
        departed_at = departed_at or now
        check_sample_time(departed_at, now, field="departed_at")
        if call.departed_at is not None:
            raise DomainError(_("The vessel has already departed."), code="departed")
        if departed_at < call.arrived_at:
            raise DomainError(_("Departure cannot be before arrival."), field="departed_at")
        if clearance_of(call, now).status == PortCallStatus.QUARANTINED:
            raise DomainError(_("A quarantined vessel may not depart."), code="quarantined")
        call.departed_at, call.departed_by = departed_at, user
        call.save(update_fields=["departed_at", "departed_by"])
        announce_port_call(call)
    return call
