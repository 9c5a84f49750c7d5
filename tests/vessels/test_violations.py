"""Violations (rule R5): inspectors record them against a vessel, its owner or a person
on board; the vessel page shows its history; more than one in 30 days flags a repeat
offender on the dashboard card and the port call page."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from portguard.domain import NotAllowed
from tests.helpers import ARRIVAL, people_of, refused
from tests.vessels.flags import shown_flags
from vessels import status
from vessels.areas import ViolationData, record_violation
from vessels.choices import ViolationKind, ViolationTarget
from vessels.models import Vessel, Violation
from vessels.status import clearance_of, repeat_offenders

HOUR = timedelta(hours=1)
NOW = ARRIVAL + 2 * HOUR


def violation(call, kind=ViolationKind.NO_DECLARATION, at=ARRIVAL + HOUR, **fields) -> ViolationData:
    return ViolationData(vessel=call.vessel, kind=kind, occurred_at=at, wharf=call.wharf, **fields)


@pytest.fixture
def call(make_call):
    call = make_call(crew=3)
    Vessel.objects.filter(pk=call.vessel_id).update(owner="Công ty TNHH Vận tải Hoàng Long")
    call.vessel.refresh_from_db()
    return call


# --- Recording ---------------------------------------------------------------------------


def test_inspector_records_a_violation_against_the_vessel_keeping_its_owner_then(call, inspector):
    recorded = record_violation(
        inspector, violation(call, note="Không khai báo y tế khi cập bến", fine_vnd=2_000_000), now=NOW
    )
    assert (recorded.recorded_by, recorded.wharf, recorded.against) == (inspector, call.wharf, ViolationTarget.VESSEL)
    assert recorded.owner_name == "Công ty TNHH Vận tải Hoàng Long"
    Vessel.objects.filter(pk=call.vessel_id).update(owner="Chủ mới")
    recorded.refresh_from_db()
    assert recorded.owner_name == "Công ty TNHH Vận tải Hoàng Long"


def test_a_violation_against_the_owner_needs_a_known_owner(make_call, inspector):
    call = make_call(crew=1)  # the vessel's owner is not on record
    with refused("invalid", field="owner_name"):
        record_violation(inspector, violation(call, against=ViolationTarget.OWNER), now=NOW)
    recorded = record_violation(
        inspector, violation(call, against=ViolationTarget.OWNER, owner_name="Trần Văn Chủ"), now=NOW
    )
    assert recorded.owner_name == "Trần Văn Chủ"


def test_a_violation_against_a_person_names_them(call, inspector):
    person = people_of(call)[1]
    with refused("invalid", field="id_number"):
        record_violation(inspector, violation(call, against=ViolationTarget.PERSON), now=NOW)
    with refused("invalid", field="id_number"):
        record_violation(inspector, violation(call, person=person), now=NOW)
    recorded = record_violation(
        inspector,
        violation(call, ViolationKind.LEFT_VESSEL, against=ViolationTarget.PERSON, person=person),
        now=NOW,
    )
    assert recorded.person == person


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "smuggling"}, "kind"),
        ({"at": NOW + HOUR}, "occurred_at"),
        ({"fine_vnd": -1}, "fine_vnd"),
        ({"against": "crew"}, "against"),
    ],
)
def test_a_bad_violation_is_refused_naming_the_field(call, inspector, fields, field):
    with refused("invalid", field=field):
        record_violation(inspector, violation(call, **fields), now=NOW)
    assert not Violation.objects.exists()


@pytest.mark.parametrize("who", ["outsider", "authority", "health", "supervisor"])
def test_only_an_inspector_of_the_wharf_records_a_violation(call, who, request):
    with refused("forbidden", NotAllowed):
        record_violation(request.getfixturevalue(who), violation(call), now=NOW)
    assert not Violation.objects.exists()


# --- Repeat offenders --------------------------------------------------------------------


def test_two_violations_in_30_days_make_the_vessel_a_repeat_offender(call, inspector):
    record_violation(inspector, violation(call, at=ARRIVAL - timedelta(days=20)), now=NOW)
    assert not clearance_of(call, now=NOW).repeat_offender
    record_violation(inspector, violation(call, ViolationKind.REFUSED_TEST), now=NOW)
    clearance = clearance_of(call, now=NOW)
    assert clearance.repeat_vessel and clearance.repeat_offender
    # Thirty days after the first, only one is left in the window.
    assert not clearance_of(call, now=ARRIVAL - timedelta(days=20) + timedelta(days=30, minutes=1)).repeat_offender


def test_violations_31_days_apart_do_not_make_a_repeat_offender(call, inspector):
    record_violation(inspector, violation(call, at=ARRIVAL - timedelta(days=31)), now=NOW)
    record_violation(inspector, violation(call), now=NOW)
    assert not clearance_of(call, now=NOW).repeat_offender


def test_a_person_with_two_violations_on_any_vessels_is_a_repeat_offender(call, make_call, inspector):
    person = people_of(call)[2]
    earlier = make_call(crew=1, arrived_at=ARRIVAL - timedelta(days=40))
    record_violation(
        inspector,
        ViolationData(
            vessel=earlier.vessel,
            kind=ViolationKind.RESIDENT_CONTACT,
            occurred_at=ARRIVAL - timedelta(days=5),
            wharf=earlier.wharf,
            against=ViolationTarget.PERSON,
            person=person,
        ),
        now=NOW,
    )
    record_violation(
        inspector, violation(call, ViolationKind.LEFT_VESSEL, against=ViolationTarget.PERSON, person=person), now=NOW
    )
    clearance = clearance_of(call, now=NOW)
    assert [p.member.person for p in clearance.people if p.repeat_offender] == [person]
    assert clearance.repeat_offender
    assert not clearance.repeat_vessel  # one violation on this vessel only


def test_repeat_offenders_are_found_in_one_query(call, make_call, inspector, django_assert_num_queries):
    for _ in range(2):
        record_violation(inspector, violation(call), now=NOW)
    others = [make_call(crew=1) for _ in range(5)]
    people = {p.pk for c in [call, *others] for p in people_of(c)}
    with django_assert_num_queries(1):
        vessels, people = repeat_offenders({c.vessel_id for c in [call, *others]}, people, NOW)
    assert (vessels, people) == ({call.vessel_id}, set())


@pytest.mark.parametrize("whole_window", [False, True], ids=["ids sent", "window read whole"])
def test_repeat_offenders_are_the_same_whether_the_ids_are_sent_or_the_window_read_whole(
    call, make_call, inspector, monkeypatch, whole_window
):
    # A province's snapshot asks about thousands of people: the month's violations are
    # then read whole and counted here. Only the vessels and people asked about answer.
    if whole_window:
        monkeypatch.setattr(status, "WHOLE_WINDOW_OVER", 0)
    person = people_of(call)[0]
    elsewhere = make_call(crew=1)
    for _ in range(2):
        record_violation(inspector, violation(call), now=NOW)
        record_violation(
            inspector,
            violation(call, ViolationKind.LEFT_VESSEL, against=ViolationTarget.PERSON, person=person),
            now=NOW,
        )
        record_violation(inspector, violation(elsewhere), now=NOW)
    asked_people = {p.pk for p in people_of(call)}
    assert repeat_offenders({call.vessel_id}, asked_people, NOW) == ({call.vessel_id}, {person.pk})
    assert repeat_offenders({call.vessel_id}, asked_people - {person.pk}, NOW) == ({call.vessel_id}, set())
    assert repeat_offenders({elsewhere.vessel_id}, set(), NOW) == ({elsewhere.vessel_id}, set())


def test_recording_a_violation_announces_the_vessels_open_call(
    call, inspector, broadcasts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        record_violation(inspector, violation(call), now=NOW)
        record_violation(inspector, violation(call), now=NOW)
    assert [(e["type"], e["port_call"]["id"]) for e in broadcasts] == [("port_call.updated", call.pk)] * 2
    assert [e["port_call"]["repeat_offender"] for e in broadcasts] == [False, True]


# --- Shown on the dashboard card, the port call page and in the API ----------------------


@pytest.fixture
def repeat(call, inspector):
    person = people_of(call)[1]
    for kind in (ViolationKind.NO_DECLARATION, ViolationKind.REFUSED_TEST):
        record_violation(inspector, violation(call, kind, against=ViolationTarget.PERSON, person=person), now=NOW)
    return call


def test_repeat_offender_flag_on_the_card_the_port_call_page_and_the_api(client, repeat, inspector, make_call):
    clean = make_call(crew=1)
    client.force_login(inspector)
    with time_machine.travel(NOW, tick=False):
        dashboard = client.get(reverse("wharf-dashboard", args=["CP-03"])).content.decode().split("<template")[0]
        page = client.get(reverse("port-call", args=[repeat.pk])).content.decode()
        clean_page = client.get(reverse("port-call", args=[clean.pk])).content.decode()
        api = APIClient()
        api.force_authenticate(inspector)
        detail = api.get(f"/api/v1/port-calls/{repeat.pk}/").json()
    assert shown_flags(dashboard, "repeat") == 1
    assert shown_flags(page, "repeat") == 2  # the vessel's header and the person on the manifest
    assert 'data-flag="repeat"' not in clean_page
    assert detail["repeat_offender"] is True
    flagged = [c["id_number"] for c in detail["crew"] if c["repeat_offender"]]
    assert flagged == [people_of(repeat)[1].id_number]


# --- The vessel page ---------------------------------------------------------------------


def test_vessel_page_shows_its_history(client, repeat, health):
    client.force_login(health)
    with time_machine.travel(NOW, tick=False):
        page = client.get(
            reverse("vessel", args=[repeat.vessel.registration.lower().replace("-", " ")])
        ).content.decode()
    assert page.count("data-violation=") == 2
    assert people_of(repeat)[1].full_name in page
    assert 'data-flag="repeat"' in page
    assert reverse("port-call", args=[repeat.pk]) in page
    assert 'name="kind"' not in page  # health officers do not record violations


def test_inspector_records_a_violation_from_the_vessel_page(client, call, inspector):
    client.force_login(inspector)
    url = reverse("vessel", args=[call.vessel.registration])
    person = people_of(call)[0]
    with time_machine.travel(NOW, tick=False):
        assert 'name="kind"' in client.get(url).content.decode()
        reply = client.post(
            url,
            {
                "kind": ViolationKind.LEFT_VESSEL,
                "against": ViolationTarget.PERSON,
                "id_number": person.id_number,
                "occurred_at": "2021-08-12T09:30",
                "wharf": call.wharf_id,
                "note": "Tự ý lên bờ",
                "fine_vnd": "1500000",
            },
        )
    assert reply.status_code == 302
    recorded = Violation.objects.get()
    assert (recorded.person, recorded.fine_vnd, recorded.note) == (person, 1_500_000, "Tự ý lên bờ")
    assert recorded.occurred_at == ARRIVAL + timedelta(minutes=90)


def test_an_unknown_person_on_the_vessel_page_names_the_field(client, call, inspector):
    client.force_login(inspector)
    with time_machine.travel(NOW, tick=False):
        reply = client.post(
            reverse("vessel", args=[call.vessel.registration]),
            {
                "kind": ViolationKind.OTHER,
                "against": ViolationTarget.PERSON,
                "id_number": "031999999999",
                "occurred_at": "2021-08-12T09:30",
                "wharf": call.wharf_id,
            },
        )
    assert reply.status_code == 400
    assert "031999999999" in reply.content.decode()
    assert not Violation.objects.exists()


def test_an_inspector_cannot_record_at_another_wharf_from_the_page(client, call, outsider):
    client.force_login(outsider)
    with time_machine.travel(NOW, tick=False):
        reply = client.post(
            reverse("vessel", args=[call.vessel.registration]),
            {
                "kind": ViolationKind.OTHER,
                "against": "vessel",
                "occurred_at": "2021-08-12T09:30",
                "wharf": call.wharf_id,
            },
        )
    assert reply.status_code == 400  # not one of their wharves
    assert not Violation.objects.exists()


def test_vessel_page_needs_the_right_to_see_vessels(client, call, supervisor, health):
    client.force_login(supervisor)
    assert client.get(reverse("vessel", args=[call.vessel.registration])).status_code == 403
    client.force_login(health)
    assert client.post(reverse("vessel", args=[call.vessel.registration]), {"kind": "other"}).status_code == 403
    assert client.get(reverse("vessel", args=["QN-0000"])).status_code == 404


VESSEL_PAGE_QUERIES = 11
PORT_CALL_PAGE_QUERIES = 15  # one of them the wharf's kit stock, for the sheet's lot select


@pytest.mark.parametrize("count", [1, 15])
def test_vessel_and_port_call_pages_run_a_fixed_number_of_queries(
    client, call, inspector, count, django_assert_max_num_queries
):
    people = people_of(call)
    for i in range(count):
        person = people[i % len(people)]
        record_violation(
            inspector,
            violation(call, against=ViolationTarget.PERSON, person=person, at=ARRIVAL + i * timedelta(minutes=1)),
            now=NOW,
        )
    client.force_login(inspector)
    with time_machine.travel(NOW, tick=False):
        with django_assert_max_num_queries(VESSEL_PAGE_QUERIES):
            page = client.get(reverse("vessel", args=[call.vessel.registration])).content.decode()
        assert page.count("data-violation=") == count
        with django_assert_max_num_queries(PORT_CALL_PAGE_QUERIES):
            client.get(reverse("port-call", args=[call.pk]))


@pytest.mark.parametrize("count", [1, 10])
def test_admin_shows_violations_read_only_in_a_fixed_number_of_queries(
    client, django_user_model, call, inspector, count, django_assert_max_num_queries
):
    for _ in range(count):
        record_violation(inspector, violation(call), now=NOW)
    client.force_login(django_user_model.objects.create_superuser("root", password="pw-root"))
    with django_assert_max_num_queries(9):
        assert client.get(reverse("admin:vessels_violation_changelist")).status_code == 200
    assert client.get(reverse("admin:vessels_violation_add")).status_code == 403
