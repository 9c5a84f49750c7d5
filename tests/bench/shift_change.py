"""A shift change under load: many wharves' dashboards listening on two daphne
processes while inspectors post results and the port authority races approvals
against them; then the same with faults (Redis restarted, one daphne killed).

After each phase the database is checked: every approved handover rested on people
cleared at that moment by the evidence kept for it, no active handover has a positive
on board, and every result that got a 2xx is stored exactly once. These checks fail the
bench run, and so do: without faults, a socket that missed an event of its wharf;
with faults, a write lost, a 5xx, or a socket that did not re-read a snapshot after
the Redis restart (or after one daphne was killed: moved to the survivor, or
refreshed by it) or ends up showing other states than the database. Delivery is at
most once, so events lost during a fault are reported, not failed on; those sent once
both faults are over must all arrive.

Sizes come from the environment (defaults: the issue's numbers):

    SHIFT_WHARVES=20 SHIFT_CALLS=30 (per wharf) SHIFT_CREW=20-40 SHIFT_SOCKETS=500
    SHIFT_PROVINCE_SOCKETS=4 SHIFT_CLIENTS=50 SHIFT_APPROVERS=5
    SHIFT_LIVE=3 (results posted live per call; the rest of the crew tested before)
    SHIFT_PHASES=steady,faults (either or both) SHIFT_REDIS_DOWN=3 (seconds)

The steady phase also weighs the server's CPU: the user + system seconds both daphnes
spent over the whole load (results, approvals, events until delivered) per result
answered 2xx, beside the same per POST of a bare Django view that inserts one plain row
(tests/bench/bare_asgi.py, which the bench's daphnes serve), posted as many times from
as many threads to the same daphnes while the dashboards are still open.
"""

import asyncio
import json
import os
import queue
import random
import statistics
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, WebSocketException

from tests.bench.live_delivery import latency_row
from tests.realtime.frames import messages_of


def _envint(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {value!r}") from None


def _crew_range() -> tuple[int, int]:
    low, _sep, high = os.environ.get("SHIFT_CREW", "20-40").partition("-")
    try:
        return int(low), int(high or low)
    except ValueError:
        raise SystemExit("SHIFT_CREW must be a range such as 20-40") from None


PHASES = ("steady", "faults")


def _phases() -> tuple[str, ...]:
    names = tuple(n.strip() for n in os.environ.get("SHIFT_PHASES", ",".join(PHASES)).split(",") if n.strip())
    if not names or set(names) - set(PHASES):
        raise SystemExit(f"SHIFT_PHASES must name some of {', '.join(PHASES)}")
    return names


@dataclass(frozen=True)
class Size:
    wharves: int
    calls: int
    crew: tuple[int, int]
    sockets: int
    province_sockets: int
    clients: int
    approvers: int
    live: int
    phases: tuple[str, ...]
    redis_down: int

    @classmethod
    def from_env(cls) -> "Size":
        return cls(
            wharves=_envint("SHIFT_WHARVES", 20),
            calls=_envint("SHIFT_CALLS", 30),
            crew=_crew_range(),
            sockets=_envint("SHIFT_SOCKETS", 500),
            province_sockets=_envint("SHIFT_PROVINCE_SOCKETS", 4),
            clients=_envint("SHIFT_CLIENTS", 50),
            approvers=_envint("SHIFT_APPROVERS", 5),
            live=_envint("SHIFT_LIVE", 3),
            phases=_phases(),
            redis_down=_envint("SHIFT_REDIS_DOWN", 3),
        )

    def describe(self) -> str:
        return (
            f"{self.wharves}×{self.calls} calls, {self.crew[0]}–{self.crew[1]} crew, {self.live} live results/call, "
            f"{self.sockets}+{self.province_sockets} sockets, {self.clients}+{self.approvers} clients"
        )


POSITIVE_SHARE = 0.1  # of the calls: one person there turns positive during the shift
RETRY_SHARE = 0.1  # of the results: sent twice with the same client_uuid
HTTP_TIMEOUT = 30
RESYNC_TIMEOUT = 300  # seconds the sockets get to reconnect once the load is over
BARE_APPLICATION = "tests.bench.bare_asgi:application"
DAPHNE_POOL = 10  # connections per daphne (DB_POOL_MAX_SIZE), as deploy/portguard.env.example sets it
BARE_PATH = "/bench/bare-result/"  # bare_asgi.BARE_PATH (importing it would start Django's handlers here)


# --- The consistency check: pure, on plain records ----------------------------------


@dataclass
class HandoverRecord:
    """One handover with what the database held about its port call at any time:
    ``crew`` entries have ``person_id``, ``added_at``, ``removed_at``; ``tests`` have
    ``pk``, ``person_id``, ``kind``, ``result``, ``sampled_at``, ``recorded_at`` and
    ``superseded_at`` (when a correction replaced it, or None)."""

    pk: int
    port_call: int
    approved_at: datetime
    arrived_at: datetime
    departed_at: datetime | None
    crew: list[Any]
    tests: list[Any]
    evidence: dict[int, int]  # person → the test kept as evidence
    released_cases: frozenset[int] = frozenset()
    rt_pcr_only: bool = False


def handover_problems(record: HandoverRecord, validity) -> list[str]:
    """Why this handover should not have been approved, judged by rule R1 (the project's
    own ``evaluate``) on what was recorded up to the moment of approval; empty when it
    was sound: everyone on board then was cleared, by the very test kept as evidence."""
    from vessels.choices import PortCallStatus
    from vessels.clearance import evaluate

    at = record.approved_at
    crew = [m for m in record.crew if m.added_at <= at and (m.removed_at is None or m.removed_at > at)]
    tests_by_person: dict[int, list[Any]] = defaultdict(list)
    for test in sorted(record.tests, key=lambda t: (t.sampled_at, t.pk)):
        if test.recorded_at <= at and (test.superseded_at is None or test.superseded_at > at):
            tests_by_person[test.person_id].append(test)
    clearance = evaluate(
        arrived_at=record.arrived_at,
        departed_at=record.departed_at if record.departed_at is not None and record.departed_at <= at else None,
        crew=crew,
        tests_by_person=tests_by_person,
        latest_handover=None,
        now=at,
        validity=validity,
        released_cases=record.released_cases,
        rt_pcr_only=record.rt_pcr_only,
    )
    problems = []
    name = f"handover {record.pk} (port call {record.port_call})"
    if clearance.status == PortCallStatus.DEPARTED:
        problems.append(f"{name}: approved after departure")
    if not clearance.people:
        problems.append(f"{name}: approved with nobody on board")
    for person in clearance.people:
        person_id = person.member.person_id
        if not person.cleared:
            problems.append(f"{name}: person {person_id} was {person.state} ({person.reason_code}) at approval")
        elif record.evidence.get(person_id) != person.test.pk:
            problems.append(
                f"{name}: person {person_id} cleared by test {person.test.pk}, "
                f"evidence names {record.evidence.get(person_id)}"
            )
    extra = set(record.evidence) - {p.member.person_id for p in clearance.people}
    if extra:
        problems.append(f"{name}: evidence for people not on board: {sorted(extra)}")
    return problems


def write_problems(acknowledged: dict[str, set[int]], stored: dict[str, list[int]]) -> list[str]:
    """Every client_uuid that got a 2xx (with the test ids its answers named) is stored
    exactly once, and every answer for it named that one row."""
    problems = []
    for key, answered in acknowledged.items():
        rows = stored.get(key, [])
        if not rows:
            problems.append(f"result {key} answered 2xx but not stored")
        elif len(rows) > 1:
            problems.append(f"result {key} stored {len(rows)} times")
        elif answered != {rows[0]}:
            problems.append(f"result {key} stored as {rows[0]}, answers named {sorted(answered)}")
    return problems


def _check_database(call_ids: list[int], acknowledged: dict[str, set[int]]) -> dict[str, list[str]]:
    """The full consistency check, from the database, for the scene's port calls."""
    from django.conf import settings

    from crews.choices import Screening
    from crews.models import CrewMember, ScreeningTest
    from vessels.choices import HandoverState
    from vessels.models import Handover, HandoverEvidence, PortCall, QuarantineRelease
    from vessels.status import clearance_for, flagged_origins, validity

    calls = {c.pk: c for c in PortCall.objects.filter(pk__in=call_ids)}
    crew = defaultdict(list)
    for member in CrewMember.objects.filter(port_call_id__in=call_ids):
        crew[member.port_call_id].append(member)
    tests = defaultdict(list)
    for test in ScreeningTest.objects.filter(port_call_id__in=call_ids).select_related("superseded_by"):
        superseded = getattr(test, "superseded_by", None)
        test.superseded_at = superseded.recorded_at if superseded is not None else None
        tests[test.port_call_id].append(test)
    evidence = defaultdict(dict)
    for row in HandoverEvidence.objects.filter(handover__port_call_id__in=call_ids):
        evidence[row.handover_id][row.person_id] = row.test_id
    releases = list(QuarantineRelease.objects.filter(port_call_id__in=call_ids).prefetch_related("cases"))
    flagged = flagged_origins(list(calls.values()))
    handovers = list(Handover.objects.filter(port_call_id__in=call_ids))
    unsound = []
    for handover in handovers:
        call = calls[handover.port_call_id]
        released = frozenset(
            case.pk
            for release in releases
            if release.port_call_id == call.pk and release.released_at <= handover.approved_at
            for case in release.cases.all()
        )
        record = HandoverRecord(
            pk=handover.pk,
            port_call=call.pk,
            approved_at=handover.approved_at,
            arrived_at=call.arrived_at,
            departed_at=call.departed_at,
            crew=crew[call.pk],
            tests=tests[call.pk],
            evidence=evidence[handover.pk],
            released_cases=released,
            rt_pcr_only=call.pk in flagged and settings.PORTGUARD_EPIDEMIC_RT_PCR_ONLY,
        )
        unsound += handover_problems(record, validity())
    # Sound when approved, and still sound: a positive since then must have suspended it.
    active = [calls[h.port_call_id] for h in handovers if h.state == HandoverState.APPROVED]
    contradicted = [
        f"port call {pk}: handover still active with {p.member.person_id} {p.state}"
        for pk, clearance in clearance_for(active).items()
        for p in clearance.people
        if p.state == Screening.POSITIVE
    ]
    stored = defaultdict(list)
    keys = list(acknowledged)
    for key, pk in ScreeningTest.objects.filter(client_uuid__in=keys).values_list("client_uuid", "pk"):
        stored[str(key)].append(pk)
    return {"unsound": unsound, "contradicted": contradicted, "writes": write_problems(acknowledged, stored)}


# --- The scene -----------------------------------------------------------------------


@dataclass
class Call:
    pk: int
    wharf: str
    live: list[str]  # id numbers untested until the shift change
    positive: str | None  # someone tested before, who turns positive


@dataclass
class Scene:
    wharves: list[str]
    calls: list[Call]
    inspector_tokens: dict[str, str]  # wharf → token
    authority_token: str


def _seed(size: Size, prefix: str, digit: int) -> Scene:
    """Wharves, their inspectors, and port calls with their crews, bulk-created as
    ``register_port_call`` writes them (one wharf at a time: nobody listens yet, so no
    event is owed); for everyone but the ``live`` few of each call, a negative rapid
    test taken before the shift change."""
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from crews.choices import CrewRole, IdKind, TestKind, TestResult
    from crews.models import CrewMember, Person, ScreeningTest
    from portguard import roles
    from tests.helpers import token_for
    from vessels.choices import Locality, VesselKind
    from vessels.models import PortCall, Vessel, Wharf

    rng = random.Random(digit)
    arrived_at = timezone.now() - timedelta(hours=3)
    authority = User.objects.create_user(f"{prefix.lower()}-authority")
    authority.groups.add(Group.objects.get(name=roles.AUTHORITY))
    scene = Scene([], [], {}, token_for(authority))
    localities = list(Locality.values)
    for w in range(size.wharves):
        code = f"{prefix}-{w + 1:02d}"
        wharf = Wharf.objects.create(code=code, name=f"Bến {code}", locality=localities[w % len(localities)])
        inspector = User.objects.create_user(f"{code.lower()}-inspector")
        inspector.groups.add(Group.objects.get(name=roles.INSPECTOR))
        wharf.inspectors.add(inspector)
        scene.wharves.append(code)
        scene.inspector_tokens[code] = token_for(inspector)
        vessels = Vessel.objects.bulk_create(
            Vessel(registration=f"{prefix}-{w + 1:02d}{c:03d}", name=f"Tàu {code}/{c}", kind=VesselKind.OTHER)
            for c in range(size.calls)
        )
        calls = PortCall.objects.bulk_create(
            PortCall(vessel=v, wharf=wharf, arrived_at=arrived_at, registered_by=inspector) for v in vessels
        )
        crews = [[f"9{digit}{w:03d}{c:04d}{k:03d}" for k in range(rng.randint(*size.crew))] for c in range(size.calls)]
        people = {
            p.id_number: p
            for p in Person.objects.bulk_create(
                Person(id_kind=IdKind.CCCD, id_number=n, full_name=f"Thuyền viên {n}") for crew in crews for n in crew
            )
        }
        CrewMember.objects.bulk_create(
            (
                CrewMember(port_call=call, person=people[n], role=CrewRole.CREW, added_by=inspector)
                for call, crew in zip(calls, crews, strict=True)
                for n in crew
            ),
            batch_size=1000,
        )
        earlier = []
        for call, crew in zip(calls, crews, strict=True):
            live, tested = crew[: size.live], crew[size.live :]
            positive = rng.choice(tested) if tested and rng.random() < POSITIVE_SHARE else None
            scene.calls.append(Call(call.pk, code, live, positive))
            earlier += [
                ScreeningTest(
                    person=people[n],
                    port_call=call,
                    wharf=wharf,
                    kind=TestKind.RAPID,
                    sampled_at=arrived_at + timedelta(minutes=30),
                    result=TestResult.NEGATIVE,
                    result_at=arrived_at + timedelta(minutes=50),
                    recorded_by=inspector,
                )
                for n in tested
            ]
        ScreeningTest.objects.bulk_create(earlier, batch_size=1000)
    return scene


# --- HTTP clients ----------------------------------------------------------------------


@dataclass
class Servers:
    """The daphne processes, as a proxy sees them: a client whose server does not answer
    moves on to the next one."""

    urls: list[str]

    def after(self, url: str) -> str:
        return self.urls[(self.urls.index(url) + 1) % len(self.urls)]


@dataclass
class Tally:
    """What the clients saw. Appended to from many threads (list.append is atomic)."""

    result_latency: list[float] = field(default_factory=list)
    approval_latency: list[float] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # results answered 4xx
    server_errors: list[str] = field(default_factory=list)
    acknowledged: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    # test id → (wharf, when the request that stored it was sent), from 201s
    created: dict[int, tuple[str, float]] = field(default_factory=dict)
    unanswered: list[str] = field(default_factory=list)  # client_uuids never acknowledged
    failovers: int = 0
    approvals: Counter = field(default_factory=Counter)
    positives: int = 0
    raced: int = 0  # positives sent together with an approval of their call
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _post(url: str, token: str | None, payload: dict | None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(url, data=json.dumps(payload or {}).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body or b"{}")
        except ValueError:
            return error.code, {"raw": body[:200].decode(errors="replace")}


def _send(tally: Tally, servers: Servers, home: list[str], path: str, token: str | None, payload: dict | None):
    """POST until some server answers, like a client behind a proxy: a refused or dropped
    connection, a timeout or a 5xx is retried (with the same client_uuid), on the next
    server if this one does not answer at all. ``home`` is the client's current server."""
    for attempt in range(40):
        url = home[0]
        started = time.perf_counter()
        try:
            status, body = _post(url + path, token, payload)
        except (OSError, ValueError):  # refused, reset, timed out, or an answer cut short
            with tally.lock:
                tally.failovers += 1
            home[0] = servers.after(url)
            time.sleep(min(2.0, 0.1 * (attempt + 1)))
            continue
        elapsed = time.perf_counter() - started
        with tally.lock:
            tally.requests += 1
        if status >= 500:
            tally.server_errors.append(f"{status} {path}: {body}")
            time.sleep(0.2)
            continue
        return status, body, elapsed
    return None, None, None


@dataclass
class Job:
    call: Call
    payload: dict
    race: bool = False  # post it together with an approval of the call


def _results(scene: Scene, rng: random.Random) -> list[Job]:
    """The shift change's results in the order they are sent: every live person's
    negative shuffled with half the positives; then the other half of the positives,
    each posted at the same moment as an approval of its call (whichever takes the
    call's lock first wins: approved then suspended, or refused); a tenth of all of them
    sent twice with the same client_uuid, either straight after or at the very end."""
    from django.utils import timezone

    sampled_at = timezone.now().isoformat()

    def job(call: Call, id_number: str, result: str) -> Job:
        return Job(
            call,
            {
                "id_number": id_number,
                "kind": "rapid",
                "sampled_at": sampled_at,
                "result": result,
                "port_call": call.pk,
                "client_uuid": str(uuid.uuid4()),
            },
        )

    negatives = [job(c, n, "negative") for c in scene.calls for n in c.live]
    positives = [job(c, c.positive, "positive") for c in scene.calls if c.positive]
    rng.shuffle(positives)
    half = len(positives) // 2
    first = negatives + positives[:half]
    rng.shuffle(first)
    for racing in positives[half:]:
        racing.race = True
    sent, late = [], []
    for item in first + positives[half:]:
        sent.append(item)
        if rng.random() < RETRY_SHARE:
            (late if rng.random() < 0.5 else sent).append(Job(item.call, item.payload))
    return sent + late


def _load(scene: Scene, servers: Servers, size: Size, tally: Tally, progress=None) -> float:
    """Run the shift change's writes; ``progress(done, total)`` is called after each
    result. Returns the wall time."""
    rng = random.Random(7)
    jobs = _results(scene, rng)
    tally.positives = len({j.payload["client_uuid"] for j in jobs if j.payload["result"] == "positive"})
    tally.raced = sum(1 for j in jobs if j.race)
    work: queue.Queue = queue.Queue()
    for job in jobs:
        work.put(job)
    posting_done = threading.Event()
    done = [0]
    pending = {c.pk for c in scene.calls}
    pending_lock = threading.Lock()
    # A racing positive waits until its call's negatives are answered, so that the
    # approval sent with it can win.
    live_answered: Counter = Counter()
    live_keys = {j.payload["client_uuid"] for j in jobs if j.payload["result"] == "negative"}

    def post_result(job: Job, home: list[str]) -> None:
        status, body, elapsed = _send(
            tally, servers, home, "/api/v1/tests/", scene.inspector_tokens[job.call.wharf], job.payload
        )
        key = job.payload["client_uuid"]
        with tally.lock:
            if status in (200, 201):
                tally.result_latency.append(elapsed)
                if key not in tally.acknowledged and key in live_keys:
                    live_answered[job.call.pk] += 1
                tally.acknowledged[key].add(body["id"])
                if status == 201:
                    # Sent, not answered: a slow answer may come long after the commit and
                    # its event, even after a reconnecting socket's snapshot showed it.
                    tally.created[body["id"]] = (job.call.wharf, time.monotonic() - elapsed)
            elif status is None:
                tally.unanswered.append(key)
            else:
                tally.refused.append(f"{status} for {key}: {body}")

    def client(index: int) -> None:
        home = [servers.urls[index % len(servers.urls)]]
        while True:
            try:
                job = work.get_nowait()
            except queue.Empty:
                return
            if job.race:
                deadline = time.monotonic() + 30
                while live_answered[job.call.pk] < len(job.call.live) and time.monotonic() < deadline:
                    time.sleep(0.05)
                rival = threading.Thread(target=approve, args=(job.call.pk, [servers.after(home[0])]))
                rival.start()
                post_result(job, home)
                rival.join()
            else:
                post_result(job, home)
            with tally.lock:
                done[0] += 1
                count = done[0]
            if progress is not None:
                progress(count, len(jobs))

    def approve(call_id: int, home: list[str]) -> None:
        status, body, elapsed = _send(
            tally, servers, home, f"/api/v1/port-calls/{call_id}/handover/", scene.authority_token, None
        )
        with tally.lock:
            if status is None:
                tally.approvals["unanswered"] += 1
                return
            tally.approval_latency.append(elapsed)
            tally.approvals["approved" if status == 201 else f"{status} {body.get('error', '')}".strip()] += 1
        if status == 201 or body.get("error") == "already_approved":
            with pending_lock:
                pending.discard(call_id)

    def approver(index: int) -> None:
        """A port authority officer: approves calls at random while the results come in."""
        home = [servers.urls[index % len(servers.urls)]]
        chooser = random.Random(index)
        while not posting_done.is_set():
            with pending_lock:
                candidates = sorted(pending)
            if not candidates:
                return
            approve(chooser.choice(candidates), home)
            time.sleep(0.05)

    started = time.perf_counter()
    clients = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(size.clients)]
    approvers = [threading.Thread(target=approver, args=(i,), daemon=True) for i in range(size.approvers)]
    for thread in clients + approvers:
        thread.start()
    for thread in clients:
        thread.join()
    posting_done.set()
    for thread in approvers:
        thread.join()
    # Every result is in: one last attempt for each call not approved yet.
    home = [servers.urls[-1]]
    for call_id in sorted(pending):
        approve(call_id, home)
    return time.perf_counter() - started


# --- Dashboards ------------------------------------------------------------------------


class Dashboard:
    """One dashboard socket that behaves like the dashboard's script: it waits as long as it takes
    for a connection (a browser sets no handshake timeout); on any loss it reconnects
    after the same jittered exponential backoff (0.5 s doubling to 10 s, reset by a
    snapshot), to the next server when its own does not answer (as a proxy would), and
    replaces its whole state with the snapshot it is sent."""

    def __init__(self, servers: Servers, url: str, path: str, token: str, wharf: str | None):
        self.servers, self.url, self.path, self.token, self.wharf = servers, url, path, token, wharf
        self.seen: Counter = Counter()  # test.recorded ids → times seen
        self.state: dict[int, tuple] = {}
        self.history: dict[int, list[tuple]] = defaultdict(list)  # port_call.updated, in arrival order
        self.versions: dict[int, int] = {}  # port call id -> highest version seen
        self.snapshots: list[tuple[float, str]] = []  # (monotonic time, server) of each snapshot
        self.connected = asyncio.Event()
        self.closing = False
        self.socket = None
        self.attempt = 0

    async def run(self) -> None:
        self.attempt = 0
        while not self.closing:
            try:
                async with connect(
                    self.url + self.path,
                    additional_headers={"Authorization": f"Token {self.token}"},
                    max_size=None,
                    open_timeout=None,
                    ping_interval=None,
                ) as ws:
                    self.socket = ws
                    async for text in ws:
                        for message in messages_of(text):
                            self._receive(message)
            except (OSError, TimeoutError, InvalidHandshake, WebSocketException):
                if self.closing:
                    return
                if not self.snapshots or self.attempt > 0:
                    self.url = self.servers.after(self.url)
            finally:
                self.socket = None
                self.connected.clear()
            if self.closing:
                return
            ceiling = min(10.0, 0.5 * 2**self.attempt)
            self.attempt += 1
            await asyncio.sleep(ceiling / 2 + random.random() * ceiling / 2)

    def _receive(self, message: dict) -> None:
        kind = message["type"]
        if kind == "snapshot":
            self.state = {c["id"]: _summary(c) for c in message["port_calls"]}
            self.versions.update({c["id"]: c["version"] for c in message["port_calls"]})
            self.snapshots.append((time.monotonic(), self.url))
            self.attempt = 0
            self.connected.set()
        elif kind == "test.recorded":
            self.seen[message["test"]["id"]] += 1
        elif kind == "port_call.updated":
            summary = message["port_call"]
            # As the dashboard's state.js does: an update older than one already seen is dropped.
            if summary["version"] < self.versions.get(summary["id"], 0):
                return
            self.versions[summary["id"]] = summary["version"]
            self.state[summary["id"]] = _summary(summary)
            self.history[summary["id"]].append(self.state[summary["id"]])

    async def close(self) -> None:
        self.closing = True
        if self.socket is not None:
            await self.socket.close()


def _summary(call: dict) -> tuple:
    return call["status"], tuple(sorted(call["counts"].items()))


def _stale(board: Dashboard, truth: dict[int, tuple]) -> list[tuple[int, str]]:
    """The port calls this socket shows otherwise than the database, with a word on why."""
    where = board.wharf or "province"
    problems = [(pk, f"{where}: call {pk} missing") for pk in truth if pk not in board.state]
    for pk, shown in board.state.items():
        if truth.get(pk) == shown:
            continue
        if pk not in truth:
            problems.append((pk, f"{where}: call {pk} shown but not open"))
        elif truth[pk] in board.history[pk]:
            order = board.history[pk]
            problems.append((pk, f"{where}: call {pk} shows {shown}, database {truth[pk]}; updates came {order}"))
        else:
            problems.append((pk, f"{where}: call {pk} shows {shown}, database {truth[pk]}; never sent"))
    return problems


def _truth(wharves: Iterable[str] | None) -> dict[int, tuple]:
    """What a fresh snapshot would show: open calls of these wharves (None: all)."""
    from vessels.models import PortCall
    from vessels.status import call_summary, clearance_for

    calls = PortCall.objects.filter(departed_at__isnull=True).select_related("vessel", "wharf")
    if wharves is not None:
        calls = calls.filter(wharf__code__in=list(wharves))
    calls = list(calls)
    clearances = clearance_for(calls)
    return {
        call.pk: _summary(json.loads(json.dumps(call_summary(call, clearances[call.pk]), default=str)))
        for call in calls
    }


async def _open(dashboards: list[Dashboard], timeout: float = 300) -> list[asyncio.Task]:
    """Start every dashboard, a few at a time, and wait until each has its snapshot."""
    tasks = []
    for start in range(0, len(dashboards), 25):
        batch = dashboards[start : start + 25]
        tasks += [asyncio.create_task(d.run()) for d in batch]
        await asyncio.wait_for(asyncio.gather(*(d.connected.wait() for d in batch)), timeout)
    return tasks


def _dashboards(scene: Scene, servers: Servers, size: Size) -> list[Dashboard]:
    boards = []
    for i in range(size.sockets):
        wharf = scene.wharves[i % len(scene.wharves)]
        url = servers.urls[(i // len(scene.wharves)) % len(servers.urls)]
        boards.append(Dashboard(servers, url, f"/ws/wharves/{wharf}/", scene.inspector_tokens[wharf], wharf))
    for i in range(size.province_sockets):
        boards.append(
            Dashboard(servers, servers.urls[i % len(servers.urls)], "/ws/province/", scene.authority_token, None)
        )
    return boards


def _expected(board: Dashboard, created: dict[int, tuple[str, float]], since: float = float("-inf")) -> set[int]:
    """The results whose ``test.recorded`` this socket should see: its wharf's (all, for
    the province), whose request was sent after ``since``."""
    return {pk for pk, (wharf, at) in created.items() if (board.wharf is None or board.wharf == wharf) and at > since}


async def _settle(boards: list[Dashboard], created: dict[int, tuple[str, float]], timeout: float) -> None:
    """Wait until every socket has seen every event it should, or ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(_expected(b, created) <= set(b.seen) for b in boards):
            return
        await asyncio.sleep(0.2)


# --- The phases ------------------------------------------------------------------------


def _phase(scene: Scene, size: Size, faults: bool) -> dict:
    from tests.realtime.servers import Daphne, PrivateRedis

    redis = PrivateRedis()
    # Serving tests/bench/bare_asgi.py: the project's application with the bench's bare view
    # beside it; with Django's connection pool, as deploy/portguard.env.example runs them.
    pool = {"DB_POOL_MAX_SIZE": str(DAPHNE_POOL)}
    daphnes = [Daphne(redis.url, env=pool, application=BARE_APPLICATION) for _ in range(2)]
    servers = Servers([d.http for d in daphnes])
    tally = Tally()
    events: dict[str, float] = {}

    def restart_redis() -> None:
        redis.stop()
        time.sleep(size.redis_down)
        redis.start()
        events["redis_restarted"] = time.monotonic()

    restarter = threading.Thread(target=restart_redis, daemon=True)

    def inject(done: int, total: int) -> None:
        """The faults, at fixed points of the load: Redis away for a few seconds at a
        quarter, the first daphne killed at 60 %."""
        with tally.lock:
            if done >= total // 4 and "redis_stopped" not in events:
                events["redis_stopped"] = time.monotonic()
                restarter.start()
            if done >= total * 6 // 10 and "daphne_killed" not in events:
                events["daphne_killed"] = time.monotonic()
                daphnes[0].process.kill()
                daphnes[0].process.wait(timeout=10)

    async def scenario() -> dict:
        boards = _dashboards(scene, Servers([d.ws for d in daphnes]), size)
        opened = time.perf_counter()
        tasks = await _open(boards)
        open_seconds = time.perf_counter() - opened
        pids = [d.process.pid for d in daphnes]
        cpu_before = _cpu_seconds(pids)
        wall = await asyncio.to_thread(_load, scene, servers, size, tally, inject if faults else None)
        cpu = {} if faults else {"posting": _cpu_seconds(pids) - cpu_before}
        if faults:
            await asyncio.to_thread(restarter.join)
        await _settle(boards, tally.created, 60 if not faults else 20)
        if not faults:
            cpu["load"] = _cpu_seconds(pids) - cpu_before
            if tally.result_latency:
                cpu["bare"] = await asyncio.to_thread(_bare_load, servers, size, len(tally.result_latency), pids)
        if faults:
            # Let reconnecting sockets finish (those still without a snapshot then count as
            # not resynchronised), then compare what each shows with the database.
            deadline = time.monotonic() + RESYNC_TIMEOUT
            while not all(b.connected.is_set() for b in boards) and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
            await asyncio.sleep(2)
            fresh = await _fresh_socket(daphnes[1].ws, scene)
        else:
            fresh = None
        truth_by_wharf = {w: await asyncio.to_thread(_truth, [w]) for w in scene.wharves}
        everything = await asyncio.to_thread(_truth, None) if size.province_sockets else {}
        for board in boards:
            await board.close()
        await asyncio.gather(*tasks, return_exceptions=True)
        return {
            "boards": boards,
            "wall": wall,
            "open_seconds": open_seconds,
            "cpu": cpu,
            "killed_url": daphnes[0].ws,
            "fresh_socket": fresh,
            "truth": lambda b: everything if b.wharf is None else truth_by_wharf[b.wharf],
        }

    try:
        for server in (redis, *daphnes):
            server.start()
        outcome = asyncio.run(scenario())
    finally:
        for server in (*daphnes, redis):
            _stop(server)
    outcome["tally"] = tally
    outcome["events"] = events
    outcome["checks"] = _check_database([c.pk for c in scene.calls], tally.acknowledged)
    return outcome


async def _fresh_socket(url: str, scene: Scene) -> str | None:
    """Open one more dashboard on ``url`` and wait for its snapshot: None if it comes,
    else what went wrong."""
    wharf = scene.wharves[0]
    started = time.monotonic()
    try:
        async with connect(
            f"{url}/ws/wharves/{wharf}/",
            additional_headers={"Authorization": f"Token {scene.inspector_tokens[wharf]}"},
            max_size=None,
            open_timeout=30,
        ) as ws:
            await asyncio.wait_for(ws.recv(), 30)
    except (OSError, TimeoutError, InvalidHandshake, WebSocketException) as error:
        return f"{type(error).__name__} after {time.monotonic() - started:.1f} s"
    return None


def _stop(server) -> None:
    """``server.stop()`` with more patience: a daphne that has just closed hundreds of
    sockets on a loaded machine can take longer than 10 s to exit."""
    if server.process is None:
        return
    server.process.terminate()
    try:
        server.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)
    server.process = None


def _cpu_of_stat(stat: str, ticks: int) -> float:
    """User + system CPU seconds of a process (all its threads) from its /proc/<pid>/stat
    line: utime and stime are the 14th and 15th fields, counted after the command name,
    which is in parentheses and may hold spaces or parentheses itself."""
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / ticks


def _cpu_seconds(pids: Iterable[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(_cpu_of_stat(Path(f"/proc/{pid}/stat").read_text(), ticks) for pid in pids)


def _bare_load(servers: Servers, size: Size, count: int, pids: list[int]) -> dict:
    """``count`` POSTs to the bare view (tests/bench/bare_asgi.py: token-less, one
    ``bulk_create`` of a plain result row) from as many client threads as the load had,
    each keeping to a daphne as the load's clients do; the daphnes' CPU seconds over
    them, and how they were answered."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from crews.choices import IdKind, TestKind, TestResult
    from crews.models import Person, ScreeningTest

    person = Person.objects.create(id_kind=IdKind.CCCD, id_number="099999999998", full_name="Bare")
    user = User.objects.create_user("shift-bare")
    payload = {
        "person": person.pk,
        "recorded_by": user.pk,
        "kind": TestKind.RAPID,
        "sampled_at": timezone.now().isoformat(),
        "result": TestResult.NEGATIVE,
    }
    tally = Tally()
    work: queue.Queue = queue.Queue()
    for _ in range(count):
        work.put(None)

    def client(index: int) -> None:
        home = [servers.urls[index % len(servers.urls)]]
        while True:
            try:
                work.get_nowait()
            except queue.Empty:
                return
            status, body, elapsed = _send(tally, servers, home, BARE_PATH, None, payload)
            if status == 201:
                tally.result_latency.append(elapsed)
            else:
                tally.refused.append(f"{status}: {body}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(size.clients)]
    before, started = _cpu_seconds(pids), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu, wall = _cpu_seconds(pids) - before, time.perf_counter() - started
    stored = ScreeningTest.objects.filter(person=person).count()
    ScreeningTest.objects.filter(person=person).delete()
    return {
        "cpu": cpu,
        "wall": wall,
        "sent": count,
        "answered": len(tally.result_latency),
        "stored": stored,
        "latency": tally.result_latency,
        "problems": tally.server_errors + tally.refused,
    }


def _cpu_row(label: str, cpu: dict, results: int, size: Size) -> dict:
    """Server CPU per result beside the bare view's per request, as ``value (floor; ratio)``."""
    bare = cpu["bare"]
    per_result = cpu["load"] / results
    per_bare = bare["cpu"] / bare["answered"] if bare["answered"] else float("nan")
    problems = list(bare["problems"])
    if bare["stored"] != bare["answered"]:
        problems.append(f"bare view: {bare['answered']} answered 201, {bare['stored']} rows stored")
    return {
        "name": f"{label}: server CPU ms per result, both daphnes (user+sys over the whole load, approvals and "
        f"events included, / {results} POST /api/v1/tests/ answered 2xx; floor: / {bare['sent']} POSTs to a "
        f"token-less bare Django view, one bulk_create each, {size.clients} threads, sockets open; ratio)",
        "value": f"{per_result * 1000:.1f} ms ({per_bare * 1000:.1f} ms; {per_result / per_bare:.1f}x)",
        "unit": "",
        "ok": not problems,
        "examples": problems[:5],
        "cpu_seconds": round(cpu["load"], 2),
        "cpu_seconds_posting": round(cpu["posting"], 2),
        "results": results,
        "bare_cpu_seconds": round(bare["cpu"], 2),
        "bare_requests": bare["answered"],
        "bare_requests_per_second": round(bare["answered"] / bare["wall"], 1),
        "bare_p50_ms": round(statistics.median(bare["latency"]) * 1000, 2) if bare["latency"] else None,
    }


def _delivery(boards: list[Dashboard], created: dict[int, tuple[str, float]], since=None) -> tuple[int, int, int]:
    """(sockets that saw every event they should, events delivered, events expected);
    ``since(board)`` limits each socket to the results whose request was sent after
    that moment."""
    complete = delivered = expected = 0
    for board in boards:
        wanted = _expected(board, created, since(board) if since else float("-inf"))
        got = len(wanted & set(board.seen))
        delivered += got
        expected += len(wanted)
        complete += got == len(wanted)
    return complete, delivered, expected


def _write_floor(samples: int, threads: int) -> list[float]:
    """The same number of one-row ``bulk_create``s of a result from as many threads: the
    database's own cost of a write, without HTTP, locks or rules."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.utils import timezone

    from crews.choices import IdKind, TestKind, TestResult
    from crews.models import Person, ScreeningTest

    person = Person.objects.create(id_kind=IdKind.CCCD, id_number="099999999999", full_name="Floor")
    user = User.objects.create_user("shift-floor")
    latencies: list[float] = []
    work: queue.Queue = queue.Queue()
    for _ in range(samples):
        work.put(None)

    def insert() -> None:
        try:
            while True:
                try:
                    work.get_nowait()
                except queue.Empty:
                    return
                now = timezone.now()
                row = ScreeningTest(
                    person=person, kind=TestKind.RAPID, sampled_at=now, result=TestResult.NEGATIVE, recorded_by=user
                )
                started = time.perf_counter()
                ScreeningTest.objects.bulk_create([row])
                latencies.append(time.perf_counter() - started)
        finally:
            connection.close()

    pool = [threading.Thread(target=insert) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    ScreeningTest.objects.filter(person=person).delete()
    return latencies


def _all_of(name: str, got: int, total: int) -> dict:
    """A row that fails the run unless ``got`` is the whole ``total``."""
    return {"name": name, "value": f"{got}/{total}", "unit": "", "ok": got == total}


def _snapshotted_after(boards: list[Dashboard], moment: float) -> int:
    """How many sockets were sent a snapshot after ``moment``."""
    return sum(1 for b in boards if any(at > moment for at, _url in b.snapshots))


def _rows(label: str, outcome: dict, size: Size, faults: bool) -> list[dict]:
    tally: Tally = outcome["tally"]
    boards: list[Dashboard] = outcome["boards"]
    checks = outcome["checks"]
    rows = []
    rows.append(
        {
            "name": f"{label} ({size.describe()}): write requests answered per second",
            "value": round(tally.requests / outcome["wall"], 1),
            "unit": "req/s",
        }
    )
    rows.append(
        {
            "name": f"{label}: {len(boards)} dashboard sockets opened, each with its snapshot",
            "value": round(outcome["open_seconds"], 1),
            "unit": "s",
        }
    )
    if not faults:
        floor = _write_floor(len(tally.result_latency), size.clients)
        floor_name = f"plain one-row bulk_create of a result, {size.clients} threads"
        rows.append(latency_row(f"{label}: POST /api/v1/tests/ under load", tally.result_latency, floor, floor_name))
        if tally.approval_latency:
            rows.append(
                latency_row(f"{label}: POST …/handover/ racing the results", tally.approval_latency, floor, floor_name)
            )
        if "bare" in outcome["cpu"]:
            rows.append(_cpu_row(label, outcome["cpu"], len(tally.result_latency), size))
        complete, delivered, expected = _delivery(boards, tally.created)
        rows.append(
            _all_of(
                f"{label}: test.recorded events delivered / expected (over {len(boards)} sockets)", delivered, expected
            )
        )
        rows.append(_all_of(f"{label}: sockets that saw every event of their wharf", complete, len(boards)))
    else:
        events = outcome["events"]
        restarted, killed = events["redis_restarted"], events["daphne_killed"]
        resynced = _snapshotted_after(boards, restarted)
        rows.append(_all_of(f"{label}: sockets that re-read a snapshot after Redis came back", resynced, len(boards)))
        victims = [b for b in boards if [url for at, url in b.snapshots if at < killed][-1:] == [outcome["killed_url"]]]
        moved = [b for b in victims if any(at > killed and url != outcome["killed_url"] for at, url in b.snapshots)]
        rows.append(
            _all_of(f"{label}: sockets of the killed daphne resynchronised on the survivor", len(moved), len(victims))
        )
        # The survivor's own sockets too: it sends them a fresh snapshot once the killed
        # process's heartbeat has been silent long enough (realtime/layers.py).
        after_kill = _snapshotted_after(boards, killed)
        rows.append(
            _all_of(
                f"{label}: sockets with a snapshot read after the kill (moved or refreshed)", after_kill, len(boards)
            )
        )
        rows.append(
            {
                "name": f"{label}: a fresh socket on the surviving daphne once the load is over",
                "value": outcome["fresh_socket"] or "snapshot read",
                "unit": "",
                "ok": outcome["fresh_socket"] is None,
            }
        )
        if moved and len(moved) == len(victims):
            last = max(min(at for at, _url in b.snapshots if at > killed) for b in moved)
            rows.append(
                {
                    "name": f"{label}: from the kill to the last of them resynchronised",
                    "value": round(last - killed, 1),
                    "unit": "s",
                }
            )
        _complete, delivered, expected = _delivery(boards, tally.created)
        rows.append(
            {
                "name": f"{label}: test.recorded events delivered / expected, whole run (at most once)",
                "value": f"{delivered}/{expected}",
                "unit": "",
            }
        )

        # A request sent once the faults are over and this socket has its snapshot (it
        # joined its group before reading it) commits after the socket subscribed.
        def since(board: Dashboard) -> float:
            return max(restarted, killed, board.snapshots[-1][0])

        complete, delivered, expected = _delivery(boards, tally.created, since)
        rows.append(_all_of(f"{label}: events delivered / expected once both faults were over", delivered, expected))
    stale = {b: _stale(b, outcome["truth"](b)) for b in boards}
    in_sync = sum(1 for problems in stale.values() if not problems)
    stale_calls = {call for problems in stale.values() for call, _text in problems}
    name = f"{label}: sockets whose final state matches the database ({len(stale_calls)} calls stale)"
    examples = [text for problems in stale.values() for _call, text in problems][:5]
    rows.append({**_all_of(name, in_sync, len(boards)), "examples": examples})
    lost = len(tally.unanswered) + sum(1 for p in checks["writes"] if "not stored" in p)
    rows.append({"name": f"{label}: results answered 2xx", "value": len(tally.acknowledged), "unit": " results"})
    rows.append(
        {
            "name": f"{label}: results refused (4xx)",
            "value": len(tally.refused),
            "unit": "",
            "ok": not tally.refused,
            "examples": tally.refused[:5],
        }
    )
    rows.append(
        {
            "name": f"{label}: writes lost (never answered, or 2xx and not stored)",
            "value": lost,
            "unit": "",
            "ok": lost == 0,
        }
    )
    rows.append(
        {
            "name": f"{label}: 5xx answers from the write paths",
            "value": len(tally.server_errors),
            "unit": "",
            "ok": not tally.server_errors,
        }
    )
    rows.append({"name": f"{label}: connections refused or dropped (retried)", "value": tally.failovers, "unit": ""})
    approved = tally.approvals["approved"]
    refused = sum(n for outcome_, n in tally.approvals.items() if outcome_.startswith("409"))
    rows.append(
        {"name": f"{label}: approvals approved / refused with 409", "value": f"{approved}/{refused}", "unit": ""}
    )
    rows.append(
        {
            "name": f"{label}: positives posted (raced against an approval)",
            "value": f"{tally.positives} ({tally.raced})",
            "unit": "",
        }
    )
    rows.append({"name": f"{label}: approved handovers later suspended", "value": outcome["suspended"], "unit": ""})
    for name, problems in (
        ("handovers approved with someone not cleared by the evidence", checks["unsound"]),
        ("active handovers with a positive on board", checks["contradicted"]),
        ("2xx results not stored exactly once (by client_uuid)", checks["writes"]),
    ):
        rows.append(
            {
                "name": f"{label}: {name}",
                "value": len(problems),
                "unit": "",
                "ok": not problems,
                "examples": problems[:5],
            }
        )
    return rows


def run() -> list[dict]:
    from vessels.choices import HandoverState
    from vessels.models import Handover

    size = Size.from_env()
    rows = []
    phases = {"steady": ("shift change", "SC", 1, False), "faults": ("shift change + faults", "SF", 2, True)}
    for label, prefix, digit, faults in (phases[name] for name in size.phases):
        started = time.perf_counter()
        scene = _seed(size, prefix, digit)
        print(
            f"{label}: seeded {len(scene.calls)} port calls in {time.perf_counter() - started:.1f} s", file=sys.stderr
        )
        try:
            outcome = _phase(scene, size, faults)
        except Exception as error:
            # The other phase's rows still count; this one fails the run.
            traceback.print_exc()
            rows.append({"name": f"{label}: ran to the end", "value": type(error).__name__, "unit": "", "ok": False})
            continue
        outcome["suspended"] = Handover.objects.filter(
            port_call_id__in=[c.pk for c in scene.calls], state=HandoverState.SUSPENDED
        ).count()
        phase_rows = _rows(label, outcome, size, faults)
        for row in phase_rows:
            for example in row.get("examples", []):
                print(f"{row['name']}: {example}", file=sys.stderr)
        rows += phase_rows
    return rows
