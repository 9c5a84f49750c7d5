"""A person's data on request: a health officer downloads everything held about a person
as JSON or CSV, from their page or the API; nobody else may; each export is logged; the
queries do not grow with the person's history."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from crews.choices import ReadKind, TestKind, TestResult
from crews.manifest import add_crew_member
from crews.models import HealthDataRead, Person
from crews.people import PersonData
from crews.stations import create_station, load_roster
from tests.crews.helpers import roster_lines, staff_id
from tests.helpers import ARRIVAL, client_for, people_of
from vessels.declarations import DeclarationData, DeclaredPersonData, PortOfCallData, declare

EXPORT_QUERIES = 14  # the session, the user and their permissions, the person, one a section, the log


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.fixture
def sailor(make_call, record, cam_pha):
    """A sailor on a call whose captain is a confirmed case (so the sailor is an F1 of
    theirs), declared before arriving, with a phone number."""
    declare(
        DeclarationData(
            registration="QN-1000",
            expected_at=ARRIVAL,
            declarant_name="Phạm Văn Long",
            declarant_phone="0912345678",
            ports=[PortOfCallData("Cảng Cái Lân", ARRIVAL.date() - timedelta(days=2))],
            people=[DeclaredPersonData("Trần Thị Lan 100001", "022000100001", "crew", cough=True)],
        ),
        wharf=cam_pha,
        now=ARRIVAL - timedelta(hours=6),
    )
    call = make_call(crew=2)
    captain, sailor = people_of(call)
    record(call, sailor)
    record(call, captain, result=TestResult.POSITIVE, kind=TestKind.RT_PCR)
    Person.objects.filter(pk=sailor.pk).update(phone="0987 654 321")
    sailor.refresh_from_db()
    return sailor


def test_a_health_officer_exports_everything_held_about_a_person_as_json(sailor, health):
    response = logged_in(health).get(reverse("person-export-json", args=[sailor.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == f'attachment; filename="person-{sailor.pk}.json"'
    data = json.loads(response.content)
    wanted = {"id": sailor.pk, "full_name": "Trần Thị Lan 100001", "id_number": "022000100001", "phone": "0987 654 321"}
    assert {key: data["person"][key] for key in wanted} == wanted
    (call,) = data["port_calls"]
    assert (call["vessel"], call["wharf"], call["role"]) == ("QN-1000", "CP-03", "crew")
    assert [(t["kind"], t["result"]) for t in data["tests"]] == [("rapid", "negative")]
    (contact,) = data["contacts"]
    assert contact["level"] == "F1"
    (declared,) = data["declarations"]
    assert (declared["registration"], declared["cough"]) == ("QN-1000", True)
    captain = sailor.manifests.get().port_call.crew.exclude(person=sailor).get().person
    assert captain.full_name not in response.content.decode(), "nobody else is named"


def test_the_csv_holds_the_same_values_one_a_row(sailor, health):
    response = logged_in(health).get(reverse("person-export-csv", args=[sailor.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())
    rows = csv_rows(response)
    values = {(r["section"], r["item"], r["field"]): r["value"] for r in rows}
    assert values[("person", "1", "full_name")] == "Trần Thị Lan 100001"
    assert values[("person", "1", "id_number")] == "022000100001"
    assert values[("port_calls", "1", "vessel")] == "QN-1000"
    assert values[("contacts", "1", "level")] == "F1"
    assert values[("declarations", "1", "cough")] == "true"


def test_a_staff_member_export_holds_their_assignment_and_roster(cam_pha, supervisor, health):
    station = create_station(code="KCS-CP-03", name="Trạm KCS Mông Dương", wharf=cam_pha, supervisors=[supervisor])
    load_roster(supervisor, station, roster_lines(1, 3))
    person = Person.objects.get(id_number=staff_id(0))
    data = client_for(health).get(reverse("api:person-export", args=[person.pk])).json()
    assert [s["station"] for s in data["staff_assignments"]] == ["KCS-CP-03"]
    assert [r["date"] for r in data["roster"]] == ["2021-08-09", "2021-08-10", "2021-08-11"]


def test_the_api_answers_json_or_csv(sailor, health):
    api = client_for(health)
    url = reverse("api:person-export", args=[sailor.pk])
    assert api.get(url).json()["person"]["id_number"] == "022000100001"
    response = api.get(url, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert ("person", "1", "id_number", "022000100001") in {tuple(r.values()) for r in csv_rows(response)}
    assert api.get(reverse("api:person-export", args=[999999])).json()["error"] == "not_found"


def test_each_export_writes_one_entry_of_the_access_log(sailor, health):
    logged_in(health).get(reverse("person-export-csv", args=[sailor.pk]))
    client_for(health).get(reverse("api:person-export", args=[sailor.pk]))
    entries = list(HealthDataRead.objects.order_by("id").values_list("user", "kind", "person", "via", "door"))
    assert entries == [
        (health.pk, ReadKind.PERSON_EXPORT, sailor.pk, "export", "person-export-csv"),
        (health.pk, ReadKind.PERSON_EXPORT, sailor.pk, "api", "api:person-export"),
    ]


def test_nobody_but_health_officers_may_export(sailor, inspector, authority, supervisor, health):
    for user in (inspector, authority, supervisor):
        assert logged_in(user).get(reverse("person-export-json", args=[sailor.pk])).status_code == 403
        assert client_for(user).get(reverse("api:person-export", args=[sailor.pk])).status_code == 403
        page = logged_in(user).get(reverse("person", args=[sailor.pk]))
        assert page.status_code in (200, 404) and b"data-export" not in page.content
    assert b'data-export="csv"' in logged_in(health).get(reverse("person", args=[sailor.pk])).content
    assert not HealthDataRead.objects.filter(kind=ReadKind.PERSON_EXPORT).exists()


@pytest.mark.parametrize("calls", [1, 8])
def test_an_export_reads_in_constant_queries(
    calls, make_call, record, inspector, health, django_assert_max_num_queries
):
    person = None
    for _n in range(calls):
        call = make_call(crew=2)
        if person is None:
            person = people_of(call)[1]
        else:
            add_crew_member(inspector, call.pk, PersonData(id_number=person.id_number))
        record(call, person)
    client = logged_in(health)
    for fmt in ("json", "csv"):
        with django_assert_max_num_queries(EXPORT_QUERIES):
            response = client.get(reverse(f"person-export-{fmt}", args=[person.pk]))
        assert response.status_code == 200
    assert len(json.loads(client.get(reverse("person-export-json", args=[person.pk])).content)["tests"]) == calls
