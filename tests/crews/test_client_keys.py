"""Crew changes and screening sheets sent twice with the same client keys are stored once
and answer as the first time; a sheet retried with some of its results stored records
only the rest, still all or none."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from crews.choices import TestKind, TestResult
from crews.manifest import add_crew_member, add_crew_members, remove_crew_member
from crews.models import CrewMember, ScreeningTest
from crews.people import PersonData
from crews.results import TestData, record_test, record_tests
from tests.helpers import ARRIVAL, people_of, refused, run_together
from vessels.models import Alert
from vessels.services import record_departure

NOW = ARRIVAL + timedelta(hours=2)
NEWCOMER = PersonData(id_number="031234567", full_name="Vũ Văn Nam")


def sheet(call, results: dict, keys: dict | None = None) -> list[TestData]:
    """A screening sheet's entries, each person's result with that person's key."""
    keys = keys if keys is not None else {person: uuid.uuid4() for person in results}
    return [
        TestData(
            person=person,
            kind=TestKind.RAPID,
            sampled_at=ARRIVAL + timedelta(hours=1),
            result=result,
            port_call=call,
            client_uuid=keys[person],
        )
        for person, result in results.items()
    ]


# --- The screening sheet -------------------------------------------------------------


def test_a_sheet_sent_twice_stores_each_result_once_and_answers_the_same(make_call, inspector):
    call = make_call(crew=3)
    entries = sheet(call, dict.fromkeys(people_of(call), TestResult.NEGATIVE))
    first = record_tests(inspector, entries, now=NOW)
    again = record_tests(inspector, entries, now=NOW)
    assert [t.pk for t in again] == [t.pk for t in first]
    assert ScreeningTest.objects.count() == 3


def test_a_sheet_retried_with_some_results_stored_records_only_the_rest(make_call, inspector):
    call = make_call(crew=3)
    entries = sheet(call, dict.fromkeys(people_of(call), TestResult.NEGATIVE))
    (captain_test,) = record_tests(inspector, entries[:1], now=NOW)
    tests = record_tests(inspector, entries, now=NOW)
    assert tests[0].pk == captain_test.pk
    assert ScreeningTest.objects.count() == 3
    assert {t.person_id for t in ScreeningTest.objects.all()} == {p.pk for p in people_of(call)}


def test_a_retried_sheet_is_still_all_or_nothing_for_what_it_adds(make_call, inspector):
    call = make_call(crew=3)
    captain, second, third = people_of(call)
    entries = sheet(call, dict.fromkeys([captain, second, third], TestResult.NEGATIVE))
    record_tests(inspector, entries[:1], now=NOW)
    entries[2].sampled_at = ARRIVAL - timedelta(hours=1)  # before arrival: refused
    with refused("invalid", field="sampled_at"):
        record_tests(inspector, entries, now=NOW)
    assert list(ScreeningTest.objects.values_list("person", flat=True)) == [captain.pk]


def test_a_sheet_sent_again_after_departure_answers_as_the_first_time(make_call, inspector):
    """The answer was lost, the vessel left meanwhile: the retry is not a new result."""
    call = make_call(crew=2)
    entries = sheet(call, dict.fromkeys(people_of(call), TestResult.NEGATIVE))
    first = record_tests(inspector, entries, now=NOW)
    record_departure(inspector, call.pk, departed_at=NOW)
    assert [t.pk for t in record_tests(inspector, entries, now=NOW)] == [t.pk for t in first]
    with refused("departed"):
        record_tests(inspector, sheet(call, dict.fromkeys(people_of(call), TestResult.NEGATIVE)), now=NOW)


def test_a_positive_sent_twice_raises_one_alert_and_announces_the_call_again(
    make_call, inspector, broadcasts, django_capture_on_commit_callbacks
):
    call = make_call(crew=2)
    captain, sailor = people_of(call)
    entries = sheet(call, {captain: TestResult.NEGATIVE, sailor: TestResult.POSITIVE})
    with django_capture_on_commit_callbacks(execute=True):
        record_tests(inspector, entries, now=NOW)
    broadcasts.clear()
    with django_capture_on_commit_callbacks(execute=True):
        record_tests(inspector, entries, now=NOW)
    assert Alert.objects.count() == 1
    assert [e["type"] for e in broadcasts] == ["port_call.updated"]
    assert broadcasts[0]["port_call"]["counts"]["tested"] == 2


def test_the_same_key_twice_in_one_sheet_is_refused(make_call, inspector):
    call = make_call(crew=2)
    key = uuid.uuid4()
    entries = sheet(call, dict.fromkeys(people_of(call), TestResult.NEGATIVE), keys=dict.fromkeys(people_of(call), key))
    with refused("invalid", field="client_uuid"):
        record_tests(inspector, entries, now=NOW)
    assert not ScreeningTest.objects.exists()


def test_a_key_recorded_at_a_wharf_out_of_scope_is_unknown(make_call, inspector, outsider, ha_long):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    key = uuid.uuid4()
    record_tests(inspector, sheet(call, {captain: TestResult.NEGATIVE}, keys={captain: key}), now=NOW)
    theirs = make_call(crew=1, wharf=ha_long, by=outsider)
    (their_captain,) = people_of(theirs)
    with refused("not_found", field="client_uuid"):
        record_tests(outsider, sheet(theirs, {their_captain: TestResult.NEGATIVE}, keys={their_captain: key}), now=NOW)
    assert ScreeningTest.objects.count() == 1


def test_one_result_and_a_sheet_share_their_keys(make_call, inspector):
    """A result sent alone (the API) and then within a sheet is stored once."""
    call = make_call(crew=2)
    entries = sheet(call, dict.fromkeys(people_of(call), TestResult.NEGATIVE))
    alone, created = record_test(inspector, entries[1], now=NOW)
    tests = record_tests(inspector, entries, now=NOW)
    again, created_again = record_test(inspector, entries[0], now=NOW)
    assert (created, created_again) == (True, False)
    assert tests[1].pk == alone.pk and tests[0].pk == again.pk
    assert ScreeningTest.objects.count() == 2


ROUNDS = 6


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_two_copies_of_a_sheet_racing_store_each_result_once(make_call, inspector):
    now = timezone.now()
    for _round in range(ROUNDS):
        call = make_call(crew=3, arrived_at=now - timedelta(hours=1))
        entries = [
            TestData(
                p, TestKind.RAPID, now - timedelta(minutes=30), TestResult.NEGATIVE, call, client_uuid=uuid.uuid4()
            )
            for p in people_of(call)
        ]
        answers: list[list[int]] = []

        def send(entries=entries, answers=answers):
            answers.append([t.pk for t in record_tests(inspector, entries)])

        errors = run_together(send, send)
        assert errors == []
        assert answers[0] == answers[1]
        assert ScreeningTest.objects.filter(port_call=call).count() == 3


# --- The manifest --------------------------------------------------------------------


def test_a_person_added_twice_with_the_same_key_is_added_once(make_call, inspector):
    call = make_call(crew=1)
    key = uuid.uuid4()
    first = add_crew_member(inspector, call.pk, NEWCOMER, client_uuid=key)
    again = add_crew_member(inspector, call.pk, NEWCOMER, client_uuid=key)
    assert again.pk == first.pk
    assert CrewMember.objects.filter(port_call=call).count() == 2


def test_without_a_key_the_second_addition_is_refused(make_call, inspector):
    call = make_call(crew=1)
    add_crew_member(inspector, call.pk, NEWCOMER, client_uuid=uuid.uuid4())
    with refused("on_manifest"):
        add_crew_member(inspector, call.pk, NEWCOMER, client_uuid=uuid.uuid4())


def test_an_addition_sent_again_after_departure_answers_as_the_first_time(make_call, inspector):
    call = make_call(crew=1)
    key = uuid.uuid4()
    first = add_crew_member(inspector, call.pk, NEWCOMER, client_uuid=key)
    record_departure(inspector, call.pk)
    assert add_crew_member(inspector, call.pk, NEWCOMER, client_uuid=key).pk == first.pk


def test_a_crew_list_retried_with_one_person_stored_adds_the_others(make_call, inspector):
    call = make_call(crew=1)
    people = [NEWCOMER, PersonData(id_number="022199000777", full_name="Đỗ Thị Hằng")]
    keys = [uuid.uuid4(), uuid.uuid4()]
    first = add_crew_member(inspector, call.pk, people[0], client_uuid=keys[0])
    members = add_crew_members(inspector, call.pk, people, client_uuids=keys)
    assert members[0].pk == first.pk
    assert [m.person.full_name for m in members] == ["Vũ Văn Nam", "Đỗ Thị Hằng"]
    assert CrewMember.objects.filter(port_call=call).count() == 3


def test_an_addition_key_is_not_taken_for_another_call(make_call, inspector):
    first, second = make_call(crew=1), make_call(crew=1)
    key = uuid.uuid4()
    add_crew_member(inspector, first.pk, NEWCOMER, client_uuid=key)
    with refused("invalid", field="client_uuid"):
        add_crew_member(inspector, second.pk, NEWCOMER, client_uuid=key)
    assert second.crew.count() == 1


def test_a_removal_sent_twice_answers_as_the_first_time(make_call, inspector):
    call = make_call(crew=2)
    _captain, sailor = people_of(call)
    key = uuid.uuid4()
    first = remove_crew_member(inspector, call.pk, sailor.pk, client_uuid=key)
    again = remove_crew_member(inspector, call.pk, sailor.pk, client_uuid=key)
    assert again.pk == first.pk and again.removed_at == first.removed_at
    with refused("not_found"):
        remove_crew_member(inspector, call.pk, sailor.pk, client_uuid=uuid.uuid4())


def test_a_removal_key_is_not_taken_for_another_person(make_call, inspector):
    call = make_call(crew=3)
    _captain, sailor, third = people_of(call)
    key = uuid.uuid4()
    remove_crew_member(inspector, call.pk, sailor.pk, client_uuid=key)
    with refused("invalid", field="client_uuid"):
        remove_crew_member(inspector, call.pk, third.pk, client_uuid=key)
    assert third in people_of(call)


def test_a_crew_change_retried_by_someone_out_of_scope_is_refused(make_call, inspector, outsider):
    call = make_call(crew=2)
    _captain, sailor = people_of(call)
    key = uuid.uuid4()
    remove_crew_member(inspector, call.pk, sailor.pk, client_uuid=key)
    with refused("forbidden"):
        remove_crew_member(outsider, call.pk, sailor.pk, client_uuid=key)
