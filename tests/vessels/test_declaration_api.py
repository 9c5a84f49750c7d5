"""``POST /api/v1/declarations/`` (rule R6): good, bad, duplicate and rate-limited, in
the API's error shape, documented with examples."""

import copy
from datetime import timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from portguard.ratelimit import forget
from tests.helpers import ARRIVAL, client_for
from vessels.declaration_api import DECLARATION_EXAMPLE
from vessels.declaration_views import declaration_limit
from vessels.declarations import declaration_by_receipt
from vessels.models import Declaration, DeclaredPerson

NOW = ARRIVAL - timedelta(hours=6)
URL = "/api/v1/declarations/"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def fresh_limits(db, frozen_clock):
    forget(declaration_limit(), "127.0.0.1")


def payload(**overrides) -> dict:
    body = copy.deepcopy(DECLARATION_EXAMPLE)
    body.update(overrides)
    return body


def test_a_declaration_is_stored_and_answers_its_receipt_code(inspector, cam_pha):
    response = client_for(inspector).post(URL, payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    declaration = Declaration.objects.get()
    assert body["id"] == declaration.pk
    assert body["registration"] == "QN-4567" and body["wharf"] == "CP-03"
    assert body["people"] == 2 and body["flagged"] == 1
    assert body["expected_at"] == "2021-08-12T08:30:00+07:00"
    assert body["receipt_url"].endswith(f"/declare/receipt/{body['receipt']}/")
    assert declaration_by_receipt(body["receipt"]) == declaration
    assert declaration.submitted_by == inspector
    assert declaration.people.get(id_number="031234567").provinces == ["Bắc Giang"]


def test_any_wharf_may_be_declared_for_by_any_signed_in_caller(outsider, cam_pha):
    assert client_for(outsider).post(URL, payload(), format="json").status_code == 201


def test_anonymous_callers_are_refused(cam_pha):
    response = APIClient().post(URL, payload(), format="json")
    assert response.status_code == 401 and response.json()["error"] == "not_authenticated"
    assert not Declaration.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"wharf": "XX-99"}, "wharf"),
        ({"expected_at": "tomorrow"}, "expected_at"),
        ({"vessel": {"registration": "4567"}}, "registration"),
        ({"declarant": {"name": "A", "phone": "abc"}}, "declarant_phone"),
        ({"ports_of_call": [{"port": "Cảng Hải Phòng", "left_on": "2021-07-01"}]}, "ports[0].left_on"),
        ({"people": [{"full_name": "A", "id_number": "12345", "role": "captain"}]}, "people[0].id_number"),
        ({"people": [{"full_name": "A", "id_number": "022081000123", "role": "cook"}]}, "people[0].role"),
        (
            {"people": [{"full_name": "A", "id_number": "022081000123", "role": "crew", "fever": "maybe"}]},
            "people[0].fever",
        ),
        ({"people": []}, "people"),
    ],
)
def test_bad_fields_are_named_in_the_error_shape_and_nothing_is_stored(inspector, cam_pha, change, field):
    response = client_for(inspector).post(URL, payload(**change), format="json")
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["error"] == "validation_error"
    assert field in body["fields"], body
    assert body["message"]
    assert not Declaration.objects.exists() and not DeclaredPerson.objects.exists()


def test_domain_messages_are_vietnamese_and_every_problem_is_listed(inspector, cam_pha):
    bad = payload(
        vessel={"registration": "4567"},
        people=[{"full_name": "A", "id_number": "12345", "role": "captain"}],
    )
    body = client_for(inspector).post(URL, bad, format="json", HTTP_ACCEPT_LANGUAGE="vi").json()
    assert set(body["fields"]) == {"registration", "people[0].id_number"}
    assert body["fields"]["people[0].id_number"] == [
        "Người thứ 1, số giấy tờ: 12345 không phải số CCCD 12 chữ số, CMND 9 chữ số hay số hộ chiếu."
    ]


def test_a_vessel_declared_twice_before_arrival_is_a_conflict(inspector, cam_pha):
    client = client_for(inspector)
    assert client.post(URL, payload(), format="json").status_code == 201
    response = client.post(URL, payload(vessel={"registration": "qn-4567"}), format="json")
    assert response.status_code == 409
    assert response.json()["error"] == "already_declared"
    assert "registration" in response.json()["fields"]
    assert Declaration.objects.count() == 1


def test_the_api_is_rate_limited_per_address(inspector, authority, cam_pha, settings):
    settings.PORTGUARD_DECLARATIONS_PER_WINDOW = 2
    client = client_for(inspector)
    assert client.post(URL, payload(), format="json").status_code == 201
    assert client.post(URL, payload(people=[]), format="json").status_code == 400
    response = client_for(authority).post(URL, payload(vessel={"registration": "QN-1357"}), format="json")
    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited" and response.json()["message"]
    assert 0 < int(response["Retry-After"]) <= settings.PORTGUARD_DECLARATION_RATE_WINDOW_SECONDS
    assert Declaration.objects.count() == 1
    other = client_for(authority)
    other.defaults["REMOTE_ADDR"] = "203.0.113.5"
    forget(declaration_limit(), "203.0.113.5")
    assert other.post(URL, payload(vessel={"registration": "QN-1357"}), format="json").status_code == 201


def test_behind_trusted_proxies_the_limit_counts_the_forwarded_address(inspector, cam_pha, settings):
    settings.PORTGUARD_DECLARATIONS_PER_WINDOW = 1
    settings.PORTGUARD_PROXY_HOPS = 1
    client = client_for(inspector)
    for n, address in enumerate(("203.0.113.10", "203.0.113.11")):
        forget(declaration_limit(), address)
        response = client.post(
            URL, payload(vessel={"registration": f"QN-{2000 + n}"}), format="json", HTTP_X_FORWARDED_FOR=address
        )
        assert response.status_code == 201
    response = client.post(
        URL, payload(vessel={"registration": "QN-2002"}), format="json", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.10"
    )
    assert response.status_code == 429


def test_a_body_above_the_size_limit_is_refused(inspector, cam_pha, settings):
    settings.PORTGUARD_DECLARATION_MAX_BYTES = 500
    response = client_for(inspector).post(URL, payload(), format="json")
    assert response.status_code == 413 and response.json()["error"] == "request_too_large"


@pytest.mark.parametrize("size", [1, 40])
def test_declaring_takes_the_same_queries_whatever_the_crew(inspector, cam_pha, size, django_assert_max_num_queries):
    people = [
        {"full_name": f"Người {n}", "id_number": f"0220810{n:05d}", "role": "crew", "provinces": ["Hà Nội"]}
        for n in range(size)
    ]
    client = client_for(inspector)
    with django_assert_max_num_queries(15):
        assert client.post(URL, payload(people=people), format="json").status_code == 201


def test_the_endpoint_is_documented_with_examples(authority):
    schema = client_for(authority).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"][URL]["post"]
    assert operation["summary"]
    assert set(operation["responses"]) >= {"201", "400", "409", "413", "429"}
    for answer in operation["responses"].values():
        assert any("examples" in body for body in answer["content"].values())
    assert any("examples" in body for body in operation["requestBody"]["content"].values())
