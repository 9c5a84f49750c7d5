"""The header's search: vessels by registration or name, people by name with or
without diacritics or by ID number, within what the caller could open anyway, in a
constant number of queries."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from crews.stations import create_station, load_roster
from portguard import roles
from tests.crews.helpers import roster_lines, staff_id
from tests.helpers import make_user, people_of
from vessels.search import SHOWN, search


@pytest.fixture
def station(cam_pha, supervisor):
    station = create_station(code="KCS-CP-03", name="Trạm KCS Mông Dương", wharf=cam_pha, supervisors=[supervisor])
    load_roster(supervisor, station, roster_lines(2, 1))
    return station


def names(results) -> set[str]:
    return {p.full_name for p in results.people}


def page_of(user, query: str):
    client = Client()
    client.force_login(user)
    return client.get(reverse("search"), {"q": query})


def test_a_name_is_found_with_or_without_diacritics_and_in_any_case(make_call, health):
    call = make_call(crew=1)  # its captain is "Nguyễn Văn Hùng <n>" (tests/helpers.py crew_data)
    (captain,) = people_of(call)
    assert captain.full_name.startswith("Nguyễn Văn Hùng")
    for query in ("nguyen van hung", "NGUYEN VAN HUNG", "Nguyễn Văn Hùng", "nguyễn văn", "  nguyen   van  "):
        assert names(search(health, query)) == {captain.full_name}, query
    # A given name alone finds the people it is a word of.
    assert names(search(health, "hung")) == {captain.full_name}
    assert names(search(health, "ung")) == set()  # the middle of a word is not a match


def test_a_person_is_found_by_their_id_number_whole_or_by_its_start(make_call, health):
    call = make_call(crew=2)
    first, second = people_of(call)
    assert [p.pk for p in search(health, first.id_number).people] == [first.pk]
    assert {p.pk for p in search(health, first.id_number[:8]).people} == {first.pk, second.pk}
    assert search(health, "022").people == []  # a province code alone is not an ID


def test_a_vessel_is_found_by_registration_written_loosely_or_by_its_name(make_call, health):
    call = make_call(crew=1)
    registration = call.vessel.registration  # QN-1000, "Hoàng Long 1000"
    for query in (registration, registration.lower().replace("-", " "), "hoang long 1000", "Hoàng Long", "long"):
        assert [v.pk for v in search(health, query).vessels] == [call.vessel_id], query


def test_inspectors_find_only_the_people_of_their_wharves_calls(make_call, inspector, outsider, ha_long):
    ours = people_of(make_call(crew=1))[0]
    theirs = people_of(make_call(crew=1, wharf=ha_long, by=outsider))[0]
    assert names(search(inspector, "nguyen van hung")) == {ours.full_name}
    assert names(search(outsider, "nguyen van hung")) == {theirs.full_name}
    # Vessels are open to every role that reads them (their page lists only the calls in scope).
    assert len(search(outsider, "hoang long").vessels) == 2


def test_supervisors_find_the_staff_of_their_stations_and_no_vessel(make_call, station, supervisor):
    make_call(crew=1)
    other = make_user("tuan", roles.SUPERVISOR)
    results = search(supervisor, staff_id(0))
    assert [p.id_number for p in results.people] == [staff_id(0)]
    assert search(supervisor, "nguyen van hung").people == []  # a crew member, not staff
    assert search(supervisor, "hoang long").vessels == []
    assert search(other, staff_id(0)).people == []


def test_the_administrator_finds_vessels_but_no_person(make_call):
    call = make_call(crew=1)
    admin = make_user("quantri", roles.ADMIN)
    assert [v.pk for v in search(admin, call.vessel.registration).vessels] == [call.vessel_id]
    assert search(admin, people_of(call)[0].id_number).people == []


def test_results_are_capped_and_say_there_are_more(make_call, health):
    for _ in range(SHOWN + 1):
        make_call(crew=1)
    results = search(health, "hoang long")
    assert len(results.vessels) == SHOWN and results.more_vessels
    assert len(search(health, "nguyen").people) <= SHOWN


def test_the_page_links_each_result_and_explains_a_too_short_query(make_call, inspector):
    call = make_call(crew=1)
    captain = people_of(call)[0]
    body = page_of(inspector, "nguyen van hung").content.decode()
    assert reverse("person", args=[captain.pk]) in body
    body = page_of(inspector, call.vessel.registration).content.decode()
    assert reverse("vessel", args=[call.vessel.registration]) in body
    with translation.override("vi"):
        response = page_of(inspector, "n")
    assert response.status_code == 200
    assert "Hãy gõ ít nhất 2 ký tự." in response.content.decode()


def test_the_header_has_the_search_box_for_every_role(inspector, supervisor, health):
    for user in (inspector, supervisor, health):
        client = Client()
        client.force_login(user)
        body = client.get(reverse("home")).content.decode()
        assert f'action="{reverse("search")}"' in body and 'name="q"' in body


@pytest.mark.parametrize("calls", [2, 12])
def test_the_search_page_runs_the_same_queries_whatever_the_data(
    make_call, inspector, health, station, supervisor, django_assert_max_num_queries, calls
):
    for _ in range(calls):
        make_call(crew=4)
    for user in (inspector, health, supervisor):
        client = Client()
        client.force_login(user)
        with django_assert_max_num_queries(9):
            response = client.get(reverse("search"), {"q": "nguyen"})
        assert response.status_code == 200
