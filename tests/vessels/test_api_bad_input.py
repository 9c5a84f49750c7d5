"""Whatever arrives, the API answers a JSON 4xx naming what is wrong: never a 500."""

import pytest
from rest_framework.test import APIClient

from crews.models import ScreeningTest
from tests.helpers import token_for
from vessels.models import PortCall


@pytest.fixture
def api(inspector):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(inspector)}")
    return client


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        "null",
        '{"wharf": 5, "vessel": "QN-1", "arrived_at": [], "crew": "everyone"}',
        '{"wharf": "CP-03", "vessel": null, "arrived_at": "2021-08-12T08:30:00+07:00"}',
        '{"wharf": "CP-03", "vessel": {"registration": "QN-1234"}, "arrived_at": "2021-08-12T08:30:00+07:00",'
        ' "crew": [null, 5]}',
        '{"wharf": "CP-03", "vessel": {"registration": "QN-1234"}, "arrived_at": "2021-08-12T08:30:00",'
        ' "cargo_tonnes": "a lot"}',
    ],
)
def test_malformed_arrivals_answer_400_json(api, cam_pha, body):
    response = api.post("/api/v1/port-calls/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"] in ("validation_error", "parse_error", "invalid")
    assert not PortCall.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "{",
        '{"id_number": null, "kind": null, "sampled_at": null, "result": null}',
        '{"id_number": "022081000123", "kind": "rapid", "sampled_at": "2021-08-12T09:00:00+07:00",'
        ' "result": "negative", "port_call": "first"}',
    ],
)
def test_malformed_results_answer_400_json(api, cam_pha, body):
    response = api.post("/api/v1/tests/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "error" in response.json()
    assert not ScreeningTest.objects.exists()


def test_unsupported_media_type_is_a_json_415(api, cam_pha):
    response = api.post("/api/v1/tests/", "id_number=1", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"


def test_wrong_method_is_a_json_405(api):
    response = api.delete("/api/v1/wharves/")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_naive_arrival_time_is_taken_in_vietnam_time(api, cam_pha):
    payload = {"wharf": "CP-03", "vessel": {"registration": "QN-1234"}, "arrived_at": "2021-08-12T08:30:00"}
    response = api.post("/api/v1/port-calls/", payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["arrived_at"] == "2021-08-12T08:30:00+07:00"
