"""Approval is race-free: threads recording positives race threads approving, on a real
database (SQLite's BEGIN IMMEDIATE on the embedded default, row locks on PostgreSQL)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crews.choices import TestKind, TestResult
from crews.models import ScreeningTest
from crews.results import TestData, record_test
from tests.helpers import people_of, run_together
from vessels.choices import HandoverState
from vessels.models import Handover
from vessels.services import approve_handover

ROUNDS = 25
RACE_REFUSALS = {"handover_blocked", "already_approved"}


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_no_handover_stays_approved_with_a_positive_on_board(make_call, inspector, authority):
    now = timezone.now()
    calls = []
    for _round in range(ROUNDS):
        call = make_call(crew=3, arrived_at=now - timedelta(hours=1))
        for person in people_of(call):
            record_test(
                inspector,
                TestData(person, TestKind.RAPID, now - timedelta(minutes=30), TestResult.NEGATIVE, port_call=call),
            )
        calls.append(call)

    for call in calls:
        first, second, _third = people_of(call)

        def positive(person=first, call=call):
            record_test(
                inspector,
                TestData(person, TestKind.RAPID, timezone.now(), TestResult.POSITIVE, port_call=call),
            )

        def negative(person=second, call=call):
            record_test(
                inspector,
                TestData(person, TestKind.RAPID, timezone.now(), TestResult.NEGATIVE, port_call=call),
            )

        def approve(call=call):
            approve_handover(authority, call.pk)

        errors = run_together(approve, positive, approve, negative, expected_refusals=RACE_REFUSALS)
        assert errors == []

    assert ScreeningTest.objects.filter(result=TestResult.POSITIVE).count() == ROUNDS
    for call in calls:
        handovers = list(Handover.objects.filter(port_call=call))
        assert len(handovers) <= 1, "two approvals raced past each other"
        positive = ScreeningTest.objects.get(port_call=call, result=TestResult.POSITIVE)
        for handover in handovers:
            # Approved before the positive was recorded, and then suspended by it.
            assert handover.state == HandoverState.SUSPENDED
            assert handover.approved_at <= positive.recorded_at
            assert all(e.test.result == TestResult.NEGATIVE for e in handover.evidence.select_related("test"))
    assert not Handover.objects.filter(state=HandoverState.APPROVED).exists()
