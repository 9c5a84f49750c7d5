"""Live delivery: time from the HTTP request that records a result to the moment the
last of 500 dashboard sockets receives its event, beside a plain ``websockets`` server
broadcasting the same payload from a Redis subscription to 500 sockets."""

import asyncio
import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta

from redis.asyncio import Redis
from websockets.asyncio.client import connect

from tests.realtime.frames import messages_of

SOCKETS = 500
EVENTS = 60


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Audience:
    """SOCKETS sockets that note when each of them first sees a message matching a key."""

    def __init__(self, key_of):
        self.key_of = key_of
        self.seen: dict[str, int] = {}
        self.done: dict[str, asyncio.Event] = {}
        self.sockets = []
        self.readers = []

    def expect(self, key: str) -> asyncio.Event:
        self.seen[key] = 0
        self.done[key] = asyncio.Event()
        return self.done[key]

    async def open(self, url: str, headers: dict | None = None, greeting: bool = False):
        for _ in range(SOCKETS):
            socket = await connect(url, additional_headers=headers or {}, max_size=None, open_timeout=30)
            if greeting:
                await socket.recv()  # the snapshot
            self.sockets.append(socket)
        self.readers = [asyncio.create_task(self._read(s)) for s in self.sockets]

    async def _read(self, socket):
        async for text in socket:
            key = self.key_of(text)
            if key in self.seen:
                self.seen[key] += 1
                if self.seen[key] == SOCKETS:
                    self.done[key].set()

    async def close(self):
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*(s.close() for s in self.sockets), return_exceptions=True)


def _portguard_key(text: str) -> str | None:
    """The person of the ``test.recorded`` in a frame (one result: one commit, one frame)."""
    for message in messages_of(text):
        if message["type"] == "test.recorded":
            return message["test"]["id_number"]
    return None


def _floor_key(text: str) -> str | None:
    return json.loads(text)["test"]["id_number"]


def _post(url: str, token: str, payload: dict) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status


def _scene():
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from crews.people import PersonData
    from tests.helpers import token_for
    from vessels.models import Wharf
    from vessels.services import VesselData, register_port_call

    wharf = Wharf.objects.create(code="CP-03", name="Bến Mông Dương", locality="cam_pha")
    user = User.objects.create_user("bench-inspector")
    user.groups.add(Group.objects.get(name="inspector"))
    wharf.inspectors.add(user)
    call = register_port_call(
        user,
        wharf=wharf,
        vessel=VesselData(registration="QN-9999", name="Bench"),
        arrived_at=timezone.now() - timedelta(hours=1),
        crew=[PersonData(id_number=f"0220{i:08d}", full_name=f"Nguyễn Văn {i}", role="crew") for i in range(EVENTS)],
    )
    token = token_for(user)
    return call, [f"0220{i:08d}" for i in range(EVENTS)], token


async def _measure_portguard(daphne, token, call_id, ids, redis_url):
    from django.utils import timezone

    audience = Audience(_portguard_key)
    before = rss_kib(daphne.process.pid)
    await audience.open(f"{daphne.ws}/ws/wharves/CP-03/", {"Authorization": f"Token {token}"}, greeting=True)
    await asyncio.sleep(1)
    per_socket_kib = (rss_kib(daphne.process.pid) - before) / SOCKETS
    latencies = []
    for id_number in ids:
        done = audience.expect(id_number)
        payload = {
            "id_number": id_number,
            "kind": "rapid",
            "sampled_at": timezone.now().isoformat(),
            "result": "negative",
            "port_call": call_id,
        }
        started = time.perf_counter()
        status = await asyncio.to_thread(_post, f"{daphne.http}/api/v1/tests/", token, payload)
        assert status == 201, status
        await asyncio.wait_for(done.wait(), 60)
        latencies.append(time.perf_counter() - started)
    fan_out = await _measure_fan_out(audience, redis_url, ids)
    await audience.close()
    return latencies, fan_out, per_socket_kib


async def _measure_fan_out(audience, redis_url: str, ids):
    """The same sockets, sent one event's frame through the channel layer straight to
    the wharf's group, as the broadcast helper sends it after a commit: daphne's share
    (Redis to the last socket) without the HTTP request and its write."""
    from realtime.broadcast import wharf_group
    from realtime.layers import RedisPubSubChannelLayer

    layer = RedisPubSubChannelLayer(hosts=[redis_url])
    latencies = []
    for id_number in ids:
        done = audience.expect(id_number)
        frame = json.dumps([{"type": "test.recorded", "test": {"id_number": id_number, "result": "negative"}}])
        started = time.perf_counter()
        await layer.group_send(wharf_group("CP-03"), {"type": "dashboard.event", "text": frame})
        await asyncio.wait_for(done.wait(), 60)
        latencies.append(time.perf_counter() - started)
    await layer.flush()
    return latencies


async def _measure_floor(port: int, redis_url: str, ids):
    audience = Audience(_floor_key)
    await audience.open(f"ws://127.0.0.1:{port}/")
    redis = Redis.from_url(redis_url)
    latencies = []
    for id_number in ids:
        done = audience.expect(id_number)
        text = json.dumps({"type": "test.recorded", "test": {"id_number": id_number, "result": "negative"}})
        started = time.perf_counter()
        await redis.publish("floor", text)
        await asyncio.wait_for(done.wait(), 60)
        latencies.append(time.perf_counter() - started)
    await redis.aclose()
    await audience.close()
    return latencies


async def _measure_raw_redis(redis_url: str, rounds: int = 200):
    publisher, subscriber = Redis.from_url(redis_url), Redis.from_url(redis_url)
    pubsub = subscriber.pubsub()
    await pubsub.subscribe("raw")
    await pubsub.get_message(timeout=1)
    latencies = []
    for i in range(rounds):
        started = time.perf_counter()
        await publisher.publish("raw", str(i))
        while (await pubsub.get_message(timeout=5)) is None:
            pass
        latencies.append(time.perf_counter() - started)
    await publisher.aclose()
    await subscriber.aclose()
    return latencies


def run() -> list[dict]:
    from tests.realtime.servers import Daphne, PrivateRedis, free_port, running, wait_until

    call, ids, token = _scene()
    redis = PrivateRedis()
    daphne = Daphne(redis.url)
    with running(redis, daphne):
        portguard, fan_out, per_socket_kib = asyncio.run(_measure_portguard(daphne, token, call.pk, ids, redis.url))
        raw = asyncio.run(_measure_raw_redis(redis.url))
        port = free_port()
        floor_server = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.floor_ws_server", str(port), redis.url, "floor"]
        )
        try:
            wait_until(lambda: _listening(port), what="floor server")
            floor = asyncio.run(_measure_floor(port, redis.url, ids))
        finally:
            floor_server.terminate()
            floor_server.wait(timeout=10)
    return [
        latency_row("Redis PUBLISH → receive (1 subscriber)", raw, raw),
        latency_row(
            f"result recorded over HTTP → event on the last of {SOCKETS} sockets (one daphne)",
            portguard,
            floor,
            floor_name=f"plain websockets server relaying Redis to {SOCKETS} sockets",
        ),
        latency_row(
            f"Redis publish of one event's frame → the last of {SOCKETS} sockets (one daphne, fan-out only)",
            fan_out,
            floor,
            floor_name=f"plain websockets server relaying Redis to {SOCKETS} sockets",
        ),
        {"name": "memory per open dashboard socket", "value": round(per_socket_kib, 1), "unit": "KiB"},
    ]


def latency_row(name, values, floor, floor_name=None) -> dict:
    p95, floor_p95 = percentile(values, 0.95), percentile(floor, 0.95)
    return {
        "name": name,
        "unit": "ms",
        "samples": len(values),
        "p50": round(statistics.median(values) * 1000, 2),
        "p95": round(p95 * 1000, 2),
        "baseline": floor_name or name,
        "baseline_p50": round(statistics.median(floor) * 1000, 2),
        "baseline_p95": round(floor_p95 * 1000, 2),
        "ratio_p95": round(p95 / floor_p95, 2),
    }
