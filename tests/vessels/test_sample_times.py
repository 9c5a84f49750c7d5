"""Each result of the screening sheet keeps its own sample time: a person sampled apart
(the row's *Lấy mẫu* button) carries ``sampled_<person id>``, everyone else the sheet's
time. Rule R1 judges each entry by its own time, and the latest *sample* decides a
person's state whatever order the results arrive in, through the API and the sheet."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from crews.choices import TestResult
from crews.models import ScreeningTest
from tests.helpers import ARRIVAL, client_for, people_of
from tests.vessels.helpers import local, sheet_post

NOW = ARRIVAL + timedelta(hours=2)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def sheet_url(call) -> str:
    return reverse("port-call-tests", args=[call.pk])


def row_of(page: str, person) -> str:
    """The HTML of one person's row of the sheet."""
    start = page.index(f'data-person="{person.id_number}"')
    return page[start : page.index("</li>", start)]


def sheet_field(page: str) -> str:
    """The HTML of the sheet's own sample time field."""
    start = page.index('for="id_sampled_at"')
    return page[start : page.index("</fieldset>", start)]


def test_each_person_sampled_apart_keeps_their_own_time(client, inspector, make_call, frozen):
    call = make_call(crew=3)
    first, second, third = people_of(call)
    client.force_login(inspector)
    data = sheet_post(call, dict.fromkeys([first, second, third], TestResult.NEGATIVE))
    data[f"sampled_{first.pk}"] = local(ARRIVAL + timedelta(minutes=10))
    data[f"sampled_{second.pk}"] = local(ARRIVAL + timedelta(minutes=25))
    response = client.post(sheet_url(call), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    times = dict(ScreeningTest.objects.filter(port_call=call).values_list("person_id", "sampled_at"))
    assert times == {
        first.pk: ARRIVAL + timedelta(minutes=10),
        second.pk: ARRIVAL + timedelta(minutes=25),
        third.pk: ARRIVAL + timedelta(minutes=40),  # the sheet's time (sheet_post's default)
    }


def test_the_page_tells_the_timers_when_each_persons_latest_sample_was_stored(client, inspector, make_call, frozen):
    call = make_call(crew=2)
    first, second = people_of(call)
    client.force_login(inspector)
    data = sheet_post(call, {first: TestResult.NEGATIVE})
    data[f"sampled_{first.pk}"] = local(ARRIVAL + timedelta(minutes=10))
    page = client.get(client.post(sheet_url(call), data)["Location"]).content.decode()
    stamp = int((ARRIVAL + timedelta(minutes=10)).timestamp())
    assert f'data-stored-sample="{stamp}"' in row_of(page, first)
    assert "data-stored-sample" not in row_of(page, second)
    assert f'name="sampled_{second.pk}"' in row_of(page, second)


@pytest.mark.parametrize(
    ("own_time", "message"),
    [
        (NOW + timedelta(hours=1), "Thời điểm này ở tương lai."),
        (ARRIVAL - timedelta(minutes=30), "Mẫu được lấy trước khi phương tiện cập bến."),
    ],
    ids=["future", "before-arrival"],
)
def test_one_bad_own_time_refuses_the_sheet_whole_and_says_so_on_that_row(
    client, inspector, make_call, frozen, own_time, message
):
    call = make_call(crew=3)
    first, second, third = people_of(call)
    client.force_login(inspector)
    data = sheet_post(call, dict.fromkeys([first, second, third], TestResult.NEGATIVE))
    data[f"sampled_{first.pk}"] = local(ARRIVAL + timedelta(minutes=10))
    data[f"sampled_{second.pk}"] = local(own_time)
    response = client.post(sheet_url(call), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in row_of(page, second)
    assert message not in row_of(page, first)
    assert message not in sheet_field(page)
    assert f'name="sampled_{second.pk}" value="{local(own_time)}"' in page  # kept to be fixed
    assert not ScreeningTest.objects.exists()


def test_a_bad_sheet_time_stays_on_the_sheets_field(client, inspector, make_call, frozen):
    call = make_call(crew=2)
    first, second = people_of(call)
    client.force_login(inspector)
    data = sheet_post(call, dict.fromkeys([first, second], TestResult.NEGATIVE), sampled_at=NOW + timedelta(hours=1))
    data[f"sampled_{first.pk}"] = local(ARRIVAL + timedelta(minutes=10))
    response = client.post(sheet_url(call), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Thời điểm này ở tương lai." in sheet_field(page)
    assert "Thời điểm này ở tương lai." not in row_of(page, first)
    assert not ScreeningTest.objects.exists()


def test_the_sheets_time_is_needed_only_for_people_without_their_own(client, inspector, make_call, frozen):
    call = make_call(crew=2)
    first, second = people_of(call)
    client.force_login(inspector)
    data = sheet_post(call, dict.fromkeys([first, second], TestResult.NEGATIVE))
    data["sampled_at"] = ""
    data[f"sampled_{first.pk}"] = local(ARRIVAL + timedelta(minutes=10))
    refused = client.post(sheet_url(call), data)
    assert refused.status_code == 400
    assert "Trường này là bắt buộc." in sheet_field(refused.content.decode())
    assert not ScreeningTest.objects.exists()

    data[f"result_{second.pk}"] = ""
    assert client.post(sheet_url(call), data).status_code == 302
    assert list(ScreeningTest.objects.values_list("person_id", "sampled_at")) == [
        (first.pk, ARRIVAL + timedelta(minutes=10))
    ]


# --- The latest sample decides, whatever the arrival order ---------------------------

EARLIER = ARRIVAL + timedelta(minutes=30)
LATER = ARRIVAL + timedelta(minutes=60)

# (result sampled later, result sampled earlier, the state both leave): the later sample's.
ORDERS = [
    (TestResult.INVALID, TestResult.NEGATIVE, "invalid"),
    (TestResult.NEGATIVE, TestResult.INVALID, "negative"),
]


def api_result(person, call, sampled_at, result) -> dict:
    return {
        "id_number": person.id_number,
        "kind": "rapid",
        "sampled_at": sampled_at.isoformat(),
        "result": result,
        "port_call": call.pk,
    }


@pytest.mark.parametrize(("later", "earlier", "state"), ORDERS)
def test_an_earlier_sample_sent_through_the_api_after_a_later_one_does_not_override_it(
    make_call, inspector, frozen, later, earlier, state
):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    api = client_for(inspector)
    assert api.post("/api/v1/tests/", api_result(captain, call, LATER, later), format="json").status_code == 201
    assert api.post("/api/v1/tests/", api_result(captain, call, EARLIER, earlier), format="json").status_code == 201
    (person,) = api.get(f"/api/v1/port-calls/{call.pk}/").json()["crew"]
    assert person["screening"] == state
    assert ScreeningTest.objects.filter(person=captain).count() == 2


@pytest.mark.parametrize(("later", "earlier", "state"), ORDERS)
def test_an_earlier_sample_sent_on_the_sheet_after_a_later_one_does_not_override_it(
    client, make_call, inspector, frozen, later, earlier, state
):
    call = make_call(crew=2)
    captain, crew = people_of(call)
    client.force_login(inspector)
    first = sheet_post(call, {captain: later}, sampled_at=EARLIER)
    first[f"sampled_{captain.pk}"] = local(LATER)  # sampled apart, after the others
    assert client.post(sheet_url(call), first).status_code == 302
    # A sheet of the earlier sample, kept on a phone offline, arrives afterwards.
    second = sheet_post(call, {captain: earlier, crew: TestResult.NEGATIVE}, sampled_at=EARLIER)
    assert client.post(sheet_url(call), second).status_code == 302
    page = client.get(reverse("port-call", args=[call.pk])).content.decode()
    assert re.search(r'data-screening="(\w+)"', row_of(page, captain)).group(1) == state
    assert re.search(r'data-screening="(\w+)"', row_of(page, crew)).group(1) == "negative"
    assert sorted(ScreeningTest.objects.filter(person=captain).values_list("sampled_at", flat=True)) == [
        EARLIER,
        LATER,
    ]
