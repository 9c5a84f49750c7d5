"""The API contract (SPEC §6): every endpoint is in the OpenAPI schema with a summary and
examples, and a bounded property-based fuzz of the schema (schemathesis, against the
WSGI application) finds no server error. The schema itself is validated without
warnings in ``tests/vessels/test_api.py``."""

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings

from crews.stations import create_station, load_roster
from tests.crews.helpers import roster_lines
from tests.helpers import client_for, token_for

# SPEC §6, as (method, path) in the schema.
SPEC_ENDPOINTS = [
    ("post", "/api/v1/port-calls/"),
    ("get", "/api/v1/port-calls/{id}/"),
    ("post", "/api/v1/tests/"),
    ("post", "/api/v1/port-calls/{id}/handover/"),
    ("get", "/api/v1/wharves/"),
    ("get", "/api/v1/stations/"),
    ("post", "/api/v1/port-calls/{id}/crew/"),
    ("post", "/api/v1/tests/upload/"),
    ("get", "/api/v1/stations/{code}/roster/"),
    ("post", "/api/v1/stations/{code}/roster/"),
    ("get", "/api/v1/stations/{code}/schedule/"),
    ("get", "/api/v1/stations/{code}/schedule.pdf"),
    ("get", "/api/v1/stations/{code}/schedule.csv"),
    ("get", "/api/v1/stations/{code}/schedule.xlsx"),
    # Issue 15: the lists other systems read and sync from.
    ("get", "/api/v1/port-calls/"),
    ("get", "/api/v1/tests/"),
    ("get", "/api/v1/alerts/"),
    ("get", "/api/v1/epidemic-areas/"),
    ("get", "/api/v1/violations/"),
    ("get", "/api/v1/cases/{id}/contacts/"),
    ("get", "/api/v1/people/"),
    ("post", "/api/v1/port-calls/{id}/departure/"),
    # Issue 18: a person's data on request.
    ("get", "/api/v1/people/{id}/export/"),
]
# The JSON endpoints, whose answers carry examples (the schedule files are binary).
WITH_EXAMPLES = [
    ("post", "/api/v1/port-calls/"),
    ("get", "/api/v1/port-calls/{id}/"),
    ("post", "/api/v1/tests/"),
    ("post", "/api/v1/port-calls/{id}/handover/"),
    ("get", "/api/v1/wharves/"),
    ("post", "/api/v1/port-calls/{id}/crew/"),
    ("post", "/api/v1/tests/upload/"),
    ("get", "/api/v1/stations/"),
    ("get", "/api/v1/stations/{code}/roster/"),
    ("post", "/api/v1/stations/{code}/roster/"),
    ("get", "/api/v1/stations/{code}/schedule/"),
    ("get", "/api/v1/port-calls/"),
    ("get", "/api/v1/tests/"),
    ("get", "/api/v1/alerts/"),
    ("get", "/api/v1/epidemic-areas/"),
    ("get", "/api/v1/violations/"),
    ("get", "/api/v1/cases/{id}/contacts/"),
    ("get", "/api/v1/people/"),
    ("get", "/api/v1/people/{id}/export/"),
]

FUZZ_EXAMPLES = 6  # per operation: about a hundred requests in all


def schema_of(user) -> dict:
    response = client_for(user).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_every_spec_endpoint_is_documented(authority):
    paths = schema_of(authority)["paths"]
    for method, path in SPEC_ENDPOINTS:
        operation = paths.get(path, {}).get(method)
        assert operation is not None, f"{method.upper()} {path} is not in the schema"
        assert operation.get("summary"), f"{method.upper()} {path} has no summary"
        assert any(code.startswith("2") for code in operation["responses"]), f"{method.upper()} {path}: no success"


@pytest.mark.parametrize(("method", "path"), WITH_EXAMPLES)
def test_json_endpoints_answer_with_examples(authority, method, path):
    operation = schema_of(authority)["paths"][path][method]
    documented = {
        code: any("examples" in body for body in answer.get("content", {}).values())
        for code, answer in operation["responses"].items()
    }
    assert all(documented.values()), f"{method.upper()} {path}: no example for {documented}"
    if "requestBody" in operation:
        bodies = operation["requestBody"]["content"]
        assert "multipart/form-data" in bodies or any("examples" in body for body in bodies.values())


@pytest.fixture
def wsgi_app():
    """The WSGI application, keeping the test's database connection open between
    requests as Django's test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_data(cam_pha, make_call, supervisor):
    """A superuser (every permission, every wharf: every code path is open to the fuzz),
    a port call with its crew and a KCS station with a roster."""
    root = User.objects.create_superuser("root", password="pw-root")
    make_call(crew=3)
    station = create_station(code="KCS-CP-03", name="Trạm KCS Mông Dương", wharf=cam_pha, supervisors=[supervisor])
    load_roster(supervisor, station, roster_lines(staff=2, days=2))
    return token_for(root)


def fuzz(operation, headers: dict, failures: list):
    """A hypothesis test of one operation: every generated request, none answered 5xx."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.append(f"{operation.method.upper()} {case.formatted_path}: {response.status_code}")

    return check


def test_a_bounded_fuzz_of_the_schema_finds_no_server_error(fuzz_data, wsgi_app):
    headers = {"Authorization": f"Token {fuzz_data}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", wsgi_app, headers=headers)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        fuzz(operation, headers, failures)()
    assert len(operations) >= len(SPEC_ENDPOINTS)
    assert failures == []
