"""The server-rendered pages: home, registering an arrival, a port call's screening sheet,
handover approval and the approvals list. Rules are the services' (tested elsewhere);
these tests check that each page reaches them, shows their answer and stays in scope."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from crews.choices import CrewRole, TestKind, TestResult
from crews.manifest import remove_crew_member
from crews.models import CrewMember, ScreeningTest
from crews.results import TestData, record_tests
from tests.helpers import ARRIVAL, people_of
from tests.vessels.helpers import PORT_CALL_QUERIES, sheet_post
from vessels.models import Handover, PortCall
from vessels.services import approve_handover

# An hour after ARRIVAL: samples taken "now" on the sheet are after arrival and still valid.
NOW = ARRIVAL + timedelta(hours=1)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def call_url(call, name="port-call") -> str:
    return reverse(name, args=[call.pk])


def record_all(user, call, result=TestResult.NEGATIVE, sampled_at=None):
    sampled_at = sampled_at or call.arrived_at + timedelta(minutes=30)
    entries = [
        TestData(person=p, kind=TestKind.RAPID, sampled_at=sampled_at, result=result, port_call=call)
        for p in people_of(call)
    ]
    return record_tests(user, entries, now=sampled_at + timedelta(minutes=20))


# --- Login and scope -----------------------------------------------------------------


def test_every_page_requires_login(client, make_call):
    call = make_call()
    for url in [reverse("home"), reverse("approvals"), reverse("port-call-new"), call_url(call)]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")


def test_login_page_logs_the_inspector_in(client, inspector):
    assert "Đăng nhập" in client.get(reverse("login")).content.decode()
    response = client.post(reverse("login"), {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_logout_is_a_post_from_the_header(client, inspector):
    client.force_login(inspector)
    page = client.get(reverse("home")).content.decode()
    assert f'action="{reverse("logout")}" method="post"' in page
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_port_call_outside_the_inspectors_wharves_is_not_found(client, make_call, outsider):
    call = make_call()
    client.force_login(outsider)
    assert client.get(call_url(call)).status_code == 404
    for name in ["port-call-tests", "port-call-crew-add", "port-call-handover", "port-call-departure"]:
        assert client.post(call_url(call, name)).status_code == 404
    assert client.get(reverse("port-call", args=[999999])).status_code == 404


# --- Home ----------------------------------------------------------------------------


def test_home_lists_the_open_calls_of_the_inspectors_wharves(client, inspector, make_call, outsider, ha_long):
    call = make_call(crew=3)
    elsewhere = make_call(crew=2, wharf=ha_long, by=outsider)
    client.force_login(inspector)
    with time_machine.travel(NOW, tick=False):
        page = client.get(reverse("home")).content.decode()
    assert call.vessel.registration in page
    assert elsewhere.vessel.registration not in page
    assert "Bến Mông Dương" in page
    assert "Chờ xét nghiệm" in page
    assert reverse("port-call-new") in page


def test_home_counts_tested_negative_and_blocking(client, inspector, make_call, record):
    call = make_call(crew=3)
    first, second, _third = people_of(call)
    record(call, first)
    record(call, second, result=TestResult.POSITIVE)
    client.force_login(inspector)
    with time_machine.travel(ARRIVAL + timedelta(hours=2), tick=False):
        page = client.get(reverse("home")).content.decode()
    assert "Bị chặn" in page
    assert "xét nghiệm <b>2</b>" in page
    assert "âm tính <b>1</b>" in page
    assert "chặn <b>2</b>" in page


def test_home_hides_departed_calls(client, inspector, make_call):
    call = make_call()
    PortCall.objects.filter(pk=call.pk).update(departed_at=NOW)
    client.force_login(inspector)
    assert call.vessel.registration not in client.get(reverse("home")).content.decode()


def test_authority_sees_every_wharf_in_route_order(client, authority, make_call, outsider, ha_long, cam_pha):
    make_call()
    make_call(wharf=ha_long, by=outsider)
    client.force_login(authority)
    page = client.get(reverse("home")).content.decode()
    assert page.index("CP-03") < page.index("HL-01")
    assert reverse("port-call-new") not in page
    assert reverse("approvals") in page


# --- Registering an arrival ----------------------------------------------------------


def test_registering_an_arrival_reads_the_time_in_vietnam(client, inspector, cam_pha, frozen):
    client.force_login(inspector)
    page = client.get(reverse("port-call-new")).content.decode()
    assert 'value="2021-08-12T09:00"' in page  # now, in Vietnam time
    response = client.post(
        reverse("port-call-new"),
        {
            "wharf": cam_pha.pk,
            "registration": "qn 4567",
            "name": "Hoàng Long 18",
            "kind": "self_propelled_barge",
            "arrived_at": "2021-08-12T08:00",
            "origin": "Hải Phòng",
            "cargo_kind": "than cám",
            "cargo_tonnes": "850",
        },
    )
    call = PortCall.objects.get()
    assert response.status_code == 302
    assert response["Location"] == call_url(call)
    assert call.arrived_at == ARRIVAL
    assert call.vessel.registration == "QN-4567"
    assert call.registered_by == inspector


def test_an_arrival_in_the_future_is_refused_on_the_form(client, inspector, cam_pha, frozen):
    client.force_login(inspector)
    response = client.post(
        reverse("port-call-new"),
        {"wharf": cam_pha.pk, "registration": "QN-4567", "kind": "tug", "arrived_at": "2021-08-12T12:00"},
    )
    assert response.status_code == 400
    assert "Thời điểm này ở tương lai." in response.content.decode()
    assert not PortCall.objects.exists()


def test_an_inspector_cannot_register_at_another_wharf(client, inspector, ha_long, frozen):
    client.force_login(inspector)
    response = client.post(
        reverse("port-call-new"),
        {"wharf": ha_long.pk, "registration": "QN-4567", "kind": "tug", "arrived_at": "2021-08-12T08:00"},
    )
    assert response.status_code == 400
    assert not PortCall.objects.exists()


def test_the_port_authority_does_not_register_arrivals(client, authority):
    client.force_login(authority)
    assert client.get(reverse("port-call-new")).status_code == 403


# --- The screening sheet -------------------------------------------------------------


def test_port_call_page_shows_the_whole_manifest_with_its_screening(client, inspector, make_call, frozen):
    call = make_call(crew=3)
    client.force_login(inspector)
    page = client.get(call_url(call)).content.decode()
    for person in people_of(call):
        assert person.full_name in page
        assert person.id_number in page
    assert page.count('data-screening="untested"') == 3
    assert "Chưa xét nghiệm cho lượt cập bến này." in page
    assert "Thuyền trưởng" in page
    assert len(re.findall(r'value="" id="id_result_\d+_0" checked', page)) == 3  # "not tested now" by default


def test_screening_sheet_saves_everyones_result_in_one_submit(client, inspector, make_call, frozen):
    call = make_call(crew=3)
    first, second, third = people_of(call)
    client.force_login(inspector)
    data = sheet_post(call, {first: TestResult.NEGATIVE, second: TestResult.NEGATIVE, third: TestResult.PENDING})
    response = client.post(call_url(call, "port-call-tests"), data)
    assert response.status_code == 302
    tests = ScreeningTest.objects.filter(port_call=call)
    assert sorted(t.result for t in tests) == ["negative", "negative", "pending"]
    assert {t.recorded_by for t in tests} == {inspector}
    assert {t.kit_lot for t in tests} == {"LOT-7"}
    page = client.get(response["Location"]).content.decode()
    assert "Đã lưu 3 kết quả." in page
    assert page.count('data-screening="negative"') == 2
    assert page.count('data-screening="pending"') == 1


def test_people_left_at_not_tested_now_get_no_record(client, inspector, make_call, frozen):
    call = make_call(crew=3)
    first, _second, _third = people_of(call)
    client.force_login(inspector)
    client.post(call_url(call, "port-call-tests"), sheet_post(call, {first: TestResult.NEGATIVE}))
    assert list(ScreeningTest.objects.values_list("person", flat=True)) == [first.pk]


def test_a_sample_time_in_the_future_saves_nothing_and_says_why(client, inspector, make_call, frozen):
    call = make_call(crew=3)
    client.force_login(inspector)
    data = sheet_post(call, dict.fromkeys(people_of(call), TestResult.NEGATIVE), sampled_at=NOW + timedelta(hours=2))
    response = client.post(call_url(call, "port-call-tests"), data)
    assert response.status_code == 400
    assert "Thời điểm này ở tương lai." in response.content.decode()
    assert not ScreeningTest.objects.exists()


def test_a_sample_before_arrival_saves_nothing(client, inspector, make_call, frozen):
    call = make_call(crew=2)
    client.force_login(inspector)
    data = sheet_post(
        call, dict.fromkeys(people_of(call), TestResult.NEGATIVE), sampled_at=ARRIVAL - timedelta(hours=1)
    )
    response = client.post(call_url(call, "port-call-tests"), data)
    assert response.status_code == 400
    assert "Mẫu được lấy trước khi phương tiện cập bến." in response.content.decode()
    assert not ScreeningTest.objects.exists()


def test_an_empty_sheet_asks_for_a_result(client, inspector, make_call, frozen):
    call = make_call(crew=2)
    client.force_login(inspector)
    response = client.post(call_url(call, "port-call-tests"), sheet_post(call, {}))
    assert response.status_code == 400
    assert "Hãy chọn kết quả cho ít nhất một người." in response.content.decode()


def test_a_result_for_someone_removed_meanwhile_refuses_the_sheet_naming_them(client, inspector, make_call, frozen):
    """A sheet kept on a phone with no signal can reach the server after someone on it was
    removed from the manifest: it is refused whole, naming them, not saved without them."""
    call = make_call(crew=3)
    captain, sailor, third = people_of(call)
    data = sheet_post(call, {captain: TestResult.NEGATIVE, sailor: TestResult.NEGATIVE})
    remove_crew_member(inspector, call.pk, third.pk)
    data[f"result_{third.pk}"] = TestResult.NEGATIVE
    client.force_login(inspector)
    response = client.post(call_url(call, "port-call-tests"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert f"Không còn trong danh sách thuyền viên: {third.full_name}." in page
    assert not ScreeningTest.objects.filter(port_call=call).exists()


def test_the_port_authority_has_no_screening_sheet(client, authority, make_call, frozen):
    call = make_call(crew=2)
    client.force_login(authority)
    page = client.get(call_url(call)).content.decode()
    assert call_url(call, "port-call-tests") not in page
    response = client.post(
        call_url(call, "port-call-tests"), sheet_post(call, dict.fromkeys(people_of(call), "negative"))
    )
    assert response.status_code == 403
    assert not ScreeningTest.objects.exists()


# --- The manifest --------------------------------------------------------------------


def test_adding_a_person_puts_them_on_the_manifest(client, inspector, make_call, frozen):
    call = make_call(crew=1)
    client.force_login(inspector)
    response = client.post(
        call_url(call, "port-call-crew-add"),
        {
            "id_number": "022199000777",
            "full_name": "Đỗ Thị Hằng",
            "role": CrewRole.WORKER,
            "date_of_birth": "1990-03-04",
        },
    )
    assert response.status_code == 302
    member = CrewMember.objects.get(port_call=call, person__id_number="022199000777")
    assert member.role == CrewRole.WORKER
    assert str(member.person.date_of_birth) == "1990-03-04"


def test_a_malformed_id_number_is_shown_on_the_add_form(client, inspector, make_call, frozen):
    call = make_call(crew=1)
    client.force_login(inspector)
    response = client.post(
        call_url(call, "port-call-crew-add"), {"id_number": "12-34", "full_name": "Đỗ Thị Hằng", "role": "crew"}
    )
    assert response.status_code == 400
    assert "không phải số CCCD 12 chữ số" in response.content.decode()
    assert CrewMember.objects.filter(port_call=call).count() == 1


def test_removing_a_person_takes_them_off_the_manifest(client, inspector, make_call, frozen):
    call = make_call(crew=2)
    _captain, sailor = people_of(call)
    client.force_login(inspector)
    response = client.post(reverse("port-call-crew-remove", args=[call.pk, sailor.pk]))
    assert response.status_code == 302
    assert people_of(call) == [_captain]


def test_a_positive_person_cannot_be_removed_and_the_page_says_so(client, inspector, make_call, record):
    call = make_call(crew=2)
    _captain, sailor = people_of(call)
    record(call, sailor, result=TestResult.POSITIVE)
    client.force_login(inspector)
    with time_machine.travel(ARRIVAL + timedelta(hours=2), tick=False):
        response = client.post(reverse("port-call-crew-remove", args=[call.pk, sailor.pk]))
    assert response.status_code == 400
    assert f"{sailor.full_name} có kết quả dương tính" in response.content.decode()
    assert len(people_of(call)) == 2


def test_recording_departure_closes_the_call(client, inspector, make_call, frozen):
    call = make_call(crew=1)
    client.force_login(inspector)
    response = client.post(call_url(call, "port-call-departure"))
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.departed_at == NOW
    page = client.get(call_url(call)).content.decode()
    assert "Đã rời bến" in page
    assert call_url(call, "port-call-tests") not in page


# --- Handover ------------------------------------------------------------------------


def test_refused_approval_shows_who_blocks_and_why(client, authority, inspector, make_call, record):
    call = make_call(crew=3)
    first, second, third = people_of(call)
    record(call, first)
    record(call, second, result=TestResult.POSITIVE)
    client.force_login(authority)
    with time_machine.travel(ARRIVAL + timedelta(hours=2), tick=False):
        response = client.post(call_url(call, "port-call-handover"))
    page = response.content.decode()
    assert response.status_code == 409
    assert not Handover.objects.exists()
    assert "Chưa thể duyệt giao nhận hàng." in page
    blocked = page[page.index('id="blocked"') :]
    blocked = blocked[: blocked.index("</section>")]
    assert first.full_name not in blocked
    assert second.full_name in blocked and second.id_number in blocked
    assert "Xét nghiệm nhanh dương tính, chờ khẳng định bằng RT-PCR." in blocked
    assert third.full_name in blocked
    assert "Chưa xét nghiệm cho lượt cập bến này." in blocked


def test_approval_succeeds_when_everyone_is_negative(client, authority, inspector, make_call):
    call = make_call(crew=3)
    record_all(inspector, call)
    client.force_login(authority)
    with time_machine.travel(ARRIVAL + timedelta(hours=2), tick=False):
        page = client.get(call_url(call)).content.decode()
        assert "Đủ điều kiện" in page
        assert call_url(call, "port-call-handover") in page
        response = client.post(call_url(call, "port-call-handover"))
        assert response.status_code == 302
        handover = Handover.objects.get(port_call=call)
        assert handover.approved_by == authority
        assert handover.evidence.count() == 3
        page = client.get(response["Location"]).content.decode()
    assert "Đã duyệt giao hàng" in page
    assert "Duyệt bởi bob lúc 10:00 12/08/2021." in page
    for person in people_of(call):
        assert person.full_name in page[page.index('id="handover"') :]


def test_an_inspector_has_no_approve_button_and_cannot_approve(client, inspector, make_call):
    call = make_call(crew=2)
    record_all(inspector, call)
    client.force_login(inspector)
    with time_machine.travel(ARRIVAL + timedelta(hours=2), tick=False):
        page = client.get(call_url(call)).content.decode()
        assert call_url(call, "port-call-handover") not in page
        response = client.post(call_url(call, "port-call-handover"))
    assert response.status_code == 403
    assert "Chỉ Cảng vụ được duyệt giao nhận hàng." in response.content.decode()
    assert not Handover.objects.exists()


def test_approving_from_the_approvals_page_returns_there(client, authority, inspector, make_call):
    call = make_call(crew=1)
    record_all(inspector, call)
    client.force_login(authority)
    with time_machine.travel(ARRIVAL + timedelta(hours=2), tick=False):
        response = client.post(call_url(call, "port-call-handover"), {"next": reverse("approvals")})
        assert response["Location"] == reverse("approvals")
        response = client.post(call_url(call, "port-call-handover"), {"next": "https://evil.example/"})
    assert Handover.objects.count() == 1
    assert response.status_code == 400  # already approved


# --- Approvals -----------------------------------------------------------------------


def test_approvals_page_is_for_authority_and_health_only(client, inspector, authority, health):
    client.force_login(inspector)
    assert client.get(reverse("approvals")).status_code == 403
    for user in (authority, health):
        client.force_login(user)
        assert client.get(reverse("approvals")).status_code == 200


def test_approvals_page_splits_cleared_calls_from_blocked_ones(client, authority, inspector, make_call, record):
    cleared = make_call(crew=2)
    record_all(inspector, cleared)
    blocked = make_call(crew=2)
    first, second = people_of(blocked)
    record(blocked, first, result=TestResult.POSITIVE)
    client.force_login(authority)
    with time_machine.travel(ARRIVAL + timedelta(hours=2), tick=False):
        page = client.get(reverse("approvals")).content.decode()
    waiting = page[page.index('id="waiting"') : page.index('id="blocked"')]
    blocking = page[page.index('id="blocked"') : page.index('id="approved"')]
    assert cleared.vessel.registration in waiting
    assert call_url(cleared, "port-call-handover") in waiting
    assert blocked.vessel.registration in blocking
    assert first.full_name in blocking and second.full_name in blocking
    assert "Xét nghiệm nhanh dương tính, chờ khẳng định bằng RT-PCR." in blocking
    assert call_url(blocked, "port-call-handover") not in page


def test_health_officers_see_approvals_without_approve_buttons(client, health, inspector, make_call):
    call = make_call(crew=1)
    record_all(inspector, call)
    client.force_login(health)
    with time_machine.travel(ARRIVAL + timedelta(hours=2), tick=False):
        page = client.get(reverse("approvals")).content.decode()
    assert call.vessel.registration in page
    assert call_url(call, "port-call-handover") not in page


# --- Language ------------------------------------------------------------------------


def test_pages_are_in_vietnamese_by_default(client, inspector, make_call, frozen):
    call = make_call()
    client.force_login(inspector)
    page = client.get(call_url(call)).content.decode()
    assert '<html lang="vi">' in page
    assert "Phiếu xét nghiệm" in page
    assert "Âm tính" in page
    assert "Đăng xuất" in page


def test_pages_are_in_english_when_the_browser_asks(client, inspector, make_call, frozen):
    call = make_call()
    client.force_login(inspector)
    page = client.get(call_url(call), headers={"accept-language": "en"}).content.decode()
    assert '<html lang="en">' in page
    assert "Screening sheet" in page
    assert "Negative" in page
    assert "Phiếu xét nghiệm" not in page


def test_the_language_switch_remembers_english(client, inspector):
    client.force_login(inspector)
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})
    assert response.status_code == 302
    page = client.get(reverse("home")).content.decode()
    assert "Log out" in page
    assert "Đăng xuất" not in page


# --- Query counts: the same ceiling at two sizes of data -----------------------------

# Each page evaluates clearance with the flags beside each status: epidemic areas (R4)
# and violations (R5), one query each whatever the number of calls. The port call page
# adds one for its recorded results, corrections and their authors. The approvals page
# logs its read of who blocks each call (rule R8): one INSERT.
HOME_QUERIES = 12
APPROVALS_QUERIES = 12


@pytest.fixture(params=[(1, 3), (20, 30)], ids=["1x3", "20x30"])
def berthed(request, make_call, inspector, authority):
    """``calls`` open calls of ``crew`` people: the first cleared and approved, the second
    with a positive, the rest untested."""
    calls_count, crew = request.param
    calls = [make_call(crew=crew) for _ in range(calls_count)]
    record_all(inspector, calls[0])
    approve_handover(authority, calls[0].pk, now=ARRIVAL + timedelta(hours=1))
    if calls_count > 1:
        record_all(inspector, calls[1], result=TestResult.POSITIVE)
        record_all(inspector, calls[2])
    return calls


def test_home_runs_a_fixed_number_of_queries(client, inspector, authority, berthed, django_assert_max_num_queries):
    for user in (inspector, authority):
        client.force_login(user)
        with time_machine.travel(ARRIVAL + timedelta(hours=2), tick=False), django_assert_max_num_queries(HOME_QUERIES):
            response = client.get(reverse("home"))
        assert response.content.decode().count('class="call-card"') == len(berthed)


def test_port_call_page_runs_a_fixed_number_of_queries(client, inspector, berthed, django_assert_max_num_queries):
    client.force_login(inspector)
    with (
        time_machine.travel(ARRIVAL + timedelta(hours=2), tick=False),
        django_assert_max_num_queries(PORT_CALL_QUERIES),
    ):
        response = client.get(call_url(berthed[0]))
    assert response.content.decode().count('data-screening="negative"') == berthed[0].crew.count()


def test_approvals_page_runs_a_fixed_number_of_queries(client, authority, berthed, django_assert_max_num_queries):
    client.force_login(authority)
    with (
        time_machine.travel(ARRIVAL + timedelta(hours=2), tick=False),
        django_assert_max_num_queries(APPROVALS_QUERIES),
    ):
        response = client.get(reverse("approvals"))
    page = response.content.decode()
    assert all(call.vessel.registration in page for call in berthed)
