"""The live alert when a station or a wharf is under 2 days of rapid kits (rule R7):
``kits.short`` once, when a result or a negative adjustment makes the place newly short,
and the places short now in a socket's snapshot. Needs worked out by hand: the station's
2 staff each work one shift a day, so its schedule plans 2 rapid tests a day, 4 over
the 2 days ahead."""

from datetime import date, datetime, timedelta
from importlib import import_module

import pytest
import time_machine
from django.apps import apps as django_apps

from crews.choices import KitAdjustmentReason, TestKind, TestResult
from crews.kit_alerts import after_results, keeps_stock, newly_covered, newly_short, short_places
from crews.kit_stock import Place
from crews.kits import AdjustmentData, DeliveryData, record_adjustment, record_delivery
from crews.models import KcsStation, Person
from crews.results import TestData, record_tests
from crews.stations import create_station, load_roster, record_staff_tests
from realtime.snapshot import dashboard_snapshot
from tests.crews.helpers import START, roster_lines
from tests.helpers import VN, people_of
from vessels.models import Wharf

NOW = datetime(2021, 8, 9, 10, 0, tzinfo=VN)  # Monday START, 10:00
FAR = date(2021, 9, 30)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def staffed(station, supervisor):
    """The Cẩm Phả station with 2 staff on a shift every day of the week."""
    load_roster(supervisor, station, roster_lines(2, 7, start=START))
    return station


def stocked(user, place: Place, kits: int, lot: str = "LOT-S", expires_on: date = FAR) -> Place:
    record_delivery(user, place, DeliveryData(lot, expires_on, kits), now=NOW - timedelta(hours=2))
    return place


def rapid(person: Person, lot: str = "LOT-S", port_call=None) -> TestData:
    return TestData(
        person, TestKind.RAPID, NOW - timedelta(minutes=5), TestResult.NEGATIVE, port_call=port_call, kit_lot=lot
    )


def staff() -> list[Person]:
    return list(Person.objects.order_by("id_number"))


def short_events(broadcasts) -> list[dict]:
    return [event for event in broadcasts if event["type"] == "kits.short"]


def test_newly_short_compares_the_stock_before_and_after_the_write():
    needs = [(START, 2), (START + timedelta(days=1), 2)]
    assert newly_short([(FAR, 4)], [(FAR, 3)], needs)[1].covered is False
    assert newly_short([(FAR, 3)], [(FAR, 2)], needs) is None  # already short
    assert newly_short([(FAR, 6)], [(FAR, 5)], needs) is None  # still enough
    # Kits that expire tonight cover today only: 3 of them and 1 more were short already.
    assert newly_short([(START, 3), (FAR, 1)], [(START, 3), (FAR, 0)], needs) is None


def test_a_result_that_leaves_less_than_two_days_of_kits_sends_kits_short_once(
    supervisor, staffed, broadcasts, django_capture_on_commit_callbacks
):
    stocked(supervisor, Place(station=staffed), 4)
    first, second = staff()
    with django_capture_on_commit_callbacks(execute=True):
        record_staff_tests(supervisor, staffed, [rapid(first)], now=NOW)
    assert short_events(broadcasts) == [
        {
            "type": "kits.short",
            "place_kind": "station",
            "code": "KCS-CP-03",
            "name": "Trạm KCS Mông Dương",
            "wharf": "CP-03",
            "left": 3,
            "need": 4,
            "days": 2,
            "runs_out_on": "2021-08-10",
        }
    ]
    # Already short: the dashboards were told.
    with django_capture_on_commit_callbacks(execute=True):
        record_staff_tests(supervisor, staffed, [rapid(second)], now=NOW)
    assert len(short_events(broadcasts)) == 1


def test_a_result_naming_no_lot_uses_a_kit_too(supervisor, staffed, broadcasts, django_capture_on_commit_callbacks):
    stocked(supervisor, Place(station=staffed), 4)
    with django_capture_on_commit_callbacks(execute=True):
        record_staff_tests(supervisor, staffed, [rapid(staff()[0], lot="")], now=NOW)
    assert [e["left"] for e in short_events(broadcasts)] == [3]


def test_a_place_with_enough_kits_sends_nothing(supervisor, staffed, broadcasts, django_capture_on_commit_callbacks):
    stocked(supervisor, Place(station=staffed), 6)
    with django_capture_on_commit_callbacks(execute=True):
        record_staff_tests(supervisor, staffed, [rapid(p) for p in staff()], now=NOW)
    assert short_events(broadcasts) == []  # 4 left: enough for the 2 days


def test_a_negative_adjustment_can_make_a_place_short_and_a_count_that_adds_cannot(
    supervisor, staffed, broadcasts, django_capture_on_commit_callbacks
):
    place = stocked(supervisor, Place(station=staffed), 5)
    with django_capture_on_commit_callbacks(execute=True):
        record_adjustment(supervisor, place, AdjustmentData("LOT-S", KitAdjustmentReason.COUNTED, 1), now=NOW)
    assert short_events(broadcasts) == []
    with django_capture_on_commit_callbacks(execute=True):
        record_adjustment(supervisor, place, AdjustmentData("LOT-S", KitAdjustmentReason.DAMAGED, 3), now=NOW)
    assert [(e["code"], e["left"], e["need"]) for e in short_events(broadcasts)] == [("KCS-CP-03", 3, 4)]


def restocked_events(broadcasts) -> list[dict]:
    return [event for event in broadcasts if event["type"] == "kits.restocked"]


def test_newly_covered_compares_the_stock_before_and_after_the_write():
    needs = [(START, 2), (START + timedelta(days=1), 2)]
    assert newly_covered([(FAR, 3)], [(FAR, 4)], needs)
    assert not newly_covered([(FAR, 2)], [(FAR, 3)], needs)  # still short
    assert not newly_covered([(FAR, 4)], [(FAR, 9)], needs)  # was not short
    # Kits that expire tonight cover today only.
    assert not newly_covered([(FAR, 1)], [(FAR, 1), (START, 5)], needs)


def test_a_delivery_that_covers_a_short_station_again_sends_kits_restocked(
    supervisor, staffed, broadcasts, django_capture_on_commit_callbacks
):
    place = stocked(supervisor, Place(station=staffed), 2)
    assert restocked_events(broadcasts) == []  # the first delivery: no stock was kept before
    with django_capture_on_commit_callbacks(execute=True):
        # Expires tonight: today's 2 tests use it and 1 of the 2, tomorrow's have 1 of 2.
        stocked(supervisor, place, 1, lot="LOT-T", expires_on=START)
    assert restocked_events(broadcasts) == []
    with django_capture_on_commit_callbacks(execute=True):
        stocked(supervisor, place, 1, lot="LOT-U")
    assert restocked_events(broadcasts) == [
        {
            "type": "kits.restocked",
            "place_kind": "station",
            "code": "KCS-CP-03",
            "name": "Trạm KCS Mông Dương",
            "wharf": "CP-03",
        }
    ]
    with django_capture_on_commit_callbacks(execute=True):
        stocked(supervisor, place, 10, lot="LOT-V")  # covered already: nothing more
    assert len(restocked_events(broadcasts)) == 1
    assert dashboard_snapshot(supervisor, staffed.wharf, kits=True)["kits_short"] == []


def test_a_count_that_finds_kits_can_cover_a_place_again_and_a_removal_cannot(
    supervisor, staffed, broadcasts, django_capture_on_commit_callbacks
):
    place = stocked(supervisor, Place(station=staffed), 3)
    with django_capture_on_commit_callbacks(execute=True):
        record_adjustment(supervisor, place, AdjustmentData("LOT-S", KitAdjustmentReason.DAMAGED, 1), now=NOW)
    assert restocked_events(broadcasts) == []
    with django_capture_on_commit_callbacks(execute=True):
        record_adjustment(supervisor, place, AdjustmentData("LOT-S", KitAdjustmentReason.COUNTED, 2), now=NOW)
    assert [(e["code"], e["place_kind"]) for e in restocked_events(broadcasts)] == [("KCS-CP-03", "station")]


def test_a_wharf_is_short_when_its_kits_do_not_cover_the_people_expected(
    inspector, cam_pha, make_call, broadcasts, django_capture_on_commit_callbacks
):
    # Mondays of the last 4 weeks: 4 people each (a mean of 4); Tuesdays: none. Need 4 + 0.
    for weeks in range(1, 5):
        make_call(crew=4, arrived_at=NOW - timedelta(weeks=weeks))
    call = make_call(crew=2, arrived_at=NOW - timedelta(hours=2))
    stocked(inspector, Place(wharf=cam_pha), 4, lot="LOT-W")
    a, b = people_of(call)
    with django_capture_on_commit_callbacks(execute=True):
        record_tests(inspector, [rapid(a, "LOT-W", call)], now=NOW)
    assert [
        (e["place_kind"], e["code"], e["wharf"], e["left"], e["need"], e["runs_out_on"])
        for e in short_events(broadcasts)
    ] == [("wharf", "CP-03", "CP-03", 3, 4, "2021-08-09")]


def test_the_first_rapid_delivery_marks_the_place_as_keeping_stock(supervisor, inspector, staffed, cam_pha):
    assert not keeps_stock(Place(station=KcsStation.objects.get()))
    stocked(supervisor, Place(station=staffed), 4)
    stocked(supervisor, Place(station=staffed), 4, lot="LOT-T")  # later: the first stands
    assert KcsStation.objects.get().rapid_kits_since == NOW - timedelta(hours=2)
    assert keeps_stock(Place(station=KcsStation.objects.get()))
    assert not keeps_stock(Place(wharf=Wharf.objects.get(pk=cam_pha.pk)))


def test_the_migration_marks_the_places_that_had_received_rapid_kits(supervisor, inspector, staffed, cam_pha, ha_long):
    fill = import_module(
        "crews.migrations.0018_stations_keep_the_day_they_first_received_rapid_kits"
    ).mark_places_that_received_rapid_kits
    stocked(supervisor, Place(station=staffed), 4)
    stocked(inspector, Place(wharf=cam_pha), 4, lot="LOT-W")
    KcsStation.objects.update(rapid_kits_since=None)
    Wharf.objects.update(rapid_kits_since=None)
    fill(django_apps, None)
    assert KcsStation.objects.get().rapid_kits_since == NOW - timedelta(hours=2)
    assert Wharf.objects.get(pk=cam_pha.pk).rapid_kits_since == NOW - timedelta(hours=2)
    assert Wharf.objects.get(pk=ha_long.pk).rapid_kits_since is None


def test_a_place_without_deliveries_sends_nothing_at_no_query(
    supervisor, staffed, broadcasts, django_capture_on_commit_callbacks, django_assert_num_queries
):
    with django_capture_on_commit_callbacks(execute=True):
        tests = record_staff_tests(supervisor, staffed, [rapid(staff()[0], lot="")], now=NOW)
    assert short_events(broadcasts) == []
    with django_assert_num_queries(0):  # its row says it keeps no stock
        after_results(tests, NOW)
    with django_assert_num_queries(0):  # nothing rapid
        after_results([], NOW)


@pytest.mark.parametrize("results", [1, 2])
def test_a_place_with_deliveries_costs_two_queries_whatever_the_results(
    supervisor, staffed, results, django_assert_num_queries
):
    stocked(supervisor, Place(station=staffed), 40)
    tests = record_staff_tests(supervisor, staffed, [rapid(p) for p in staff()[:results]], now=NOW)
    with django_assert_num_queries(2):  # the stock, the roster
        after_results(tests, NOW)


def test_a_socket_snapshot_lists_the_places_short_now(
    inspector, supervisor, cam_pha, ha_long, staffed, health, django_assert_max_num_queries
):
    stocked(supervisor, Place(station=staffed), 3)
    stocked(inspector, Place(wharf=cam_pha), 50, lot="LOT-W")
    snapshot = dashboard_snapshot(inspector, cam_pha, kits=True)
    assert [(e["place_kind"], e["code"], e["left"], e["need"]) for e in snapshot["kits_short"]] == [
        ("station", "KCS-CP-03", 3, 4)
    ]
    assert [e["code"] for e in dashboard_snapshot(health, kits=True)["kits_short"]] == ["KCS-CP-03"]
    assert dashboard_snapshot(inspector, ha_long, kits=True)["kits_short"] == []
    assert dashboard_snapshot(inspector, cam_pha)["kits_short"] == []  # the page's: it shows the forecast


@pytest.mark.parametrize("stations", [1, 6])
def test_the_places_short_now_cost_constant_queries(
    inspector, supervisor, cam_pha, health, stations, django_assert_max_num_queries
):
    for n in range(stations):
        station = create_station(code=f"KCS-{n}", name=f"Trạm {n}", wharf=cam_pha, supervisors=[supervisor])
        load_roster(supervisor, station, roster_lines(2, 3, start=START))
        stocked(supervisor, Place(station=station), 3, lot=f"LOT-{n}")
    stocked(inspector, Place(wharf=cam_pha), 50, lot="LOT-W")
    # The stations keeping stock, the forecast's four (stock, rosters, arrivals, declarations).
    with django_assert_max_num_queries(5):
        assert len(short_places([cam_pha], NOW.date())) == stations
    with django_assert_max_num_queries(PROVINCE_SNAPSHOT_QUERIES + 5):
        assert len(dashboard_snapshot(health, kits=True)["kits_short"]) == stations


# The province's snapshot without its kits (tests/realtime/test_snapshot.py).
PROVINCE_SNAPSHOT_QUERIES = 5
