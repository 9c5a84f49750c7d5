"""The list of port calls: departed ones too, newest first, each filter, pages, the
CSV and XLSX export of exactly the calls the filters keep, scope, bad parameters
refused with a message, and queries that do not grow with the data."""

import csv
import io
from datetime import date, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from tests.helpers import ARRIVAL, people_of
from tests.vessels.helpers import calls_of_every_kind
from vessels import call_list_views
from vessels.areas import AreaData, add_epidemic_area
from vessels.call_list import CallFilter, filtered_calls
from vessels.choices import PortCallStatus
from vessels.services import record_departure
from vessels.status import flagged_origins

NOW = ARRIVAL + timedelta(days=3)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def calls(make_call, record, inspector, outsider, ha_long, health):
    """At Cẩm Phả: one departed call (arrived first), one cleared, one blocked by a
    positive, one from Bắc Giang (an epidemic area) still awaiting tests; one call at
    Hạ Long. One arrival a day apart, oldest first."""
    return calls_of_every_kind(make_call, record, inspector, outsider, ha_long, health, now=NOW)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def listed_ids(response) -> list[int]:
    return [row.call.pk for row in response.context["rows"]]


def ids(*calls) -> list[int]:
    return [c.pk for c in calls]


def test_every_call_in_scope_is_listed_newest_first_departed_ones_too(calls, inspector, health):
    c = calls
    response = client_for(inspector).get(reverse("port-calls"))
    assert response.status_code == 200
    assert listed_ids(response) == ids(c["flagged"], c["blocked"], c["cleared"], c["departed"])
    statuses = {row.call.pk: row.status for row in response.context["rows"]}
    assert statuses[c["departed"].pk] == PortCallStatus.DEPARTED
    assert statuses[c["cleared"].pk] == PortCallStatus.CLEARED
    assert statuses[c["blocked"].pk] == PortCallStatus.BLOCKED
    everything = client_for(health).get(reverse("port-calls"))
    assert listed_ids(everything)[0] == c["elsewhere"].pk and len(listed_ids(everything)) == 5


def test_outsiders_see_only_their_wharves_and_supervisors_are_refused(calls, outsider, supervisor):
    assert listed_ids(client_for(outsider).get(reverse("port-calls"))) == ids(calls["elsewhere"])
    assert client_for(supervisor).get(reverse("port-calls")).status_code == 403
    assert client_for(supervisor).get(reverse("port-calls-csv")).status_code == 403


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"wharf": "CP-03"}, ["flagged", "blocked", "cleared", "departed"]),
        ({"wharf": "HL-01"}, ["elsewhere"]),
        ({"status": "departed"}, ["departed"]),
        ({"status": "cleared"}, ["cleared"]),
        ({"status": "blocked"}, ["blocked"]),
        ({"status": "awaiting_tests"}, ["elsewhere", "flagged"]),
        ({"status": "quarantined"}, []),
        ({"arrived_after": "2021-08-12"}, ["elsewhere", "flagged", "blocked"]),
        ({"arrived_before": "2021-08-11"}, ["cleared", "departed"]),
        ({"arrived_after": "2021-08-11", "arrived_before": "12/08/2021"}, ["blocked", "cleared"]),
        ({"origin": "yes"}, ["flagged"]),
        ({"origin": "no"}, ["elsewhere", "blocked", "cleared", "departed"]),
        ({"wharf": "CP-03", "status": "awaiting_tests", "origin": "yes"}, ["flagged"]),
    ],
)
def test_each_filter_keeps_exactly_its_calls(calls, health, query, expected):
    response = client_for(health).get(reverse("port-calls"), query)
    assert response.status_code == 200
    assert listed_ids(response) == ids(*(calls[name] for name in expected))


def test_the_origin_filter_agrees_with_rule_r4_as_the_dashboards_read_it(calls, health):
    everything = list(filtered_calls(health, CallFilter()))
    assert {c.pk for c in filtered_calls(health, CallFilter(epidemic_origin=True))} == flagged_origins(everything)


def test_an_area_ended_before_the_arrival_does_not_flag_it(calls, health):
    add_epidemic_area(health, AreaData("Hải Phòng", "", date(2021, 7, 1), date(2021, 8, 9)))
    flagged = {c.pk for c in filtered_calls(health, CallFilter(epidemic_origin=True))}
    assert flagged == {calls["flagged"].pk}  # the others came from Hải Phòng after the area ended


def test_pages_follow_each_other_and_keep_the_filters(calls, health, monkeypatch):
    monkeypatch.setattr(call_list_views, "PER_PAGE", 2)
    client = client_for(health)
    first = client.get(reverse("port-calls"), {"wharf": "CP-03"})
    second = client.get(reverse("port-calls"), {"wharf": "CP-03", "page": 2})
    assert listed_ids(first) + listed_ids(second) == ids(
        calls["flagged"], calls["blocked"], calls["cleared"], calls["departed"]
    )
    assert "wharf=CP-03&amp;page=2" in first.content.decode()
    beyond = client.get(reverse("port-calls"), {"wharf": "CP-03", "page": 9})
    assert listed_ids(beyond) == listed_ids(second)  # past the end: the last page


def csv_registrations(response) -> list[str]:
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    return [row["registration"] for row in rows]


@pytest.mark.parametrize(
    "query",
    [{}, {"wharf": "CP-03"}, {"status": "departed"}, {"origin": "yes"}, {"arrived_after": "2021-08-11", "page": "2"}],
)
def test_the_exports_hold_exactly_what_the_filters_show(calls, health, query, monkeypatch):
    """Every page's calls: the page asked for does not narrow the file."""
    monkeypatch.setattr(call_list_views, "PER_PAGE", 1000)
    client = client_for(health)
    shown = [row.call.vessel.registration for row in client.get(reverse("port-calls"), query).context["rows"]]
    csv_response = client.get(reverse("port-calls-csv"), query)
    assert csv_response["Content-Type"].startswith("text/csv")
    assert csv_registrations(csv_response) == shown
    book = load_workbook(io.BytesIO(client.get(reverse("port-calls-xlsx"), query).content))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    column = header.index("registration")
    assert [row[column] for row in sheet.iter_rows(min_row=2, values_only=True)] == shown


def test_the_export_names_each_calls_status_and_flag(calls, inspector):
    rows = list(
        csv.DictReader(io.StringIO(client_for(inspector).get(reverse("port-calls-csv")).content.decode("utf-8-sig")))
    )
    by_registration = {row["registration"]: row for row in rows}
    assert by_registration["QN-5555"]["epidemic_origin"] == "yes"
    assert by_registration["QN-5555"]["arrived_at"] == "2021-08-13T08:00+07:00"
    assert by_registration[calls["departed"].vessel.registration]["status"] == "departed"
    assert by_registration[calls["departed"].vessel.registration]["departed_at"] != ""
    assert calls["elsewhere"].vessel.registration not in by_registration


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"wharf": "XX-99"}, "wharf"),
        ({"wharf": "HL-01"}, "wharf"),  # a wharf the inspector does not see is not a choice
        ({"status": "sunk"}, "status"),
        ({"arrived_after": "2021-13-45"}, "arrived_after"),
        ({"arrived_before": "yesterday"}, "arrived_before"),
        ({"arrived_after": "2021-08-12", "arrived_before": "2021-08-01"}, "arrived_before"),
        ({"origin": "maybe"}, "origin"),
        ({"page": "abc"}, "page"),
        ({"page": "0"}, "page"),
    ],
)
def test_bad_parameters_are_named_in_vietnamese_never_a_server_error(calls, inspector, query, field):
    client = client_for(inspector)
    with translation.override("vi"):
        for name in ("port-calls", "port-calls-csv", "port-calls-xlsx"):
            response = client.get(reverse(name), query)
            assert response.status_code == 400, (name, query)
            assert field in response.context["form"].errors
            assert "Một số bộ lọc không hợp lệ" in response.content.decode()


@pytest.mark.parametrize("size", [1, 6])
def test_the_list_and_its_export_run_the_same_queries_whatever_the_data(
    make_call, record, inspector, health, django_assert_max_num_queries, size
):
    for i in range(size):
        call = make_call(crew=3, arrived_at=ARRIVAL + timedelta(hours=i))
        record(call, people_of(call)[0], sampled_at=NOW - timedelta(hours=1))
        if i % 2:
            record_departure(inspector, call.pk)
    for user in (inspector, health):
        client = client_for(user)
        for name, query in (("port-calls", {}), ("port-calls", {"status": "awaiting_tests"}), ("port-calls-csv", {})):
            with django_assert_max_num_queries(21):
                response = client.get(reverse(name), {**query, "origin": "no"})
            assert response.status_code == 200
