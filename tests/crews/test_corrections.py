"""A recorded result is never edited in place (SPEC §2): no door changes one, and a
correction is a new record that supersedes it, naming who made it and why."""

from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.urls import Resolver404, resolve, reverse
from rest_framework.test import APIClient

from crews.choices import TestKind, TestResult
from crews.corrections import correct_test
from crews.models import ScreeningTest
from crews.services import TestData
from crews.stations import record_staff_test
from portguard.domain import DomainError, NotAllowed
from tests.conftest import VN, people_of
from tests.crews.conftest import START


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
    with pytest.raises(DomainError) as no_reason:
        correct_test(inspector, positive, TestResult.NEGATIVE, " ")
    assert no_reason.value.field == "reason"
    correct_test(inspector, positive, TestResult.NEGATIVE, "Nhập nhầm kết quả")
    with pytest.raises(DomainError) as again:
        correct_test(inspector, positive, TestResult.INVALID, "Lần nữa")
    assert again.value.code == "already_corrected"
    assert ScreeningTest.objects.count() == 2


@pytest.mark.parametrize("who", ["outsider", "authority", "supervisor"])
def test_only_someone_who_records_at_that_wharf_corrects_its_result(positive, who, request):
    with pytest.raises(NotAllowed):
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
    with pytest.raises(NotAllowed):
        correct_test(other_supervisor, test, TestResult.NEGATIVE, "Nhập nhầm kết quả")
    fixed = correct_test(supervisor, test, TestResult.NEGATIVE, "Nhập nhầm kết quả")
    assert (fixed.station, fixed.recorded_by) == (station, supervisor)
