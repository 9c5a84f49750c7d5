"""The access log of reads of personal health data (rule R8): append-only, written by
``crews.access_log.record_read`` from every door that shows a person's results or a
contact list, and by no other."""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from openpyxl import load_workbook

from crews.access_log import record_read
from crews.choices import ReadKind, ReadVia, TestKind, TestResult
from crews.models import HealthDataRead, Person
from crews.results import TestData
from crews.stations import create_station, load_roster, record_staff_test
from tests.crews.helpers import roster_lines
from tests.helpers import ARRIVAL, people_of
from tests.realtime.helpers import connect, receive_json, token_header
from vessels.services import approve_handover


def columns(entry: HealthDataRead) -> tuple:
    return HealthDataRead.objects.filter(pk=entry.pk).values_list().get()


@pytest.fixture
def entry(make_call, health):
    call = make_call(crew=1)
    return record_read(
        health, ReadKind.PERSON, door="person", via=ReadVia.PAGE, person=people_of(call)[0], port_call=call
    )


# --- Append-only -------------------------------------------------------------------------


def test_an_entry_is_never_changed_nor_deleted_through_the_orm(entry, inspector):
    before = columns(entry)
    entry.user = inspector
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()
    with pytest.raises(ValueError, match="append-only"):
        HealthDataRead.objects.filter(pk=entry.pk).update(user=inspector)
    with pytest.raises(ValueError, match="append-only"):
        HealthDataRead.objects.filter(pk=entry.pk).delete()
    with pytest.raises(ValueError, match="append-only"), transaction.atomic():
        HealthDataRead.objects.bulk_update([entry], ["user"])
    assert columns(entry) == before


def test_the_admin_shows_an_entry_without_a_form_to_change_or_delete_it_even_to_a_superuser(client, entry):
    client.force_login(User.objects.create_superuser("root", password="pw-root"))
    change = reverse("admin:crews_healthdataread_change", args=[entry.pk])
    page = client.get(change).content.decode()
    assert entry.person.full_name in page
    assert 'name="_save"' not in page
    assert client.post(change, {"kind": ReadKind.CASES}).status_code == 403
    delete = reverse("admin:crews_healthdataread_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:crews_healthdataread_add")).status_code == 403
    changelist = reverse("admin:crews_healthdataread_changelist")
    response = client.post(changelist, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
    assert response.status_code in (200, 302)
    assert HealthDataRead.objects.filter(pk=entry.pk).exists()
    assert columns(entry)[3] == ReadKind.PERSON


# --- Every door that shows a person's results or a contact list writes one entry --------

NOW = ARRIVAL + timedelta(hours=3)


@pytest.fixture
def world(make_call, record, cam_pha, inspector, supervisor, authority, health):
    """At Cẩm Phả: a call cleared and approved (its certificate), a call with a confirmed
    case (its alert and contact list), the KCS station with a roster and a staff member
    confirmed positive (their contact list)."""
    with time_machine.travel(NOW, tick=False):
        station = create_station(code="KCS-CP-03", name="Trạm KCS Mông Dương", wharf=cam_pha, supervisors=[supervisor])
        load_roster(supervisor, station, roster_lines(2, 2))
        cleared = make_call(crew=2)
        for person in people_of(cleared):
            record(cleared, person, sampled_at=NOW - timedelta(hours=1))
        approve_handover(authority, cleared.pk, now=NOW - timedelta(minutes=30))
        case = make_call(crew=2)
        captain = people_of(case)[0]
        case_test = record(case, captain, result=TestResult.POSITIVE, kind=TestKind.RT_PCR)
        staff_case = Person.objects.get(id_number=roster_lines(1, 1)[0].id_number)
        record_staff_test(
            supervisor,
            station,
            TestData(person=staff_case, kind=TestKind.RT_PCR, sampled_at=NOW - timedelta(hours=2), result="positive"),
            now=NOW,
        )
    return SimpleNamespace(
        cleared=cleared,
        sailor=people_of(cleared)[1],
        case=case,
        captain=captain,
        case_test=case_test,
        station=station,
        staff_case=staff_case,
        users={"inspector": inspector, "supervisor": supervisor, "authority": authority, "health": health},
    )


@dataclass(frozen=True)
class Read:
    """A door that shows personal health data: who opens it, what it names."""

    name: str
    reader: str
    kind: ReadKind
    via: ReadVia
    args: Callable[[SimpleNamespace], dict] = lambda w: {}
    person: Callable[[SimpleNamespace], Person | None] = lambda w: None
    port_call: Callable[[SimpleNamespace], object] = lambda w: None
    station: Callable[[SimpleNamespace], object] = lambda w: None


def case_args(w) -> dict:
    return {"pk": w.case.pk, "person_id": w.captain.pk}


def staff_case_args(w) -> dict:
    return {"station": w.station.code, "person_id": w.staff_case.pk}


def cleared(w) -> dict:
    return {"pk": w.cleared.pk}


PAGE, API, EXPORT = ReadVia.PAGE, ReadVia.API, ReadVia.EXPORT
SHEET, CONTACTS = ReadKind.SCREENING_SHEET, ReadKind.CONTACT_LIST
READS = [
    Read("port-call", "inspector", SHEET, PAGE, cleared, port_call=lambda w: w.cleared),
    Read("api:port-call", "inspector", SHEET, API, cleared, port_call=lambda w: w.cleared),
    Read("person", "health", ReadKind.PERSON, PAGE, lambda w: {"pk": w.sailor.pk}, person=lambda w: w.sailor),
    Read(
        "station",
        "supervisor",
        ReadKind.STATION_SHEET,
        PAGE,
        lambda w: {"code": w.station.code},
        station=lambda w: w.station,
    ),
    Read("port-call-certificate", "authority", ReadKind.CERTIFICATE, EXPORT, cleared, port_call=lambda w: w.cleared),
    Read("api:tests", "health", ReadKind.RESULTS_FEED, API),
    # A person's data on request (crews/export_views.py).
    *[
        Read(name, "health", ReadKind.PERSON_EXPORT, via, lambda w: {"pk": w.sailor.pk}, person=lambda w: w.sailor)
        for name, via in (("person-export-json", EXPORT), ("person-export-csv", EXPORT), ("api:person-export", API))
    ],
    Read("approvals", "authority", ReadKind.APPROVALS, PAGE),
    Read("alerts", "health", ReadKind.ALERTS, PAGE),
    Read("wharf-alerts", "inspector", ReadKind.ALERTS, PAGE, lambda w: {"code": "CP-03"}),
    Read("api:alerts", "health", ReadKind.ALERTS, API),
    Read("cases", "health", ReadKind.CASES, PAGE),
    *[
        Read(name, "health", CONTACTS, EXPORT, case_args, person=lambda w: w.captain, port_call=lambda w: w.case)
        for name in ("case-contacts-csv", "case-contacts-xlsx")
    ],
    *[
        Read(
            name,
            "health",
            CONTACTS,
            EXPORT,
            staff_case_args,
            person=lambda w: w.staff_case,
            station=lambda w: w.station,
        )
        for name in ("staff-case-contacts-csv", "staff-case-contacts-xlsx")
    ],
    Read(
        "api:case-contacts",
        "health",
        CONTACTS,
        API,
        lambda w: {"pk": w.case_test.pk},
        person=lambda w: w.captain,
        port_call=lambda w: w.case,
    ),
]


@pytest.mark.parametrize("door", READS, ids=lambda d: d.name)
def test_each_door_showing_results_or_contacts_writes_one_entry(world, client, door):
    user = world.users[door.reader]
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse(door.name, kwargs=door.args(world)))
    assert response.status_code == 200
    (entry,) = HealthDataRead.objects.all()
    assert (entry.user, entry.kind, entry.via, entry.door, entry.method) == (
        user,
        door.kind,
        door.via,
        door.name,
        "GET",
    )
    assert (entry.person, entry.port_call, entry.station) == (
        door.person(world),
        door.port_call(world),
        door.station(world),
    )
    assert entry.read_at == NOW


# The pages and endpoints that show counts, vessels, wharves, stations or schedules, not
# a person's results: they write nothing. (The live dashboards' pages render counts; their
# sockets are tested in tests/realtime.)
QUIET = [
    ("home", "inspector", {}),
    ("wharf-dashboard", "inspector", {"code": "CP-03"}),
    ("my-wharves-dashboard", "inspector", {}),
    ("province-dashboard", "health", {}),
    ("port-calls", "health", {}),
    ("port-calls-csv", "health", {}),
    ("daily-report", "health", {}),
    ("daily-report-csv", "health", {}),
    ("stations", "health", {}),
    ("epidemic-areas", "health", {}),
    ("search", "health", {}),
    ("profile", "health", {}),
    ("access-log", "health", {}),
    ("api:wharves", "inspector", {}),
    ("api:port-calls", "health", {}),
    ("api:stations", "health", {}),
    ("api:people", "health", {}),
    ("api:epidemic-areas", "health", {}),
    ("api:violations", "health", {}),
]


@pytest.mark.parametrize(("name", "reader", "args"), QUIET, ids=[q[0] for q in QUIET])
def test_doors_without_a_persons_results_write_nothing(world, client, name, reader, args):
    client.force_login(world.users[reader])
    query = {"q": world.sailor.id_number} if name in ("search", "api:people") else {}
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse(name, kwargs=args), query)
    assert response.status_code == 200
    assert not HealthDataRead.objects.exists()


def test_a_refused_read_writes_nothing(world, client, outsider):
    client.force_login(outsider)
    assert client.get(reverse("port-call", args=[world.cleared.pk])).status_code == 404
    assert client.get(reverse("person", args=[world.sailor.pk])).status_code == 404
    assert client.get(reverse("cases")).status_code == 403
    assert not HealthDataRead.objects.exists()


# --- The health officers' page and its export --------------------------------------------


def log_some(world, n: int) -> None:
    """``n`` reads by each of three users, of people and of the port call."""
    inspector, health = world.users["inspector"], world.users["health"]
    for i in range(n):
        with time_machine.travel(NOW + timedelta(days=i), tick=False):
            record_read(health, ReadKind.PERSON, door="person", via=ReadVia.PAGE, person=world.sailor)
            record_read(
                health,
                ReadKind.CONTACT_LIST,
                door="api:case-contacts",
                via=ReadVia.API,
                person=world.captain,
                port_call=world.case,
                count=3,
            )
            record_read(
                inspector,
                ReadKind.SCREENING_SHEET,
                door="port-call",
                via=ReadVia.PAGE,
                port_call=world.cleared,
                count=2,
            )
            record_read(
                world.users["supervisor"],
                ReadKind.STATION_SHEET,
                door="station",
                via=ReadVia.PAGE,
                station=world.station,
                count=2,
            )


@pytest.mark.parametrize("n", [1, 30])
def test_the_log_page_costs_the_same_queries_whatever_its_length(world, client, n, django_assert_max_num_queries):
    log_some(world, n)
    client.force_login(world.users["health"])
    # The session and its user, permissions (two), the role's name, the count and the page.
    with django_assert_max_num_queries(7):
        response = client.get(reverse("access-log"))
    assert response.status_code == 200
    assert response.content.decode().count('data-read="') == min(4 * n, 50)
    with django_assert_max_num_queries(5):
        response = client.get(reverse("access-log-csv"))
    assert response.status_code == 200


def test_the_log_shows_who_read_what_when_in_vietnam_time(world, client):
    log_some(world, 1)
    client.force_login(world.users["health"])
    page = client.get(reverse("access-log")).content.decode()
    assert "11:00:00 12/08/2021" in page  # NOW, 04:00 UTC
    assert world.sailor.full_name in page and world.sailor.id_number in page
    assert world.cleared.vessel.registration in page and world.station.code in page
    assert "GET api:case-contacts" in page


def test_the_filters_keep_a_reader_a_person_and_days_and_the_export_holds_exactly_those(world, client):
    log_some(world, 3)
    client.force_login(world.users["health"])
    query = {"user": "hoa", "person": world.captain.id_number, "read_from": "2021-08-13", "read_until": "2021-08-14"}
    page = client.get(reverse("access-log"), query)
    assert page.content.decode().count('data-read="') == 2
    rows = list(csv.DictReader(io.StringIO(client.get(reverse("access-log-csv"), query).content.decode("utf-8-sig"))))
    assert [(r["user"], r["kind"], r["person_id_number"], r["vessel"], r["read_at"]) for r in rows] == [
        (
            "hoa",
            "contact_list",
            world.captain.id_number,
            world.case.vessel.registration,
            "2021-08-14T11:00:00+07:00",
        ),
        (
            "hoa",
            "contact_list",
            world.captain.id_number,
            world.case.vessel.registration,
            "2021-08-13T11:00:00+07:00",
        ),
    ]
    book = load_workbook(io.BytesIO(client.get(reverse("access-log-xlsx"), query).content))
    assert [row[1] for row in book.active.iter_rows(min_row=2, values_only=True)] == ["hoa", "hoa"]
    by_station = client.get(reverse("access-log"), {"user": "son"}).content.decode()
    assert by_station.count('data-read="') == 3


def test_bad_filters_are_named_and_export_nothing(world, client):
    client.force_login(world.users["health"])
    response = client.get(reverse("access-log-csv"), {"read_from": "2021-08-14", "read_until": "2021-08-13"})
    assert response.status_code == 400
    assert "read_until" in response.context["form"].errors


@pytest.mark.parametrize("reader", ["inspector", "supervisor", "authority"])
def test_only_health_officers_open_the_log(world, client, reader):
    log_some(world, 1)
    client.force_login(world.users[reader])
    for name in ("access-log", "access-log-csv", "access-log-xlsx"):
        assert client.get(reverse(name)).status_code == 403, name


# --- The live dashboards' sockets ---------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_dashboards_snapshot_naming_positives_writes_one_entry_per_socket(
    make_call, record, inspector, outsider, health
):
    """The snapshot carries the open positives' alerts (name, ID number, result): each
    socket that receives one logs a read; one with no positive to show logs none."""

    def positive():
        case = make_call(crew=2)
        record(case, people_of(case)[0], result=TestResult.POSITIVE, kind=TestKind.RT_PCR)

    await database_sync_to_async(positive)()
    for user, path in ((inspector, "/ws/wharves/CP-03/"), (health, "/ws/province/"), (outsider, "/ws/wharves/mine/")):
        communicator, _connected = await connect(path, await database_sync_to_async(token_header)(user))
        snapshot = await receive_json(communicator)
        assert snapshot["type"] == "snapshot"
        assert len(snapshot["alerts"]) == (0 if user is outsider else 1)
        await communicator.disconnect()

    def entries():
        return list(HealthDataRead.objects.values_list("user__username", "kind", "via", "door", "method", "count"))

    assert sorted(await database_sync_to_async(entries)()) == sorted(
        [
            (inspector.username, ReadKind.ALERTS, ReadVia.SOCKET, "/ws/wharves/CP-03/", "WS", 1),
            (health.username, ReadKind.ALERTS, ReadVia.SOCKET, "/ws/province/", "WS", 1),
        ]
    )
