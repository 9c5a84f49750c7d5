"""Finding things and syncing, at the province's size: the search over 100,000 people
and 20,000 port calls beside a plain indexed lookup of the same key, and a full cursor
sync of 100,000 results through ``GET /api/v1/tests/`` beside a plain keyset-paginated
``SELECT`` of the same rows, each measured in the same run.

    python -m tests.bench.api_bench [POSTGRES_SERVER_URL]   # this benchmark alone
"""

import random
import sys
import time
from datetime import timedelta

PEOPLE = 100_000
CALLS = 20_000
CREW = 5  # people on each call: every person is on one call
WHARVES = 20
TESTS = 100_000
BATCH = 2_000  # results written a transaction at a time, as many writers would
SEARCHES = 200  # keys looked up, each by the search and by the floor
PAGE = 1_000  # rows a page of the sync
SYNCS = 3

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Quang", "Ngọc", "Thanh", "Hữu", "Xuân", "Thu"]
GIVEN = [
    "Hùng", "Lan", "Thắng", "Vũ", "Ánh", "Mai", "Nam", "Hải", "Hằng", "Mạnh", "Quý", "Thuỷ", "Việt", "Long",
    "Toàn", "Bình", "Minh", "Sơn", "Tuấn", "Hoa", "Cường", "Dũng", "Hạnh", "Linh", "Phúc", "Quân", "Trang",
    "Yến", "Khánh", "Đạt", "Hiếu", "Huy", "Kiên", "Loan", "Nga", "Oanh", "Phương", "Tâm", "Thảo", "Vân",
]  # fmt: skip


def _name(i: int) -> str:
    return f"{FAMILY[i % len(FAMILY)]} {MIDDLE[(i // 14) % len(MIDDLE)]} {GIVEN[(i // 140) % len(GIVEN)]}"


def _scene():
    """WHARVES wharves, CALLS port calls (departed but the last few of each wharf) of
    CREW people each, TESTS results written in transactions of BATCH; a health officer
    and an inspector of two wharves, with tokens. Bulk-created: the seed is not measured."""
    from django.contrib.auth.models import Group, User
    from django.db import connection, transaction
    from django.utils import timezone

    from crews.models import CrewMember, Person, ScreeningTest
    from portguard import roles
    from vessels.choices import Locality, WharfKind
    from vessels.models import PortCall, Vessel, Wharf

    wharves = Wharf.objects.bulk_create(
        Wharf(code=f"B-{i:02d}", name=f"Bến {i}", locality=Locality.CAM_PHA, kind=WharfKind.WHARF, route_order=i)
        for i in range(WHARVES)
    )
    health = User.objects.create_user("bench-search-health")  # upload_bench has its own "bench-health"
    health.groups.add(Group.objects.get(name=roles.HEALTH))
    inspector = User.objects.create_user("bench-search-inspector")
    inspector.groups.add(Group.objects.get(name=roles.INSPECTOR))
    for wharf in wharves[:2]:
        wharf.inspectors.add(inspector)
    now = timezone.now()
    people = Person.objects.bulk_create(
        (Person(full_name=_name(i), id_kind="cccd", id_number=f"0228{i:08d}") for i in range(PEOPLE)), batch_size=5000
    )
    boats = Vessel.objects.bulk_create(
        (Vessel(registration=f"QN-{30000 + i}", name=f"Hoàng Long {i}") for i in range(CALLS // 10)), batch_size=5000
    )
    calls = PortCall.objects.bulk_create(
        (
            PortCall(
                vessel=boats[i % len(boats)],
                wharf=wharves[i % WHARVES],
                arrived_at=now - timedelta(hours=CALLS - i),
                departed_at=now - timedelta(hours=CALLS - i - 6) if i < CALLS - 3 * WHARVES else None,
                registered_by=health,
            )
            for i in range(CALLS)
        ),
        batch_size=5000,
    )
    CrewMember.objects.bulk_create(
        (CrewMember(port_call=calls[i // CREW], person=p, added_by=health) for i, p in enumerate(people)),
        batch_size=5000,
    )
    for start in range(0, TESTS, BATCH):
        with transaction.atomic():
            ScreeningTest.objects.bulk_create(
                ScreeningTest(
                    person=people[i % PEOPLE],
                    port_call=calls[(i % PEOPLE) // CREW],
                    wharf_id=calls[(i % PEOPLE) // CREW].wharf_id,
                    kind="rapid",
                    sampled_at=calls[(i % PEOPLE) // CREW].arrived_at + timedelta(hours=1),
                    result="negative",
                    recorded_by=health,
                )
                for i in range(start, min(start + BATCH, TESTS))
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return health, inspector, people


def _client(user):
    from rest_framework.test import APIClient

    from tests.helpers import token_for

    client = APIClient(HTTP_HOST="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


def _interleaved(action, floor, keys) -> tuple[list[float], list[float]]:
    """Each key by ``action`` then by ``floor``, after one warm-up of each."""
    action(keys[0])
    floor(keys[0])
    samples: tuple[list[float], list[float]] = ([], [])
    for key in keys:
        for timed, times in ((action, samples[0]), (floor, samples[1])):
            started = time.perf_counter()
            timed(key)
            times.append(time.perf_counter() - started)
    return samples


def run() -> list[dict]:
    from django.db import connection

    from portguard.collation import fold_name
    from tests.bench.live_delivery import latency_row
    from vessels.search import search

    health, inspector, people = _scene()
    chosen = random.Random(15).sample(people, SEARCHES)
    names = [p.full_name for p in chosen]
    folded = {name: fold_name(name) for name in names}

    def floor(name):
        """The plain indexed lookup of the same key: the folded name's prefix, one page."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, full_name, id_number FROM crews_person WHERE name_folded LIKE %s "
                "ORDER BY name_folded, id_number LIMIT 21",
                [folded[name].replace("%", r"\%").replace("_", r"\_") + "%"],
            )
            assert cursor.fetchall()

    rows = []
    for who, user in (("health officer, every person", health), ("inspector of 2 of 20 wharves", inspector)):
        found, floors = _interleaved(lambda name, user=user: search(user, name), floor, names)
        rows.append(
            latency_row(
                f"search (vessels + people) over {PEOPLE:,} people and {CALLS:,} port calls, {who}",
                found,
                floors,
                floor_name="plain indexed prefix lookup of the same folded name (LIMIT 21)",
            )
        )
    api = _client(inspector)

    def api_people(name):
        response = api.get("/api/v1/people/", {"q": name})
        assert response.status_code == 200, response.content[:300]

    found, floors = _interleaved(api_people, floor, names)
    rows.append(
        latency_row(
            f"GET /api/v1/people/?q= over HTTP (token), {PEOPLE:,} people, inspector of 2 of 20 wharves",
            found,
            floors,
            floor_name="plain indexed prefix lookup of the same folded name (LIMIT 21)",
        )
    )
    rows += _sync_rows(health)
    return rows


def _sync_rows(health) -> list[dict]:
    from django.db import connection

    client = _client(health)

    def sync() -> int:
        seen, response = 0, client.get("/api/v1/tests/", {"limit": PAGE})
        while True:
            body = response.json()
            seen += len(body["results"])
            if not body["more"]:
                return seen
            response = client.get("/api/v1/tests/", {"cursor": body["next"], "limit": PAGE})

    def plain() -> int:
        """The floor: the same rows and joins, keyset-paginated by id, fetched as tuples."""
        seen, last = 0, 0
        with connection.cursor() as cursor:
            while True:
                cursor.execute(
                    "SELECT t.id, t.kind, t.sampled_at, t.result, t.result_at, t.port_call_id, t.kit_lot, "
                    "t.pool_id, t.lab, t.recorded_at, t.supersedes_id, t.correction_reason, p.id_number, "
                    "p.full_name, u.username, w.code FROM crews_screeningtest t "
                    "JOIN crews_person p ON p.id = t.person_id JOIN auth_user u ON u.id = t.recorded_by_id "
                    "LEFT JOIN vessels_portcall c ON c.id = t.port_call_id "
                    "LEFT JOIN vessels_wharf w ON w.id = c.wharf_id WHERE t.id > %s ORDER BY t.id LIMIT %s",
                    [last, PAGE],
                )
                batch = cursor.fetchall()
                if not batch:
                    return seen
                seen += len(batch)
                last = batch[-1][0]

    rates, floor_rates = [], []
    for _ in range(SYNCS + 1):  # the first of each is a warm-up
        for timed, out in ((sync, rates), (plain, floor_rates)):
            started = time.perf_counter()
            count = timed()
            assert count == TESTS, count
            out.append(count / (time.perf_counter() - started))
    rate, floor_rate = sorted(rates[1:])[len(rates[1:]) // 2], sorted(floor_rates[1:])[len(floor_rates[1:]) // 2]
    return [
        {
            "name": f"full cursor sync of {TESTS:,} results, GET /api/v1/tests/ pages of {PAGE:,}: rows/s "
            f"(plain keyset SELECT of the same rows: rows/s; ratio)",
            "value": f"{rate:,.0f} ({floor_rate:,.0f}; {rate / floor_rate:.2f})",
            "unit": "",
        }
    ]


if __name__ == "__main__":
    from tests.bench.run import table
    from tests.bench.setup import prepare_database, start_django

    server = sys.argv[1] if len(sys.argv) > 1 else "postgres://postgres@127.0.0.1:5432/test"
    start_django(prepare_database(server))
    started = time.perf_counter()
    print(table(run()))
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
