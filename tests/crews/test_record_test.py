"""Recording results: validation, idempotent retries, scope."""

import uuid
from datetime import timedelta

import pytest
import time_machine

from crews.choices import TestKind, TestResult
from crews.models import ScreeningTest
from crews.people import parse_id_number
from crews.results import TestData, record_test, record_tests
from portguard.domain import NotAllowed
from tests.helpers import ARRIVAL, people_of, refused


def data(call, person, **overrides):
    values = {
        "person": person,
        "kind": TestKind.RAPID,
        "sampled_at": ARRIVAL + timedelta(hours=1),
        "result": TestResult.NEGATIVE,
        "port_call": call,
    }
    values.update(overrides)
    return TestData(**values)


NOW = ARRIVAL + timedelta(hours=2)


def test_same_client_uuid_returns_the_first_record_and_saves_nothing_new(make_call, inspector):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    key = uuid.uuid4()
    first, created = record_test(inspector, data(call, captain, client_uuid=key), now=NOW)
    again, created_again = record_test(
        inspector, data(call, captain, client_uuid=key, result=TestResult.POSITIVE), now=NOW
    )
    assert created and not created_again
    assert again.pk == first.pk and again.result == TestResult.NEGATIVE
    assert ScreeningTest.objects.count() == 1


def test_a_retry_tells_the_dashboards_the_calls_state_again(
    make_call, inspector, broadcasts, django_capture_on_commit_callbacks
):
    """The process that committed the first attempt may have died before publishing."""
    call = make_call(crew=2)
    captain, _crew = people_of(call)
    key = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        record_test(inspector, data(call, captain, client_uuid=key), now=NOW)
    first = [e["port_call"] for e in broadcasts if e["type"] == "port_call.updated"]
    broadcasts.clear()
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        record_test(inspector, data(call, captain, client_uuid=key), now=NOW)
    (again,) = [e["port_call"] for e in broadcasts if e["type"] == "port_call.updated"]
    assert again["counts"] == first[-1]["counts"] == {"crew": 2, "tested": 1, "negative": 1, "blocking": 1}
    assert again["version"] > first[-1]["version"]
    assert ScreeningTest.objects.count() == 1


def test_sample_in_the_future_is_refused(make_call, inspector):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    with refused("invalid", field="sampled_at"):
        record_test(inspector, data(call, captain, sampled_at=NOW + timedelta(hours=1)), now=NOW)


def test_sample_before_arrival_is_refused(make_call, inspector):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    with refused("invalid", field="sampled_at"):
        record_test(inspector, data(call, captain, sampled_at=ARRIVAL - timedelta(hours=1)), now=NOW)


def test_person_not_on_the_manifest_is_refused(make_call, inspector):
    call = make_call(crew=1)
    stranger = people_of(make_call(crew=1))[0]
    with refused("invalid", field="id_number"):
        record_test(inspector, data(call, stranger), now=NOW)


def test_batch_is_all_or_nothing(make_call, inspector):
    call = make_call(crew=3)
    first, second, third = people_of(call)
    entries = [data(call, first), data(call, second), data(call, third, sampled_at=NOW + timedelta(days=1))]
    with refused("invalid", field="sampled_at"):
        record_tests(inspector, entries, now=NOW)
    assert not ScreeningTest.objects.exists()
    record_tests(inspector, entries[:2], now=NOW)
    assert ScreeningTest.objects.count() == 2


def test_inspector_of_another_wharf_cannot_record_for_this_call(make_call, outsider):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    with refused("forbidden", NotAllowed, field="wharf"):
        record_test(outsider, data(call, captain), now=NOW)
    assert not ScreeningTest.objects.exists()


def test_a_sheet_with_one_call_outside_the_inspectors_wharves_is_refused_whole(make_call, outsider, ha_long):
    # The wharf's scope is read with the calls' lock: a sheet naming a call of the
    # inspector's own wharf and one of another is refused, naming the other wharf.
    mine = make_call(crew=1, wharf=ha_long, by=outsider)
    theirs = make_call(crew=1)
    with refused("forbidden", NotAllowed, field="wharf") as error:
        record_tests(outsider, [data(mine, people_of(mine)[0]), data(theirs, people_of(theirs)[0])], now=NOW)
    assert theirs.wharf.code in error.value.message and ha_long.code not in error.value.message
    assert not ScreeningTest.objects.exists()
    record_tests(outsider, [data(mine, people_of(mine)[0])], now=NOW)
    assert ScreeningTest.objects.get().port_call == mine


def test_port_authority_does_not_record_results(make_call, authority):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    with refused("forbidden", NotAllowed, field=None):
        record_test(authority, data(call, captain), now=NOW)


def test_every_record_names_who_recorded_it(make_call, inspector):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    test, _created = record_test(inspector, data(call, captain), now=NOW)
    assert test.recorded_by == inspector and test.result_at == NOW


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("022081000123", ("022081000123", "cccd")),
        (" 031 234 567 ", ("031234567", "cmnd")),
        ("b1234567", ("B1234567", "passport")),
    ],
)
def test_id_numbers_are_normalised_and_their_kind_told(raw, expected):
    assert parse_id_number(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "0220810001234", "ABC", ""])
def test_malformed_id_numbers_are_refused(raw):
    with refused("invalid", field="id_number"):
        parse_id_number(raw)
