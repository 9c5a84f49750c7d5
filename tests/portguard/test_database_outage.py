"""The database lost in the middle of a request: the API answers 503 in its JSON error
shape, pages with a short 503 page, nothing of the interrupted write is saved, and the
next request is served. On PostgreSQL, the request's own backend is really terminated."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections
from django.test import Client
from django.urls import reverse

from crews.choices import TestResult
from crews.models import CrewMember, Person, ScreeningTest
from tests.helpers import ARRIVAL, client_for, people_of
from tests.vessels.helpers import arrival_payload, sheet_post
from vessels.models import Alert, Handover, HandoverEvidence, HandoverRefusal, PortCall, Vessel

# Real transactions: the request's own atomic() is the outermost one, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

NOW = ARRIVAL + timedelta(hours=1)
UNAVAILABLE = "Hiện không kết nối được với cơ sở dữ liệu. Vui lòng thử lại sau vài giây."


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


class LoseDatabaseAt:
    """An execute wrapper: the first query containing ``marker`` raises
    ``OperationalError`` instead of running, as a dropped connection would. Keeps the
    SQL that ran before it, to show the write was half done."""

    def __init__(self, marker: str):
        self.marker = marker
        self.ran: list[str] = []
        self.tripped = False

    def __call__(self, execute, sql, params, many, context):
        if not self.tripped and self.marker in sql:
            self.tripped = True
            raise OperationalError("server closed the connection unexpectedly")
        self.ran.append(sql)
        return execute(sql, params, many, context)

    def ran_before(self, marker: str) -> bool:
        return any(marker in sql for sql in self.ran)


class TerminateBackendAt:
    """An execute wrapper: before the first query containing ``marker``, terminate this
    connection's PostgreSQL backend from another connection and wait until it is gone."""

    def __init__(self, marker: str):
        self.marker = marker
        self.tripped = False

    def __call__(self, execute, sql, params, many, context):
        if not self.tripped and self.marker in sql:
            self.tripped = True
            pid = context["connection"].connection.info.backend_pid
            killer = connections.create_connection(DEFAULT_DB_ALIAS)
            try:
                with killer.cursor() as cursor:
                    cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
                    assert cursor.fetchone() == (True,)
            finally:
                killer.close()
        return execute(sql, params, many, context)


def counts(*models) -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in models}


def outage_logged(caplog) -> bool:
    return any(r.name == "portguard.middleware" and r.levelno == logging.ERROR for r in caplog.records)


def assert_registered_nothing_then_a_retry_registers(client, response, before: dict, caplog) -> None:
    assert response.status_code == 503
    assert response.json() == {"error": "database_unavailable", "message": UNAVAILABLE}
    assert counts(Vessel, PortCall, Person, CrewMember) == before
    assert outage_logged(caplog)

    retry = client.post("/api/v1/port-calls/", arrival_payload(), format="json")
    assert retry.status_code == 201
    assert CrewMember.objects.filter(port_call=retry.json()["id"]).count() == 2


@pytest.fixture
def cleared_call(make_call, record):
    call = make_call(crew=3, arrived_at=NOW - timedelta(minutes=50))
    for person in people_of(call):
        record(call, person, sampled_at=NOW - timedelta(minutes=40), now=NOW - timedelta(minutes=20))
    return call


def test_registration_losing_the_database_midway_answers_503_and_saves_nothing(inspector, caplog):
    client = client_for(inspector)
    before = counts(Vessel, PortCall, Person, CrewMember)
    lost = LoseDatabaseAt('INSERT INTO "crews_crewmember"')
    with connection.execute_wrapper(lost):
        response = client.post("/api/v1/port-calls/", arrival_payload(), format="json")
    assert lost.tripped and lost.ran_before('INSERT INTO "vessels_portcall"')
    assert response["Retry-After"] == "10"
    assert_registered_nothing_then_a_retry_registers(client, response, before, caplog)


def test_approval_losing_the_database_midway_answers_503_and_leaves_the_call_unapproved(authority, cleared_call):
    client = client_for(authority)
    lost = LoseDatabaseAt('INSERT INTO "vessels_handoverevidence"')
    with connection.execute_wrapper(lost):
        response = client.post(f"/api/v1/port-calls/{cleared_call.pk}/handover/")
    assert lost.tripped and lost.ran_before('INSERT INTO "vessels_handover"')
    assert response.status_code == 503
    assert response.json()["error"] == "database_unavailable"
    assert counts(Handover, HandoverEvidence, HandoverRefusal) == {
        "Handover": 0,
        "HandoverEvidence": 0,
        "HandoverRefusal": 0,
    }
    assert client.get(f"/api/v1/port-calls/{cleared_call.pk}/").json()["status"] == "cleared"

    retry = client.post(f"/api/v1/port-calls/{cleared_call.pk}/handover/")
    assert retry.status_code == 201
    assert len(retry.json()["evidence"]) == 3


def test_screening_sheet_losing_the_database_midway_shows_a_503_page_and_saves_no_result(
    client, inspector, make_call, caplog
):
    call = make_call(crew=3, arrived_at=NOW - timedelta(minutes=50))
    first, second, third = people_of(call)
    client.force_login(inspector)
    data = sheet_post(call, {first: TestResult.POSITIVE, second: TestResult.NEGATIVE, third: TestResult.NEGATIVE})
    lost = LoseDatabaseAt('INSERT INTO "vessels_alert"')
    with connection.execute_wrapper(lost):
        response = client.post(reverse("port-call-tests", args=[call.pk]), data)
    assert lost.tripped and lost.ran_before('INSERT INTO "crews_screeningtest"')
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    page = response.content.decode()
    assert '<meta name="viewport"' in page  # the base template, for a phone
    assert "Tạm thời gián đoạn" in page
    assert UNAVAILABLE in page
    assert "Thử lại" not in page  # a form post is not repeated from a link
    assert counts(ScreeningTest, Alert) == {"ScreeningTest": 0, "Alert": 0}
    assert outage_logged(caplog)

    retry = client.post(reverse("port-call-tests", args=[call.pk]), data)
    assert retry.status_code == 302
    assert counts(ScreeningTest, Alert) == {"ScreeningTest": 3, "Alert": 1}


def test_a_page_that_cannot_read_the_database_offers_to_try_again(client, inspector, make_call):
    call = make_call(crew=2)
    client.force_login(inspector)
    url = reverse("port-call", args=[call.pk])
    with connection.execute_wrapper(LoseDatabaseAt('FROM "vessels_portcall"')):
        response = client.get(url)
    assert response.status_code == 503
    assert f'href="{url}">Thử lại' in response.content.decode()
    assert client.get(url).status_code == 200


@pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates a real PostgreSQL backend")
def test_registration_whose_backend_is_terminated_midway_answers_503_and_saves_nothing(inspector, caplog):
    client = client_for(inspector)
    before = counts(Vessel, PortCall, Person, CrewMember)
    killed = TerminateBackendAt('INSERT INTO "crews_crewmember"')
    with connection.execute_wrapper(killed):
        response = client.post("/api/v1/port-calls/", arrival_payload(), format="json")
    assert killed.tripped
    assert_registered_nothing_then_a_retry_registers(client, response, before, caplog)


def test_a_login_whose_session_cannot_be_saved_answers_503_and_signs_nobody_in(inspector, caplog):
    # The session is saved by SessionMiddleware after the login view has returned: no
    # view is running to catch it, so handler500 answers.
    inspector.set_password("wharf-secret-1")
    inspector.save()
    client = Client(raise_request_exception=False)
    credentials = {"username": inspector.username, "password": "wharf-secret-1"}
    lost = LoseDatabaseAt('UPDATE "django_session"')
    with connection.execute_wrapper(lost):
        response = client.post(reverse("login"), credentials)
    assert lost.tripped
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert UNAVAILABLE in response.content.decode()
    assert outage_logged(caplog)
    assert client.get(reverse("home")).status_code == 302  # still signed out

    retry = client.post(reverse("login"), credentials)
    assert retry.status_code == 302
    assert client.get(reverse("home")).status_code == 200
