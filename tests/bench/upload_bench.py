"""A lab's results file of 10,000 rows (500 port calls × 20 people, pooled RT-PCR in
pools of 5) uploaded through the API, beside a plain ``bulk_create`` of the same 10,000
rows measured in the same run. Between samples the recorded results are deleted, so
every upload records the whole file anew.

    python -m tests.bench.upload_bench [POSTGRES_SERVER_URL]   # this benchmark alone
"""

import io
import sys
import time
from datetime import timedelta

CALLS = 500
CREW = 20
ROWS = CALLS * CREW
SMALL_CALLS = 10  # a second file of 200 rows, to show the query count does not grow
REPEATS = 5
LAB = "CDC Quảng Ninh"


def _scene():
    """A wharf with CALLS open port calls of CREW people each, a health officer with an
    API token; the rows are bulk-created (the seed is not what is measured)."""
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from crews.models import CrewMember, Person
    from portguard import roles
    from tests.helpers import token_for
    from vessels.choices import Locality, WharfKind
    from vessels.models import PortCall, Vessel, Wharf

    wharf = Wharf.objects.create(
        code="CP-08", name="Bến Cửa Ông 2", locality=Locality.CAM_PHA, kind=WharfKind.WHARF, route_order=8
    )
    user = User.objects.create_user("bench-health")
    user.groups.add(Group.objects.get(name=roles.HEALTH))
    arrived = timezone.now() - timedelta(hours=6)
    people = Person.objects.bulk_create(
        Person(full_name=f"Nguyễn Văn {i}", id_kind="cccd", id_number=f"0227{i:08d}") for i in range(ROWS)
    )
    boats = Vessel.objects.bulk_create(Vessel(registration=f"QN-{20000 + i}") for i in range(CALLS))
    calls = PortCall.objects.bulk_create(
        PortCall(vessel=b, wharf=wharf, arrived_at=arrived, registered_by=user) for b in boats
    )
    CrewMember.objects.bulk_create(
        CrewMember(port_call=calls[i // CREW], person=p, added_by=user) for i, p in enumerate(people)
    )
    return user, token_for(user), people, calls, arrived + timedelta(hours=1)


def _results_file(people, sampled_at) -> bytes:
    from django.utils import timezone

    local = timezone.localtime(sampled_at).strftime("%d/%m/%Y %H:%M")
    lines = ["id_number,kind,sampled_at,result,pool_id,lab"]
    lines += [f"{p.id_number},rt_pcr_pooled,{local},negative,P-{i // 5},{LAB}" for i, p in enumerate(people)]
    return ("\n".join(lines) + "\n").encode()


def run() -> list[dict]:
    from django.db import connection
    from rest_framework.test import APIClient

    from crews.models import ScreeningTest
    from tests.bench.live_delivery import latency_row

    user, token, people, calls, sampled_at = _scene()
    whole = _results_file(people, sampled_at)
    small = _results_file(people[: SMALL_CALLS * CREW], sampled_at)
    client = APIClient(HTTP_HOST="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    def post(data: bytes, rows: int):
        def upload():
            response = client.post("/api/v1/tests/upload/", {"file": _named(data)}, format="multipart")
            assert response.status_code == 201, response.content[:500]
            assert response.json()["count"] == rows, response.json()

        return upload

    call_of = {p.pk: calls[i // CREW] for i, p in enumerate(people)}

    def bulk_create():
        """The floor: the same 10,000 rows written as they are, no reading, no checks."""
        ScreeningTest.objects.bulk_create(
            (
                ScreeningTest(
                    person=p,
                    port_call=call_of[p.pk],
                    wharf_id=call_of[p.pk].wharf_id,
                    kind="rt_pcr_pooled",
                    sampled_at=sampled_at,
                    result="negative",
                    result_at=sampled_at,
                    pool_id=f"P-{i // 5}",
                    lab=LAB,
                    recorded_by=user,
                )
                for i, p in enumerate(people)
            )
        )

    def queries(action) -> int:
        sent = []
        with connection.execute_wrapper(lambda execute, *args: sent.append(args[0]) or execute(*args)):
            action()
        return len(sent)

    uploads, floors = _timed(post(whole, ROWS), bulk_create, lambda: ScreeningTest.objects.all().delete())
    row = latency_row(
        f"lab results upload over HTTP, {ROWS:,} rows ({CALLS} port calls, pools of 5)",
        uploads,
        floors,
        floor_name=f"plain bulk_create of the same {ROWS:,} rows",
    )
    # The aim is a rate of at least a third of the floor's: the inverse of the ratio.
    rate = {
        "name": f"lab results upload rate, {ROWS:,} rows: rows/s (floor rows/s)",
        "value": f"{ROWS / (row['p50'] / 1000):,.0f} ({ROWS / (row['baseline_p50'] / 1000):,.0f})",
        "unit": "",
    }
    # The deletes run before the timed request is sent, so count the request alone.
    ScreeningTest.objects.all().delete()
    small_queries = queries(lambda: client.post("/api/v1/tests/upload/", {"file": _named(small)}, format="multipart"))
    ScreeningTest.objects.all().delete()
    whole_queries = queries(lambda: client.post("/api/v1/tests/upload/", {"file": _named(whole)}, format="multipart"))
    return [
        row,
        rate,
        {"name": f"lab results upload, {SMALL_CALLS * CREW} rows: queries", "value": small_queries, "unit": ""},
        {"name": f"lab results upload, {ROWS:,} rows: queries", "value": whole_queries, "unit": ""},
    ]


def _timed(action, floor, reset) -> tuple[list[float], list[float]]:
    """Samples of ``action`` and of its ``floor``, taken in turn after one warm-up each,
    with ``reset`` (untimed) before every one so each writes the whole file anew."""
    samples: tuple[list[float], list[float]] = ([], [])
    for timed, times in ((action, []), (floor, [])) * 1 + ((action, samples[0]), (floor, samples[1])) * REPEATS:
        reset()
        started = time.perf_counter()
        timed()
        times.append(time.perf_counter() - started)
    return samples


def _named(data: bytes) -> io.BytesIO:
    upload = io.BytesIO(data)
    upload.name = "results.csv"
    return upload


if __name__ == "__main__":
    from tests.bench.run import table
    from tests.bench.setup import prepare_database, start_django

    server = sys.argv[1] if len(sys.argv) > 1 else "postgres://postgres@127.0.0.1:5432/test"
    start_django(prepare_database(server))
    started = time.perf_counter()
    print(table(run()))
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
