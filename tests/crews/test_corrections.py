"""A recorded result is never edited in place (SPEC §2): no door changes one, and a
correction is a new record that supersedes it, naming who made it and why."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import transaction
from django.urls import Resolver404, resolve, reverse
from rest_framework.test import APIClient

from crews.choices import TestKind, TestResult
from crews.corrections import correct_test
from crews.models import ScreeningTest
from crews.results import TestData
from crews.stations import record_staff_test
from portguard import roles
from portguard.domain import NotAllowed
from realtime.snapshot import dashboard_snapshot
from tests.crews.helpers import START, STATION_PAGE_QUERIES
from tests.helpers import ARRIVAL, VN, client_for, make_user, people_of, refused
from tests.vessels.helpers import PORT_CALL_QUERIES
from vessels.models import Alert


@pytest.fixture
def positive(make_call, record):
    call = make_call(crew=1)
    return record(call, people_of(call)[0], result=TestResult.POSITIVE)


def columns(test: ScreeningTest) -> tuple:
    return ScreeningTest.objects.filter(pk=test.pk).values_list().get()


def test_no_url_addresses_one_recorded_test():
    for path in ("/api/v1/tests/1/", "/tests/1/", "/api/v1/tests/1/correction/"):
        with pytest.raises(Resolver404):
            resolve(path)


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_the_api_answers_405_to_editing_tests_and_changes_nothing(positive, inspector, method):
    before = columns(positive)
    api = APIClient()
    api.force_authenticate(inspector)
    response = getattr(api, method)("/api/v1/tests/", {"id": positive.pk, "result": "negative"}, format="json")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert columns(positive) == before


def test_the_admin_shows_a_test_without_a_form_to_change_it_even_to_a_superuser(client, positive):
    client.force_login(User.objects.create_superuser("root", password="pw-root"))
    page = client.get(reverse("admin:crews_screeningtest_change", args=[positive.pk])).content.decode()
    assert positive.person.full_name in page
    assert 'name="_save"' not in page
    assert 'name="result"' not in page


def test_neither_save_nor_a_queryset_update_rewrites_a_result(positive):
    before = columns(positive)
    positive.result = TestResult.NEGATIVE
    with pytest.raises(ValueError, match="never edited"):
        positive.save()
    with pytest.raises(ValueError, match="never edited"):
        ScreeningTest.objects.filter(pk=positive.pk).update(result=TestResult.NEGATIVE)
    with pytest.raises(ValueError, match="never edited"), transaction.atomic():
        ScreeningTest.objects.bulk_update([positive], ["result"])
    assert columns(positive) == before


def test_a_correction_is_a_new_record_naming_its_author_and_reason(positive, health):
    before = columns(positive)
    fixed = correct_test(health, positive, TestResult.NEGATIVE, "  Nhập nhầm kết quả  ")
    assert fixed.pk != positive.pk
    assert (fixed.supersedes, fixed.recorded_by, fixed.correction_reason) == (positive, health, "Nhập nhầm kết quả")
    assert (fixed.person, fixed.port_call, fixed.kind, fixed.sampled_at) == (
        positive.person,
        positive.port_call,
        positive.kind,
        positive.sampled_at,
    )
    assert columns(positive) == before


def test_a_result_is_corrected_once_and_a_correction_needs_a_reason(positive, inspector):
    with refused("invalid", field="reason"):
        correct_test(inspector, positive, TestResult.NEGATIVE, " ")
    correct_test(inspector, positive, TestResult.NEGATIVE, "Nhập nhầm kết quả")
    with refused("already_corrected"):
        correct_test(inspector, positive, TestResult.INVALID, "Lần nữa")
    assert ScreeningTest.objects.count() == 2


@pytest.mark.parametrize("who", ["outsider", "authority", "supervisor"])
def test_only_someone_who_records_at_that_wharf_corrects_its_result(positive, who, request):
    with refused("forbidden", NotAllowed):
        correct_test(request.getfixturevalue(who), positive, TestResult.NEGATIVE, "Nhập nhầm kết quả")
    assert ScreeningTest.objects.count() == 1


def test_a_kcs_staff_result_is_corrected_only_by_a_supervisor_of_its_station(rostered, supervisor, other_supervisor):
    station = rostered(staff=1, days=1)
    person = station.staff.get().person
    sampled_at = datetime.combine(START, time(15), tzinfo=VN)  # after the first shift
    test, _created = record_staff_test(
        supervisor,
        station,
        TestData(person=person, kind=TestKind.RAPID, sampled_at=sampled_at, result=TestResult.POSITIVE),
        now=sampled_at + timedelta(minutes=20),
    )
    with refused("forbidden", NotAllowed, field="station"):
        correct_test(other_supervisor, test, TestResult.NEGATIVE, "Nhập nhầm kết quả")
    fixed = correct_test(supervisor, test, TestResult.NEGATIVE, "Nhập nhầm kết quả")
    assert (fixed.station, fixed.recorded_by) == (station, supervisor)


# --- Through the API and the pages -----------------------------------------------------

NOW = ARRIVAL + timedelta(hours=2)
REASON = "Nhập nhầm kết quả: kit đọc âm tính"


@pytest.fixture
def clock():
    """The berth's clock, two hours after arrival: the recorded negatives are valid."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def correct_url(test: ScreeningTest) -> str:
    return reverse("api:test-corrections", args=[test.pk])


def post_correction(user, test: ScreeningTest, **body):
    return client_for(user).post(correct_url(test), {"result": "negative", "reason": REASON, **body}, format="json")


def status_of(call, user) -> str:
    return client_for(user).get(reverse("api:port-call", args=[call.pk])).json()["status"]


def of_type(broadcasts, kind: str) -> list[dict]:
    return [e for e in broadcasts if e["type"] == kind]


def test_a_health_officer_corrects_a_positive_through_the_api_the_call_is_cleared_and_its_alert_closed(
    clock, make_call, record, health, inspector, cam_pha, broadcasts, django_capture_on_commit_callbacks
):
    call = make_call(crew=1)
    positive = record(call, people_of(call)[0], result=TestResult.POSITIVE, now=NOW)
    alert = Alert.objects.get(test=positive)
    assert status_of(call, health) == "blocked"
    assert [a["alert"] for a in dashboard_snapshot(inspector, cam_pha)["alerts"]] == [alert.pk]

    with django_capture_on_commit_callbacks(execute=True):
        response = post_correction(health, positive)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["supersedes"], body["result"], body["recorded_by"]) == (positive.pk, "negative", "hoa")
    assert (body["correction_reason"], body["id_number"], body["port_call"]) == (
        REASON,
        positive.person.id_number,
        call.pk,
    )
    assert status_of(call, health) == "cleared"
    alert.refresh_from_db()
    assert (alert.closed_at, alert.closed_by, alert.closed_reason) == (NOW, health, REASON)
    (closed,) = of_type(broadcasts, "alert.closed")
    assert (closed["alert"], closed["reason"], closed["closed_by"]) == (alert.pk, REASON, "hoa")
    assert [e["port_call"]["status"] for e in of_type(broadcasts, "port_call.updated")] == ["cleared"]
    assert [e["test"]["id"] for e in of_type(broadcasts, "test.recorded")] == [body["id"]]
    assert of_type(broadcasts, "alert.positive") == []
    # A dashboard that reconnects does not raise it again.
    assert dashboard_snapshot(inspector, cam_pha)["alerts"] == []


def test_a_negative_corrected_to_positive_blocks_the_call_and_raises_an_alert_like_a_new_positive(
    clock, make_call, record, inspector, broadcasts, django_capture_on_commit_callbacks
):
    call = make_call(crew=1)
    negative = record(call, people_of(call)[0], now=NOW)
    assert status_of(call, inspector) == "cleared"
    with django_capture_on_commit_callbacks(execute=True):
        response = post_correction(inspector, negative, result="positive")
    assert response.status_code == 201, response.json()
    assert status_of(call, inspector) == "blocked"
    alert = Alert.objects.get()
    assert alert.test_id == response.json()["id"]
    assert [e["alert"] for e in of_type(broadcasts, "alert.positive")] == [alert.pk]
    assert of_type(broadcasts, "alert.closed") == []


@pytest.mark.parametrize(
    ("later", "status_code"), [(timedelta(hours=7, minutes=59), 201), (timedelta(hours=8, minutes=1), 403)]
)
def test_the_recorder_corrects_within_the_same_shift_and_not_after(
    clock, make_call, record, inspector, later, status_code
):
    call = make_call(crew=1)
    positive = record(call, people_of(call)[0], result=TestResult.POSITIVE, now=NOW)
    clock.shift(later)
    response = post_correction(inspector, positive)
    assert response.status_code == status_code, response.json()
    assert ScreeningTest.objects.count() == (2 if status_code == 201 else 1)
    if status_code == 403:
        assert response.json()["error"] == "forbidden"
        # A health officer still may.
        assert post_correction(make_user("lan", roles.HEALTH), positive).status_code == 201


def test_the_shift_is_the_correction_window_setting(clock, settings, make_call, record, inspector):
    settings.PORTGUARD_CORRECTION_WINDOW_HOURS = 1
    call = make_call(crew=1)
    positive = record(call, people_of(call)[0], result=TestResult.POSITIVE, now=NOW)
    clock.shift(timedelta(hours=1, minutes=1))
    assert post_correction(inspector, positive).status_code == 403


def test_another_inspector_of_the_same_wharf_may_not_correct_a_result_they_did_not_record(
    clock, make_call, record, cam_pha
):
    call = make_call(crew=1)
    positive = record(call, people_of(call)[0], result=TestResult.POSITIVE, now=NOW)
    colleague = make_user("dung", roles.INSPECTOR, [cam_pha])
    response = post_correction(colleague, positive)
    assert response.status_code == 403
    assert set(response.json()) >= {"error", "message"}
    assert ScreeningTest.objects.count() == 1


@pytest.mark.parametrize("who", ["outsider", "supervisor"])
def test_a_result_outside_the_callers_scope_is_unknown_to_them(clock, make_call, record, who, request):
    call = make_call(crew=1)
    positive = record(call, people_of(call)[0], result=TestResult.POSITIVE, now=NOW)
    response = post_correction(request.getfixturevalue(who), positive)
    assert (response.status_code, response.json()["error"]) == (404, "not_found")
    assert ScreeningTest.objects.count() == 1


def test_the_port_authority_sees_the_result_but_may_not_correct_it(clock, make_call, record, authority):
    call = make_call(crew=1)
    positive = record(call, people_of(call)[0], result=TestResult.POSITIVE, now=NOW)
    assert post_correction(authority, positive).status_code == 403


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_correction_without_a_reason_is_refused_naming_the_field(clock, make_call, record, health, reason):
    call = make_call(crew=1)
    positive = record(call, people_of(call)[0], result=TestResult.POSITIVE, now=NOW)
    body = {"result": "negative"} if reason is None else {"result": "negative", "reason": reason}
    response = client_for(health).post(correct_url(positive), body, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["reason"]
    assert ScreeningTest.objects.count() == 1


def test_an_unknown_result_or_the_same_result_is_refused_naming_the_field(clock, make_call, record, health):
    call = make_call(crew=1)
    positive = record(call, people_of(call)[0], result=TestResult.POSITIVE, now=NOW)
    for result in ("negatif", "positive"):
        response = post_correction(health, positive, result=result)
        assert response.status_code == 400
        assert list(response.json()["fields"]) == ["result"]
    assert ScreeningTest.objects.count() == 1


def test_a_result_already_corrected_answers_409(clock, make_call, record, health, inspector):
    call = make_call(crew=1)
    positive = record(call, people_of(call)[0], result=TestResult.POSITIVE, now=NOW)
    assert post_correction(inspector, positive).status_code == 201
    response = post_correction(health, positive, result="invalid")
    assert (response.status_code, response.json()["error"]) == (409, "already_corrected")
    assert ScreeningTest.objects.count() == 2


def test_a_kcs_staff_result_is_corrected_through_the_api_and_its_alert_closed(
    clock, rostered, supervisor, other_supervisor, health, broadcasts, django_capture_on_commit_callbacks
):
    station = rostered(staff=1, days=1)
    test = staff_positive(supervisor, station)
    assert post_correction(other_supervisor, test).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = post_correction(supervisor, test)
    assert response.status_code == 201, response.json()
    fixed = ScreeningTest.objects.get(pk=response.json()["id"])
    assert (fixed.station, fixed.supersedes, fixed.recorded_by) == (station, test, supervisor)
    for alert in Alert.objects.filter(test=test):
        assert (alert.closed_by, alert.closed_reason) == (supervisor, REASON)
    assert [e["alert"] for e in of_type(broadcasts, "alert.closed")] == list(
        Alert.objects.filter(test=test).values_list("pk", flat=True)
    )


def test_a_kcs_staff_negative_corrected_to_positive_raises_the_staff_alert(
    clock, rostered, supervisor, broadcasts, django_capture_on_commit_callbacks
):
    station = rostered(staff=1, days=1)
    person = station.staff.get().person
    negative, _created = record_staff_test(
        supervisor, station, TestData(person, TestKind.RAPID, NOW - timedelta(minutes=30), TestResult.NEGATIVE), now=NOW
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = post_correction(supervisor, negative, result="positive")
    assert response.status_code == 201, response.json()
    alert = Alert.objects.get()
    assert (alert.test_id, alert.station, alert.wharf) == (response.json()["id"], station, station.wharf)
    assert [e["alert"] for e in of_type(broadcasts, "alert.positive")] == [alert.pk]


@pytest.mark.parametrize("crew", [2, 20])
def test_a_correction_runs_a_fixed_number_of_queries(
    clock, make_call, record, health, crew, django_assert_max_num_queries
):
    call = make_call(crew=crew)
    for person in people_of(call)[1:]:
        record(call, person, now=NOW)
    positive = record(call, people_of(call)[0], result=TestResult.POSITIVE, now=NOW)
    client = client_for(health)
    with django_assert_max_num_queries(CORRECTION_QUERIES):
        response = client.post(correct_url(positive), {"result": "negative", "reason": REASON}, format="json")
    assert response.status_code == 201


CORRECTION_QUERIES = 30


def staff_positive(supervisor, station) -> ScreeningTest:
    """A positive rapid test of the station's first staff member, recorded now."""
    person = station.staff.get().person
    test, _created = record_staff_test(
        supervisor,
        station,
        TestData(
            person=person, kind=TestKind.RAPID, sampled_at=NOW - timedelta(minutes=30), result=TestResult.POSITIVE
        ),
        now=NOW,
    )
    return test


# --- The pages ---------------------------------------------------------------------------


def results_section(page: str) -> str:
    return page.split('id="results"', 1)[1].split("</section>", 1)[0]


def test_the_port_call_page_corrects_a_result_and_strikes_the_original_through(
    clock, client, make_call, record, inspector
):
    call = make_call(crew=2)
    positive = record(call, people_of(call)[0], result=TestResult.POSITIVE, now=NOW)
    page = reverse("port-call", args=[call.pk])
    client.force_login(inspector)
    before = results_section(client.get(page).content.decode())
    assert f'action="{reverse("test-correct", args=[positive.pk])}"' in before
    assert "Sửa kết quả" in before

    response = client.post(
        reverse("test-correct", args=[positive.pk]), {"result": "negative", "reason": REASON, "next": page}
    )

    assert response.status_code == 302
    assert response["Location"] == page + "#results"
    fixed = ScreeningTest.objects.get(supersedes=positive)
    assert (fixed.result, fixed.recorded_by, fixed.correction_reason) == ("negative", inspector, REASON)
    after = client.get(page).content.decode()
    section = results_section(after)
    struck = section.split(f'data-result="{positive.pk}"', 1)[1].split("</li>", 1)[0]
    assert "<del>" in struck and "dương tính" in struck.split("<del>", 1)[1].split("</del>", 1)[0]
    assert f'action="{reverse("test-correct", args=[positive.pk])}"' not in section
    correction = section.split(f'data-result="{fixed.pk}"', 1)[1].split("</li>", 1)[0]
    assert "alice" in correction and REASON in correction
    assert 'data-screening="negative"' in after


def test_the_port_call_page_offers_the_form_only_to_who_may_correct(
    clock, client, make_call, record, cam_pha, authority, health
):
    call = make_call(crew=1)
    test = record(call, people_of(call)[0], now=NOW)
    form = f'action="{reverse("test-correct", args=[test.pk])}"'
    page = reverse("port-call", args=[call.pk])
    for user, shown in [(make_user("dung", roles.INSPECTOR, [cam_pha]), False), (authority, False), (health, True)]:
        client.force_login(user)
        assert (form in client.get(page).content.decode()) == shown, user.username


def test_a_refused_correction_from_a_page_changes_nothing(clock, client, make_call, record, cam_pha, outsider):
    call = make_call(crew=1)
    test = record(call, people_of(call)[0], result=TestResult.POSITIVE, now=NOW)
    url = reverse("test-correct", args=[test.pk])
    client.force_login(make_user("dung", roles.INSPECTOR, [cam_pha]))
    assert client.post(url, {"result": "negative", "reason": REASON}).status_code == 403
    client.force_login(outsider)
    assert client.post(url, {"result": "negative", "reason": REASON}).status_code == 404
    assert ScreeningTest.objects.count() == 1


def test_a_page_correction_without_a_reason_says_so_and_saves_nothing(clock, client, make_call, record, health):
    call = make_call(crew=1)
    test = record(call, people_of(call)[0], result=TestResult.POSITIVE, now=NOW)
    client.force_login(health)
    response = client.post(reverse("test-correct", args=[test.pk]), {"result": "negative", "reason": " "}, follow=True)
    assert "Lý do" in response.content.decode()
    assert ScreeningTest.objects.count() == 1


def test_the_station_page_corrects_a_staff_result(clock, client, rostered, supervisor):
    station = rostered(staff=1, days=1)
    test = staff_positive(supervisor, station)
    page = reverse("station", args=[station.code]) + f"?start={START.isoformat()}"
    client.force_login(supervisor)
    assert f'action="{reverse("test-correct", args=[test.pk])}"' in results_section(client.get(page).content.decode())
    response = client.post(
        reverse("test-correct", args=[test.pk]), {"result": "negative", "reason": REASON, "next": page}
    )
    assert response.status_code == 302
    section = results_section(client.get(page).content.decode())
    fixed = ScreeningTest.objects.get(supersedes=test)
    assert "<del>" in section.split(f'data-result="{test.pk}"', 1)[1].split("</li>", 1)[0]
    correction = section.split(f'data-result="{fixed.pk}"', 1)[1].split("</li>", 1)[0]
    assert "son" in correction and REASON in correction


def test_the_alerts_page_shows_a_closed_alert_as_closed_with_the_reason(clock, client, make_call, record, health):
    call = make_call(crew=1)
    positive = record(call, people_of(call)[0], result=TestResult.POSITIVE, now=NOW)
    alert = Alert.objects.get(test=positive)
    correct_test(health, positive, TestResult.NEGATIVE, REASON)
    client.force_login(health)
    page = client.get(reverse("alerts")).content.decode()
    open_part, rest = page.split('id="acknowledged-alerts"', 1)
    assert f'data-alert="{alert.pk}"' not in open_part
    card = rest.split(f'data-alert="{alert.pk}"', 1)[1].split("</article>", 1)[0]
    assert REASON in card and "hoa" in card
    assert reverse("alert-acknowledge", args=[alert.pk]) not in card


@pytest.mark.parametrize("staff", [2, 12])
def test_the_station_page_lists_results_in_a_fixed_number_of_queries(
    clock, client, rostered, supervisor, staff, django_assert_max_num_queries
):
    station = rostered(staff=staff, days=1)
    for member in station.staff.select_related("person"):
        test, _created = record_staff_test(
            supervisor,
            station,
            TestData(member.person, TestKind.RAPID, NOW - timedelta(minutes=30), TestResult.POSITIVE),
            now=NOW,
        )
        correct_test(supervisor, test, TestResult.NEGATIVE, REASON)
    client.force_login(supervisor)
    with django_assert_max_num_queries(STATION_PAGE_QUERIES):
        page = client.get(reverse("station", args=[station.code]) + f"?start={START.isoformat()}")
    assert results_section(page.content.decode()).count("<del>") >= staff


@pytest.mark.parametrize("crew", [2, 20])
def test_the_port_call_page_lists_results_in_a_fixed_number_of_queries(
    clock, client, make_call, record, inspector, crew, django_assert_max_num_queries
):
    call = make_call(crew=crew)
    for person in people_of(call):
        correct_test(inspector, record(call, person, result=TestResult.POSITIVE, now=NOW), TestResult.NEGATIVE, REASON)
    client.force_login(inspector)
    with django_assert_max_num_queries(PORT_CALL_QUERIES):
        page = client.get(reverse("port-call", args=[call.pk])).content.decode()
    assert results_section(page).count("<del>") >= crew
