"""Rule R1 through the domain layer: who is cleared, and the port call's status."""

from datetime import timedelta

import pytest
import time_machine

from crews.choices import Screening, TestKind, TestResult
from crews.corrections import correct_test
from tests.helpers import ARRIVAL, people_of
from vessels.choices import PortCallStatus
from vessels.status import clearance_of


def status_at(call, when):
    return clearance_of(call, now=when).status


def test_call_with_untested_crew_awaits_tests(make_call):
    call = make_call(crew=3)
    clearance = clearance_of(call, now=ARRIVAL + timedelta(hours=1))
    assert clearance.status == PortCallStatus.AWAITING_TESTS
    assert [p.state for p in clearance.people] == [Screening.UNTESTED] * 3


def test_everyone_negative_clears_the_call(make_call, record):
    call = make_call(crew=3)
    for person in people_of(call):
        record(call, person)
    assert status_at(call, ARRIVAL + timedelta(hours=2)) == PortCallStatus.CLEARED


def test_one_person_untested_keeps_the_call_waiting(make_call, record):
    call = make_call(crew=3)
    first, second, third = people_of(call)
    record(call, first)
    record(call, second)
    clearance = clearance_of(call, now=ARRIVAL + timedelta(hours=2))
    assert clearance.status == PortCallStatus.AWAITING_TESTS
    assert [p.member.person for p in clearance.blocking] == [third]
    assert clearance.blocking[0].reason_code == "untested"


@pytest.mark.parametrize("result", [TestResult.PENDING, TestResult.INVALID])
def test_pending_or_invalid_result_does_not_clear(make_call, record, result):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    record(call, captain, result=result)
    clearance = clearance_of(call, now=ARRIVAL + timedelta(hours=2))
    assert clearance.status == PortCallStatus.AWAITING_TESTS
    assert clearance.people[0].state == result


def test_latest_result_overrides_an_earlier_one(make_call, record):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    record(call, captain, result=TestResult.NEGATIVE, sampled_at=ARRIVAL + timedelta(hours=1))
    record(call, captain, result=TestResult.INVALID, sampled_at=ARRIVAL + timedelta(hours=2))
    assert clearance_of(call, now=ARRIVAL + timedelta(hours=3)).people[0].state == Screening.INVALID
    record(call, captain, result=TestResult.NEGATIVE, sampled_at=ARRIVAL + timedelta(hours=3))
    assert status_at(call, ARRIVAL + timedelta(hours=4)) == PortCallStatus.CLEARED


def test_rapid_negative_expires_after_24_hours(make_call, record):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    sampled = ARRIVAL + timedelta(hours=1)
    record(call, captain, sampled_at=sampled)
    assert status_at(call, sampled + timedelta(hours=24)) == PortCallStatus.CLEARED
    clearance = clearance_of(call, now=sampled + timedelta(hours=24, seconds=1))
    assert clearance.status == PortCallStatus.AWAITING_TESTS
    assert clearance.people[0].state == Screening.EXPIRED


def test_rt_pcr_negative_is_valid_for_72_hours(make_call, record):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    sampled = ARRIVAL + timedelta(hours=1)
    record(call, captain, kind=TestKind.RT_PCR, sampled_at=sampled)
    assert status_at(call, sampled + timedelta(hours=71)) == PortCallStatus.CLEARED
    assert status_at(call, sampled + timedelta(hours=73)) == PortCallStatus.AWAITING_TESTS


def test_validity_window_comes_from_settings(make_call, record, settings):
    settings.PORTGUARD_RAPID_VALIDITY_HOURS = 6
    call = make_call(crew=1)
    (captain,) = people_of(call)
    sampled = ARRIVAL + timedelta(hours=1)
    record(call, captain, sampled_at=sampled)
    assert status_at(call, sampled + timedelta(hours=5)) == PortCallStatus.CLEARED
    assert status_at(call, sampled + timedelta(hours=7)) == PortCallStatus.AWAITING_TESTS


def test_tests_taken_for_another_call_do_not_count(make_call, record):
    earlier = make_call(crew=1)
    (captain,) = people_of(earlier)
    record(earlier, captain)
    assert status_at(earlier, ARRIVAL + timedelta(hours=2)) == PortCallStatus.CLEARED
    other = make_call(crew=2)
    assert clearance_of(other, now=ARRIVAL + timedelta(hours=2)).status == PortCallStatus.AWAITING_TESTS


def test_empty_manifest_is_never_cleared(make_call):
    call = make_call(crew=0)
    clearance = clearance_of(call, now=ARRIVAL + timedelta(hours=1))
    assert clearance.status == PortCallStatus.AWAITING_TESTS
    assert not clearance.can_approve


def test_positive_rapid_blocks_the_call(make_call, record):
    call = make_call(crew=2)
    first, second = people_of(call)
    record(call, first)
    record(call, second, result=TestResult.POSITIVE)
    clearance = clearance_of(call, now=ARRIVAL + timedelta(hours=2))
    assert clearance.status == PortCallStatus.BLOCKED
    assert clearance.blocking[0].reason_code == "positive_rapid"


def test_later_negative_rapid_does_not_answer_a_positive_rapid(make_call, record):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    record(call, captain, result=TestResult.POSITIVE, sampled_at=ARRIVAL + timedelta(hours=1))
    record(call, captain, result=TestResult.NEGATIVE, sampled_at=ARRIVAL + timedelta(hours=2))
    assert status_at(call, ARRIVAL + timedelta(hours=3)) == PortCallStatus.BLOCKED


def test_negative_rt_pcr_sampled_after_a_positive_rapid_clears_the_person(make_call, record):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    record(call, captain, result=TestResult.POSITIVE, sampled_at=ARRIVAL + timedelta(hours=1))
    record(call, captain, kind=TestKind.RT_PCR, sampled_at=ARRIVAL + timedelta(hours=2))
    assert status_at(call, ARRIVAL + timedelta(hours=8)) == PortCallStatus.CLEARED


def test_negative_rt_pcr_sampled_before_the_positive_rapid_does_not_clear(make_call, record):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    record(call, captain, kind=TestKind.RT_PCR, sampled_at=ARRIVAL + timedelta(hours=1))
    record(call, captain, result=TestResult.POSITIVE, sampled_at=ARRIVAL + timedelta(hours=2))
    assert status_at(call, ARRIVAL + timedelta(hours=8)) == PortCallStatus.BLOCKED


def test_positive_rt_pcr_quarantines_the_call(make_call, record):
    call = make_call(crew=2)
    first, second = people_of(call)
    record(call, first, result=TestResult.POSITIVE)
    record(call, first, kind=TestKind.RT_PCR, result=TestResult.POSITIVE, sampled_at=ARRIVAL + timedelta(hours=2))
    clearance = clearance_of(call, now=ARRIVAL + timedelta(hours=8))
    assert clearance.status == PortCallStatus.QUARANTINED
    assert clearance.people[0].confirmed_case


def test_pooled_rt_pcr_counts_as_rt_pcr(make_call, record):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    record(call, captain, result=TestResult.POSITIVE, sampled_at=ARRIVAL + timedelta(hours=1))
    record(call, captain, kind=TestKind.RT_PCR_POOLED, sampled_at=ARRIVAL + timedelta(hours=2))
    assert status_at(call, ARRIVAL + timedelta(hours=50)) == PortCallStatus.CLEARED


def test_correction_supersedes_the_original_result(make_call, record, inspector):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    wrong = record(call, captain, result=TestResult.POSITIVE)
    with time_machine.travel(ARRIVAL + timedelta(hours=2), tick=False):
        fixed = correct_test(inspector, wrong, TestResult.NEGATIVE, "Nhập nhầm kết quả")
    assert fixed.supersedes == wrong
    assert status_at(call, ARRIVAL + timedelta(hours=3)) == PortCallStatus.CLEARED
    wrong.refresh_from_db()
    assert wrong.result == TestResult.POSITIVE  # the original is kept as it was


def test_a_recorded_test_cannot_be_edited_in_place(make_call, record):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    test = record(call, captain, result=TestResult.POSITIVE)
    test.result = TestResult.NEGATIVE
    with pytest.raises(ValueError, match="never edited"):
        test.save()
