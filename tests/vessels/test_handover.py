"""Approving cargo handover (rule R1) and what can suspend it (rule R2)."""

from datetime import timedelta

import pytest
import time_machine

from crews.choices import CrewRole, TestKind, TestResult
from crews.manifest import add_crew_member, remove_crew_member
from crews.people import PersonData
from portguard.domain import HandoverBlocked, NotAllowed
from tests.helpers import ARRIVAL, people_of, refused
from vessels.choices import HandoverState, PortCallStatus
from vessels.models import Handover
from vessels.services import approve_handover, record_departure
from vessels.status import clearance_of

LATER = ARRIVAL + timedelta(hours=2)


@pytest.fixture
def cleared_call(make_call, record):
    call = make_call(crew=3)
    for person in people_of(call):
        record(call, person)
    return call


def test_authority_approves_a_cleared_call_and_the_evidence_names_each_clearing_test(cleared_call, authority):
    handover = approve_handover(authority, cleared_call.pk, now=LATER)
    assert handover.approved_by == authority
    evidence = {e.person_id: e.test for e in handover.evidence.select_related("test")}
    assert set(evidence) == {p.pk for p in people_of(cleared_call)}
    assert all(t.result == TestResult.NEGATIVE and t.port_call_id == cleared_call.pk for t in evidence.values())
    assert clearance_of(cleared_call, now=LATER).status == PortCallStatus.HANDOVER_APPROVED


def test_refusal_lists_everyone_blocking_and_why(make_call, record, authority):
    call = make_call(crew=3)
    first, second, third = people_of(call)
    record(call, first)
    record(call, second, result=TestResult.PENDING)
    with refused("handover_blocked", HandoverBlocked) as error:
        approve_handover(authority, call.pk, now=LATER)
    blocking = {b["id_number"]: b for b in error.value.blocking}
    assert set(blocking) == {second.id_number, third.id_number}
    assert blocking[second.id_number]["screening"] == "pending"
    assert blocking[third.id_number]["screening"] == "untested"
    assert all(b["reason"] for b in blocking.values())
    assert not Handover.objects.exists()


def test_empty_manifest_cannot_be_approved(make_call, authority):
    call = make_call(crew=0)
    with refused("handover_blocked", HandoverBlocked):
        approve_handover(authority, call.pk, now=LATER)


def test_expired_negative_blocks_approval(cleared_call, authority):
    with refused("handover_blocked", HandoverBlocked) as error:
        approve_handover(authority, cleared_call.pk, now=ARRIVAL + timedelta(hours=30))
    assert {b["screening"] for b in error.value.blocking} == {"expired"}


@pytest.mark.parametrize("who", ["inspector", "health", "supervisor"])
def test_only_the_port_authority_may_approve(cleared_call, who, request):
    user = request.getfixturevalue(who)
    with refused("forbidden", NotAllowed, field=None):
        approve_handover(user, cleared_call.pk, now=LATER)
    assert not Handover.objects.exists()


def test_a_call_cannot_be_approved_twice(cleared_call, authority):
    approve_handover(authority, cleared_call.pk, now=LATER)
    with refused("already_approved"):
        approve_handover(authority, cleared_call.pk, now=LATER)
    assert Handover.objects.count() == 1


def test_a_second_approval_tells_the_dashboards_the_approved_state_again(
    cleared_call, authority, broadcasts, django_capture_on_commit_callbacks
):
    """Most often a retry whose first attempt's process died before publishing."""
    approve_handover(authority, cleared_call.pk, now=LATER)
    with (
        time_machine.travel(LATER, tick=False),
        django_capture_on_commit_callbacks(execute=True),
        refused("already_approved"),
    ):
        approve_handover(authority, cleared_call.pk, now=LATER)
    (update,) = [e["port_call"] for e in broadcasts if e["type"] == "port_call.updated"]
    assert update["id"] == cleared_call.pk and update["status"] == PortCallStatus.HANDOVER_APPROVED
    assert Handover.objects.count() == 1


def test_positive_sampled_after_approval_suspends_the_handover(cleared_call, authority, record):
    handover = approve_handover(authority, cleared_call.pk, now=LATER)
    first = people_of(cleared_call)[0]
    record(cleared_call, first, result=TestResult.POSITIVE, sampled_at=LATER + timedelta(hours=1))
    handover.refresh_from_db()
    assert handover.state == HandoverState.SUSPENDED
    assert first.full_name in handover.suspended_reason
    assert clearance_of(cleared_call, now=LATER + timedelta(hours=2)).status == PortCallStatus.HANDOVER_SUSPENDED


def test_negative_after_approval_keeps_the_handover(cleared_call, authority, record):
    handover = approve_handover(authority, cleared_call.pk, now=LATER)
    record(cleared_call, people_of(cleared_call)[0], sampled_at=LATER + timedelta(hours=1))
    handover.refresh_from_db()
    assert handover.state == HandoverState.APPROVED


def test_positive_rt_pcr_after_approval_quarantines_the_call(cleared_call, authority, record):
    approve_handover(authority, cleared_call.pk, now=LATER)
    first = people_of(cleared_call)[0]
    record(cleared_call, first, kind=TestKind.RT_PCR, result=TestResult.POSITIVE, sampled_at=LATER)
    assert clearance_of(cleared_call, now=LATER + timedelta(hours=1)).status == PortCallStatus.QUARANTINED


def test_suspended_handover_can_be_approved_again_once_everyone_is_cleared(cleared_call, authority, record):
    approve_handover(authority, cleared_call.pk, now=LATER)
    first = people_of(cleared_call)[0]
    record(cleared_call, first, result=TestResult.POSITIVE, sampled_at=LATER + timedelta(minutes=10))
    record(cleared_call, first, kind=TestKind.RT_PCR, sampled_at=LATER + timedelta(minutes=30))
    again = approve_handover(authority, cleared_call.pk, now=LATER + timedelta(hours=1))
    assert again.state == HandoverState.APPROVED
    assert Handover.objects.filter(port_call=cleared_call).count() == 2


# --- Manifest changes ---------------------------------------------------------------


def test_person_added_after_tests_blocks_until_tested(cleared_call, inspector, record):
    member = add_crew_member(
        inspector, cleared_call.pk, PersonData(id_number="031234567", full_name="Vũ Văn Nam", role=CrewRole.WORKER)
    )
    clearance = clearance_of(cleared_call, now=LATER)
    assert clearance.status == PortCallStatus.AWAITING_TESTS
    assert [p.member.pk for p in clearance.blocking] == [member.pk]
    record(cleared_call, member.person)
    assert clearance_of(cleared_call, now=LATER).status == PortCallStatus.CLEARED


def test_person_added_after_approval_suspends_it(cleared_call, inspector, authority):
    handover = approve_handover(authority, cleared_call.pk, now=LATER)
    add_crew_member(inspector, cleared_call.pk, PersonData(id_number="031234567", full_name="Vũ Văn Nam"))
    handover.refresh_from_db()
    assert handover.state == HandoverState.SUSPENDED


def test_person_whose_latest_test_is_positive_cannot_be_removed(make_call, record, inspector):
    call = make_call(crew=2)
    first, second = people_of(call)
    record(call, first, result=TestResult.POSITIVE)
    with refused("positive_on_board"):
        remove_crew_member(inspector, call.pk, first.pk)
    assert first in people_of(call)
    remove_crew_member(inspector, call.pk, second.pk)
    assert people_of(call) == [first]


def test_removing_the_untested_person_clears_the_call(make_call, record, inspector):
    call = make_call(crew=2)
    first, second = people_of(call)
    record(call, first)
    remove_crew_member(inspector, call.pk, second.pk)
    assert clearance_of(call, now=LATER).status == PortCallStatus.CLEARED


def test_same_person_cannot_be_on_the_manifest_twice(make_call, inspector):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    with refused("on_manifest"):
        add_crew_member(inspector, call.pk, PersonData(id_number=captain.id_number, full_name=captain.full_name))


def test_inspector_of_another_wharf_cannot_change_the_manifest(make_call, outsider):
    call = make_call(crew=1)
    with refused("forbidden", NotAllowed, field="wharf"):
        add_crew_member(outsider, call.pk, PersonData(id_number="031234567", full_name="Vũ Văn Nam"))


def test_departed_call_shows_departed_and_takes_no_approval(cleared_call, inspector, authority):
    record_departure(inspector, cleared_call.pk, departed_at=LATER)
    cleared_call.refresh_from_db()
    assert clearance_of(cleared_call, now=LATER).status == PortCallStatus.DEPARTED
    with refused("departed"):
        approve_handover(authority, cleared_call.pk, now=LATER)
