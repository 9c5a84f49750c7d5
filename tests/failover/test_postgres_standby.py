"""The PostgreSQL primary is lost (``pg_ctl stop -m immediate``) under a stream of results
posted to a daphne given both servers (libpq's multi-host DATABASE_URL with
target_session_attrs=read-write), and the hot standby is promoted (``pg_ctl promote``).
Requests during the switch are answered 503 with Retry-After; each is sent again with the
same client_uuid, as the phones' outbox does, once the standby is promoted. Every write
answered 2xx is in the promoted database, each once, and writes succeed again."""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field

import psycopg
import pytest
from django.conf import settings
from django.utils import timezone

from tests.failover.servers import PostgresPair
from tests.realtime.servers import Daphne, running

pytestmark = pytest.mark.failover

PEOPLE = 80

# The port call and its crew, made in the private cluster by PortGuard's own services.
SEED = """
import json
from datetime import timedelta
from django.utils import timezone
from portguard import roles
from tests.helpers import crew_data, make_user
from vessels.choices import Locality, WharfKind
from vessels.models import Wharf
from vessels.services import VesselData, register_port_call

wharf = Wharf.objects.create(
    code="CP-03", name="Bến Mông Dương", locality=Locality.CAM_PHA, kind=WharfKind.WHARF, route_order=3
)
inspector = make_user("alice", roles.INSPECTOR, [wharf])
arrived = timezone.now() - timedelta(hours=1)
call = register_port_call(
    inspector, wharf=wharf, arrived_at=arrived, origin="Hải Phòng", crew=crew_data(%d, start=1000),
    vessel=VesselData(registration="QN-1000", name="Hoàng Long 1000", kind="self_propelled_barge"),
    now=arrived + timedelta(minutes=1),
)
people = [m.person.id_number for m in call.crew.select_related("person").order_by("id")]
print(json.dumps({"call": call.pk, "people": people}))
"""


def manage(database_url: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SQLITE_PATH")}
    env.update(DATABASE_URL=database_url, SECRET_KEY="test-only")
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@dataclass
class Write:
    id_number: str
    client_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    answers: list[tuple[int | None, str | None]] = field(default_factory=list)  # (status, Retry-After)

    @property
    def status(self) -> int | None:
        return self.answers[-1][0]


def post(server: Daphne, token: str, call: int, write: Write) -> None:
    body = {
        "id_number": write.id_number,
        "kind": "rapid",
        "sampled_at": timezone.now().isoformat(),
        "result": "negative",
        "port_call": call,
        "client_uuid": write.client_uuid,
    }
    request = urllib.request.Request(
        f"{server.http}/api/v1/tests/",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            write.answers.append((response.status, response.headers.get("Retry-After")))
    except urllib.error.HTTPError as error:
        write.answers.append((error.code, error.headers.get("Retry-After")))
    except OSError:
        write.answers.append((None, None))


class Stream:
    """Results posted one after another until stopped. A write refused with 503 is sent
    again, with its client_uuid, once ``promoted`` is set: the outbox's retry, without the
    wait that Retry-After asks for."""

    def __init__(self, server: Daphne, token: str, call: int, people: list[str]):
        self.server, self.token, self.call, self.people = server, token, call, people
        self.writes: list[Write] = []
        self.stopped, self.promoted = threading.Event(), threading.Event()

    def run(self) -> None:
        for id_number in self.people:
            if self.stopped.is_set():
                return
            write = Write(id_number)
            self.writes.append(write)
            post(self.server, self.token, self.call, write)
            while write.status not in (200, 201):
                assert write.status == 503, write.answers
                self.promoted.wait(timeout=60)
                post(self.server, self.token, self.call, write)
        raise AssertionError("the stream ran out of people before the test stopped it")

    def answered(self) -> int:
        return sum(1 for w in list(self.writes) if w.answers and w.status in (200, 201))

    def refused(self) -> int:
        return sum(1 for w in list(self.writes) for status, _after in w.answers if status == 503)


def wait_for(check, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def stored(database_url: str, call: int) -> list[str]:
    with psycopg.connect(database_url) as db:
        rows = db.execute("SELECT client_uuid FROM crews_screeningtest WHERE port_call_id = %s", [call]).fetchall()
    return sorted(str(uuid_) for (uuid_,) in rows)


def test_promoting_the_standby_under_writes_answers_503_meanwhile_and_loses_no_committed_write():
    pair = PostgresPair()
    with running(pair):
        manage(pair.database_url, "migrate", "--noinput")
        scene = json.loads(manage(pair.database_url, "shell", "-v", "0", "-c", SEED % PEOPLE))
        token = manage(pair.database_url, "issue_token", "alice")
        # As in production: the pool keeps a few connections and lends them per request.
        server = Daphne(None, env={"DATABASE_URL": pair.database_url, "DB_POOL_MAX_SIZE": "4"})
        stream = Stream(server, token, scene["call"], scene["people"][:-1])
        with running(server):
            writing = threading.Thread(target=stream.run)
            writing.start()
            try:
                wait_for(lambda: stream.answered() >= 5, "writes to the primary")
                pair.stop_primary()
                wait_for(lambda: stream.refused() >= 1, "a write refused while there is no primary")
                pair.promote_standby()
                stream.promoted.set()
                promoted = stream.answered()
                wait_for(lambda: stream.answered() >= promoted + 5, "writes to the promoted standby")
            finally:
                stream.stopped.set()
                stream.promoted.set()
                writing.join(timeout=60)

            writes = stream.writes
            refusals = [(status, after) for w in writes for status, after in w.answers if status == 503]
            assert refusals and all(after == "10" for _status, after in refusals)  # 503 with Retry-After
            assert all(w.status in (200, 201) for w in writes)
            # 200: the first answer for a write the primary committed before it went (or the standby had).
            assert all(w.answers[0][0] == 503 for w in writes if w.status == 200)
            # Every write answered 2xx is in the promoted database, once.
            assert stored(pair.url_of(pair.standby_port), scene["call"]) == sorted(w.client_uuid for w in writes)
