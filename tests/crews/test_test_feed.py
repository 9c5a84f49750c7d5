"""The feed of results (``GET /api/v1/tests/``): a system following the cursor receives
every result in its scope exactly once, corrections as rows of their own, while results
are recorded and corrected between its pages; on PostgreSQL also when two writers
commit out of the order they wrote in. Parameters are validated, the scope is the
pages', and a page costs the same queries whatever the data."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from crews.choices import TestKind, TestResult
from crews.corrections import correct_test
from crews.models import ScreeningTest
from portguard import roles
from tests.helpers import ARRIVAL, client_for, make_user, people_of

URL = "/api/v1/tests/"

# Each write commits on its own, as in production: on PostgreSQL a test wrapped in one
# transaction writes every row with the same transaction id, so the feed's rounds could
# not tell the rows written before a page from those written after it.
pytestmark = pytest.mark.django_db(transaction=True)


def sync(client, start: dict | None = None, limit: int = 2, between=lambda: None) -> tuple[list[dict], str]:
    """Follow the feed to its end, calling ``between`` after each page; every row, and
    the cursor to continue from later."""
    rows: list[dict] = []
    response = client.get(URL, {**(start or {}), "limit": limit})
    while True:
        assert response.status_code == 200, response.json()
        body = response.json()
        rows += body["results"]
        between()
        if not body["more"]:
            return rows, body["next"]
        response = client.get(URL, {"cursor": body["next"], "limit": limit})


def test_a_sync_sees_every_result_once_while_results_are_recorded_and_corrected(make_call, record, health):
    call = make_call(crew=5)
    people = people_of(call)
    for person in people[:3]:
        record(call, person)
    written = iter(people[3:])
    corrected: list[ScreeningTest] = []

    def meanwhile():
        person = next(written, None)
        if person is not None:
            record(call, person, result=TestResult.PENDING)
        elif not corrected:
            original = ScreeningTest.objects.filter(port_call=call).order_by("id").first()
            corrected.append(correct_test(health, original, TestResult.POSITIVE, "Nhập nhầm kết quả"))

    rows, cursor = sync(client_for(health), limit=1, between=meanwhile)
    assert corrected
    stored = list(ScreeningTest.objects.order_by("id").values_list("id", flat=True))
    assert sorted(r["id"] for r in rows) == stored  # every one
    assert len(rows) == len(stored) == 6  # once
    correction = next(r for r in rows if r["id"] == corrected[0].pk)
    assert correction["supersedes"] == corrected[0].supersedes_id
    assert correction["correction_reason"] == "Nhập nhầm kết quả"
    assert correction["sampled_at"] == timezone.localtime(corrected[0].sampled_at).isoformat()  # Vietnam time
    assert correction["recorded_at"] == timezone.localtime(corrected[0].recorded_at).isoformat()
    # Later, from the cursor kept: only what came since.
    late = record(call, people[0], result=TestResult.NEGATIVE, kind=TestKind.RT_PCR)
    again, _cursor = sync(client_for(health), {"cursor": cursor})
    assert [r["id"] for r in again] == [late.pk]


def test_updated_after_starts_the_sync_at_a_time_and_the_cursor_keeps_it(make_call, record, health):
    call = make_call(crew=3)
    first, second, third = people_of(call)
    with time_machine.travel(ARRIVAL + timedelta(hours=2)):
        record(call, first)
    with time_machine.travel(ARRIVAL + timedelta(days=2)):
        new = [record(call, second), record(call, third)]
    since = (ARRIVAL + timedelta(days=1)).isoformat()
    rows, _ = sync(client_for(health), {"updated_after": since}, limit=1)
    assert [r["id"] for r in rows] == [t.pk for t in new]


def test_scope_is_the_pages(make_call, record, inspector, outsider, ha_long, supervisor, cam_pha):
    mine = make_call(crew=1)
    theirs = make_call(crew=1, wharf=ha_long, by=outsider)
    record(mine, people_of(mine)[0])
    record(theirs, people_of(theirs)[0], by=outsider)
    rows, _ = sync(client_for(inspector))
    assert [r["person"]["id_number"] for r in rows] == [people_of(mine)[0].id_number]
    assert sync(client_for(supervisor))[0] == []  # no station of theirs
    admin = make_user("quantri", roles.ADMIN)
    assert client_for(admin).get(URL).status_code == 403  # results are health data (R8)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WzEsMl0"}, "cursor"),  # [1,2]: a cursor of another list
        ({"updated_after": "yesterday"}, "updated_after"),
        ({"limit": "0"}, "limit"),
        ({"limit": "5001"}, "limit"),
        ({"updated_after": "2021-08-12T00:00:00+07:00", "cursor": "WzEsMixudWxsXQ"}, "updated_after"),
        ({"updatedafter": "2021-08-12"}, "updatedafter"),
    ],
)
def test_every_bad_parameter_is_named(health, params, field):
    response = client_for(health).get(URL, params)
    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"
    assert field in response.json()["fields"]


@pytest.mark.parametrize("size", [2, 12])
def test_a_page_costs_the_same_queries_whatever_the_data(
    make_call, record, inspector, health, supervisor, django_assert_max_num_queries, size
):
    for _ in range(size // 2):
        call = make_call(crew=2)
        for person in people_of(call):
            record(call, person)
    for user in (inspector, health):
        client = client_for(user)
        # The token and its user, two of permissions, the page, the access log's entry (rule R8).
        with django_assert_max_num_queries(6):
            response = client.get(URL, {"limit": 100})
        assert len(response.json()["results"]) == size


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one write transaction at a time")
def test_rows_committed_out_of_order_are_each_handed_out_once(make_call, health):
    """Writer A writes first and commits last; B and C commit meanwhile. An id or a time
    cursor would move past A's row with B's and never hand A's out."""
    calls = [make_call(crew=1) for _ in range(3)]  # three calls: three locks, no waiting
    a_wrote, a_may_commit = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer(call, before_commit=lambda: None):
        try:
            with transaction.atomic():
                # Written as record_test writes it, without its locks (not what is tested).
                ScreeningTest.objects.create(
                    person=people_of(call)[0],
                    port_call=call,
                    kind=TestKind.RAPID,
                    sampled_at=call.arrived_at + timedelta(hours=1),
                    result=TestResult.NEGATIVE,
                    recorded_by=health,
                )
                before_commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    def run(*args):
        thread = threading.Thread(target=writer, args=args)
        thread.start()
        return thread

    a = run(calls[0], lambda: (a_wrote.set(), a_may_commit.wait(30)))
    assert a_wrote.wait(30)
    b = run(calls[1])
    b.join(30)
    assert not b.is_alive()
    ids = {ScreeningTest.objects.get(port_call=c).pk if c is not calls[0] else None for c in calls[1:2]}
    client = client_for(health)
    first = client.get(URL, {"limit": 1}).json()
    assert {r["id"] for r in first["results"]} == ids  # B's, committed; A's is still open
    a_may_commit.set()
    a.join(30)
    run(calls[2]).join(30)
    assert errors == []
    rest, _ = sync(client, {"cursor": first["next"]}, limit=1)
    rows = first["results"] + rest
    assert sorted(r["id"] for r in rows) == sorted(ScreeningTest.objects.values_list("id", flat=True))
    assert len(rows) == 3
