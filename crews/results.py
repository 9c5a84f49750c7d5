"""Recording test results (the screening sheet, the API, a lab's file, a station's
staff): where each was taken, who may record it, and what follows (rule R2)."""

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portguard.domain import DomainError, NotAllowed
from portguard.roles import require_perm
from realtime.broadcast import send_events_on_commit
from vessels.alerts import respond_to_results, respond_to_staff_results
from vessels.announce import announce_port_call, bump_versions
from vessels.choices import PortCallStatus
from vessels.clearance import HOLDS
from vessels.events import positive_alert_payload, test_payload
from vessels.mail_alerts import queue_alert_mails
from vessels.models import Alert, PortCall
from vessels.scope import lock_port_calls, require_calls_in_scope, sees_all_wharves
from vessels.services import suspend_active_handover
from vessels.status import call_summary, check_sample_time, clearance_for, read_manifests

from .choices import TestKind, TestResult
from .kit_alerts import after_results
from .kit_stock import LotUse, Place, check_kit_lots
from .models import CrewMember, KcsStation, Person, ScreeningTest, StaffMember
from .scope import station_in_scope, visible_stations

logger = logging.getLogger(__name__)


@dataclass
class TestData:
    __test__ = False  # not a pytest class

    person: Person
    kind: str
    sampled_at: datetime
    result: str
    port_call: PortCall | None = None
    kit_lot: str = ""
    client_uuid: uuid.UUID | None = None
    station: KcsStation | None = None
    pool_id: str = ""
    lab: str = ""


def record_test(user, data: TestData, now: datetime | None = None) -> tuple[ScreeningTest, bool]:
    """Record one test result. Returns ``(test, created)``.

    The same ``client_uuid`` sent again returns the first record and saves nothing, so
    a phone on a bad connection can retry safely; only to a caller who may see that
    record (anyone else is told it does not exist).
    """
    ((test, created),) = _record_once(user, [data], now)
    return test, created


def _record_once(user, entries: Sequence[TestData], now: datetime | None) -> list[tuple[ScreeningTest, bool]]:
    """``_record``, once more when a request sending the same keys at the same moment
    stored them first: the unique key refused this one's rows, and the second look
    finds theirs."""
    try:
        return _record(user, entries, now)
    except IntegrityError:
        if not any(entry.client_uuid is not None for entry in entries):
            raise
        return _record(user, entries, now)


def _stored(user, entries: Sequence[TestData]) -> dict[uuid.UUID, ScreeningTest]:
    """The results already recorded with the entries' client keys, by key; one query,
    and one per place of a result someone else recorded. A key recorded where the
    caller may not see it is refused as unknown."""
    keys = [entry.client_uuid for entry in entries if entry.client_uuid is not None]
    if not keys:
        return {}
    if len(set(keys)) < len(keys):
        raise DomainError(_("The same client key is sent twice."), field="client_uuid")
    stored = {
        test.client_uuid: test
        for test in ScreeningTest.objects.filter(client_uuid__in=keys).select_related(
            "person", "recorded_by", "port_call__wharf", "station"
        )
    }
    visible: dict[tuple[int | None, int | None], bool] = {}
    for test in stored.values():
        place = (test.port_call_id, test.station_id)
        if test.recorded_by_id != user.pk and not visible.setdefault(place, may_see_test(user, test)):
            raise DomainError(_("Unknown result."), field="client_uuid", code="not_found")
    return stored


def may_see_test(user, test: ScreeningTest) -> bool:
    """Whether ``user`` may see a recorded result: at one of their wharves, at one of
    their stations, or recorded by them."""
    if sees_all_wharves(user) or test.recorded_by_id == user.pk:
        return True
    if test.port_call_id is not None:
        return test.port_call.wharf.inspectors.filter(pk=user.pk).exists()
    if test.station_id is not None:
        return station_in_scope(user, test.station)
    return False


def record_tests(user, entries: Sequence[TestData], now: datetime | None = None) -> list[ScreeningTest]:
    """Record several results at once (the screening sheet, a lab's file): all saved or
    none.

    Each result is recorded where it was taken: the port call given, or else the open
    port call the person was on when sampled, or else (KCS staff) the station given or
    the caller's station the person is on the staff of. A result for anyone outside
    the caller's wharves and stations is refused. Tests for a port call are written
    under that call's lock; a positive that changes a person's state after handover
    was approved suspends the handover. Positives raise their alerts (rule R2), for
    KCS staff too.

    An entry whose ``client_uuid`` is already stored is not recorded again: its first
    record stands in its place (a sheet sent twice answers as the first time, and its
    call's state is announced again), and the other entries are recorded, all or none.
    """
    return [test for test, _created in _record_once(user, entries, now)]


def _record(user, entries: Sequence[TestData], now: datetime | None) -> list[tuple[ScreeningTest, bool]]:
    """``record_tests``, each result with whether it is new."""
    require_perm(user, "crews.add_screeningtest", _("You may not record test results."))
    now = now or timezone.now()
    stored = _stored(user, entries)
    fresh = [entry for entry in entries if entry.client_uuid not in stored]
    for entry in fresh:
        try:
            _validate_test(entry, now)
        except DomainError as exc:
            exc.entry = entry
            raise
    sent = fresh
    fresh = [_placed(user, entry) for entry in fresh]
    call_ids = {e.port_call.pk for e in fresh if e.port_call is not None}
    # A retry's events may have died with the process that committed its first attempt.
    again_ids = {t.port_call_id for t in stored.values() if t.port_call_id is not None} - call_ids
    with transaction.atomic():
        locked = lock_port_calls(sorted(call_ids | again_ids), scope_of=user)
        calls = {pk: call for pk, call in locked.items() if pk in call_ids}
        require_calls_in_scope(user, calls.values())
        stations = _require_stations_in_scope(user, {e.station.pk for e in fresh if e.port_call is None})
        manifests = _check_on_manifest(fresh, calls)
        warned = _check_kit_lots(user, zip(sent, fresh, strict=True), calls, stations)
        tests = [
            ScreeningTest(
                person=e.person,
                port_call=calls.get(e.port_call.pk) if e.port_call else None,
                wharf=calls[e.port_call.pk].wharf if e.port_call else None,
                station=stations[e.station.pk] if e.port_call is None else e.station,
                kind=e.kind,
                sampled_at=e.sampled_at,
                result=e.result,
                result_at=None if e.result == TestResult.PENDING else now,
                kit_lot=e.kit_lot,
                client_uuid=e.client_uuid,
                pool_id=e.pool_id,
                lab=e.lab,
                recorded_by=user,
            )
            for e in fresh
        ]
        # Not one INSERT per row: a lab's file can hold thousands of results. Django
        # batches only as far as the database's parameter limit requires (SQLite).
        ScreeningTest.objects.bulk_create(tests)
        for entry, test in zip(sent, tests, strict=True):
            test.kit_warning = warned.get(id(entry), "")
        _settle_calls(calls, [t for t in tests if t.port_call_id is not None], now, manifests)
        _settle_staff(stations, [t for t in tests if t.port_call_id is None], now)
        for pk in sorted(again_ids):
            announce_port_call(locked[pk])
        after_results(tests, now)  # rule R7: a place newly short of rapid kits
    new = iter(tests)
    return [(stored[e.client_uuid], False) if e.client_uuid in stored else (next(new), True) for e in entries]


def _placed(user, entry: TestData) -> TestData:
    """``entry`` with the place it was taken (see ``record_tests``), or refused."""
    if entry.port_call is not None or entry.station is not None:
        return entry
    call = open_port_call_of(entry.person, entry.sampled_at)
    if call is not None and (sees_all_wharves(user) or call.wharf.inspectors.filter(pk=user.pk).exists()):
        return replace(entry, port_call=call)
    post = (
        StaffMember.objects.filter(person=entry.person, active=True, station__in=visible_stations(user))
        .select_related("station__wharf")
        .order_by("station__code")
        .first()
    )
    if post is not None:
        return replace(entry, station=post.station)
    if call is not None:
        return replace(entry, port_call=call)  # refused by the call's scope, naming its wharf
    raise NotAllowed(
        _("%(name)s is on no open port call of your wharves and on the staff of none of your stations.")
        % {"name": entry.person.full_name},
        field="id_number",
    )


def _check_kit_lots(
    user,
    entries: Iterable[tuple[TestData, TestData]],
    calls: dict[int, PortCall],
    stations: dict[int, KcsStation],
) -> dict[int, str]:
    """Rule R7: each rapid result that names a kit lot names one delivered where it was
    taken and not expired on its sample day (``kit_stock.check_kit_lots``); one query for
    the whole sheet or file. Kept with a warning in the log under the "warn" setting.
    ``entries`` pairs each entry as sent with it placed; a refusal names the one sent.
    Returns the warnings kept, by the ``id`` of the entry as sent."""
    uses = []
    for sent, e in entries:
        if e.kind != TestKind.RAPID or not e.kit_lot:
            continue
        if e.port_call is None:
            place = Place(station=stations[e.station.pk])
        elif e.station is not None:
            place = Place(station=e.station)
        else:
            place = Place(wharf=calls[e.port_call.pk].wharf)
        uses.append(LotUse(place, e.kit_lot, e.sampled_at, sent))
    warned = {}
    for entry, warning in check_kit_lots(uses):
        logger.warning("Kit lot accepted with a warning (PORTGUARD_KIT_LOT_CHECK=warn), user %s: %s", user.pk, warning)
        warned[id(entry)] = warning
    return warned


def kit_warnings(tests: Iterable[ScreeningTest]) -> list[str]:
    """The warnings of the lots kept under ``PORTGUARD_KIT_LOT_CHECK = "warn"`` for the
    results just recorded, each once, for the page that recorded them to show."""
    return list(dict.fromkeys(w for t in tests if (w := getattr(t, "kit_warning", ""))))


def _require_stations_in_scope(user, station_ids: set[int]) -> dict[int, KcsStation]:
    """The stations of staff results, with their wharves, if all are the caller's; one
    query."""
    stations = KcsStation.objects.select_related("wharf").in_bulk(station_ids)
    if sees_all_wharves(user) or not stations:
        return stations
    mine = set(visible_stations(user).filter(pk__in=station_ids).values_list("pk", flat=True))
    for station in stations.values():
        if station.pk not in mine:
            raise NotAllowed(_("You do not supervise station %(code)s.") % {"code": station.code}, field="station")
    return stations


def _settle_staff(stations: dict[int, KcsStation], tests: list[ScreeningTest], now: datetime) -> None:
    """After KCS staff results: rule R2's alerts and contact lists, sent once the
    transaction commits (``alert.positive`` to the station's wharf)."""
    by_station: dict[int, list[ScreeningTest]] = {}
    for test in tests:
        by_station.setdefault(test.station_id, []).append(test)
    events = []
    raised: list[Alert] = []
    for station_id, station_tests in by_station.items():
        station = stations[station_id]
        for alert in respond_to_staff_results(station, station_tests, now):
            raised.append(alert)
            events.append((station.wharf.code, "alert.positive", positive_alert_payload(alert)))
    # Every officer's e-mails of the write's alerts in one pass, not one per station.
    queue_alert_mails(raised)
    send_events_on_commit(events)


def open_port_call_of(person: Person, sampled_at: datetime) -> PortCall | None:
    """The open port call a person is on at ``sampled_at``, for results sent without one."""
    member = (
        CrewMember.objects.filter(
            person=person,
            removed_at__isnull=True,
            port_call__departed_at__isnull=True,
            port_call__arrived_at__lte=sampled_at,
        )
        .select_related("port_call")
        .order_by("-port_call__arrived_at")
        .first()
    )
    return member.port_call if member else None


# Sets, not ``Choices.values`` (a new list at every call): a lab's file checks thousands.
_KINDS = frozenset(TestKind.values)


_RESULTS = frozenset(TestResult.values)


def _validate_test(entry: TestData, now: datetime) -> None:
    if entry.kind not in _KINDS:
        raise DomainError(_("Unknown test kind."), field="kind")
    if entry.result not in _RESULTS:
        raise DomainError(_("Unknown result."), field="result")
    check_sample_time(entry.sampled_at, now)
    if entry.port_call is not None and entry.sampled_at < entry.port_call.arrived_at:
        raise DomainError(_("The sample was taken before the vessel arrived."), field="sampled_at")


def _check_on_manifest(entries: Iterable[TestData], calls: dict[int, PortCall]) -> dict[int, list[CrewMember]]:
    """Refuse a result for anyone not on the call's manifest, or for a departed vessel.
    Returns the manifests read (under the calls' locks), for rule R1 to use after."""
    if not calls:
        return {}
    manifests = read_manifests(calls)
    on_board = {(member.port_call_id, member.person_id) for crew in manifests.values() for member in crew}
    for entry in entries:
        if entry.port_call is not None and (entry.port_call.pk, entry.person.pk) not in on_board:
            raise DomainError(
                _("%(name)s is not on this port call's manifest.") % {"name": entry.person.full_name},
                field="id_number",
            )
        if entry.port_call is not None and calls[entry.port_call.pk].departed_at is not None:
            raise DomainError(_("The vessel has departed."), field="port_call", code="departed")
    return manifests


def _settle_calls(
    calls: dict[int, PortCall],
    tests: list[ScreeningTest],
    now: datetime,
    manifests: dict[int, list[CrewMember]] | None = None,
) -> None:
    """After new results: suspend a handover that a positive (or a positive pool) now
    contradicts, then announce every result and each call's new state. Holds the
    calls' locks; ``manifests``, read under them, are not read again."""
    clearances = clearance_for(calls.values(), now, manifests)
    bump_versions(calls.values())
    tests_by_call: dict[int, list[ScreeningTest]] = {}
    for test in tests:
        tests_by_call.setdefault(test.port_call_id, []).append(test)
    events: list[tuple[str, str, dict]] = []
    raised: list[Alert] = []
    for call in calls.values():
        clearance = clearances[call.pk]
        call_tests = tests_by_call.get(call.pk, [])
        positives = {t.person_id for t in call_tests if t.result == TestResult.POSITIVE}
        named = [
            p.member.person.full_name for p in clearance.people if p.member.person_id in positives and p.state in HOLDS
        ]
        reason = _("Positive result after approval: %(names)s.") % {"names": ", ".join(named)}
        suspended = named and suspend_active_handover(call, reason, now)
        if suspended and clearance.status == PortCallStatus.HANDOVER_APPROVED:
            clearance.status = PortCallStatus.HANDOVER_SUSPENDED
        alerts = respond_to_results(call, call_tests, clearance, now)
        raised += alerts
        events += [(call.wharf.code, "test.recorded", test_payload(test)) for test in call_tests]
        events += [(call.wharf.code, "alert.positive", positive_alert_payload(alert)) for alert in alerts]
        # As announce_port_call(call, clearance) sends it, in the same batch.
        events.append((call.wharf.code, "port_call.updated", {"port_call": call_summary(call, clearance)}))
    # Every officer's e-mails of the write's alerts in one pass (a lab's file can touch
    # hundreds of calls), not one pass per call.
    queue_alert_mails(raised)
    send_events_on_commit(events)
