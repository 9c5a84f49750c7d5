"""PostgreSQL's connection pool (``DB_POOL_MAX_SIZE``): a daphne process serving many
requests at once, each in a thread of its own, never holds more connections than the
pool allows, and every request is answered (one waits for a connection rather than
failing). A real daphne on the test database, counted in ``pg_stat_activity``."""

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor, wait

import pytest
from django.db import connection

from tests.helpers import token_for
from tests.realtime.servers import Daphne

pytestmark = pytest.mark.django_db(transaction=True)

POOL = 3
REQUESTS = 60
APP_NAME = "portguard-pool-test"  # how this daphne's connections are told apart


@pytest.fixture
def pooled_daphne(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("the pool is PostgreSQL's (the production shape)")
    server = Daphne(None, env={"DB_POOL_MAX_SIZE": str(POOL), "DB_POOL_MIN_SIZE": "1", "PGAPPNAME": APP_NAME})
    server.start()
    yield server
    server.stop()


def connections_of_daphne() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APP_NAME])
        return cursor.fetchone()[0]


def test_a_burst_of_requests_stays_within_the_pool_and_every_one_is_answered(pooled_daphne, inspector, cam_pha):
    token = token_for(inspector)

    def get(_):
        request = urllib.request.Request(
            f"{pooled_daphne.http}/api/v1/wharves/", headers={"Authorization": f"Token {token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())

    seen = []
    with ThreadPoolExecutor(20) as pool:
        answers = [pool.submit(get, i) for i in range(REQUESTS)]
        # Count the daphne's connections for as long as the burst lasts.
        while not all(answer.done() for answer in answers):
            seen.append(connections_of_daphne())
        wait(answers)
    assert [answer.result() for answer in answers] == [(200, [{"code": "CP-03", **WHARF}])] * REQUESTS
    assert seen, "the burst was watched"
    assert max(seen) <= POOL
    assert connections_of_daphne() <= POOL  # kept for the next requests, within the pool


WHARF = {"name": "Bến Mông Dương", "locality": "cam_pha", "kind": "wharf"}
