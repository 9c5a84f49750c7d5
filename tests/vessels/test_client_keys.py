"""Registrations and departures sent twice with the same client key are stored once and
answer as the first time: through the domain, over the API, and when two copies race."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from crews.models import CrewMember
from portguard.domain import DomainError
from tests.helpers import ARRIVAL, client_for, crew_data, refused, run_together
from tests.vessels.helpers import arrival_payload
from vessels.models import PortCall, Vessel
from vessels.services import VesselData, record_departure, register_port_call, register_port_call_once

NOW = ARRIVAL + timedelta(hours=2)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def arrival(cam_pha, registration="QN-4567", **overrides):
    values = {
        "wharf": cam_pha,
        "vessel": VesselData(registration=registration, name="Hoàng Long 18", kind="self_propelled_barge"),
        "arrived_at": ARRIVAL,
        "origin": "Hải Phòng",
        "crew": crew_data(2, start=500),
        "now": NOW,
    }
    values.update(overrides)
    return values


# --- Registering an arrival ----------------------------------------------------------


def test_the_same_registration_key_returns_the_first_call_and_stores_nothing_new(inspector, cam_pha):
    key = uuid.uuid4()
    first, created = register_port_call_once(inspector, client_uuid=key, **arrival(cam_pha))
    # Sent again, even with other details, it is the first registration that answers.
    again, created_again = register_port_call_once(
        inspector, client_uuid=key, **arrival(cam_pha, origin="Cẩm Phả", crew=crew_data(3, start=900))
    )
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk and again.origin == "Hải Phòng"
    assert PortCall.objects.count() == 1
    assert CrewMember.objects.count() == 2
    assert register_port_call(inspector, client_uuid=key, **arrival(cam_pha)).pk == first.pk


def test_without_a_key_the_second_registration_is_refused_as_still_berthed(inspector, cam_pha):
    register_port_call(inspector, **arrival(cam_pha))
    with refused("invalid", field="vessel"):
        register_port_call(inspector, **arrival(cam_pha))
    assert PortCall.objects.count() == 1


def test_another_key_is_another_registration(inspector, cam_pha):
    register_port_call(inspector, client_uuid=uuid.uuid4(), **arrival(cam_pha))
    register_port_call(inspector, client_uuid=uuid.uuid4(), **arrival(cam_pha, registration="QN-7654"))
    assert PortCall.objects.count() == 2


def test_a_key_registered_at_a_wharf_out_of_scope_is_unknown(inspector, outsider, cam_pha, ha_long):
    key = uuid.uuid4()
    register_port_call(inspector, client_uuid=key, **arrival(cam_pha))
    with refused("not_found", field="client_uuid"):
        register_port_call(outsider, client_uuid=key, **arrival(ha_long, registration="QN-7654"))
    assert PortCall.objects.count() == 1


def test_a_retried_registration_tells_the_dashboards_again(
    inspector, cam_pha, broadcasts, django_capture_on_commit_callbacks
):
    """The process that committed the first attempt may have died before publishing."""
    key = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        call = register_port_call(inspector, client_uuid=key, **arrival(cam_pha))
    broadcasts.clear()
    with django_capture_on_commit_callbacks(execute=True):
        register_port_call(inspector, client_uuid=key, **arrival(cam_pha))
    (again,) = [e["port_call"] for e in broadcasts if e["type"] == "port_call.updated"]
    assert again["id"] == call.pk


# --- Two copies of one registration at the same moment --------------------------------

ROUNDS = 8


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_two_copies_of_a_registration_racing_store_one_call(inspector, cam_pha):
    now = timezone.now()
    # Half the rounds for a vessel seen before, half for one both copies create.
    for n in range(ROUNDS // 2):
        Vessel.objects.create(registration=f"QN-{8000 + n}", name="Hoàng Long 18", kind="self_propelled_barge")
    for n in range(ROUNDS):
        key = uuid.uuid4()
        answers: list[tuple[int, bool]] = []

        def send(key=key, n=n, answers=answers):
            call, created = register_port_call_once(
                inspector,
                client_uuid=key,
                **arrival(cam_pha, registration=f"QN-{8000 + n}", arrived_at=now - timedelta(hours=1), now=now),
            )
            answers.append((call.pk, created))

        assert run_together(send, send) == []
        assert sorted(created for _pk, created in answers) == [False, True]
        assert len({pk for pk, _created in answers}) == 1
        assert PortCall.objects.filter(client_uuid=key).count() == 1
        assert CrewMember.objects.filter(port_call__client_uuid=key).count() == 2


# --- Departure -----------------------------------------------------------------------


def test_the_same_departure_key_returns_the_call_as_recorded(make_call, inspector, frozen):
    call = make_call(crew=1)
    key = uuid.uuid4()
    first = record_departure(inspector, call.pk, client_uuid=key)
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        again = record_departure(inspector, call.pk, client_uuid=key)
    assert again.pk == call.pk
    assert again.departed_at == first.departed_at == NOW
    assert again.departed_by == inspector


def test_another_departure_of_a_departed_call_is_still_refused(make_call, inspector, frozen):
    call = make_call(crew=1)
    record_departure(inspector, call.pk, client_uuid=uuid.uuid4())
    with refused("departed"):
        record_departure(inspector, call.pk, client_uuid=uuid.uuid4())
    with refused("departed"):
        record_departure(inspector, call.pk)


def test_a_departure_key_is_not_taken_for_another_call(make_call, inspector, frozen):
    first, second = make_call(crew=1), make_call(crew=1)
    key = uuid.uuid4()
    record_departure(inspector, first.pk, client_uuid=key)
    with refused("invalid", field="client_uuid"):
        record_departure(inspector, second.pk, client_uuid=key)
    second.refresh_from_db()
    assert second.departed_at is None


def test_a_departure_retried_by_someone_out_of_scope_is_refused(make_call, inspector, outsider, frozen):
    call = make_call(crew=1)
    key = uuid.uuid4()
    record_departure(inspector, call.pk, client_uuid=key)
    with pytest.raises(DomainError) as error:
        record_departure(outsider, call.pk, client_uuid=key)
    assert error.value.code == "forbidden"


# --- The API -------------------------------------------------------------------------


def test_the_api_answers_201_then_200_with_the_same_call(inspector, frozen):
    api = client_for(inspector)
    payload = arrival_payload(client_uuid=str(uuid.uuid4()))
    first = api.post("/api/v1/port-calls/", payload, format="json")
    again = api.post("/api/v1/port-calls/", payload, format="json")
    assert (first.status_code, again.status_code) == (201, 200), again.json()
    assert again.json() == first.json()
    assert PortCall.objects.count() == 1
    assert CrewMember.objects.count() == 2


def test_the_api_without_a_key_refuses_the_second_registration(inspector, frozen):
    api = client_for(inspector)
    assert api.post("/api/v1/port-calls/", arrival_payload(), format="json").status_code == 201
    second = api.post("/api/v1/port-calls/", arrival_payload(), format="json")
    assert second.status_code == 400
    assert second.json()["fields"] == {"vessel": [second.json()["message"]]}


def test_the_api_answers_404_for_a_key_registered_out_of_scope(inspector, outsider, ha_long, frozen):
    key = str(uuid.uuid4())
    assert (
        client_for(inspector).post("/api/v1/port-calls/", arrival_payload(client_uuid=key), format="json").status_code
        == 201
    )
    response = client_for(outsider).post(
        "/api/v1/port-calls/",
        arrival_payload(wharf="HL-01", vessel={"registration": "QN-7654"}, client_uuid=key),
        format="json",
    )
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert PortCall.objects.count() == 1


def test_the_api_refuses_a_malformed_key_naming_it(inspector, frozen):
    response = client_for(inspector).post(
        "/api/v1/port-calls/", arrival_payload(client_uuid="not-a-uuid"), format="json"
    )
    assert response.status_code == 400
    assert "client_uuid" in response.json()["fields"]
    assert not PortCall.objects.exists()


def test_the_schema_documents_the_key_with_an_example(authority):
    schema = client_for(authority).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/port-calls/"]["post"]
    assert {"200", "201", "404"} <= set(operation["responses"])
    body = operation["requestBody"]["content"]["application/json"]
    assert any("client_uuid" in example["value"] for example in body["examples"].values())
    (ref,) = {body["schema"]["$ref"]}
    fields = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"]
    assert fields["client_uuid"]["format"] == "uuid"


# The call, its vessel, its people and crew, its announcement, then the answer's read of
# the call's clearance with its flags; a retry finds the key, announces the call again
# under its lock and answers with the same read.
REGISTER_QUERIES = 29
REGISTER_AGAIN_QUERIES = 21


@pytest.mark.parametrize("crew", [2, 30])
def test_registering_queries_do_not_grow_with_crew(inspector, crew, frozen, django_assert_max_num_queries):
    people = [{"id_number": p.id_number, "full_name": p.full_name, "role": p.role} for p in crew_data(crew, start=700)]
    payload = arrival_payload(crew=people, client_uuid=str(uuid.uuid4()))
    api = client_for(inspector)
    with django_assert_max_num_queries(REGISTER_QUERIES):
        assert api.post("/api/v1/port-calls/", payload, format="json").status_code == 201
    with django_assert_max_num_queries(REGISTER_AGAIN_QUERIES):
        assert api.post("/api/v1/port-calls/", payload, format="json").status_code == 200
