"""The pages' forms carry a client key made when the page is rendered: the register-arrival
form, the screening sheet (one key per person), the add-person, remove-person and
departure forms. The same form posted twice (a double tap, a retry after a lost answer)
is stored once and answers as the first time; a form shown again after an error keeps
its key."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from crews.choices import CrewRole, TestResult
from crews.models import CrewMember, ScreeningTest
from tests.helpers import ARRIVAL, people_of
from tests.vessels.helpers import sheet_post
from vessels.models import PortCall

NOW = ARRIVAL + timedelta(hours=1)

KEY_INPUT = re.compile(r'<input type="hidden" name="([\w-]+)" value="([0-9a-f-]{36})"')


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def hidden_keys(html: str, form_action: str | None = None) -> dict[str, str]:
    """The client keys of a page (of one form, when its action is given)."""
    if form_action is not None:
        start = html.index(f'action="{form_action}')
        html = html[start : html.index("</form>", start)]
    return dict(KEY_INPUT.findall(html))


def answered(client, response) -> str:
    """The page a form's redirect leads to, with its message."""
    assert response.status_code == 302, response.content.decode()[:2000]
    return client.get(response["Location"]).content.decode()


def message(page: str) -> str:
    return re.search(r'class="msg msg-success"[^>]*>(.*?)<', page, re.S).group(1).strip()


def call_url(call, name="port-call", *args) -> str:
    return reverse(name, args=[call.pk, *args])


# --- Registering an arrival ----------------------------------------------------------


def arrival_form(cam_pha, key: str) -> dict:
    return {
        "wharf": cam_pha.pk,
        "registration": "QN-4567",
        "name": "Hoàng Long 18",
        "kind": "self_propelled_barge",
        "arrived_at": "2021-08-12T08:00",
        "client_uuid": key,
    }


def test_the_arrival_form_posted_twice_registers_one_call(client, inspector, cam_pha, frozen):
    client.force_login(inspector)
    keys = hidden_keys(client.get(reverse("port-call-new")).content.decode())
    assert list(keys) == ["client_uuid"]
    first = client.post(reverse("port-call-new"), arrival_form(cam_pha, keys["client_uuid"]))
    again = client.post(reverse("port-call-new"), arrival_form(cam_pha, keys["client_uuid"]))
    call = PortCall.objects.get()
    assert first["Location"] == again["Location"] == call_url(call)
    assert message(answered(client, again)) == "Đã đăng ký QN-4567 cập bến. Hãy thêm thuyền viên bên dưới."
    assert str(call.client_uuid) == keys["client_uuid"]


def test_each_arrival_form_gets_its_own_key_and_keeps_it_after_an_error(client, inspector, cam_pha, frozen):
    client.force_login(inspector)
    key = hidden_keys(client.get(reverse("port-call-new")).content.decode())["client_uuid"]
    assert hidden_keys(client.get(reverse("port-call-new")).content.decode())["client_uuid"] != key
    refused = client.post(reverse("port-call-new"), {**arrival_form(cam_pha, key), "arrived_at": "2021-08-12T12:00"})
    assert refused.status_code == 400
    assert hidden_keys(refused.content.decode()) == {"client_uuid": key}
    assert not PortCall.objects.exists()
    # Corrected and sent with the key it kept, it registers.
    assert client.post(reverse("port-call-new"), arrival_form(cam_pha, key)).status_code == 302
    assert PortCall.objects.get().client_uuid is not None


def test_a_malformed_key_is_refused_on_the_form(client, inspector, cam_pha, frozen):
    client.force_login(inspector)
    response = client.post(reverse("port-call-new"), arrival_form(cam_pha, "not-a-key"))
    assert response.status_code == 400
    assert "Biểu mẫu được gửi với mã không hợp lệ" in response.content.decode()
    assert not PortCall.objects.exists()


# --- The screening sheet -------------------------------------------------------------


def sheet_of(client, call, results: dict) -> dict:
    """The sheet as the page renders it, filled in: each person's result with their key."""
    page = client.get(call_url(call)).content.decode()
    keys = hidden_keys(page, call_url(call, "port-call-tests"))
    assert set(keys) == {f"key_{p.pk}" for p in people_of(call)}
    return {**sheet_post(call, results), **keys}


def test_a_sheet_posted_twice_stores_each_result_once_and_answers_the_same(client, inspector, make_call, frozen):
    call = make_call(crew=3)
    first_person, second, _third = people_of(call)
    client.force_login(inspector)
    data = sheet_of(client, call, {first_person: TestResult.NEGATIVE, second: TestResult.POSITIVE})
    first = answered(client, client.post(call_url(call, "port-call-tests"), data))
    again = answered(client, client.post(call_url(call, "port-call-tests"), data))
    assert message(first) == message(again) == "Đã lưu 2 kết quả."
    assert ScreeningTest.objects.filter(port_call=call).count() == 2


def test_a_sheet_sent_again_with_one_more_result_records_only_that_one(client, inspector, make_call, frozen):
    """Back on the page as it was, the inspector fills in the third person and sends it again."""
    call = make_call(crew=3)
    first_person, second, third = people_of(call)
    client.force_login(inspector)
    data = sheet_of(client, call, {first_person: TestResult.NEGATIVE, second: TestResult.NEGATIVE})
    answered(client, client.post(call_url(call, "port-call-tests"), data))
    again = answered(client, client.post(call_url(call, "port-call-tests"), {**data, f"result_{third.pk}": "negative"}))
    assert message(again) == "Đã lưu 3 kết quả."
    assert sorted(ScreeningTest.objects.values_list("person", flat=True)) == sorted(
        p.pk for p in (first_person, second, third)
    )


def test_every_person_and_every_render_of_the_sheet_has_its_own_key(client, inspector, make_call, frozen):
    call = make_call(crew=3)
    client.force_login(inspector)
    once = hidden_keys(client.get(call_url(call)).content.decode(), call_url(call, "port-call-tests"))
    twice = hidden_keys(client.get(call_url(call)).content.decode(), call_url(call, "port-call-tests"))
    assert len(set(once.values()) | set(twice.values())) == 6


def test_a_refused_sheet_keeps_its_keys(client, inspector, make_call, frozen):
    call = make_call(crew=2)
    client.force_login(inspector)
    data = sheet_of(client, call, dict.fromkeys(people_of(call), TestResult.NEGATIVE))
    refused = client.post(call_url(call, "port-call-tests"), {**data, "sampled_at": "2021-08-12T12:00"})
    assert refused.status_code == 400
    assert hidden_keys(refused.content.decode(), call_url(call, "port-call-tests")) == {
        k: v for k, v in data.items() if k.startswith("key_")
    }
    assert not ScreeningTest.objects.exists()


# --- The manifest and the departure --------------------------------------------------


def test_the_add_person_form_posted_twice_adds_the_person_once(client, inspector, make_call, frozen):
    call = make_call(crew=1)
    client.force_login(inspector)
    keys = hidden_keys(client.get(call_url(call)).content.decode(), call_url(call, "port-call-crew-add"))
    data = {"id_number": "022199000777", "full_name": "Đỗ Thị Hằng", "role": CrewRole.WORKER, **keys}
    first = answered(client, client.post(call_url(call, "port-call-crew-add"), data))
    again = answered(client, client.post(call_url(call, "port-call-crew-add"), data))
    assert message(first) == message(again)
    assert "Đỗ Thị Hằng" in message(again)
    assert CrewMember.objects.filter(port_call=call, person__id_number="022199000777").count() == 1


def test_a_refused_addition_keeps_its_key(client, inspector, make_call, frozen):
    call = make_call(crew=1)
    client.force_login(inspector)
    keys = hidden_keys(client.get(call_url(call)).content.decode(), call_url(call, "port-call-crew-add"))
    refused = client.post(call_url(call, "port-call-crew-add"), {"id_number": "12-34", "role": "crew", **keys})
    assert refused.status_code == 400
    assert hidden_keys(refused.content.decode(), call_url(call, "port-call-crew-add")) == keys


def test_the_remove_form_posted_twice_answers_as_the_first_time(client, inspector, make_call, frozen):
    call = make_call(crew=2)
    captain, sailor = people_of(call)
    client.force_login(inspector)
    remove_url = call_url(call, "port-call-crew-remove", sailor.pk)
    keys = hidden_keys(client.get(call_url(call)).content.decode(), remove_url)
    first = answered(client, client.post(remove_url, keys))
    again = answered(client, client.post(remove_url, keys))
    assert message(first) == message(again)
    assert sailor.full_name in message(again)
    assert people_of(call) == [captain]
    # A new removal (another key) of someone no longer on board is still refused.
    assert "không có trong danh sách" in client.post(remove_url).content.decode()


def test_the_departure_form_posted_twice_answers_as_the_first_time(client, inspector, make_call, frozen):
    call = make_call(crew=1)
    client.force_login(inspector)
    keys = hidden_keys(client.get(call_url(call)).content.decode(), call_url(call, "port-call-departure"))
    first = answered(client, client.post(call_url(call, "port-call-departure"), keys))
    with time_machine.travel(NOW + timedelta(minutes=3), tick=False):
        again = answered(client, client.post(call_url(call, "port-call-departure"), keys))
    assert message(first) == message(again)
    call.refresh_from_db()
    assert call.departed_at == NOW
    # A new departure (another key) is still refused.
    assert "Phương tiện đã rời bến rồi." in client.post(call_url(call, "port-call-departure")).content.decode()


def test_each_removal_form_has_its_own_key(client, inspector, make_call, frozen):
    call = make_call(crew=3)
    client.force_login(inspector)
    page = client.get(call_url(call)).content.decode()
    keys = [hidden_keys(page, call_url(call, "port-call-crew-remove", p.pk))["client_uuid"] for p in people_of(call)]
    assert len(set(keys)) == 3


# --- Queries: constant in the crew's size, sent once or twice -------------------------

# Each write: the session and user, the call in scope, its clearance (with the flags of
# R4 and R5), the lookup by key, the lock, the rows, the handover's state and the version
# raised, and the kit lots the sheet names (rule R7); a retry reads what the key stored and
# announces the call again.
SHEET_QUERIES = 24
SHEET_AGAIN_QUERIES = 20
ADD_QUERIES = 21
REMOVE_QUERIES = 22
DEPART_QUERIES = 22


@pytest.mark.parametrize("crew", [3, 30])
def test_sheet_queries_do_not_grow_with_crew(client, inspector, make_call, crew, frozen, django_assert_max_num_queries):
    call = make_call(crew=crew)
    client.force_login(inspector)
    data = sheet_of(client, call, dict.fromkeys(people_of(call), TestResult.NEGATIVE))
    with django_assert_max_num_queries(SHEET_QUERIES):
        assert client.post(call_url(call, "port-call-tests"), data).status_code == 302
    with django_assert_max_num_queries(SHEET_AGAIN_QUERIES):
        assert client.post(call_url(call, "port-call-tests"), data).status_code == 302
    assert ScreeningTest.objects.count() == crew


@pytest.mark.parametrize("crew", [3, 30])
def test_crew_change_and_departure_queries_do_not_grow_with_crew(
    client, inspector, make_call, crew, frozen, django_assert_max_num_queries
):
    call = make_call(crew=crew)
    client.force_login(inspector)
    page = client.get(call_url(call)).content.decode()
    sailor = people_of(call)[-1]
    add = {"id_number": "022199000777", "full_name": "Đỗ Thị Hằng", "role": CrewRole.WORKER}
    add.update(hidden_keys(page, call_url(call, "port-call-crew-add")))
    remove_url = call_url(call, "port-call-crew-remove", sailor.pk)
    remove = hidden_keys(page, remove_url)
    depart = hidden_keys(page, call_url(call, "port-call-departure"))
    for _time in ("first", "again"):
        with django_assert_max_num_queries(ADD_QUERIES):
            assert client.post(call_url(call, "port-call-crew-add"), add).status_code == 302
        with django_assert_max_num_queries(REMOVE_QUERIES):
            assert client.post(remove_url, remove).status_code == 302
    for _time in ("first", "again"):
        with django_assert_max_num_queries(DEPART_QUERIES):
            assert client.post(call_url(call, "port-call-departure"), depart).status_code == 302
    assert CrewMember.objects.filter(port_call=call).count() == crew + 1
