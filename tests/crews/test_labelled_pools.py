"""Labelled pools (rule R7): a station's day of RT-PCR samples as printed labels whose QR
codes read back to the right IDs, a manifest for the lab (JSON, CSV, PDF), the same IDs
when printed again, and the lab upload taking those pool IDs and no others."""

import csv
import io
from datetime import date, datetime, time, timedelta

import pypdfium2
import pytest
import time_machine
import zxingcpp
from django.test import Client
from django.utils import translation
from pypdf import PdfReader
from rest_framework.test import APIClient

from crews import staffing
from crews.lab_results import load_lab_results
from crews.models import KcsStation, Person, ScreeningTest
from crews.pools import check_character, parse_pool_id, pool_id
from crews.stations import load_roster
from portguard.domain import InvalidFile
from tests.crews.helpers import START, csv_file, roster_lines, staff_id, staff_name
from tests.helpers import VN, refused, token_for

DAY = START + timedelta(days=2)  # Wednesday: a third of a new roster's staff have their first RT-PCR
NOW = datetime.combine(DAY, time(7), tzinfo=VN)
API = "/api/v1/stations/KCS-CP-03/"
QUERY = f"?date={DAY.isoformat()}"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


def decoded(pdf: bytes) -> list[str]:
    """What every QR code on every page of ``pdf`` says, read from the rendered pages."""
    texts = []
    for page in pypdfium2.PdfDocument(pdf):
        image = page.render(scale=3).to_pil()
        texts += [code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]
    return texts


def expected_codes(pools: dict) -> list[str]:
    codes = []
    for pool in pools["pools"]:
        codes.append(f"{pool['pool_id']}\n{DAY.isoformat()}\nKCS-CP-03")
        codes += [
            f"{s['sample_id']}\n{pool['pool_id']}\n{s['id_number']}\n{s['full_name']}\n{DAY.isoformat()}"
            for s in pool["samples"]
        ]
    return codes


@pytest.fixture
def printed(rostered, supervisor):
    """A station of 12 staff and its Wednesday's pools, as the supervisor first prints them."""
    rostered(staff=12, days=7)
    client = client_for(supervisor)
    return client, client.get(API + "pools/" + QUERY).json()


def test_the_labels_read_back_to_the_days_pools_samples_names_and_id_numbers(printed):
    client, pools = printed
    samples = [s for pool in pools["pools"] for s in pool["samples"]]
    assert len(samples) == 4 and [len(p["samples"]) for p in pools["pools"]] == [4]  # pools of at most 5
    response = client.get(API + "labels.pdf" + QUERY)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="labels-KCS-CP-03-{DAY.isoformat()}.pdf"'
    assert sorted(decoded(response.content)) == sorted(expected_codes(pools))
    # Names are printed beside the codes with their diacritics.
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert all(s["full_name"] in text and s["id_number"] in text for s in samples)
    assert any("Nguyễn Thị Hằng" in s["full_name"] or "Đỗ Quốc Việt" in s["full_name"] for s in samples)


def test_labels_fill_more_than_one_sheet(rostered, supervisor, settings):
    settings.PORTGUARD_POOL_SIZE = 2
    rostered(staff=60, days=7)
    client = client_for(supervisor)
    pools = client.get(API + "pools/" + QUERY).json()
    codes = expected_codes(pools)
    assert len(codes) > 24  # 3 × 8 labels a sheet
    pdf = client.get(API + "labels.pdf" + QUERY).content
    assert len(PdfReader(io.BytesIO(pdf)).pages) == -(-len(codes) // 24)
    assert sorted(decoded(pdf)) == sorted(codes)


def test_the_manifest_lists_each_pool_with_its_members(printed):
    client, pools = printed
    (pool,) = pools["pools"]
    assert pool["pool_id"] == pool_id("KCS-CP-03", DAY, 1) == f"KCS-CP-03-20210811-P01-{pool['pool_id'][-1]}"
    assert [s["position"] for s in pool["samples"]] == [1, 2, 3, 4]
    assert all(s["sample_id"].startswith("KCS-CP-03-20210811-P01-") for s in pool["samples"])
    rows = list(csv.DictReader(io.StringIO(client.get(API + "pools.csv" + QUERY).content.decode("utf-8-sig"))))
    assert [(r["pool_id"], r["sample_id"], r["id_number"], r["full_name"], r["date"]) for r in rows] == [
        (pool["pool_id"], s["sample_id"], s["id_number"], s["full_name"], DAY.isoformat()) for s in pool["samples"]
    ]
    text = PdfReader(io.BytesIO(client.get(API + "pools.pdf" + QUERY).content)).pages[0].extract_text()
    assert pool["pool_id"] in text
    assert all(s["sample_id"] in text and s["full_name"] in text and s["id_number"] in text for s in pool["samples"])


def test_printing_again_after_the_roster_changed_keeps_every_printed_pool(printed, supervisor, health):
    client, first = printed
    (pool,) = first["pools"]
    members = {s["id_number"] for s in pool["samples"]}
    # The week's roster loaded again: three more staff, and a printed member off that day.
    gone = pool["samples"][0]["id_number"]
    lines = [line for line in roster_lines(15, 7) if (line.id_number, line.date) != (gone, DAY.isoformat())]
    load_roster(supervisor, KcsStation.objects.get(code="KCS-CP-03"), lines)
    again = client_for(health).get(API + "pools/" + QUERY).json()
    assert again["pools"][0] == pool
    added = {s["id_number"] for p in again["pools"][1:] for s in p["samples"]}
    assert added and not added & members
    assert [p["pool_id"] for p in again["pools"][1:]] == [pool_id("KCS-CP-03", DAY, 2)]
    # And once more, with nothing changed: the same IDs, the same labels.
    assert client.get(API + "pools/" + QUERY).json() == again
    assert sorted(decoded(client.get(API + "labels.pdf" + QUERY).content)) == sorted(
        decoded(client_for(health).get(API + "labels.pdf" + QUERY).content)
    )


def test_pool_ids_carry_a_check_character_that_catches_a_typo():
    good = pool_id("KCS-CP-03", DAY, 7)
    assert parse_pool_id(good) == ("KCS-CP-03", DAY, 7)
    assert parse_pool_id(good.lower()) == ("KCS-CP-03", DAY, 7)
    body = good[:-2]
    assert parse_pool_id(body.replace("P07", "P01") + "-" + good[-1]) is None  # one digit changed
    assert parse_pool_id(body.replace("0811", "0181") + "-" + good[-1]) is None  # two swapped
    assert parse_pool_id("P-07") is None
    assert check_character("KCS-CP-03-20210811-P07") == check_character("KCS CP 03 20210811 P07")


# --- The lab's upload ----------------------------------------------------------------

LAB_HEADER = "id_number,kind,sampled_at,result,pool_id,lab\n"
SAMPLED = DAY.strftime("%d/%m/%Y") + " 06:30"


def lab_file(*rows: str):
    return csv_file(LAB_HEADER + "".join(row + "\n" for row in rows), "results.csv")


def test_the_lab_upload_takes_the_printed_pool_ids(printed, supervisor):
    _client, pools = printed
    (pool,) = pools["pools"]
    load_lab_results(
        supervisor,
        lab_file(
            *(f"{s['id_number']},rt_pcr_pooled,{SAMPLED},negative,{pool['pool_id']},Lab" for s in pool["samples"])
        ),
    )
    assert set(ScreeningTest.objects.values_list("pool_id", "station__code", "result")) == {
        (pool["pool_id"], "KCS-CP-03", "negative")
    }
    assert ScreeningTest.objects.count() == len(pool["samples"])


def test_the_lab_upload_refuses_a_pool_that_was_not_printed_and_saves_nothing(printed, supervisor):
    _client, pools = printed
    (pool,) = pools["pools"]
    member, *_rest = pool["samples"]
    outside = next(staff_id(i) for i in range(12) if staff_id(i) not in {s["id_number"] for s in pool["samples"]})
    never_printed = pool_id("KCS-CP-03", DAY, 9)
    mistyped = pool["pool_id"][:-1] + ("0" if pool["pool_id"][-1] != "0" else "1")
    with translation.override("en"), refused("invalid_file", InvalidFile) as error:
        load_lab_results(
            supervisor,
            lab_file(
                f"{member['id_number']},rt_pcr_pooled,{SAMPLED},negative,{pool['pool_id']},Lab",  # 2: good
                f"{outside},rt_pcr_pooled,{SAMPLED},negative,{pool['pool_id']},Lab",  # 3: not in that pool
                f"{staff_id(0)},rt_pcr_pooled,09/08/2021 08:00,negative,{never_printed},Lab",  # 4
                f"{staff_id(1)},rt_pcr_pooled,09/08/2021 08:00,negative,{mistyped},Lab",  # 5
                f"{staff_id(2)},rt_pcr_pooled,09/08/2021 08:00,negative,K-1,Lab",  # 6: the lab's own name
            ),
        )
    assert [(r["row"], r["column"]) for r in error.value.rows] == [
        (3, "pool_id"),
        (4, "pool_id"),
        (5, "pool_id"),
        (6, "pool_id"),
    ]
    assert error.value.rows[0]["message"] == f"{staff_name(int(outside[-8:]))} is not in pool {pool['pool_id']}."
    assert error.value.rows[1]["message"] == (
        f"{never_printed} is not a pool printed for station KCS-CP-03: write the pool ID from the day's labels."
    )
    assert not ScreeningTest.objects.exists()


def test_the_station_sheet_stores_a_pooled_sample_in_the_pool_on_its_label(printed, supervisor):
    _client, pools = printed
    (pool,) = pools["pools"]
    person = Person.objects.get(id_number=pool["samples"][0]["id_number"])
    row = staffing.StaffResult(person_id=person.pk, result="negative", sampled_at=NOW - timedelta(hours=1))
    staffing.record_station_sheet(supervisor, KcsStation.objects.get(code="KCS-CP-03"), "rt_pcr_pooled", [row], now=NOW)
    assert ScreeningTest.objects.get().pool_id == pool["pool_id"]


# --- Doors and queries ---------------------------------------------------------------


def test_the_station_page_links_the_days_labels_and_manifest(printed, supervisor):
    browser = Client()
    browser.force_login(supervisor)
    page = browser.get(f"/stations/KCS-CP-03/?start={START.isoformat()}").content.decode()
    for door in ("labels.pdf", "pools.pdf", "pools.csv"):
        assert f"{API}{door}?date={DAY.isoformat()}" in page


def test_stations_out_of_scope_have_no_pools(printed, other_supervisor, other_station):
    client = client_for(other_supervisor)
    for door in ("pools/", "pools.csv", "pools.pdf", "labels.pdf"):
        response = client.get(API + door + QUERY)
        assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_a_bad_date_is_refused_in_the_apis_shape(printed):
    client, _pools = printed
    response = client.get(API + "pools/?date=11/08/2021")
    assert response.status_code == 400 and "date" in response.json()["fields"]


# token 1, permissions 2, station 1, plan_station 4, printed pools 1; a first print
# takes the station's lock, reads the pools again and stores the new ones, in a
# transaction (a savepoint and its release under the test's own).
POOLS_QUERIES = 9
FIRST_PRINT_QUERIES = POOLS_QUERIES + 5


@pytest.mark.parametrize("staff", [6, 60])
def test_pool_queries_do_not_grow_with_the_staff(rostered, supervisor, django_assert_max_num_queries, staff):
    rostered(staff=staff, days=7)
    client = client_for(supervisor)
    with django_assert_max_num_queries(FIRST_PRINT_QUERIES):
        pools = client.get(API + "pools/" + QUERY).json()
    assert sum(len(p["samples"]) for p in pools["pools"]) == staff // 3
    for door in ("pools/", "pools.csv", "pools.pdf", "labels.pdf"):
        with django_assert_max_num_queries(POOLS_QUERIES):
            assert client.get(API + door + QUERY).status_code == 200


def test_a_day_without_rt_pcr_prints_an_empty_sheet(printed):
    client, _pools = printed
    day = date(2021, 9, 1)
    assert client.get(API + f"pools/?date={day.isoformat()}").json()["pools"] == []
    assert decoded(client.get(API + f"labels.pdf?date={day.isoformat()}").content) == []
