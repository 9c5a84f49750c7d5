"""Several daphne processes sharing Redis, and a Redis that goes away: real servers,
real sockets, real HTTP."""

import asyncio
import json
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from websockets.asyncio.client import connect

from crews.models import ScreeningTest
from tests.conftest import people_of
from tests.realtime.servers import Daphne, PrivateRedis, running

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scene(make_call, inspector):
    call = make_call(crew=3, arrived_at=timezone.now() - timedelta(hours=1))
    token = Token.objects.create(user=inspector).key
    return call, people_of(call), token


def post_result(server: Daphne, token: str, call, person, result: str = "negative") -> int:
    body = json.dumps(
        {
            "id_number": person.id_number,
            "kind": "rapid",
            "sampled_at": timezone.now().isoformat(),
            "result": result,
            "port_call": call.pk,
        }
    ).encode()
    request = urllib.request.Request(
        f"{server.http}/api/v1/tests/",
        data=body,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


async def next_of_type(socket, event_type: str, timeout: float = 10):
    async def wait():
        while True:
            message = json.loads(await socket.recv())
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


def test_writes_survive_redis_going_away_and_dashboards_resynchronise(scene):
    call, people, token = scene
    redis = PrivateRedis()
    server = Daphne(redis.url)

    async def reconnect_and_read_snapshot():
        """What the dashboard script does: retry until a socket gives a snapshot."""
        for _attempt in range(100):
            try:
                socket = await dashboard(server, token)
                return socket, await next_of_type(socket, "snapshot", timeout=5)
            except (TimeoutError, OSError, Exception):
                await asyncio.sleep(0.2)
        raise AssertionError("the dashboard never resynchronised")

    async def scenario():
        async with dashboard(server, token) as socket:
            await next_of_type(socket, "snapshot")
            redis.stop()
            # Redis is down: the write still commits and answers 2xx.
            assert await asyncio.to_thread(post_result, server, token, call, people[0]) == 201
            assert await asyncio.to_thread(ScreeningTest.objects.filter(person=people[0]).count) == 1
        redis.start()
        socket, snapshot = await reconnect_and_read_snapshot()
        async with socket:
            (state,) = snapshot["port_calls"]
            assert state["counts"]["tested"] == 1  # the write made while Redis was down
            assert await asyncio.to_thread(post_result, server, token, call, people[1]) == 201
            event = await next_of_type(socket, "test.recorded")
            assert event["test"]["id_number"] == people[1].id_number

    with running(redis, server):
        asyncio.run(scenario())
