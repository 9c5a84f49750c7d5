"""A departure is recorded with the time the vessel left (now when none is given), on the
port call page and through POST /api/v1/port-calls/{id}/departure/: refused before the
arrival or in the future, stored once for a client key sent twice."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.helpers import ARRIVAL, client_for
from vessels.models import PortCall

NOW = ARRIVAL + timedelta(hours=5)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def local(moment) -> str:
    """A time as the page's date-time picker sends it (Asia/Ho_Chi_Minh)."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def departure_url(call) -> str:
    return reverse("port-call-departure", args=[call.pk])


def api_url(call) -> str:
    return f"/api/v1/port-calls/{call.pk}/departure/"


# --- The page ------------------------------------------------------------------------


def test_the_page_records_the_time_the_vessel_left(client, inspector, make_call):
    call = make_call(crew=1)
    client.force_login(inspector)
    left = ARRIVAL + timedelta(hours=3, minutes=20)
    response = client.post(departure_url(call), {"departed_at": local(left), "client_uuid": str(uuid.uuid4())})
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.departed_at == left
    assert call.departed_by == inspector


def test_the_page_form_has_a_time_field_left_empty_for_now(client, inspector, make_call):
    call = make_call(crew=1)
    client.force_login(inspector)
    page = client.get(reverse("port-call", args=[call.pk])).content.decode()
    assert 'name="departed_at"' in page
    assert "Để trống: bây giờ." in page
    client.post(departure_url(call), {"departed_at": "", "client_uuid": str(uuid.uuid4())})
    call.refresh_from_db()
    assert call.departed_at == NOW


@pytest.mark.parametrize(
    ("departed_at", "message"),
    [
        (ARRIVAL - timedelta(hours=1), "Thời điểm rời bến không thể trước khi cập bến."),
        (NOW + timedelta(hours=2), "tương lai"),
    ],
)
def test_the_page_refuses_a_time_before_arrival_or_in_the_future(client, inspector, make_call, departed_at, message):
    call = make_call(crew=1)
    client.force_login(inspector)
    response = client.post(departure_url(call), {"departed_at": local(departed_at), "client_uuid": str(uuid.uuid4())})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert PortCall.objects.get(pk=call.pk).departed_at is None


def test_a_malformed_time_is_shown_at_the_field(client, inspector, make_call):
    call = make_call(crew=1)
    client.force_login(inspector)
    response = client.post(departure_url(call), {"departed_at": "hôm qua"})
    assert response.status_code == 400
    assert 'id="departure"' in response.content.decode()
    assert "Nhập một ngày/thời gian hợp lệ." in response.content.decode()
    assert PortCall.objects.get(pk=call.pk).departed_at is None


def test_the_same_page_departure_sent_twice_is_recorded_once(client, inspector, make_call):
    call = make_call(crew=1)
    client.force_login(inspector)
    data = {"departed_at": local(ARRIVAL + timedelta(hours=4)), "client_uuid": str(uuid.uuid4())}
    assert client.post(departure_url(call), data).status_code == 302
    assert client.post(departure_url(call), data).status_code == 302
    call.refresh_from_db()
    assert call.departed_at == ARRIVAL + timedelta(hours=4)


# --- The API -------------------------------------------------------------------------


def test_the_api_records_a_departure_with_its_time(inspector, make_call):
    call = make_call(crew=1)
    response = client_for(inspector).post(api_url(call), {"departed_at": "2021-08-12T11:45:00+07:00"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["departed_at"] == "2021-08-12T11:45:00+07:00"
    call.refresh_from_db()
    assert timezone.localtime(call.departed_at).isoformat() == "2021-08-12T11:45:00+07:00"


def test_the_api_records_now_without_a_time(inspector, make_call):
    call = make_call(crew=1)
    response = client_for(inspector).post(api_url(call), {}, format="json")
    assert response.status_code == 200
    call.refresh_from_db()
    assert call.departed_at == NOW


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"departed_at": "2021-08-12T07:00:00+07:00"}, "departed_at"),  # before the arrival at 08:30
        ({"departed_at": "2031-01-01T00:00:00+07:00"}, "departed_at"),
        ({"departed_at": "soon"}, "departed_at"),
        ({"client_uuid": "not-a-key"}, "client_uuid"),
    ],
)
def test_the_api_refuses_a_bad_departure_naming_the_field(inspector, make_call, body, field):
    call = make_call(crew=1)
    response = client_for(inspector).post(api_url(call), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert PortCall.objects.get(pk=call.pk).departed_at is None


def test_the_api_answers_a_retry_as_the_first_time_and_refuses_another_departure(inspector, make_call):
    call = make_call(crew=1)
    api = client_for(inspector)
    body = {"departed_at": "2021-08-12T12:00:00+07:00", "client_uuid": str(uuid.uuid4())}
    first = api.post(api_url(call), body, format="json")
    again = api.post(api_url(call), body, format="json")
    assert again.status_code == 200
    assert again.json()["departed_at"] == first.json()["departed_at"] == "2021-08-12T12:00:00+07:00"
    other = api.post(api_url(call), {"client_uuid": str(uuid.uuid4())}, format="json")
    assert other.status_code == 409
    assert other.json()["error"] == "departed"


def test_the_api_hides_a_call_outside_the_callers_scope(outsider, make_call):
    call = make_call(crew=1)
    response = client_for(outsider).post(api_url(call), {}, format="json")
    assert response.status_code == 404
    assert PortCall.objects.get(pk=call.pk).departed_at is None


@pytest.mark.parametrize("crew", [1, 8])
def test_the_api_departure_costs_the_same_queries_whatever_the_crew(
    inspector, make_call, crew, django_assert_max_num_queries
):
    call = make_call(crew=crew)
    api = client_for(inspector)
    with django_assert_max_num_queries(26):  # the call read, locked, cleared, announced and shown
        assert api.post(api_url(call), {}, format="json").status_code == 200
