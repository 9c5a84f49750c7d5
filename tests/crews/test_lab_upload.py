"""A lab's results file (CSV or XLSX), pooled RT-PCR included: recorded whole through
``record_tests``, or nothing with every bad row; queries do not grow with the rows."""

import asyncio
import io
import json
from datetime import datetime, timedelta

import pandas as pd
import pytest
import time_machine
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.urls import reverse
from django.utils import translation

from crews.choices import TestKind, TestResult
from crews.lab_results import LAB_COLUMNS, load_lab_results, parse_sample_time
from crews.models import CrewMember, Person, ScreeningTest
from crews.results import TestData, record_tests
from portguard.domain import InvalidFile, NotAllowed
from tests.crews.helpers import csv_file, staff_id, xlsx_file
from tests.helpers import ARRIVAL, VN, client_for, people_of, refused
from vessels.choices import PortCallStatus
from vessels.models import Alert, PortCall, Vessel
from vessels.status import clearance_of

HEADER = "id_number,kind,sampled_at,result,pool_id,lab\n"
NOW = ARRIVAL + timedelta(hours=6)
LAB = "CDC Quảng Ninh"
SAMPLED = "12/08/2021 09:30"  # ARRIVAL + 90 minutes, Vietnam time


@pytest.fixture(autouse=True)
def english_and_frozen_clock():
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


def rows(*lines: str) -> str:
    return HEADER + "".join(line + "\n" for line in lines)


def refusal(user, text: str) -> InvalidFile:
    with refused("invalid_file", InvalidFile) as error:
        load_lab_results(user, csv_file(text))
    assert not ScreeningTest.objects.exists()
    return error.value


def test_single_results_go_to_each_persons_open_port_call(make_call, inspector):
    call = make_call(crew=2)
    first, second = people_of(call)
    loaded = load_lab_results(
        inspector,
        csv_file(
            rows(
                f"{first.id_number},rt_pcr,{SAMPLED},negative,S-001,{LAB}",
                f"{second.id_number},RT-PCR,2021-08-12T09:30:00+07:00,âm tính,,{LAB}",
            )
        ),
    )
    assert len(loaded.tests) == 2 and loaded.retest == []
    tests = ScreeningTest.objects.order_by("person__id_number")
    assert {(t.person, t.port_call, t.wharf, t.kind, t.result, t.lab) for t in tests} == {
        (first, call, call.wharf, TestKind.RT_PCR, TestResult.NEGATIVE, LAB),
        (second, call, call.wharf, TestKind.RT_PCR, TestResult.NEGATIVE, LAB),
    }
    assert {t.sampled_at for t in tests} == {ARRIVAL + timedelta(minutes=90)}
    assert ScreeningTest.objects.get(person=first).pool_id == "S-001"
    assert clearance_of(call).status == PortCallStatus.CLEARED


def test_negative_pool_makes_every_member_negative(make_call, inspector):
    call = make_call(crew=5)
    people = people_of(call)
    loaded = load_lab_results(
        inspector, csv_file(rows(*(f"{p.id_number},rt_pcr_pooled,{SAMPLED},negative,P-07,{LAB}" for p in people)))
    )
    assert len(loaded.tests) == 5 and loaded.retest == []
    assert set(ScreeningTest.objects.values_list("kind", "result", "pool_id")) == {
        (TestKind.RT_PCR_POOLED, TestResult.NEGATIVE, "P-07")
    }
    assert clearance_of(call).status == PortCallStatus.CLEARED


def test_positive_pool_makes_every_member_await_a_retest_blocks_the_call_and_raises_one_alert(make_call, inspector):
    call = make_call(crew=3)
    people = people_of(call)
    loaded = load_lab_results(
        inspector,
        csv_file(
            rows(
                *(f"{p.id_number},rt_pcr_pooled,{SAMPLED},positive,P-08,{LAB}" for p in people[:2]),
                f"{people[2].id_number},rt_pcr_pooled,{SAMPLED},negative,P-09,{LAB}",
            )
        ),
    )
    assert [(r.row, r.id_number, r.pool_id, r.port_call) for r in loaded.retest] == [
        (2, people[0].id_number, "P-08", call.pk),
        (3, people[1].id_number, "P-08", call.pk),
    ]
    # Each member carries the pool's result, as the lab gave it.
    results = dict(ScreeningTest.objects.values_list("person_id", "result"))
    assert results == {
        people[0].pk: TestResult.POSITIVE,
        people[1].pk: TestResult.POSITIVE,
        people[2].pk: TestResult.NEGATIVE,
    }
    (alert,) = Alert.objects.all()  # one for the pool, and no case confirmed
    assert (alert.kind, alert.port_call_id, alert.wharf_id) == ("pool_positive", call.pk, call.wharf_id)
    assert "P-08" in alert.message
    clearance = clearance_of(call)
    states = {p.member.person_id: p.state for p in clearance.people}
    assert [states[p.pk] for p in people] == ["retest", "retest", "negative"]
    assert clearance.status == PortCallStatus.BLOCKED


def test_every_bad_row_is_reported_and_nothing_is_saved(make_call, inspector, settings):
    settings.PORTGUARD_POOL_SIZE = 2
    call = make_call(crew=6)
    a, b, c, d, e, f = people_of(call)
    nobody = Person.objects.create(full_name="Vũ Thị Hoa", id_kind="cccd", id_number="022099999999")
    text = rows(
        f"{a.id_number},rt_pcr,{SAMPLED},negative,,{LAB}",  # 2: good
        f"022000000001,rt_pcr,{SAMPLED},negative,,{LAB}",  # 3: nobody registered
        f"12-34,rt_pcr,{SAMPLED},negative,,{LAB}",  # 4: malformed
        f"{b.id_number},pcr nhanh,{SAMPLED},negative,,{LAB}",  # 5: unknown kind
        f"{b.id_number},rt_pcr,{SAMPLED},maybe,,{LAB}",  # 6: unknown result
        f"{c.id_number},rt_pcr,12/08/2021 23:00,negative,,{LAB}",  # 7: future
        f"{c.id_number},rt_pcr,2021-08-12T09:30:00,negative,,{LAB}",  # 8: no time zone
        f"{c.id_number},rt_pcr,12/08/2021,negative,,{LAB}",  # 9: no time
        f"{d.id_number},rt_pcr_pooled,{SAMPLED},negative,,{LAB}",  # 10: pool without an ID
        f"{d.id_number},rt_pcr_pooled,{SAMPLED},negative,P-1,{LAB}",  # 11: pool P-1
        f"{e.id_number},rt_pcr_pooled,{SAMPLED},positive,P-1,{LAB}",  # 12: mixed results in P-1
        f"{f.id_number},rt_pcr_pooled,{SAMPLED},negative,P-1,{LAB}",  # 13: P-1 too large
        f"{nobody.id_number},rt_pcr,{SAMPLED},negative,,{LAB}",  # 14: on no call, no station
        f"{a.id_number},rt_pcr,{SAMPLED},negative,,{LAB}",  # 15: same as row 2
        f"{b.id_number},rt_pcr,12/08/2021 07:00,negative,,{LAB}",  # 16: before the vessel arrived
    )
    error = refusal(inspector, text)
    assert [(p["row"], p["column"]) for p in error.rows] == [
        (3, "id_number"),
        (4, "id_number"),
        (5, "kind"),
        (6, "result"),
        (7, "sampled_at"),
        (8, "sampled_at"),
        (9, "sampled_at"),
        (10, "pool_id"),
        (12, "result"),
        (13, "pool_id"),
        (14, "id_number"),
        (15, "id_number"),
        (16, "id_number"),
    ]
    messages = {p["row"]: p["message"] for p in error.rows}
    assert "time zone" in messages[8]
    assert "at most 2" in messages[13]
    assert "row 11" in messages[12]
    assert "row 2" in messages[15]


def test_a_port_call_column_is_checked_against_scope_and_manifest(make_call, inspector, ha_long, outsider):
    call = make_call(crew=1)
    other = make_call(crew=1, wharf=ha_long, by=outsider)
    (mine,) = people_of(call)
    text = (
        "id_number,kind,sampled_at,result,port_call\n"
        f"{mine.id_number},rapid,{SAMPLED},negative,{other.pk}\n"  # out of scope: unknown
        f"{mine.id_number},rapid,{SAMPLED},negative,99999999\n"  # no such call
        f"{people_of(other)[0].id_number},rapid,{SAMPLED},negative,\n"  # on a call elsewhere
    )
    error = refusal(inspector, text)
    assert [(p["row"], p["column"]) for p in error.rows] == [(2, "port_call"), (3, "port_call"), (4, "id_number")]
    assert "HL-01" in error.rows[2]["message"]


def test_a_result_already_recorded_is_refused(make_call, inspector):
    call = make_call(crew=1)
    (person,) = people_of(call)
    text = rows(f"{person.id_number},rt_pcr,{SAMPLED},negative,,{LAB}")
    load_lab_results(inspector, csv_file(text))
    with refused("invalid_file", InvalidFile) as error:
        load_lab_results(inspector, csv_file(text))
    assert error.value.rows[0]["message"] == "This result was already recorded."
    assert ScreeningTest.objects.count() == 1


def test_kcs_staff_results_go_to_their_station(rostered, supervisor, inspector):
    station = rostered(staff=2, days=1)
    # (Their pooled samples name the pools printed at the station: tests/crews/test_labelled_pools.py.)
    text = rows(
        f"{staff_id(0)},rt_pcr,09/08/2021 15:00,negative,,{LAB}",
        f"{staff_id(1)},rt_pcr,09/08/2021 15:00,negative,,{LAB}",
    )
    with refused("invalid_file", InvalidFile) as error:  # an inspector of the wharf does not supervise its station
        load_lab_results(inspector, csv_file(text))
    assert [(r["row"], r["column"]) for r in error.value.rows] == [(2, "id_number"), (3, "id_number")]
    assert all("on the staff of no KCS station you may see" in r["message"] for r in error.value.rows)
    load_lab_results(supervisor, csv_file(text))
    assert set(ScreeningTest.objects.values_list("station", "port_call", "result")) == {
        (station.pk, None, TestResult.NEGATIVE)
    }


def test_xlsx_with_date_time_cells_is_read_as_vietnam_time(make_call, inspector):
    call = make_call(crew=1)
    (person,) = people_of(call)

    upload = xlsx_file(
        [
            ["ID_number", "Kind", "Sampled at", "Result", "Sample ID", "Lab"],
            [person.id_number, "rt_pcr", datetime(2021, 8, 12, 9, 30), "negative", "S-9", LAB],
        ],
        name="lab.xlsx",
    )
    load_lab_results(inspector, upload)
    test = ScreeningTest.objects.get()
    assert (test.sampled_at, test.pool_id) == (ARRIVAL + timedelta(minutes=90), "S-9")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-08-12T09:30:00+07:00", ARRIVAL + timedelta(minutes=90)),
        ("2021-08-12T02:30Z", ARRIVAL + timedelta(minutes=90)),
        ("12/08/2021 09:30", ARRIVAL + timedelta(minutes=90)),
        ("2021-08-12 09:30:00", ARRIVAL + timedelta(minutes=90)),
        ("2021-08-12T09:30", None),
        ("12/08/2021", None),
        ("31/02/2021 09:00", None),
    ],
)
def test_sample_times_are_iso_with_offset_or_local_day_first(text, expected):
    parsed = parse_sample_time(text, VN)
    if expected is None:
        assert isinstance(parsed, str)
    else:
        assert parsed == expected


def test_events_are_sent_after_commit_one_per_result(
    make_call, inspector, broadcasts, django_capture_on_commit_callbacks
):
    call = make_call(crew=2)
    text = rows(*(f"{p.id_number},rt_pcr,{SAMPLED},negative,,{LAB}" for p in people_of(call)))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        load_lab_results(inspector, csv_file(text))
    assert broadcasts == []
    for callback in callbacks:
        callback()
    assert [e["type"] for e in broadcasts].count("test.recorded") == 2
    assert [e["type"] for e in broadcasts].count("port_call.updated") == 1


def test_limits_on_rows_and_permission(make_call, inspector, authority, settings):
    call = make_call(crew=3)
    settings.PORTGUARD_UPLOAD_MAX_ROWS = 2
    text = rows(*(f"{p.id_number},rt_pcr,{SAMPLED},negative,,{LAB}" for p in people_of(call)))
    assert "more than 2 rows" in refusal(inspector, text).message
    with refused("forbidden", NotAllowed, field=None):
        load_lab_results(authority, csv_file(text))


# --- API -----------------------------------------------------------------------------


def test_api_answers_201_with_the_count_and_who_to_retest(make_call, health):
    call = make_call(crew=2)
    text = rows(*(f"{p.id_number},rt_pcr_pooled,{SAMPLED},dương tính,P-3,{LAB}" for p in people_of(call)))
    response = client_for(health).post("/api/v1/tests/upload/", {"file": csv_file(text)})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["count"] == 2
    assert [(r["id_number"], r["pool_id"], r["port_call"]) for r in body["retest"]] == [
        (p.id_number, "P-3", call.pk) for p in people_of(call)
    ]


def test_api_answers_400_in_the_spec_shape_and_403_for_the_authority(make_call, inspector, authority):
    make_call(crew=1)
    text = rows(f"022000000001,rt_pcr,{SAMPLED},negative,,{LAB}")
    response = client_for(inspector).post("/api/v1/tests/upload/", {"file": csv_file(text)}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_file"
    assert response.json()["rows"] == [
        {"row": 2, "column": "id_number", "message": "Nobody with ID number 022000000001 is registered."}
    ]
    assert client_for(authority).post("/api/v1/tests/upload/", {"file": csv_file(text)}).status_code == 403


def many_calls(make_call, calls: int, crew: int) -> list[PortCall]:
    return [make_call(crew=crew) for _ in range(calls)]


@pytest.mark.parametrize(("calls", "crew"), [(1, 3), (6, 10)])
def test_upload_queries_do_not_grow_with_rows_or_calls(
    make_call, inspector, calls, crew, django_assert_max_num_queries
):
    made = many_calls(make_call, calls, crew)
    people = [p for call in made for p in people_of(call)]
    text = rows(*(f"{p.id_number},rt_pcr,{SAMPLED},negative,,{LAB}" for p in people))
    api = client_for(inspector)
    # 22: SQLite takes 999 parameters a query, so its 60 rows of 17 columns are two
    # INSERTs (PostgreSQL: one); the rest does not grow with the rows or the calls.
    with django_assert_max_num_queries(22):
        response = api.post("/api/v1/tests/upload/", {"file": csv_file(text)})
    assert response.status_code == 201 and response.json()["count"] == calls * crew


@pytest.mark.parametrize(("calls", "crew"), [(1, 2), (8, 6)])
def test_record_tests_queries_do_not_grow_with_entries_or_calls(
    make_call, inspector, calls, crew, django_assert_max_num_queries
):
    made = many_calls(make_call, calls, crew)
    entries = [
        TestData(
            person=p, kind=TestKind.RT_PCR, sampled_at=ARRIVAL + timedelta(hours=1), result="negative", port_call=c
        )
        for c in made
        for p in people_of(c)
    ]
    with django_assert_max_num_queries(12):
        record_tests(inspector, entries, now=NOW)
    assert ScreeningTest.objects.count() == calls * crew


def test_ten_thousand_rows_are_recorded_in_one_upload(inspector, cam_pha, health):
    """500 vessels of 20 people each, the file in pools of 5."""
    vessels = 500
    people = Person.objects.bulk_create(
        Person(full_name=f"Người {i}", id_kind="cccd", id_number=f"0229{i:08d}") for i in range(vessels * 20)
    )

    boats = Vessel.objects.bulk_create(Vessel(registration=f"QN-{10000 + i}") for i in range(vessels))
    calls = PortCall.objects.bulk_create(
        PortCall(vessel=b, wharf=cam_pha, arrived_at=ARRIVAL, registered_by=inspector) for b in boats
    )
    CrewMember.objects.bulk_create(
        CrewMember(port_call=calls[i // 20], person=p, added_by=inspector) for i, p in enumerate(people)
    )
    text = rows(*(f"{p.id_number},rt_pcr_pooled,{SAMPLED},negative,P-{i // 5},{LAB}" for i, p in enumerate(people)))
    loaded = load_lab_results(health, csv_file(text))
    assert len(loaded.tests) == 10_000 == ScreeningTest.objects.count()
    assert set(ScreeningTest.objects.values_list("result", flat=True)) == {TestResult.NEGATIVE}
    assert ScreeningTest.objects.filter(pool_id="P-1999").count() == 5


# --- Page ----------------------------------------------------------------------------


def test_page_loads_a_file_and_lists_who_to_retest(client, make_call, health):
    call = make_call(crew=2)
    client.force_login(health)
    assert client.get(reverse("lab-results")).status_code == 200
    bad = rows(f"022000000001,rt_pcr,{SAMPLED},negative,,{LAB}")
    response = client.post(reverse("lab-results"), {"file": csv_file(bad)})
    assert response.status_code == 400 and 'data-row="2"' in response.content.decode()
    good = rows(*(f"{p.id_number},rt_pcr_pooled,{SAMPLED},positive,P-3,{LAB}" for p in people_of(call)))
    response = client.post(reverse("lab-results"), {"file": csv_file(good)})
    page = response.content.decode()
    assert response.status_code == 200 and "data-retest" in page
    assert all(f'data-person="{p.id_number}"' in page for p in people_of(call))


def test_page_is_refused_to_a_role_that_records_no_results(client, authority):
    client.force_login(authority)
    assert client.get(reverse("lab-results")).status_code == 403


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_template_files_have_the_columns(client, health, fmt):
    client.force_login(health)
    response = client.get(reverse(f"lab-template-{fmt}"))
    reader = pd.read_csv if fmt == "csv" else pd.read_excel
    assert tuple(reader(io.BytesIO(response.content), dtype=str).columns) == LAB_COLUMNS


def test_a_large_file_sends_its_events_in_order_in_one_frame_after_commit(
    make_call, inspector, django_capture_on_commit_callbacks
):
    calls = many_calls(make_call, 6, 10)
    text = rows(*(f"{p.id_number},rt_pcr,{SAMPLED},negative,,{LAB}" for c in calls for p in people_of(c)))

    def upload():
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            load_lab_results(inspector, csv_file(text))
        return callbacks

    async def listen_during_upload():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add("wharf.CP-03", channel)
        callbacks = await sync_to_async(upload)()
        frame = json.loads((await asyncio.wait_for(layer.receive(channel), 10))["text"])
        return callbacks, frame

    callbacks, received = async_to_sync(listen_during_upload)()
    assert len(callbacks) == 1  # 66 events, one callback, one frame
    assert [e["type"] for e in received] == (["test.recorded"] * 10 + ["port_call.updated"]) * 6
    assert received[10]["port_call"]["status"] == "cleared"


def test_a_failing_channel_layer_loses_none_of_a_large_file(
    make_call, inspector, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    calls = many_calls(make_call, 6, 10)
    sent = []

    class BrokenLayer:
        async def group_send(self, group, message):
            sent.append(group)
            raise ConnectionError("Redis is down")

    monkeypatch.setattr("realtime.broadcast.get_channel_layer", lambda: BrokenLayer())
    text = rows(*(f"{p.id_number},rt_pcr,{SAMPLED},negative,,{LAB}" for c in calls for p in people_of(c)))
    with django_capture_on_commit_callbacks(execute=True):
        load_lab_results(inspector, csv_file(text))
    assert ScreeningTest.objects.count() == 60
    assert len(sent) == 1 and "Could not broadcast 66 events" in caplog.text
