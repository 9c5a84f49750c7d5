"""A person's history: the calls they were on, the stations they are rostered at, every
test in time order with who recorded it and its corrections, the alerts about them and
the contact lists they are on; each within the reader's scope (404 outside it), in a
constant number of queries."""

from datetime import date, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from crews.choices import TestKind, TestResult
from crews.corrections import correct_test
from crews.history import person_history
from crews.models import Person
from crews.results import TestData
from crews.stations import record_staff_test
from portguard import roles
from tests.crews.helpers import roster_lines, staff_id
from tests.helpers import ARRIVAL, crew_data, make_user, people_of
from vessels.services import VesselData, record_departure, register_port_call

NOW = ARRIVAL + timedelta(days=2)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def sailor_story(make_call, record, inspector, outsider, ha_long, health):
    """A sailor on a call at Cẩm Phả (a negative, then a positive RT-PCR corrected by
    the health officer, which confirmed a case first; their mate's positive RT-PCR puts
    them on a contact list) and, a day later, on a call at Hạ Long with a negative."""
    first = make_call(crew=2, arrived_at=ARRIVAL)
    sailor, mate = people_of(first)
    record(first, sailor, sampled_at=ARRIVAL + timedelta(hours=1))
    positive = record(
        first, sailor, result=TestResult.POSITIVE, kind=TestKind.RT_PCR, sampled_at=ARRIVAL + timedelta(hours=2)
    )
    record(first, mate, result=TestResult.POSITIVE, kind=TestKind.RT_PCR, sampled_at=ARRIVAL + timedelta(hours=2))
    correct_test(health, positive, TestResult.NEGATIVE, "Nhập nhầm kết quả", now=ARRIVAL + timedelta(hours=3))
    second = register_port_call(
        outsider,
        wharf=ha_long,
        vessel=VesselData(registration="QN-7777", name="Hải Âu 02"),
        arrived_at=ARRIVAL + timedelta(days=1),
        crew=[crew_data(1, start=sailor_start(sailor))[0]],
        now=ARRIVAL + timedelta(days=1, minutes=1),
    )
    record(second, sailor, sampled_at=ARRIVAL + timedelta(days=1, hours=1), by=outsider)
    return sailor, mate, first, second


def sailor_start(sailor: Person) -> int:
    return int(sailor.id_number[3:])


def test_the_health_officer_reads_everything_in_time_order(sailor_story, health):
    sailor, mate, first, second = sailor_story
    history = person_history(health, sailor)
    assert [m.port_call_id for m in history.manifests] == [first.pk, second.pk]
    tests = history.tests
    assert [t.sampled_at for t in tests] == sorted(t.sampled_at for t in tests)
    assert [(t.kind, t.result, t.port_call_id) for t in tests] == [
        (TestKind.RAPID, TestResult.NEGATIVE, first.pk),
        (TestKind.RT_PCR, TestResult.POSITIVE, first.pk),
        (TestKind.RT_PCR, TestResult.NEGATIVE, first.pk),
        (TestKind.RAPID, TestResult.NEGATIVE, second.pk),
    ]
    assert tests[2].supersedes_id == tests[1].pk and tests[2].correction_reason == "Nhập nhầm kết quả"
    assert history.alerts and {a.person_id for a in history.alerts} == {sailor.pk}
    # The mate's confirmed case put the sailor on its contact list.
    assert [c.case_person_id for c in history.contacts] == [mate.pk]

    body = client_for(health).get(reverse("person", args=[sailor.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for text in (sailor.full_name, first.vessel.registration, "QN-7777", "Nhập nhầm kết quả", mate.full_name):
        assert text in body, text
    assert "Corrected by hoa" in body and "Recorded by alice" in body and "Recorded by charlie" in body


def test_an_inspector_reads_only_what_happened_at_their_wharves(sailor_story, inspector, outsider):
    sailor, _mate, first, second = sailor_story
    ours = person_history(inspector, sailor)
    assert [m.port_call_id for m in ours.manifests] == [first.pk]
    assert {t.port_call_id for t in ours.tests} == {first.pk}
    assert ours.contacts is None  # contact lists are the health officers'
    theirs = person_history(outsider, sailor)
    assert [m.port_call_id for m in theirs.manifests] == [second.pk]
    assert {t.port_call_id for t in theirs.tests} == {second.pk}
    body = client_for(outsider).get(reverse("person", args=[sailor.pk])).content.decode()
    assert "QN-7777" in body and first.vessel.registration not in body


def test_outside_their_scope_the_person_is_unknown(make_call, inspector, outsider, supervisor, ha_long):
    ours = people_of(make_call(crew=1))[0]
    administrator = make_user("quantri", roles.ADMIN)
    for user in (outsider, supervisor, administrator):
        assert client_for(user).get(reverse("person", args=[ours.pk])).status_code == 404
    assert client_for(inspector).get(reverse("person", args=[ours.pk])).status_code == 200
    assert client_for(inspector).get(reverse("person", args=[ours.pk + 1000])).status_code == 404


@pytest.fixture
def staff_story(rostered, supervisor):
    station = rostered(staff=2, days=3)
    person = Person.objects.get(id_number=staff_id(0))
    record_staff_test(
        supervisor,
        station,
        TestData(person=person, kind=TestKind.RAPID, sampled_at=NOW - timedelta(hours=1), result="positive"),
        now=NOW,
    )
    return station, person


def test_a_supervisor_reads_their_staffs_history_and_nobody_elses(
    staff_story, supervisor, other_supervisor, inspector, authority
):
    station, person = staff_story
    history = person_history(supervisor, person)
    (post,) = history.posts
    assert post.staff.station == station
    assert post.shifts == 3 and post.first_day == date.fromisoformat(roster_lines(1, 3)[0].date)
    assert [t.result for t in history.tests] == [TestResult.POSITIVE]
    body = client_for(supervisor).get(reverse("person", args=[person.pk])).content.decode()
    assert station.code in body and person.full_name in body
    assert client_for(other_supervisor).get(reverse("person", args=[person.pk])).status_code == 404
    assert client_for(inspector).get(reverse("person", args=[person.pk])).status_code == 404
    # The port authority reads it, with the alert its positive raised.
    seen = person_history(authority, person)
    assert [a.kind for a in seen.alerts] == ["positive"] and len(seen.posts) == 1


def test_the_station_page_links_each_staff_member(staff_story, supervisor):
    station, person = staff_story
    body = client_for(supervisor).get(reverse("station", args=[station.code])).content.decode()
    assert reverse("person", args=[person.pk]) in body


@pytest.mark.parametrize("calls", [1, 6])
def test_the_page_runs_the_same_queries_however_long_the_history(
    make_call, record, inspector, health, django_assert_max_num_queries, calls
):
    sailor = people_of(make_call(crew=2, arrived_at=ARRIVAL - timedelta(days=30)))[0]
    for i in range(calls):
        call = make_call(crew=2, arrived_at=ARRIVAL - timedelta(days=calls - i))
        call.crew.create(person=sailor, added_by=inspector)
        record(call, sailor, sampled_at=call.arrived_at + timedelta(hours=1))
        record(call, sailor, result=TestResult.POSITIVE, sampled_at=call.arrived_at + timedelta(hours=2))
        record_departure(inspector, call.pk)
    for user in (inspector, health):
        client = client_for(user)
        with django_assert_max_num_queries(12):  # + the access log's entry (rule R8)
            response = client.get(reverse("person", args=[sailor.pk]))
        assert response.status_code == 200
