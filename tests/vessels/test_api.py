"""The API of SPEC §6 for port calls, tests and handover: shapes, codes, scope, queries."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from rest_framework.test import APIClient

from crews.models import ScreeningTest
from tests.helpers import ARRIVAL, client_for, people_of
from tests.vessels.helpers import arrival_payload
from vessels.models import Handover, HandoverEvidence, PortCall, Wharf

NOW = ARRIVAL + timedelta(hours=2)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_anonymous_calls_are_refused_with_json(db):
    response = APIClient().get("/api/v1/wharves/")
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_wharves_lists_only_what_the_caller_may_see(inspector, authority, ha_long):
    assert [w["code"] for w in client_for(inspector).get("/api/v1/wharves/").json()] == ["CP-03"]
    assert [w["code"] for w in client_for(authority).get("/api/v1/wharves/").json()] == ["CP-03", "HL-01"]


def test_register_arrival_creates_the_call_with_its_crew(inspector):
    response = client_for(inspector).post("/api/v1/port-calls/", arrival_payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["vessel"]["registration"] == "QN-4567"
    assert body["status"] == "awaiting_tests"
    assert body["arrived_at"] == "2021-08-12T08:30:00+07:00"
    assert {c["id_number"]: c["screening"] for c in body["crew"]} == {
        "022081000123": "untested",
        "031234567": "untested",
    }
    assert {b["id_number"] for b in body["blocking"]} == {"022081000123", "031234567"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"wharf": "XX-99"}, "wharf"),
        ({"arrived_at": "yesterday"}, "arrived_at"),
        ({"arrived_at": "2031-01-01T00:00:00+07:00"}, "arrived_at"),
        ({"crew": [{"id_number": "12345", "full_name": "A", "role": "captain"}]}, "crew[0].id_number"),
        ({"crew": [{"id_number": "022081000123", "full_name": "A", "role": "cook"}]}, "crew[0].role"),
        (
            {"crew": [{"id_number": "022081000123", "full_name": "A", "role": "crew", "date_of_birth": "1981-13-40"}]},
            "crew[0].date_of_birth",
        ),
        ({"vessel": {"name": "no registration"}}, "vessel.registration"),
        ({"vessel": {"registration": "tàu của tôi"}}, "vessel.registration"),
        ({"cargo_tonnes": -5}, "cargo_tonnes"),
    ],
)
def test_bad_arrival_answers_400_naming_the_field_and_saves_nothing(inspector, change, field):
    response = client_for(inspector).post("/api/v1/port-calls/", arrival_payload(**change), format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] in ("validation_error", "invalid")
    assert field in body["fields"]
    assert not PortCall.objects.exists()


def test_wharf_outside_the_inspectors_scope_is_unknown(outsider, cam_pha):
    response = client_for(outsider).post("/api/v1/port-calls/", arrival_payload(), format="json")
    assert response.status_code == 400
    assert "wharf" in response.json()["fields"]


def test_port_call_outside_scope_answers_404(make_call, outsider):
    call = make_call(crew=1)
    response = client_for(outsider).get(f"/api/v1/port-calls/{call.pk}/")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_record_results_then_approve_handover(make_call, inspector, authority):
    call = make_call(crew=2)
    api = client_for(inspector)
    for person in people_of(call):
        response = api.post(
            "/api/v1/tests/",
            {
                "id_number": person.id_number,
                "kind": "rapid",
                "sampled_at": "2021-08-12T09:00:00+07:00",
                "result": "negative",
                "port_call": call.pk,
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
    assert api.get(f"/api/v1/port-calls/{call.pk}/").json()["status"] == "cleared"
    response = client_for(authority).post(f"/api/v1/port-calls/{call.pk}/handover/")
    assert response.status_code == 201
    # The evidence answered is what was stored: each person by the result that cleared them.
    stored = HandoverEvidence.objects.filter(handover_id=response.json()["id"]).select_related("person", "test")
    assert response.json()["evidence"] == [
        {
            "id_number": e.person.id_number,
            "full_name": e.person.full_name,
            "role": e.role,
            "test": e.test_id,
            "kind": "rapid",
            "sampled_at": "2021-08-12T09:00:00+07:00",
        }
        for e in stored.order_by("pk")
    ]
    assert len(response.json()["evidence"]) == 2
    assert api.get(f"/api/v1/port-calls/{call.pk}/").json()["status"] == "handover_approved"


def test_result_without_port_call_is_attached_to_the_persons_open_call(make_call, inspector):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    response = client_for(inspector).post(
        "/api/v1/tests/",
        {
            "id_number": captain.id_number,
            "kind": "rt_pcr",
            "sampled_at": "2021-08-12T09:00:00+07:00",
            "result": "negative",
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["port_call"] == call.pk


def test_result_without_port_call_for_someone_on_a_call_out_of_scope_is_refused(make_call, outsider):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    response = client_for(outsider).post(
        "/api/v1/tests/",
        {
            "id_number": captain.id_number,
            "kind": "rapid",
            "sampled_at": "2021-08-12T09:00:00+07:00",
            "result": "negative",
        },
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert "CP-03" in response.json()["message"]
    assert not ScreeningTest.objects.exists()


def test_retry_with_same_client_uuid_answers_200_with_the_first_record(make_call, inspector):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    payload = {
        "id_number": captain.id_number,
        "kind": "rapid",
        "sampled_at": "2021-08-12T09:00:00+07:00",
        "result": "negative",
        "port_call": call.pk,
        "client_uuid": str(uuid.uuid4()),
    }
    api = client_for(inspector)
    first = api.post("/api/v1/tests/", payload, format="json")
    again = api.post("/api/v1/tests/", payload, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert ScreeningTest.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"result": "maybe"}, "result"),
        ({"kind": "pcr"}, "kind"),
        ({"sampled_at": "2031-08-12T09:00:00+07:00"}, "sampled_at"),
        ({"sampled_at": "12/08/2021"}, "sampled_at"),
        ({"id_number": "12-34"}, "id_number"),
        ({"id_number": "099999999999"}, "id_number"),
        ({"port_call": 999999}, "port_call"),
        ({"client_uuid": "not-a-uuid"}, "client_uuid"),
    ],
)
def test_bad_result_answers_400_naming_the_field(make_call, inspector, change, field):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    payload = {
        "id_number": captain.id_number,
        "kind": "rapid",
        "sampled_at": "2021-08-12T09:00:00+07:00",
        "result": "negative",
        "port_call": call.pk,
    }
    payload.update(change)
    response = client_for(inspector).post("/api/v1/tests/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert not ScreeningTest.objects.exists()


def test_blocked_handover_answers_409_with_who_blocks(make_call, record, authority):
    call = make_call(crew=2)
    first, second = people_of(call)
    record(call, first, result="positive")
    response = client_for(authority).post(f"/api/v1/port-calls/{call.pk}/handover/")
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "handover_blocked"
    assert {b["id_number"]: b["screening"] for b in body["blocking"]} == {
        first.id_number: "positive",
        second.id_number: "untested",
    }
    assert all(b["reason"] for b in body["blocking"])


@pytest.mark.parametrize("who", ["inspector", "health"])
def test_handover_by_another_role_answers_403(make_call, record, who, request):
    call = make_call(crew=1)
    record(call, people_of(call)[0])
    response = client_for(request.getfixturevalue(who)).post(f"/api/v1/port-calls/{call.pk}/handover/")
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert not Handover.objects.exists()


@pytest.mark.parametrize("who", ["outsider", "supervisor"])
def test_handover_of_a_call_outside_the_callers_scope_answers_404(make_call, record, who, request):
    call = make_call(crew=1)
    record(call, people_of(call)[0])
    response = client_for(request.getfixturevalue(who)).post(f"/api/v1/port-calls/{call.pk}/handover/")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert not Handover.objects.exists()


def test_schema_is_served(inspector):
    response = client_for(inspector).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/port-calls/", "/api/v1/tests/", "/api/v1/port-calls/{id}/handover/"} <= set(paths)


# --- Query counts: constant in the number of port calls and crew ---------------------


@pytest.mark.parametrize("crew", [3, 40])
def test_port_call_detail_queries_do_not_grow_with_crew(
    make_call, record, inspector, crew, django_assert_max_num_queries
):
    call = make_call(crew=crew)
    for person in people_of(call):
        record(call, person)
    api = client_for(inspector)
    with django_assert_max_num_queries(10):  # + the access log's entry (rule R8)
        assert api.get(f"/api/v1/port-calls/{call.pk}/").status_code == 200


@pytest.mark.parametrize("crew", [3, 40])
def test_approval_queries_do_not_grow_with_crew(make_call, record, authority, crew, django_assert_max_num_queries):
    call = make_call(crew=crew)
    for person in people_of(call):
        record(call, person)
    api = client_for(authority)
    # The token, the permissions (one query), the call, its lock, rule R1's reads (manifest,
    # results, handovers, epidemic areas, violations), the handover and its evidence, the
    # version raised; and the test's savepoint pair. The answer's evidence is not re-read.
    with django_assert_max_num_queries(14):
        assert api.post(f"/api/v1/port-calls/{call.pk}/handover/").status_code == 201


@pytest.mark.parametrize("crew", [3, 40])
def test_recording_a_result_queries_do_not_grow_with_crew(make_call, inspector, crew, django_assert_max_num_queries):
    call = make_call(crew=crew)
    person = people_of(call)[-1]
    api = client_for(inspector)
    payload = {
        "id_number": person.id_number,
        "kind": "rapid",
        "sampled_at": "2021-08-12T09:00:00+07:00",
        "result": "positive",
        "port_call": call.pk,
    }
    # The token, the permissions (one query), the call (scope), the person, the call's
    # lock with its wharf's scope, the manifest (read once, for the check and rule R1), the
    # insert, rule R1's other reads (results, handovers, epidemic areas, violations), the
    # version, the handover to suspend, the positive's alert, the officers to e-mail; and
    # the test's savepoint pair. No re-read for the answer.
    with django_assert_max_num_queries(17):
        assert api.post("/api/v1/tests/", payload, format="json").status_code == 201


@pytest.mark.parametrize("wharves", [1, 30])
def test_wharf_list_queries_do_not_grow(inspector, cam_pha, wharves, django_assert_max_num_queries):
    for i in range(wharves):
        Wharf.objects.create(code=f"X-{i}", name=f"Bến {i}", locality="ha_long").inspectors.add(inspector)
    api = client_for(inspector)
    with django_assert_max_num_queries(5):
        assert len(api.get("/api/v1/wharves/").json()) == wharves + 1


def test_schema_validates_without_warnings(db, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/v1/port-calls/{id}/handover/" in (tmp_path / "schema.yaml").read_text()
