"""What no API view answers itself, the API still answers in its JSON error shape
(SPEC §6): an unknown path, an unexpected error, a database lost outside the view.
Pages keep their HTML pages. The test settings run with DEBUG off, as production does."""

import logging

import pytest
from django.db import OperationalError
from django.test import Client

from tests.helpers import token_for
from vessels.api import WharfList

SERVER_ERROR = "Máy chủ gặp sự cố. Vui lòng thử lại sau."


def api_client(user=None) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {token_for(user)}"
    return client


def page_client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


@pytest.fixture
def broken(monkeypatch):
    """Every list of wharves fails as a bug would: the pages and the API both read it."""

    def fail(user):
        raise RuntimeError("a bug no one caught")

    monkeypatch.setattr("vessels.api.visible_wharves", fail)
    monkeypatch.setattr("vessels.views.visible_wharves", fail)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nothing-here/",
        "/api/v1/port-calls/12/nonsense/",
        "/api/v1/port-calls/not-a-number/",
        "/api/v1/stations/KCS-CP-03/schedule.docx",
        "/api/v2/wharves/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_unknown_api_path_answers_a_json_404(inspector, path, method):
    response = getattr(api_client(inspector), method)(path, HTTP_ACCEPT="text/html")
    body = assert_json_error(response, 404, "not_found")
    assert body["message"] == "Không tìm thấy."


def test_an_unknown_api_path_answers_a_json_404_to_anonymous_callers_too(db):
    assert_json_error(api_client().get("/api/v1/nothing-here/"), 404, "not_found")


def test_an_unknown_page_keeps_its_html_404(inspector):
    response = page_client(inspector).get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "Không tìm thấy" in response.content.decode()


def test_an_unexpected_error_in_the_api_answers_a_json_500_and_is_logged(inspector, broken, caplog):
    caplog.set_level(logging.ERROR, logger="django.request")
    response = api_client(inspector).get("/api/v1/wharves/")
    body = assert_json_error(response, 500, "server_error")
    assert body["message"] == SERVER_ERROR
    assert "a bug no one caught" not in response.content.decode()
    assert any(r.name == "django.request" and r.exc_info for r in caplog.records)


def test_an_unexpected_error_in_the_api_answers_json_to_a_session_too(inspector, broken):
    assert_json_error(page_client(inspector).get("/api/v1/wharves/"), 500, "server_error")


def test_an_unexpected_error_on_a_page_keeps_its_html_500(inspector, broken):
    response = page_client(inspector).get("/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert "a bug no one caught" not in response.content.decode()


def test_a_database_lost_outside_an_api_view_answers_a_json_503(inspector, monkeypatch):
    """DRF answers a lost database inside the view; one lost around it (as a middleware
    could) reaches Django's own handling, which answers the same shape."""

    def lose_database(self, request, *args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(WharfList, "dispatch", lose_database)
    response = api_client(inspector).get("/api/v1/wharves/")
    assert_json_error(response, 503, "database_unavailable")
    assert response["Retry-After"] == "10"
