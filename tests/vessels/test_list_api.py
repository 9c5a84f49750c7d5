"""The API's lists: port calls (the page's filters), alerts, epidemic areas, violations,
a case's contacts and the people search; each filter, cursor pages that neither repeat
nor skip a row while rows are added, scope as on the pages, every bad parameter named,
and the same queries a page whatever the data."""

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection

from crews.choices import TestKind, TestResult
from portguard import roles
from tests.helpers import ARRIVAL, client_for, make_user, people_of
from tests.vessels.helpers import calls_of_every_kind
from vessels.areas import AreaData, ViolationData, add_epidemic_area, record_violation
from vessels.services import record_departure

NOW = ARRIVAL + timedelta(days=3)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def calls(make_call, record, inspector, outsider, ha_long, health):
    """At Cẩm Phả, a day apart, oldest first: departed, cleared, blocked by a positive,
    one from Bắc Giang (an epidemic area); one at Hạ Long, the newest."""
    return calls_of_every_kind(make_call, record, inspector, outsider, ha_long, health, now=NOW)


def every_page(client, url: str, query: dict | None = None, limit: int = 2, between=lambda: None) -> list[dict]:
    rows: list[dict] = []
    response = client.get(url, {**(query or {}), "limit": limit})
    while True:
        assert response.status_code == 200, response.json()
        rows += response.json()["results"]
        between()
        if response.json()["next"] is None:
            return rows
        response = client.get(url, {**(query or {}), "cursor": response.json()["next"], "limit": limit})


def ids(rows) -> list[int]:
    return [row["id"] for row in rows]


def pks(calls, *names) -> list[int]:
    return [calls[name].pk for name in names]


# --- Port calls -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["elsewhere", "flagged", "blocked", "cleared", "departed"]),
        ({"wharf": "CP-03"}, ["flagged", "blocked", "cleared", "departed"]),
        ({"wharf": "HL-01"}, ["elsewhere"]),
        ({"status": "departed"}, ["departed"]),
        ({"status": "cleared"}, ["cleared"]),
        ({"status": "blocked"}, ["blocked"]),
        ({"status": "awaiting_tests"}, ["elsewhere", "flagged"]),
        ({"status": "quarantined"}, []),
        ({"arrived_after": "2021-08-12"}, ["elsewhere", "flagged", "blocked"]),
        ({"arrived_before": "2021-08-11"}, ["cleared", "departed"]),
        ({"arrived_after": "2021-08-11", "arrived_before": "2021-08-12"}, ["blocked", "cleared"]),
        ({"origin": "yes"}, ["flagged"]),
        ({"origin": "no"}, ["elsewhere", "blocked", "cleared", "departed"]),
    ],
)
def test_each_port_call_filter_keeps_what_the_page_keeps(calls, health, query, expected):
    rows = every_page(client_for(health), "/api/v1/port-calls/", query)
    assert ids(rows) == pks(calls, *expected)


def test_a_port_call_row_says_what_the_list_says(calls, inspector):
    rows = {r["id"]: r for r in every_page(client_for(inspector), "/api/v1/port-calls/")}
    flagged = rows[calls["flagged"].pk]
    assert flagged["registration"] == "QN-5555" and flagged["origin_flagged"] is True
    assert flagged["arrived_at"] == "2021-08-13T08:00:00+07:00"
    assert rows[calls["departed"].pk]["status"] == "departed" and rows[calls["departed"].pk]["departed_at"]
    assert calls["elsewhere"].pk not in rows  # Hạ Long is not the inspector's


def test_pages_neither_repeat_nor_skip_while_calls_arrive(calls, make_call, health):
    arrivals = iter([ARRIVAL + timedelta(days=2, hours=5), ARRIVAL - timedelta(days=1, hours=5)])
    new = []

    def meanwhile():
        arrived_at = next(arrivals, None)
        if arrived_at is not None:
            new.append(make_call(crew=1, arrived_at=arrived_at))

    rows = every_page(client_for(health), "/api/v1/port-calls/", limit=2, between=meanwhile)
    # The newer call arrived before the page it would be on: not shown (the next sync
    # starts from the top); the older one, on a page still to come, is shown; nothing twice.
    assert ids(rows) == pks(calls, "elsewhere", "flagged", "blocked", "cleared") + [new[1].pk] + pks(calls, "departed")


def test_supervisors_and_anonymous_may_not_list_port_calls(calls, supervisor, client):
    assert client_for(supervisor).get("/api/v1/port-calls/").status_code == 403
    assert client.get("/api/v1/port-calls/").status_code in (401, 403)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"wharf": "XX-99"}, "wharf"),
        ({"wharf": "HL-01"}, "wharf"),  # not the inspector's
        ({"status": "sunk"}, "status"),
        ({"arrived_after": "2021-13-45"}, "arrived_after"),
        ({"arrived_before": "yesterday"}, "arrived_before"),
        ({"arrived_after": "2021-08-12", "arrived_before": "2021-08-01"}, "arrived_before"),
        ({"origin": "maybe"}, "origin"),
        ({"cursor": "%%%"}, "cursor"),
        ({"cursor": "WzFd"}, "cursor"),  # [1]: not this list's
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"stauts": "cleared"}, "stauts"),
    ],
)
def test_every_bad_port_call_parameter_is_named(calls, inspector, query, field):
    response = client_for(inspector).get("/api/v1/port-calls/", query)
    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"
    assert field in response.json()["fields"]


# --- Alerts, epidemic areas, violations -----------------------------------------------


def test_alerts_in_scope_newest_first_and_by_wharf(calls, inspector, outsider, health, supervisor, make_call, record):
    later = make_call(crew=1)
    record(later, people_of(later)[0], result=TestResult.POSITIVE, sampled_at=NOW - timedelta(minutes=30))
    rows = every_page(client_for(inspector), "/api/v1/alerts/", limit=1)
    assert [r["port_call"] for r in rows] == [later.pk, calls["blocked"].pk]
    assert rows[0]["kind"] == "positive" and rows[0]["person"]["id_number"] == people_of(later)[0].id_number
    assert every_page(client_for(outsider), "/api/v1/alerts/") == []
    assert len(every_page(client_for(health), "/api/v1/alerts/", {"wharf": "CP-03"})) == 2
    assert every_page(client_for(health), "/api/v1/alerts/", {"wharf": "HL-01"}) == []
    assert client_for(supervisor).get("/api/v1/alerts/").status_code == 403
    assert client_for(make_user("quantri", roles.ADMIN)).get("/api/v1/alerts/").status_code == 403  # R8
    bad = client_for(inspector).get("/api/v1/alerts/", {"wharf": "HL-01"})
    assert bad.status_code == 400 and "wharf" in bad.json()["fields"]


def test_epidemic_areas_and_the_day_they_are_active(calls, health, inspector, supervisor):
    add_epidemic_area(health, AreaData("Hải Dương", "Chí Linh", date(2021, 7, 1), date(2021, 7, 31)))
    everything = every_page(client_for(inspector), "/api/v1/epidemic-areas/", limit=1)
    assert [(r["province"], r["district"]) for r in everything] == [("Bắc Giang", ""), ("Hải Dương", "Chí Linh")]
    on = every_page(client_for(inspector), "/api/v1/epidemic-areas/", {"active_on": "2021-07-15"})
    assert [r["province"] for r in on] == ["Hải Dương"]
    assert client_for(supervisor).get("/api/v1/epidemic-areas/").status_code == 403
    bad = client_for(inspector).get("/api/v1/epidemic-areas/", {"active_on": "15/07"})
    assert bad.status_code == 400 and "active_on" in bad.json()["fields"]


def test_violations_of_every_wharf_by_vessel_and_wharf(calls, inspector, outsider, supervisor):
    vessel = calls["cleared"].vessel
    first = record_violation(
        inspector, ViolationData(vessel, "other", NOW - timedelta(days=1), calls["cleared"].wharf, fine_vnd=500000)
    )
    second = record_violation(
        outsider, ViolationData(calls["elsewhere"].vessel, "other", NOW - timedelta(hours=1), calls["elsewhere"].wharf)
    )
    client = client_for(inspector)  # every wharf's, as a vessel's page shows them (R5)
    assert ids(every_page(client, "/api/v1/violations/", limit=1)) == [second.pk, first.pk]
    assert ids(every_page(client, "/api/v1/violations/", {"vessel": vessel.registration.lower()})) == [first.pk]
    assert ids(every_page(client, "/api/v1/violations/", {"wharf": "HL-01"})) == [second.pk]
    assert every_page(client, "/api/v1/violations/")[1]["fine_vnd"] == 500000
    assert client_for(supervisor).get("/api/v1/violations/").status_code == 403
    bad = client.get("/api/v1/violations/", {"wharf": "XX-1"})
    assert bad.status_code == 400 and "wharf" in bad.json()["fields"]


# --- A case's contacts ----------------------------------------------------------------


def test_a_cases_contacts_for_health_officers_only(make_call, record, health, inspector):
    call = make_call(crew=3)
    case, *others = people_of(call)
    confirming = record(call, case, result=TestResult.POSITIVE, kind=TestKind.RT_PCR, by=health)
    response = client_for(health).get(f"/api/v1/cases/{confirming.pk}/contacts/")
    assert response.status_code == 200
    body = response.json()
    assert body["case"]["person"]["id_number"] == case.id_number and body["case"]["port_call"] == call.pk
    assert sorted((c["person"]["id_number"], c["level"]) for c in body["contacts"]) == sorted(
        (p.id_number, "F1") for p in others
    )
    assert client_for(inspector).get(f"/api/v1/cases/{confirming.pk}/contacts/").status_code == 403
    negative = record(call, others[0])
    assert client_for(health).get(f"/api/v1/cases/{negative.pk}/contacts/").status_code == 404
    assert client_for(health).get("/api/v1/cases/999999/contacts/").status_code == 404


# --- People ---------------------------------------------------------------------------


def test_people_by_name_without_diacritics_or_id_number_within_scope(calls, inspector, outsider, health):
    captain = people_of(calls["cleared"])[0]  # "Nguyễn Văn Hùng …"
    found = every_page(client_for(inspector), "/api/v1/people/", {"q": "nguyen van hung"}, limit=1)
    assert captain.pk in ids(found)
    assert all(r["full_name"].startswith("Nguyễn Văn Hùng") for r in found)
    assert ids(every_page(client_for(health), "/api/v1/people/", {"q": captain.id_number})) == [captain.pk]
    assert every_page(client_for(outsider), "/api/v1/people/", {"q": captain.id_number}) == []


@pytest.mark.parametrize(("query", "field"), [({}, "q"), ({"q": "a"}, "q"), ({"q": "hung", "cursor": "x"}, "cursor")])
def test_bad_people_parameters_are_named(health, query, field):
    response = client_for(health).get("/api/v1/people/", query)
    assert response.status_code == 400 and field in response.json()["fields"]


# --- Queries --------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 6])
def test_each_list_costs_the_same_queries_whatever_the_data(
    make_call, record, inspector, health, django_assert_max_num_queries, size
):
    for i in range(size):
        call = make_call(crew=3, arrived_at=ARRIVAL + timedelta(hours=i))
        person = people_of(call)[0]
        record(call, person, sampled_at=NOW - timedelta(hours=1), result=TestResult.POSITIVE if i % 2 else "negative")
        add_epidemic_area(health, AreaData(f"Tỉnh {i}", "", date(2021, 8, 1)))
        record_violation(
            inspector,
            ViolationData(call.vessel, "other", NOW - timedelta(hours=1), call.wharf, against="person", person=person),
        )
        if i % 3 == 1:
            record_departure(inspector, call.pk)
    confirming = record(call, person, result=TestResult.POSITIVE, kind=TestKind.RT_PCR, by=health)
    # The token and its user, permissions (two), the page; a port call's status is rule R1
    # over the page's berthed calls (and, filtered by status, over every berthed call kept).
    lists = [
        ("/api/v1/port-calls/", {}, 12),
        ("/api/v1/port-calls/", {"status": "awaiting_tests", "origin": "no"}, 19),
        ("/api/v1/alerts/", {}, 5),  # + the access log's entry (rule R8), as the contacts'
        ("/api/v1/epidemic-areas/", {}, 4),
        ("/api/v1/violations/", {}, 4),
        ("/api/v1/people/", {"q": "nguyen"}, 4),
        (f"/api/v1/cases/{confirming.pk}/contacts/", {}, 7),
    ]
    for user in (inspector, health):
        client = client_for(user)
        for url, query, most in lists:
            if "cases" in url and user is inspector:
                continue
            with django_assert_max_num_queries(most):
                response = client.get(url, query)
            assert response.status_code == 200, (url, response.json())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no trigram index: it scans")
def test_on_postgresql_a_name_from_any_word_and_an_id_number_prefix_have_an_index(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'crews_person'")
        indexes = dict(cursor.fetchall())
    assert "gin_trgm_ops" in indexes["person_name_trigrams"] and "name_folded" in indexes["person_name_trigrams"]
    assert "gin_trgm_ops" in indexes["person_id_number_trigrams"]
