"""The load bench's consistency check, on plain records, and its reading of CPU time: no
database, no servers."""

import os
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from crews.choices import TestKind, TestResult
from tests.bench.shift_change import (
    HandoverRecord,
    _cpu_of_stat,
    _cpu_seconds,
    handover_problems,
    write_problems,
)
from vessels.clearance import Validity

ARRIVED = datetime(2021, 8, 12, 6, 0, tzinfo=UTC)
APPROVED = ARRIVED + timedelta(hours=3)
VALIDITY = Validity(rapid=timedelta(hours=24), rt_pcr=timedelta(hours=72))


def member(person_id, added=ARRIVED, removed=None):
    return SimpleNamespace(person_id=person_id, added_at=added, removed_at=removed)


def result(pk, person_id, value=TestResult.NEGATIVE, recorded=APPROVED - timedelta(hours=1), superseded=None):
    return SimpleNamespace(
        pk=pk,
        person_id=person_id,
        kind=TestKind.RAPID,
        result=value,
        sampled_at=recorded - timedelta(minutes=20),
        recorded_at=recorded,
        superseded_at=superseded,
    )


def handover(crew, tests, evidence):
    return HandoverRecord(
        pk=1,
        port_call=7,
        approved_at=APPROVED,
        arrived_at=ARRIVED,
        departed_at=None,
        crew=crew,
        tests=tests,
        evidence=evidence,
    )


def test_handover_resting_on_everyones_negative_is_sound():
    record = handover([member(1), member(2)], [result(10, 1), result(11, 2)], {1: 10, 2: 11})
    assert handover_problems(record, VALIDITY) == []


def test_a_result_recorded_after_approval_does_not_justify_it():
    late = result(11, 2, recorded=APPROVED + timedelta(seconds=1))
    record = handover([member(1), member(2)], [result(10, 1), late], {1: 10, 2: 11})
    (problem,) = handover_problems(record, VALIDITY)
    assert "person 2 was untested" in problem


def test_a_positive_after_approval_does_not_make_the_approval_unsound():
    positive = result(12, 2, TestResult.POSITIVE, recorded=APPROVED + timedelta(minutes=5))
    record = handover([member(1), member(2)], [result(10, 1), result(11, 2), positive], {1: 10, 2: 11})
    assert handover_problems(record, VALIDITY) == []


def test_a_positive_before_approval_is_reported():
    positive = result(12, 2, TestResult.POSITIVE, recorded=APPROVED - timedelta(minutes=5))
    record = handover([member(1), member(2)], [result(10, 1), result(11, 2), positive], {1: 10, 2: 11})
    (problem,) = handover_problems(record, VALIDITY)
    assert "person 2 was positive" in problem


def test_evidence_naming_another_test_is_reported():
    record = handover([member(1)], [result(10, 1), result(11, 1, recorded=APPROVED - timedelta(minutes=10))], {1: 10})
    (problem,) = handover_problems(record, VALIDITY)
    assert "cleared by test 11, evidence names 10" in problem


def test_someone_removed_before_approval_is_not_on_board():
    gone = member(2, removed=APPROVED - timedelta(minutes=1))
    assert handover_problems(handover([member(1), gone], [result(10, 1)], {1: 10}), VALIDITY) == []
    (problem,) = handover_problems(handover([member(1), gone], [result(10, 1)], {1: 10, 2: 99}), VALIDITY)
    assert "not on board: [2]" in problem


def test_every_acknowledged_result_is_stored_exactly_once():
    assert write_problems({"a": {1}, "b": {2}}, {"a": [1], "b": [2], "c": [3]}) == []
    assert write_problems({"a": {1}}, {}) == ["result a answered 2xx but not stored"]
    assert write_problems({"a": {1}}, {"a": [1, 4]}) == ["result a stored 2 times"]
    assert write_problems({"a": {1, 4}}, {"a": [1]}) == ["result a stored as 1, answers named [1, 4]"]


def test_cpu_seconds_are_read_after_the_command_name_whatever_it_holds():
    # utime 250 and stime 50 ticks, after a command name with spaces and parentheses.
    stat = "4242 (daphne (x) y) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 50 7 9 20 0 3 0 123 456 78"
    assert _cpu_of_stat(stat, 100) == 3.0


def test_cpu_seconds_of_a_running_process_grow_as_it_works():
    before = _cpu_seconds([os.getpid()])
    spent = time.process_time() + 0.1
    while time.process_time() < spent:  # a tenth of a second of CPU, whatever the clock says
        sum(range(10_000))
    assert _cpu_seconds([os.getpid()]) > before
