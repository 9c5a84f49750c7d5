"""Kits through every door (rule R7): the kits pages and their forms, the lot select of
the screening and station sheets, the API, and a lab's file; query counts pinned."""

import re
import uuid
from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from crews.choices import KitAdjustmentReason, TestKind, TestResult
from crews.kit_stock import Place
from crews.kits import AdjustmentData, DeliveryData, record_adjustment, record_delivery
from crews.lab_results import load_lab_results
from crews.models import KitAdjustment, KitDelivery, Person, ScreeningTest
from crews.results import TestData, record_tests
from portguard.domain import InvalidFile
from tests.crews.helpers import csv_file, roster_lines
from tests.helpers import ARRIVAL, client_for, people_of, refused
from tests.vessels.helpers import local, sheet_post

NOW = ARRIVAL + timedelta(hours=2)
SAMPLED = ARRIVAL + timedelta(minutes=40)


@pytest.fixture(autouse=True)
def english_and_frozen_clock(client):
    """Pages and messages in English (the interface's default is Vietnamese)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def wharf_kits(inspector, cam_pha):
    """At Cẩm Phả: 10 kits of LOT-A (expires 20/08/2021), 5 of LOT-B (30/08), and 4 of
    LOT-OLD, expired on 10/08."""
    place = Place(wharf=cam_pha)
    for lot, expires_on, quantity in (
        ("LOT-B", date(2021, 8, 30), 5),
        ("LOT-A", date(2021, 8, 20), 10),
        ("LOT-OLD", date(2021, 8, 10), 4),
    ):
        record_delivery(inspector, place, DeliveryData(lot, expires_on, quantity), now=NOW)
    return place


def options(page: str, name: str = "kit_lot") -> list[tuple[str, bool]]:
    """A select's options as (value, selected)."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return [(value, bool(selected)) for value, selected in re.findall(r'<option value="([^"]*)"( selected)?', select)]


# --- The pages ------------------------------------------------------------------------


def test_a_delivery_recorded_on_the_wharf_page_is_stored_once_however_often_sent(client, inspector, cam_pha):
    client.force_login(inspector)
    form = {
        "delivery-lot": " AG-2108-55 ",
        "delivery-expires_on": "2021-09-30",
        "delivery-quantity": "200",
        "delivery-received_at": "2021-08-12T09:00",
        "delivery-client_uuid": str(uuid.uuid4()),
    }
    url = reverse("wharf-kit-deliveries", args=["CP-03"])
    assert client.post(url, form).status_code == 302
    assert client.post(url, form).status_code == 302
    delivery = KitDelivery.objects.get()
    assert (delivery.lot, delivery.quantity, delivery.wharf, delivery.received_by) == (
        "AG-2108-55",
        200,
        cam_pha,
        inspector,
    )
    page = client.get(reverse("wharf-kits", args=["CP-03"])).content.decode()
    assert re.search(r'data-lot="AG-2108-55".*?data-on-hand><strong>200<', page, re.S)
    assert "Received by alice" in page


def test_an_adjustment_on_the_page_names_its_reason_and_a_refused_one_says_why(client, inspector, wharf_kits):
    client.force_login(inspector)
    url = reverse("wharf-kit-adjustments", args=["CP-03"])
    form = {"adjustment-lot": "LOT-B", "adjustment-reason": "damaged", "adjustment-quantity": "2"}
    assert client.post(url, form).status_code == 302
    too_many = client.post(url, {**form, "adjustment-quantity": "9"})
    assert too_many.status_code == 400
    assert "Only 3 kits of lot LOT-B are in stock at CP-03." in too_many.content.decode()
    adjustment = KitAdjustment.objects.get()
    assert (adjustment.quantity, adjustment.reason, adjustment.recorded_by) == (-2, "damaged", inspector)


def test_the_screening_sheet_offers_the_lots_in_stock_the_first_expiring_chosen(
    client, inspector, make_call, wharf_kits
):
    call = make_call(crew=2)
    client.force_login(inspector)
    page = client.get(reverse("port-call", args=[call.pk])).content.decode()
    # LOT-OLD has expired; no lot may still be chosen.
    assert options(page) == [("LOT-A", True), ("LOT-B", False), ("", False)]


def test_a_sheet_naming_an_unknown_lot_is_refused_on_the_page_and_nothing_saved(
    client, inspector, make_call, wharf_kits
):
    call = make_call(crew=2)
    client.force_login(inspector)
    data = sheet_post(call, {p: TestResult.NEGATIVE for p in people_of(call)})
    response = client.post(reverse("port-call-tests", args=[call.pk]), {**data, "kit_lot": "LOT-Z"})
    assert response.status_code == 400
    assert "Kit lot LOT-Z is unknown at CP-03" in response.content.decode()
    assert not ScreeningTest.objects.exists()
    response = client.post(reverse("port-call-tests", args=[call.pk]), {**data, "kit_lot": "LOT-OLD"})
    assert "Kit lot LOT-OLD expired on 10/08/2021" in response.content.decode()
    assert client.post(reverse("port-call-tests", args=[call.pk]), {**data, "kit_lot": "LOT-A"}).status_code == 302
    assert ScreeningTest.objects.filter(kit_lot="LOT-A").count() == 2


def test_under_the_warn_setting_the_sheet_keeps_an_expired_lot_and_shows_the_warning(
    settings, client, inspector, make_call, wharf_kits
):
    settings.PORTGUARD_KIT_LOT_CHECK = "warn"
    call = make_call(crew=2)
    client.force_login(inspector)
    data = sheet_post(call, {p: TestResult.NEGATIVE for p in people_of(call)})
    response = client.post(reverse("port-call-tests", args=[call.pk]), {**data, "kit_lot": "LOT-OLD"}, follow=True)
    assert ScreeningTest.objects.filter(kit_lot="LOT-OLD").count() == 2
    assert response.content.decode().count("Kit lot LOT-OLD expired on 10/08/2021") == 1


def test_the_station_sheet_offers_the_stations_lots_and_refuses_an_expired_one(client, rostered, supervisor):
    station = rostered(staff=2, days=7)
    place = Place(station=station)
    record_delivery(supervisor, place, DeliveryData("ST-1", date(2021, 8, 11), 50), now=NOW)
    record_delivery(supervisor, place, DeliveryData("ST-2", date(2021, 9, 1), 50), now=NOW)
    client.force_login(supervisor)
    page = client.get(reverse("station", args=[station.code])).content.decode()
    assert options(page) == [("ST-2", True), ("", False)]
    person = Person.objects.get(id_number=roster_lines(1, 1)[0].id_number)
    data = {"kind": "rapid", "sampled_at": local(SAMPLED), f"result_{person.pk}": "negative"}
    refused_sheet = client.post(reverse("station-tests", args=[station.code]), {**data, "kit_lot": "ST-1"})
    assert refused_sheet.status_code == 400
    assert "Kit lot ST-1 expired on 11/08/2021" in refused_sheet.content.decode()
    assert client.post(reverse("station-tests", args=[station.code]), {**data, "kit_lot": "ST-2"}).status_code == 302
    assert ScreeningTest.objects.get().kit_lot == "ST-2"


# --- The API --------------------------------------------------------------------------


def test_the_api_records_deliveries_and_adjustments_and_reads_the_stock(inspector, make_call, wharf_kits):
    api = client_for(inspector)
    key = str(uuid.uuid4())
    body = {"lot": "LOT-C", "expires_on": "2021-10-01", "quantity": 7, "client_uuid": key}
    first = api.post("/api/v1/wharves/CP-03/kits/deliveries/", body, format="json")
    again = api.post("/api/v1/wharves/CP-03/kits/deliveries/", body, format="json")
    assert (first.status_code, again.status_code, again.json()["id"]) == (201, 200, first.json()["id"])
    adjusted = api.post(
        "/api/v1/wharves/cp-03/kits/adjustments/", {"lot": "LOT-C", "reason": "counted", "quantity": -1}, format="json"
    )
    assert adjusted.status_code == 201 and adjusted.json()["quantity"] == -1
    call = make_call(crew=3)
    record_tests(
        inspector,
        [
            TestData(person=p, kind=TestKind.RAPID, sampled_at=SAMPLED, result="negative", port_call=call)
            for p in people_of(call)
        ],
        now=NOW,
    )
    stock = api.get("/api/v1/wharves/CP-03/kits/").json()
    assert [(lot["lot"], lot["used"], lot["adjusted"], lot["on_hand"], lot["expired"]) for lot in stock["lots"]] == [
        ("LOT-OLD", 3, 0, 1, True),
        ("LOT-A", 0, 0, 10, False),
        ("LOT-B", 0, 0, 5, False),
        ("LOT-C", 0, -1, 6, False),
    ]
    assert (stock["place"], stock["on_hand"], stock["unallocated"]) == ("wharf", 22, 0)


def test_the_api_refuses_a_result_naming_an_expired_lot_in_the_error_shape(inspector, make_call, wharf_kits):
    call = make_call(crew=1)
    response = client_for(inspector).post(
        "/api/v1/tests/",
        {
            "id_number": people_of(call)[0].id_number,
            "kind": "rapid",
            "sampled_at": SAMPLED.isoformat(),
            "result": "negative",
            "port_call": call.pk,
            "kit_lot": "LOT-OLD",
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "kit_lot_refused" and "10/08/2021" in body["fields"]["kit_lot"][0]


def test_the_api_refuses_a_delivery_to_the_authority_and_hides_other_places(authority, outsider, wharf_kits):
    body = {"lot": "LOT-C", "expires_on": "2021-10-01", "quantity": 7}
    assert client_for(authority).get("/api/v1/wharves/CP-03/kits/").status_code == 200
    assert client_for(authority).post("/api/v1/wharves/CP-03/kits/deliveries/", body, format="json").status_code == 403
    assert client_for(outsider).get("/api/v1/wharves/CP-03/kits/").status_code == 404


# --- A lab's file ---------------------------------------------------------------------


def test_a_lab_file_naming_unknown_lots_is_refused_with_each_row_and_nothing_saved(inspector, make_call, wharf_kits):
    call = make_call(crew=3)
    first, second, third = people_of(call)
    text = (
        "id_number,kind,sampled_at,result,kit_lot\n"
        f"{first.id_number},rapid,12/08/2021 08:40,negative,LOT-A\n"
        f"{second.id_number},rapid,12/08/2021 08:40,negative,LOT-Z\n"
        f"{third.id_number},rapid,12/08/2021 08:40,negative,LOT-OLD\n"
    )
    with refused("invalid_file", InvalidFile) as error:
        load_lab_results(inspector, csv_file(text, "lab.csv"))
    assert [(r["row"], r["column"]) for r in error.value.rows] == [(3, "kit_lot"), (4, "kit_lot")]
    assert "LOT-Z" in error.value.rows[0]["message"] and "10/08/2021" in error.value.rows[1]["message"]
    assert not ScreeningTest.objects.exists()


# --- Query counts ---------------------------------------------------------------------


@pytest.fixture(params=[(1, 2), (6, 12)], ids=["1 lot", "6 lots"])
def stocked(request, inspector, make_call, cam_pha):
    """``lots`` lots at Cẩm Phả, each with an adjustment and ``crew`` results using it."""
    lots, crew = request.param
    place = Place(wharf=cam_pha)
    for i in range(lots):
        lot = f"LOT-{i}"
        record_delivery(inspector, place, DeliveryData(lot, date(2021, 9, 1 + i), 100), now=NOW)
        record_adjustment(inspector, place, AdjustmentData(lot, KitAdjustmentReason.DAMAGED, 1), now=NOW)
        call = make_call(crew=crew)
        record_tests(
            inspector,
            [
                TestData(
                    person=p, kind=TestKind.RAPID, sampled_at=SAMPLED, result="negative", port_call=call, kit_lot=lot
                )
                for p in people_of(call)
            ],
            now=NOW,
        )
    return lots, crew


def test_the_kits_pages_and_api_run_a_fixed_number_of_queries(
    client, inspector, stocked, django_assert_max_num_queries
):
    lots, crew = stocked
    client.force_login(inspector)
    # The session, the user and their permissions, the wharf, the stock (one query), the
    # forecast's past arrivals and declarations (two), the deliveries and adjustments
    # shown with who recorded them, the role in the header.
    with django_assert_max_num_queries(11):
        page = client.get(reverse("wharf-kits", args=["CP-03"])).content.decode()
    assert page.count("data-delivery=") == lots and page.count("data-adjustment=") == lots
    # The forecast adds the wharves' past arrivals and declarations.
    with django_assert_max_num_queries(10):
        page = client.get(reverse("kits")).content.decode()
    assert 'data-kit-place="CP-03"' in page
    api = client_for(inspector)
    with django_assert_max_num_queries(5):
        stock = api.get("/api/v1/wharves/CP-03/kits/").json()
    assert [lot["on_hand"] for lot in stock["lots"]] == [99 - crew] * lots
