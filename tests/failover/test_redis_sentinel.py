"""The Redis master dies (SIGKILL) under a stream of results posted through two daphnes
that find it through Redis Sentinel: the sentinels promote the replica, every write is
answered 201 without a retry, each result is stored once, every dashboard is told to
re-read and comes to the database's state, and events flow again through the new master."""

import asyncio
import io
import threading
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from crews.models import ScreeningTest
from realtime.consumers import CLOSE_RESYNC
from tests.failover.servers import SentinelRedis
from tests.helpers import people_of
from tests.realtime.servers import Daphne, running
from tests.realtime.test_multiprocess import (
    Write,
    client_uuids,
    close_code,
    dashboard,
    next_of_type,
    post_result,
    reconnect,
    stored_client_uuids,
    until,
    view_comes_to_tested,
)

pytestmark = [pytest.mark.failover, pytest.mark.django_db(transaction=True)]

# More people than the stream can reach: it runs until the test has seen what it needs.
PEOPLE = 80


class Stream:
    """Results posted one after another, through each process in turn, until stopped."""

    def __init__(self, servers: list[Daphne], token: str, call, people):
        self.servers, self.token, self.call, self.people = servers, token, call, people
        self.writes: list[Write] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        for index, person in enumerate(self.people):
            if self.stopped.is_set():
                return
            write = Write(person, str(uuid.uuid4()))
            server = self.servers[index % len(self.servers)]
            write.attempts.append(
                (server, post_result(server, self.token, self.call, person, client_uuid=write.client_uuid))
            )
            self.writes.append(write)
        raise AssertionError("the stream ran out of people before the test stopped it")


def api_token(user) -> str:
    """A token for the API and the sockets, as an administrator issues one."""
    out = io.StringIO()
    call_command("issue_token", user.username, stdout=out)
    return out.getvalue().strip()


def test_killing_the_redis_master_under_a_stream_of_results_loses_nothing(make_call, inspector, tmp_path):
    call = make_call(crew=PEOPLE, arrived_at=timezone.now() - timedelta(hours=1))
    people = people_of(call)
    token = api_token(inspector)
    redis = SentinelRedis(tmp_path)
    a, b = Daphne(None, env=redis.env), Daphne(None, env=redis.env)
    stream = Stream([a, b], token, call, people[:-1])

    async def scenario():
        sockets = [await dashboard(a, token), await dashboard(b, token)]
        for socket in sockets:
            await next_of_type(socket, "snapshot")
        writing = asyncio.create_task(asyncio.to_thread(stream.run))
        await until(lambda: len(stream.writes) >= 4, "writes before the failover")
        await asyncio.to_thread(redis.master.kill)
        # Events published meanwhile are lost: each process closes its dashboards so that they re-read.
        assert [await close_code(socket) for socket in sockets] == [CLOSE_RESYNC, CLOSE_RESYNC]
        await until(redis.replica_promoted, "the sentinels' promotion of the replica", timeout=30)
        promoted = len(stream.writes)
        await until(lambda: len(stream.writes) >= promoted + 6, "writes after the promotion", timeout=30)
        stream.stopped.set()
        await writing

        writes = stream.writes
        assert [w.status for w in writes] == [201] * len(writes)  # none failed, none retried
        assert await asyncio.to_thread(stored_client_uuids, call) == client_uuids(writes)  # each once
        # Each process subscribes again, on the new master (it retries every second): were a
        # dashboard back before that, the process would close it again (4503) when it does.
        await until(lambda: redis.subscribers(redis.replica) >= 2, "both processes subscribed on the new master")
        reconnected = [await reconnect(server, token) for server in (a, b)]
        for socket, snapshot in reconnected:
            await view_comes_to_tested(socket, snapshot, len(writes))

        # Events flow through the new master, and the shared cache counts there.
        last = people[-1]
        assert await asyncio.to_thread(post_result, a, token, call, last) == 201
        for socket, _snapshot in reconnected:
            event = await next_of_type(socket, "test.recorded")
            assert event["test"]["id_number"] == last.id_number
            await socket.close()
        assert redis.replica.client().keys("portguard:*throttle*")  # the API's throttle counts there

    with running(redis, a, b):
        asyncio.run(scenario())
    assert ScreeningTest.objects.filter(port_call=call).count() == len(stream.writes) + 1
