"""Kit stock per station and wharf (rule R7): derived from deliveries, the rapid results
recorded there and adjustments; lots named by results checked where they enter."""

import logging
import uuid
from datetime import date, timedelta

import pytest
from django.utils import translation

from crews.choices import KitAdjustmentReason, TestKind, TestResult
from crews.kit_stock import Place, stock_at, stock_of
from crews.kits import AdjustmentData, DeliveryData, record_adjustment, record_delivery
from crews.models import KitDelivery, Person, ScreeningTest
from crews.results import TestData, record_test, record_tests
from crews.stations import load_roster, record_staff_test
from tests.crews.helpers import roster_lines
from tests.helpers import ARRIVAL, people_of, refused

SAMPLED = ARRIVAL + timedelta(hours=1)
NOW = SAMPLED + timedelta(minutes=20)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def wharf_kits(inspector, cam_pha):
    """Two lots at Cẩm Phả: 10 kits of A expiring 20/08/2021, 5 of B expiring 30/08."""
    place = Place(wharf=cam_pha)
    record_delivery(inspector, place, DeliveryData("LOT-A", date(2021, 8, 20), 10), now=NOW)
    record_delivery(inspector, place, DeliveryData("LOT-B", date(2021, 8, 30), 5), now=NOW)
    return place


def rapid(call, person, lot="", sampled_at=SAMPLED):
    return TestData(
        person=person,
        kind=TestKind.RAPID,
        sampled_at=sampled_at,
        result=TestResult.NEGATIVE,
        port_call=call,
        kit_lot=lot,
    )


def test_stock_is_deliveries_less_results_plus_or_minus_adjustments(inspector, make_call, wharf_kits):
    call = make_call(crew=4)
    a, b, c, d = people_of(call)
    record_tests(inspector, [rapid(call, a, "LOT-A"), rapid(call, b, "LOT-A"), rapid(call, c, "LOT-B")], now=NOW)
    # An RT-PCR uses no rapid kit.
    record_test(
        inspector,
        TestData(person=d, kind=TestKind.RT_PCR, sampled_at=SAMPLED, result="pending", port_call=call, kit_lot="X"),
        now=NOW,
    )
    record_adjustment(inspector, wharf_kits, AdjustmentData("LOT-A", KitAdjustmentReason.DAMAGED, 3), now=NOW)
    record_adjustment(inspector, wharf_kits, AdjustmentData("LOT-B", KitAdjustmentReason.COUNTED, 2), now=NOW)
    stock = stock_at(wharf_kits)
    assert [(s.lot, s.delivered, s.used, s.adjusted, s.on_hand) for s in stock.lots] == [
        ("LOT-A", 10, 2, -3, 5),
        ("LOT-B", 5, 1, 2, 6),
    ]
    assert stock.on_hand == 11


def test_results_with_no_lot_are_counted_first_expiring_first(inspector, make_call, wharf_kits):
    call = make_call(crew=12)
    record_tests(inspector, [rapid(call, p) for p in people_of(call)], now=NOW)
    stock = stock_at(wharf_kits)
    assert [(s.lot, s.used_unnamed, s.on_hand) for s in stock.lots] == [("LOT-A", 10, 0), ("LOT-B", 2, 3)]
    assert stock.unallocated == 0


def test_a_station_counts_its_staff_results_and_not_the_wharfs(supervisor, inspector, make_call, station, wharf_kits):
    load_roster(supervisor, station, roster_lines(2, 1))
    at_station = Place(station=station)
    record_delivery(supervisor, at_station, DeliveryData("LOT-S", date(2021, 9, 1), 4), now=NOW)
    staff = Person.objects.get(id_number=roster_lines(1, 1)[0].id_number)
    record_staff_test(
        supervisor,
        station,
        TestData(person=staff, kind=TestKind.RAPID, sampled_at=SAMPLED, result="negative", kit_lot="LOT-S"),
        now=NOW,
    )
    stocks = stock_of([at_station, wharf_kits])
    assert [(s.lot, s.on_hand) for s in stocks[at_station.key].lots] == [("LOT-S", 3)]
    assert [(s.lot, s.on_hand) for s in stocks[wharf_kits.key].lots] == [("LOT-A", 10), ("LOT-B", 5)]


def test_an_expired_lot_is_refused_naming_its_expiry(inspector, make_call, wharf_kits):
    call = make_call(crew=1)
    (person,) = people_of(call)
    late = ARRIVAL.replace(day=21)
    with refused("kit_lot_refused", field="kit_lot") as caught:
        record_test(inspector, rapid(call, person, "LOT-A", sampled_at=late), now=late + timedelta(minutes=5))
    assert "LOT-A" in caught.value.message and "20/08/2021" in caught.value.message
    assert not ScreeningTest.objects.exists()


def test_an_unknown_lot_is_refused_and_nothing_of_the_sheet_is_saved(inspector, make_call, wharf_kits):
    call = make_call(crew=2)
    a, b = people_of(call)
    with refused("kit_lot_refused", field="kit_lot") as caught:
        record_tests(inspector, [rapid(call, a, "LOT-A"), rapid(call, b, "LOT-Z")], now=NOW)
    assert "LOT-Z" in caught.value.message and "CP-03" in caught.value.message
    assert not ScreeningTest.objects.exists()


def test_a_lot_is_checked_where_the_result_was_taken(inspector, outsider, make_call, ha_long, wharf_kits):
    """Hạ Long keeps stock of another lot: Cẩm Phả's lot is unknown there."""
    record_delivery(outsider, Place(wharf=ha_long), DeliveryData("LOT-H", date(2021, 9, 1), 5), now=NOW)
    call = make_call(crew=1, wharf=ha_long, by=outsider)
    with refused("kit_lot_refused"):
        record_test(outsider, rapid(call, people_of(call)[0], "LOT-A"), now=NOW)


def test_under_the_warn_setting_an_expired_lot_is_kept_with_a_warning(
    settings, inspector, make_call, wharf_kits, caplog
):
    settings.PORTGUARD_KIT_LOT_CHECK = "warn"
    call = make_call(crew=2)
    a, b = people_of(call)
    late = ARRIVAL.replace(day=21)
    with caplog.at_level(logging.WARNING, logger="crews.results"):
        record_tests(
            inspector, [rapid(call, a, "LOT-A", sampled_at=late), rapid(call, b, "LOT-Q", sampled_at=late)], now=late
        )
    assert ScreeningTest.objects.count() == 2
    assert "expired on 20/08/2021" in caplog.text and "LOT-Q" in caplog.text
    stock = stock_at(wharf_kits)
    assert stock.lot("rapid", "LOT-A").used_named == 1
    assert stock.unlisted == {"LOT-Q": 1}


def test_a_place_with_no_delivery_keeps_no_stock_and_checks_no_lot(inspector, make_call):
    call = make_call(crew=1)
    test, _created = record_test(inspector, rapid(call, people_of(call)[0], "ANY-LOT"), now=NOW)
    assert test.kit_lot == "ANY-LOT"


def test_deliveries_and_adjustments_are_attributed_and_sent_twice_stored_once(inspector, cam_pha):
    place = Place(wharf=cam_pha)
    key = uuid.uuid4()
    first, created = record_delivery(inspector, place, DeliveryData("LOT-A", date(2021, 8, 20), 10, client_uuid=key))
    again, created_again = record_delivery(
        inspector, place, DeliveryData("LOT-A", date(2021, 8, 20), 10, client_uuid=key)
    )
    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert (first.received_by, KitDelivery.objects.count()) == (inspector, 1)
    with pytest.raises(ValueError):
        first.save()


def test_adjustments_name_a_lot_delivered_there_and_never_take_the_stock_below_zero(inspector, wharf_kits):
    with refused("invalid", field="lot"):
        record_adjustment(inspector, wharf_kits, AdjustmentData("LOT-Z", KitAdjustmentReason.DAMAGED, 1))
    with refused("invalid", field="quantity"):
        record_adjustment(inspector, wharf_kits, AdjustmentData("LOT-B", KitAdjustmentReason.RETURNED, 6))


def test_a_lot_keeps_one_expiry_date(inspector, outsider, ha_long, wharf_kits):
    with refused("invalid", field="expires_on"):
        record_delivery(outsider, Place(wharf=ha_long), DeliveryData("LOT-A", date(2021, 8, 25), 5), now=NOW)


def test_kits_are_kept_by_their_places_people_only(inspector, outsider, supervisor, authority, health, cam_pha):
    place = Place(wharf=cam_pha)
    with refused("not_found"):
        record_delivery(outsider, place, DeliveryData("LOT-A", date(2021, 8, 20), 1), now=NOW)
    with refused("not_found"):
        record_delivery(supervisor, place, DeliveryData("LOT-A", date(2021, 8, 20), 1), now=NOW)
    with refused("forbidden"):
        record_delivery(authority, place, DeliveryData("LOT-A", date(2021, 8, 20), 1), now=NOW)
    record_delivery(health, place, DeliveryData("LOT-A", date(2021, 8, 20), 1), now=NOW)
