"""The clock in real processes: two ``manage.py clock`` processes on the test database,
one killed, the other taking over; a clean stop giving the lease up; and the clock that
daphne runs itself when the channel layer is the in-memory one, reaching an open socket
with no write at all."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import urllib.request
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from websockets.asyncio.client import connect

from portguard.models import Lease
from tests.helpers import people_of, token_for
from tests.realtime.frames import next_message
from tests.realtime.servers import Daphne, running, wait_until
from tests.realtime.servers import test_database_env as database_env

pytestmark = pytest.mark.django_db(transaction=True)

# A tick five times a second and a lease of 1.5 s: a takeover comes within 1.7 s.
QUICK = {"PORTGUARD_CLOCK_TICK_SECONDS": "0.2", "PORTGUARD_CLOCK_LEASE_SECONDS": "1.5"}


def start_clock(log_path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SQLITE_PATH")}
    env.update(database_env())
    env.setdefault("SECRET_KEY", "test-only")
    env.update(QUICK)
    with open(log_path, "w") as log:
        return subprocess.Popen(
            [sys.executable, "manage.py", "clock"], cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )


def holder_pid() -> int | None:
    """The pid of the process whose clock holds the lease (host:pid:random), if any."""
    lease = Lease.objects.filter(name="clock").first()
    return int(lease.holder.split(":")[1]) if lease else None


def stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_when_the_process_holding_the_clock_is_killed_the_other_takes_over(tmp_path):
    first, second = start_clock(tmp_path / "first.log"), start_clock(tmp_path / "second.log")
    try:
        wait_until(lambda: holder_pid() in (first.pid, second.pid), what="a clock holding the lease")
        holder, other = (first, second) if holder_pid() == first.pid else (second, first)

        holder.kill()  # SIGKILL: no chance to give the lease up
        holder.wait(timeout=10)

        wait_until(lambda: holder_pid() == other.pid, timeout=10, what="the other clock taking over")
        assert other.poll() is None, "the other clock is still running"
    finally:
        stop(first, second)
    assert "ticking every 0.2 s" in (tmp_path / "second.log").read_text()


def test_a_clock_stopped_by_sigterm_gives_the_lease_up(tmp_path):
    clock = start_clock(tmp_path / "clock.log")
    try:
        wait_until(lambda: holder_pid() == clock.pid, what="the clock holding the lease")
        clock.send_signal(signal.SIGTERM)
        assert clock.wait(timeout=10) == 0
    finally:
        stop(clock)
    assert not Lease.objects.filter(name="clock").exists(), "released: another clock may take it at once"
    assert "stopped." in (tmp_path / "clock.log").read_text()


def test_manage_clock_once_ticks_and_says_so(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SQLITE_PATH")}
    env.update(database_env(), SECRET_KEY="test-only")
    run = subprocess.run(
        [sys.executable, "manage.py", "clock", "--once"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith("ticked.")
    assert Lease.objects.get(name="clock").holder.split(":")[0] in run.stdout


def test_a_tick_longer_than_the_lease_is_refused_with_a_clear_error():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(PORTGUARD_CLOCK_TICK_SECONDS="60", PORTGUARD_CLOCK_LEASE_SECONDS="40")
    run = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )
    assert run.returncode != 0
    assert "PORTGUARD_CLOCK_TICK_SECONDS must be above 0 and below PORTGUARD_CLOCK_LEASE_SECONDS" in run.stderr


# --- The clock inside daphne (the in-memory layer) ---------------------------------------


async def next_update(socket, timeout: float = 10) -> dict:
    async def wait():
        while True:
            message = await next_message(socket, socket.recv)
            if message["type"] == "port_call.updated":
                return message["port_call"]

    return await asyncio.wait_for(wait(), timeout)


def post_negative(server: Daphne, token: str, call, person, sampled_at) -> int:
    body = {
        "id_number": person.id_number,
        "kind": "rapid",
        "sampled_at": sampled_at.isoformat(),
        "result": "negative",
        "port_call": call.pk,
    }
    request = urllib.request.Request(
        f"{server.http}/api/v1/tests/",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return response.status


def test_daphne_with_the_in_memory_layer_runs_the_clock_itself(make_call, inspector):
    """No REDIS_URL, nothing else set: the daphne's own clock tells its open dashboard that
    a negative ran past its 24 hours. Nothing else could: no write happens then."""
    call = make_call(crew=1, arrived_at=timezone.now() - timedelta(hours=25))
    (person,) = people_of(call)
    token = token_for(inspector)
    server = Daphne(None, env=QUICK)

    async def scenario():
        headers = {"Authorization": f"Token {token}"}
        async with connect(f"{server.ws}/ws/wharves/CP-03/", additional_headers=headers) as socket:
            assert json.loads(await socket.recv())["type"] == "snapshot"
            # A negative sampled 24 hours ago less 8 s: it clears the call for 8 s more,
            # time for the first POST to a fresh daphne to be answered on a loaded machine
            # (3 s was the margin, the suite's two passes running at once on 2 cores).
            sampled_at = timezone.now() - timedelta(hours=24) + timedelta(seconds=8)
            assert await asyncio.to_thread(post_negative, server, token, call, person, sampled_at) == 201
            cleared = await next_update(socket)
            assert cleared["status"] == "cleared"
            expired = await next_update(socket, timeout=30)
            assert expired["status"] == "awaiting_tests"
            assert expired["counts"] == {"crew": 1, "tested": 1, "negative": 0, "blocking": 1}
            assert expired["version"] > cleared["version"]

    with running(server):
        asyncio.run(scenario())
