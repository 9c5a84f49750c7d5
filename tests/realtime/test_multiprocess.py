"""Several daphne processes sharing Redis, one of them killed in the middle of traffic,
and a Redis that goes away while results are posted: real servers, real sockets, real
HTTP. No write is lost and every dashboard comes back to the current state."""

import asyncio
import http.client
import json
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.utils import timezone
from redis.asyncio import Redis
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from crews.choices import TestKind, TestResult
from crews.models import Person, ScreeningTest
from crews.results import TestData, record_test
from realtime.consumers import CLOSE_RESYNC
from tests.helpers import people_of, token_for
from tests.realtime.frames import next_message
from tests.realtime.servers import Daphne, PrivateRedis, running

pytestmark = pytest.mark.django_db(transaction=True)


# Results posted while a process dies or Redis restarts: each for another person, so a
# dashboard's "tested" count tells whether it reflects every one of them.
WRITES = 24


@pytest.fixture
def scene(make_call, inspector):
    call = make_call(crew=3, arrived_at=timezone.now() - timedelta(hours=1))
    token = token_for(inspector)
    return call, people_of(call), token


@pytest.fixture
def busy_scene(make_call, inspector):
    """A port call with a person for each write, and one more for the write after."""
    call = make_call(crew=WRITES + 1, arrived_at=timezone.now() - timedelta(hours=1))
    token = token_for(inspector)
    return call, people_of(call), token


def post_result(
    server: Daphne, token: str, call, person, result: str = "negative", client_uuid: str | None = None
) -> int | None:
    """The status the server answered, or None when no answer came (a dead process)."""
    body = {
        "id_number": person.id_number,
        "kind": "rapid",
        "sampled_at": timezone.now().isoformat(),
        "result": result,
        "port_call": call.pk,
    }
    if client_uuid:
        body["client_uuid"] = client_uuid
    request = urllib.request.Request(
        f"{server.http}/api/v1/tests/",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
        return None


async def next_of_type(socket, event_type: str, timeout: float = 10):
    async def wait():
        while True:
            message = await next_message(socket, socket.recv)
            if message["type"] == event_type:
                return message

    return await asyncio.wait_for(wait(), timeout)


def dashboard(server: Daphne, token: str):
    return connect(f"{server.ws}/ws/wharves/CP-03/", additional_headers={"Authorization": f"Token {token}"})


def test_result_recorded_through_one_process_reaches_a_socket_on_another(scene):
    call, people, token = scene
    redis = PrivateRedis()
    a, b = Daphne(redis.url), Daphne(redis.url)

    async def scenario():
        async with dashboard(b, token) as socket:
            snapshot = await next_of_type(socket, "snapshot")
            assert [c["id"] for c in snapshot["port_calls"]] == [call.pk]
            assert await asyncio.to_thread(post_result, a, token, call, people[0], "positive") == 201
            alert = await next_of_type(socket, "alert.positive")
            assert alert["test"]["id_number"] == people[0].id_number
            update = await next_of_type(socket, "port_call.updated")
            assert update["port_call"]["status"] == "blocked"

    with running(redis, a, b):
        asyncio.run(scenario())


def test_a_write_a_killed_process_never_published_reaches_the_other_process_dashboards(scene, inspector):
    call, people, token = scene
    redis = PrivateRedis()
    quick = {"PORTGUARD_PROCESS_HEARTBEAT_MS": "300"}  # dead after 0.9 s of silence
    a, b = Daphne(redis.url, env=quick), Daphne(redis.url, env=quick)

    def committed_but_never_published():
        # Recorded here, in the test's process: its events go to this process's own
        # channel layer, never to the Redis the two daphnes share. So for B it is a write
        # that A committed and died before publishing.
        sample = TestData(people[0], TestKind.RAPID, timezone.now(), TestResult.POSITIVE, port_call=call)
        record_test(inspector, sample)

    async def scenario():
        async with dashboard(a, token) as on_a, dashboard(b, token) as on_b:
            await next_of_type(on_a, "snapshot")  # A serves a socket, so it beats
            (before,) = (await next_of_type(on_b, "snapshot"))["port_calls"]
            assert before["status"] == "awaiting_tests"
            await asyncio.to_thread(committed_but_never_published)
            await each_beat_after_the_others(redis.url, processes=2)  # so B has seen A alive
            a.kill()
            (after,) = (await next_of_type(on_b, "snapshot", timeout=10))["port_calls"]
            assert after["status"] == "blocked"
            assert after["counts"]["tested"] == 1
            # B goes on as before: its next event reaches the same socket.
            assert await asyncio.to_thread(post_result, b, token, call, people[1]) == 201
            event = await next_of_type(on_b, "test.recorded")
            assert event["test"]["id_number"] == people[1].id_number

    with running(redis, a, b):
        asyncio.run(scenario())


@dataclass
class Write:
    person: Person
    client_uuid: str
    attempts: list[tuple[Daphne, int | None]] = field(default_factory=list)

    @property
    def status(self) -> int | None:
        return self.attempts[-1][1]

    @property
    def server(self) -> Daphne:
        return self.attempts[-1][0]


class Traffic:
    """Results posted one after another by a client behind the proxy: the proxy takes the
    processes in turn and passes a request that one did not answer to the next (nginx's
    ``proxy_next_upstream``); the result's client_uuid makes that retry safe."""

    def __init__(self, servers: list[Daphne], token: str, call, people: list[Person]):
        self.servers, self.token, self.call, self.people = servers, token, call, people
        self.writes: list[Write] = []

    def run(self) -> None:
        for index, person in enumerate(self.people):
            write = Write(person, str(uuid.uuid4()))
            turn = index % len(self.servers)
            for server in self.servers[turn:] + self.servers[:turn]:
                status = post_result(server, self.token, self.call, person, client_uuid=write.client_uuid)
                write.attempts.append((server, status))
                if status is not None:
                    break
            self.writes.append(write)

    def answered_by(self, server: Daphne) -> int:
        return sum(1 for w in list(self.writes) if w.server is server and w.status == 201)


async def until(check, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def each_beat_after_the_others(redis_url: str, processes: int, timeout: float = 10) -> None:
    """Wait until every process has beaten in Redis after all of them had beaten once: a
    beat reads who else beat lately (realtime/layers.py), so each has seen the others alive."""
    client = Redis.from_url(redis_url)

    async def last_beats() -> dict[bytes, float]:
        keys = [key async for key in client.scan_iter(match="*:processes")]
        return dict(await client.zrange(keys[0], 0, -1, withscores=True)) if keys else {}

    try:
        async with asyncio.timeout(timeout):
            while len(first := await last_beats()) < processes:
                await asyncio.sleep(0.02)
            while not all(beat > max(first.values()) for beat in (await last_beats()).values()):
                await asyncio.sleep(0.02)
    finally:
        await client.aclose()


async def reconnect(server: Daphne, token: str):
    """What the live dashboard's script does: try again until a socket gives a snapshot."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket = await dashboard(server, token)
            return socket, await next_of_type(socket, "snapshot", timeout=5)
        except (OSError, InvalidStatus, ConnectionClosed, TimeoutError):
            await asyncio.sleep(0.1)
    raise AssertionError("the dashboard never resynchronised")


async def close_code(socket, timeout: float = 10) -> int | None:
    """Read until the server closes the socket; its close code (None: no close frame)."""

    async def drain():
        while True:
            await socket.recv()

    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(drain(), timeout)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def results_seen(socket, id_numbers: set[str], timeout: float = 10) -> None:
    """Read events until a ``test.recorded`` has come for each of these people."""
    missing = set(id_numbers)

    async def wait():
        while missing:
            message = await next_message(socket, socket.recv)
            if message["type"] == "test.recorded":
                missing.discard(message["test"]["id_number"])

    await asyncio.wait_for(wait(), timeout)


async def view_comes_to_tested(socket, snapshot: dict, expected: int, timeout: float = 10) -> None:
    """The dashboard's view (the snapshot, then each update) comes to ``expected`` tested."""
    (state,) = snapshot["port_calls"]
    tested = state["counts"]["tested"]

    async def wait():
        nonlocal tested
        while tested != expected:
            message = await next_message(socket, socket.recv)
            if message["type"] == "port_call.updated":
                tested = message["port_call"]["counts"]["tested"]

    await asyncio.wait_for(wait(), timeout)


def stored_client_uuids(call) -> list[str]:
    """The client_uuid of every result stored for the call, repeats included."""
    return sorted(str(u) for u in ScreeningTest.objects.filter(port_call=call).values_list("client_uuid", flat=True))


def client_uuids(writes: list[Write]) -> list[str]:
    return sorted(w.client_uuid for w in writes)


def test_killing_one_process_mid_traffic_loses_no_write_and_its_dashboards_move_to_the_other(busy_scene):
    call, people, token = busy_scene
    redis = PrivateRedis()
    a, b = Daphne(redis.url), Daphne(redis.url)
    traffic = Traffic([a, b], token, call, people[:WRITES])

    async def scenario():
        async with dashboard(a, token) as on_a, dashboard(b, token) as on_b:
            await next_of_type(on_a, "snapshot")
            await next_of_type(on_b, "snapshot")
            writing = asyncio.create_task(asyncio.to_thread(traffic.run))
            await until(lambda: traffic.answered_by(a) >= 3, "writes through A")
            a.kill()
            await writing
            assert await close_code(on_a) is None  # the process died: no close frame

            writes = traffic.writes
            assert all(w.status in (200, 201) for w in writes)
            assert all(status in (200, 201) for w in writes for server, status in w.attempts if server is b)
            # 200 is the first record, for a write A committed but died before answering.
            assert all(w.attempts[0] == (a, None) for w in writes if w.status == 200)
            assert traffic.answered_by(b) > WRITES // 2
            assert await asyncio.to_thread(stored_client_uuids, call) == client_uuids(writes)  # each once
            # Every write answered 201, through A or B, was announced to B's dashboard.
            await results_seen(on_b, {w.person.id_number for w in writes if w.status == 201})

        socket, snapshot = await reconnect(b, token)  # the proxy sends A's dashboard to B
        async with socket:
            (state,) = snapshot["port_calls"]
            assert state["counts"]["tested"] == WRITES
            assert await asyncio.to_thread(post_result, b, token, call, people[WRITES]) == 201
            event = await next_of_type(socket, "test.recorded")
            assert event["test"]["id_number"] == people[WRITES].id_number

    with running(redis, a, b):
        asyncio.run(scenario())


def test_writes_go_on_while_redis_restarts_and_every_dashboard_resynchronises(busy_scene):
    call, people, token = busy_scene
    redis = PrivateRedis()
    a, b = Daphne(redis.url), Daphne(redis.url)
    traffic = Traffic([a, b], token, call, people[:WRITES])

    async def scenario():
        sockets = [await dashboard(a, token), await dashboard(b, token)]
        for socket in sockets:
            await next_of_type(socket, "snapshot")
        writing = asyncio.create_task(asyncio.to_thread(traffic.run))
        await until(lambda: len(traffic.writes) >= 4, "writes before the outage")
        await asyncio.to_thread(redis.stop)
        # Events are being lost: each process closes its dashboards so that they re-read.
        assert [await close_code(socket) for socket in sockets] == [CLOSE_RESYNC, CLOSE_RESYNC]
        during = len(traffic.writes)
        await until(lambda: len(traffic.writes) >= during + 4, "writes while Redis is down")
        await asyncio.to_thread(redis.start)
        assert len(traffic.writes) < WRITES  # and writes go on as Redis comes back
        reconnected = [await reconnect(server, token) for server in (a, b)]
        await writing

        writes = traffic.writes
        assert [w.status for w in writes] == [201] * WRITES  # no 5xx, no retry needed
        assert await asyncio.to_thread(stored_client_uuids, call) == client_uuids(writes)  # each once
        for socket, snapshot in reconnected:
            await view_comes_to_tested(socket, snapshot, WRITES)
        assert await asyncio.to_thread(post_result, a, token, call, people[WRITES]) == 201
        for socket, _snapshot in reconnected:
            event = await next_of_type(socket, "test.recorded")
            assert event["test"]["id_number"] == people[WRITES].id_number
            await socket.close()

    with running(redis, a, b):
        asyncio.run(scenario())
