"""``call_summaries`` (the dashboards' snapshots, the announcements of many calls) judges
rule R1 from bare rows: it must give every call the summary ``call_summary`` gives from
``clearance_for``'s model instances, whatever the tests, corrections, handovers,
departures and epidemic areas."""

from datetime import timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crews.choices import TestKind, TestResult
from crews.models import ScreeningTest
from tests.helpers import ARRIVAL, people_of
from vessels.choices import HandoverState, PortCallStatus
from vessels.models import EpidemicArea, Handover, PortCall
from vessels.quarantine import release_quarantine
from vessels.services import approve_handover
from vessels.status import call_summaries, call_summary, clearance_for

pytestmark = pytest.mark.django_db


def by_instances(calls, now):
    clearances = clearance_for(calls, now)
    return {call.pk: call_summary(call, clearances[call.pk]) for call in calls}


def open_calls():
    return list(PortCall.objects.select_related("vessel", "wharf").order_by("pk"))


def test_calls_in_every_state_are_summed_up_alike(make_call, record, authority, health, django_assert_num_queries):
    """One call in each state a dashboard shows, and both readings agree on all of them."""
    awaiting = make_call(crew=3)
    cleared, approved, blocked, quarantined, released, departed = (make_call(crew=2) for _ in range(6))
    record(awaiting, people_of(awaiting)[0])
    for call in (cleared, approved, departed):
        for person in people_of(call):
            record(call, person)
    approve_handover(authority, approved.pk, now=ARRIVAL + timedelta(hours=2))
    record(blocked, people_of(blocked)[0], result=TestResult.POSITIVE)
    record(quarantined, people_of(quarantined)[1], kind=TestKind.RT_PCR, result=TestResult.POSITIVE)
    record(released, people_of(released)[0], kind=TestKind.RT_PCR, result=TestResult.POSITIVE)
    release_quarantine(health, released.pk, "Đã cách ly đủ thời gian", now=ARRIVAL + timedelta(hours=3))
    PortCall.objects.filter(pk=departed.pk).update(departed_at=ARRIVAL + timedelta(hours=4))
    now = ARRIVAL + timedelta(hours=5)
    calls = open_calls()
    expected = by_instances(calls, now)
    # The manifests, the tests, the handovers, the releases, the epidemic areas, R5.
    with django_assert_num_queries(6):
        summaries = call_summaries(calls, now)
    assert summaries == expected
    assert {s["status"] for s in summaries.values()} == {
        PortCallStatus.AWAITING_TESTS,
        PortCallStatus.CLEARED,
        PortCallStatus.HANDOVER_APPROVED,
        PortCallStatus.BLOCKED,
        PortCallStatus.QUARANTINED,
        PortCallStatus.DEPARTED,
    }
    # Released from quarantine: the case holds the call until a negative RT-PCR after it.
    assert summaries[released.pk]["status"] == PortCallStatus.BLOCKED


@pytest.fixture
def two_calls(make_call):
    return [make_call(crew=3), make_call(crew=2)]


tests = st.lists(
    st.tuples(
        st.integers(0, 1),  # the call
        st.integers(0, 2),  # the person on it
        st.sampled_from(TestKind.values),
        st.sampled_from(TestResult.values),
        st.integers(-120, 80 * 60),  # minutes after the arrival
        st.booleans(),  # corrected by a later record
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tests=tests,
    handovers=st.tuples(*[st.sampled_from([None, *HandoverState.values])] * 2),
    departed=st.tuples(st.booleans(), st.booleans()),
    epidemic=st.booleans(),
    hours=st.integers(0, 100),
)
def test_any_history_is_summed_up_alike(two_calls, inspector, authority, tests, handovers, departed, epidemic, hours):
    with transaction.atomic():
        crews = [people_of(call) for call in two_calls]
        for call_index, person_index, kind, result, minutes, corrected in tests:
            call = two_calls[call_index]
            person = crews[call_index][person_index % len(crews[call_index])]
            made = ScreeningTest(
                person=person,
                port_call=call,
                wharf=call.wharf,
                kind=kind,
                result=result,
                sampled_at=ARRIVAL + timedelta(minutes=minutes),
                recorded_by=inspector,
            )
            made.save()
            if corrected:
                ScreeningTest.objects.create(
                    person=person,
                    port_call=call,
                    wharf=call.wharf,
                    kind=kind,
                    result=TestResult.INVALID if result != TestResult.INVALID else TestResult.NEGATIVE,
                    sampled_at=made.sampled_at,
                    recorded_by=inspector,
                    supersedes=made,
                    correction_reason="Nhập nhầm",
                )
        for call, state, gone in zip(two_calls, handovers, departed, strict=True):
            if state is not None:
                Handover.objects.create(port_call=call, state=state, approved_by=authority, approved_at=ARRIVAL)
            if gone:
                PortCall.objects.filter(pk=call.pk).update(departed_at=ARRIVAL + timedelta(hours=1))
        if epidemic:
            EpidemicArea.objects.create(province="Hải Phòng", active_from=ARRIVAL.date(), created_by=authority)
        calls = open_calls()
        now = ARRIVAL + timedelta(hours=hours)
        assert call_summaries(calls, now) == by_instances(calls, now)
        transaction.set_rollback(True)
