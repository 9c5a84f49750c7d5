"""With Django's connection pool, a write gives its database connection back before it
publishes its events: a publish that waits (an absent or stalled Redis, an event loop
busy with a reconnecting crowd) must not hold a connection the process's other requests
are waiting for. Found by the shift-change bench with a pool of 10 per daphne: after one
daphne was killed, the survivor answered 503 ("couldn't get a connection") to 56–113
requests (README, Performance).

A real daphne with a pool of one connection, its Redis behind a proxy that passes every
command but PUBLISH, which it holds for ever: the write's request then waits on its
publish for ever, and another request must still get the pool's one connection."""

import json
import socket
import threading
import urllib.error
import urllib.request

import pytest
from django.db import connection

from tests.helpers import people_of, token_for
from tests.realtime.servers import Daphne, PrivateRedis, free_port

pytestmark = pytest.mark.django_db(transaction=True)


class StallingProxy:
    """A proxy in front of a real Redis that passes every command through but PUBLISH,
    which it holds for ever (that connection stalls); ``published`` is set when one
    arrives."""

    def __init__(self, upstream_port: int):
        self.port, self.upstream_port = free_port(), upstream_port
        self.published = threading.Event()
        self.server = socket.create_server(("127.0.0.1", self.port))
        self.sockets: list[socket.socket] = [self.server]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self.sockets += [client, upstream]
            threading.Thread(target=self._pass, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pass, args=(upstream, client, False), daemon=True).start()

    def _pass(self, source: socket.socket, target: socket.socket, from_client: bool) -> None:
        stalled = False
        while True:
            try:
                data = source.recv(65536)
                if not data:
                    return
                if from_client and b"PUBLISH" in data.upper():
                    stalled = True
                    self.published.set()
                if not stalled:
                    target.sendall(data)
            except OSError:
                return

    def stop(self) -> None:
        for sock in self.sockets:
            sock.close()


@pytest.fixture
def stalled_daphne(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("the pool is PostgreSQL's (the production shape)")
    redis = PrivateRedis()
    redis.start()
    proxy = StallingProxy(redis.port)
    server = Daphne(proxy.url, env={"DB_POOL_MAX_SIZE": "1", "DB_POOL_MIN_SIZE": "1", "DB_POOL_TIMEOUT": "3"})
    server.start()
    yield server, proxy
    server.kill()
    proxy.stop()
    redis.stop()


def test_a_write_waiting_on_its_publish_does_not_hold_the_pools_connection(stalled_daphne, make_call, inspector):
    server, proxy = stalled_daphne
    call = make_call(crew=1)
    token = token_for(inspector)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    payload = {
        "id_number": people_of(call)[0].id_number,
        "kind": "rapid",
        "sampled_at": (call.arrived_at).isoformat(),
        "result": "negative",
        "port_call": call.pk,
    }

    def write() -> None:
        request = urllib.request.Request(
            f"{server.http}/api/v1/tests/", data=json.dumps(payload).encode(), headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answers.append(response.status)
        except urllib.error.HTTPError as error:
            answers.append((error.code, error.read()[:300]))
        except OSError as error:
            answers.append(error)  # never answered: its publish waits until the daphne is stopped

    answers = []
    threading.Thread(target=write, daemon=True).start()
    assert proxy.published.wait(timeout=30), answers
    request = urllib.request.Request(f"{server.http}/api/v1/wharves/", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        assert [w["code"] for w in json.loads(response.read())] == [call.wharf.code]
