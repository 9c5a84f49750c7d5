"""Arrivals from epidemic areas (rule R4): health officers keep the list; a call whose
origin is in an active area is flagged everywhere and, by policy, cleared only by a
negative RT-PCR; changing the list re-announces the open calls it turns."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from crews.choices import Screening, TestKind
from portguard import roles
from portguard.collation import fold_place
from portguard.domain import HandoverBlocked, NotAllowed
from tests.helpers import ARRIVAL, VN, make_user, people_of, refused
from tests.vessels.flags import shown_flags
from vessels.areas import AreaData, add_epidemic_area, change_epidemic_area, delete_epidemic_area
from vessels.choices import PortCallStatus
from vessels.clearance import Area, origin_flagged
from vessels.models import EpidemicArea
from vessels.services import approve_handover, record_departure
from vessels.status import clearance_of

HOUR = timedelta(hours=1)
DAY = date(2021, 8, 12)  # the day of ARRIVAL, in Vietnam


def area(province, district="", start=DAY, end=None) -> Area:
    return Area(province, district, start, end)


@pytest.fixture
def hai_duong(health) -> EpidemicArea:
    return add_epidemic_area(health, AreaData("Hải Dương", active_from=DAY - timedelta(days=10)))


@pytest.fixture
def from_hai_duong(make_call, hai_duong):
    """A call of two arriving from Hải Dương, an active epidemic area."""
    call = make_call(crew=2)
    call.origin = "TP. Hải Dương"
    call.save(update_fields=["origin"])
    return call


# --- Matching the origin (pure) ----------------------------------------------------------


@pytest.mark.parametrize(
    "origin",
    ["Hải Dương", "TP. Hải Dương", "hai duong", "HẢI DƯƠNG", "Cảng Cống Câu, Hải  Dương", "Bến Kinh Môn (Hải Dương)"],
)
def test_origin_names_the_province_whatever_the_case_or_diacritics(origin):
    assert origin_flagged(origin, DAY, [area("Hải Dương")])


@pytest.mark.parametrize("origin", ["Hải Phòng", "Dương Kinh", "", "Hải Dươngg"])
def test_origin_elsewhere_is_not_flagged(origin):
    assert not origin_flagged(origin, DAY, [area("Hải Dương")])


def test_the_word_for_the_kind_of_place_is_not_part_of_its_name():
    assert origin_flagged("Hải Dương", DAY, [area("Tỉnh Hải Dương")])
    assert origin_flagged("Chí Linh, Hải Dương", DAY, [area("Hải Dương", "Thành phố Chí Linh")])


def test_a_district_area_flags_that_district_only():
    chi_linh = area("Hải Dương", "Chí Linh")
    assert origin_flagged("Chí Linh", DAY, [chi_linh])
    assert not origin_flagged("Kinh Môn, Hải Dương", DAY, [chi_linh])


def test_d_with_stroke_folds_to_d():
    assert fold_place("Đà Nẵng") == "da nang"
    assert origin_flagged("Da Nang", DAY, [area("Đà Nẵng")])


@pytest.mark.parametrize(
    ("start", "end", "flagged"),
    [
        (DAY, None, True),
        (DAY, DAY, True),
        (DAY + timedelta(days=1), None, False),
        (DAY - timedelta(days=9), DAY - timedelta(days=1), False),
    ],
)
def test_an_area_flags_arrivals_on_the_days_it_is_active(start, end, flagged):
    assert origin_flagged("Hải Dương", DAY, [area("Hải Dương", start=start, end=end)]) is flagged


def test_the_arrival_day_is_the_day_in_vietnam(make_call, health):
    add_epidemic_area(health, AreaData("Hải Dương", active_from=date(2021, 8, 13)))
    call = make_call(crew=1, arrived_at=datetime(2021, 8, 13, 0, 30, tzinfo=VN))  # still 12/08 in UTC
    call.origin = "Hải Dương"
    call.save(update_fields=["origin"])
    assert clearance_of(call, now=call.arrived_at + HOUR).origin_flagged


# --- Clearance: only a negative RT-PCR clears ------------------------------------------


def test_a_rapid_negative_does_not_clear_an_arrival_from_an_epidemic_area(from_hai_duong, record, authority):
    for person in people_of(from_hai_duong):
        record(from_hai_duong, person)
    clearance = clearance_of(from_hai_duong, now=ARRIVAL + 2 * HOUR)
    assert clearance.origin_flagged
    assert clearance.status == PortCallStatus.AWAITING_TESTS
    assert {(p.state, p.reason_code) for p in clearance.people} == {(Screening.EXPIRED, "rt_pcr_required")}
    with refused("handover_blocked", HandoverBlocked) as error:
        approve_handover(authority, from_hai_duong.pk, now=ARRIVAL + 2 * HOUR)
    assert all("RT-PCR" in b["reason"] for b in error.value.blocking)


def test_a_negative_rt_pcr_clears_an_arrival_from_an_epidemic_area(from_hai_duong, record, authority):
    for person in people_of(from_hai_duong):
        record(from_hai_duong, person, kind=TestKind.RT_PCR)
        record(from_hai_duong, person, sampled_at=ARRIVAL + 2 * HOUR)  # a later rapid negative changes nothing
    assert clearance_of(from_hai_duong, now=ARRIVAL + 3 * HOUR).status == PortCallStatus.CLEARED
    approve_handover(authority, from_hai_duong.pk, now=ARRIVAL + 3 * HOUR)


def test_the_policy_can_be_turned_off(from_hai_duong, record, settings):
    settings.PORTGUARD_EPIDEMIC_RT_PCR_ONLY = False
    for person in people_of(from_hai_duong):
        record(from_hai_duong, person)
    clearance = clearance_of(from_hai_duong, now=ARRIVAL + 2 * HOUR)
    assert clearance.origin_flagged
    assert clearance.status == PortCallStatus.CLEARED


def test_a_call_from_elsewhere_is_still_cleared_by_rapid_tests(make_call, record, hai_duong):
    call = make_call(crew=1)  # from Hải Phòng
    record(call, people_of(call)[0])
    clearance = clearance_of(call, now=ARRIVAL + 2 * HOUR)
    assert not clearance.origin_flagged
    assert clearance.status == PortCallStatus.CLEARED


# --- Who keeps the list ------------------------------------------------------------------


def test_health_officer_adds_an_area(health):
    added = add_epidemic_area(health, AreaData("  Hải  Dương ", "Chí Linh", date(2021, 7, 1), date(2021, 8, 31)))
    assert (added.province, added.district, added.created_by) == ("Hải Dương", "Chí Linh", health)


@pytest.mark.parametrize("who", ["supervisor", "inspector", "authority"])
def test_only_a_health_officer_edits_the_list(hai_duong, who, request):
    user = request.getfixturevalue(who)
    with refused("forbidden", NotAllowed, field=None):
        add_epidemic_area(user, AreaData("Bắc Giang", active_from=DAY))
    with refused("forbidden", NotAllowed, field=None):
        change_epidemic_area(user, hai_duong.pk, AreaData("Hải Dương", "", DAY, DAY))
    with refused("forbidden", NotAllowed, field=None):
        delete_epidemic_area(user, hai_duong.pk)
    assert list(EpidemicArea.objects.values_list("province", "active_to")) == [("Hải Dương", None)]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (AreaData("  ", active_from=DAY), "province"),
        (AreaData("Hải Dương"), "active_from"),
        (AreaData("Hải Dương", active_from=DAY, active_to=DAY - timedelta(days=1)), "active_to"),
    ],
)
def test_an_area_needs_a_province_and_a_sensible_period(health, data, field):
    with refused("invalid", field=field):
        add_epidemic_area(health, data)
    assert not EpidemicArea.objects.exists()


# --- Changing the list re-evaluates the open calls -----------------------------------------


def updated(broadcasts) -> dict[int, bool]:
    return {
        e["port_call"]["id"]: e["port_call"]["origin_flagged"] for e in broadcasts if e["type"] == "port_call.updated"
    }


def test_changing_the_list_announces_each_open_call_whose_flag_turns(
    make_call, inspector, health, broadcasts, django_capture_on_commit_callbacks
):
    from_bac_giang, from_hai_phong, departed = make_call(crew=1), make_call(crew=1), make_call(crew=1)
    for call in (from_bac_giang, departed):
        call.origin = "Bắc Giang"
        call.save(update_fields=["origin"])
    record_departure(inspector, departed.pk, departed_at=ARRIVAL + HOUR)
    broadcasts.clear()
    with django_capture_on_commit_callbacks(execute=True):
        added = add_epidemic_area(health, AreaData("Bac Giang", active_from=DAY))
    assert updated(broadcasts) == {from_bac_giang.pk: True}
    assert clearance_of(from_bac_giang).status == PortCallStatus.AWAITING_TESTS

    broadcasts.clear()
    with django_capture_on_commit_callbacks(execute=True):
        change_epidemic_area(health, added.pk, AreaData("Bac Giang", "Việt Yên", DAY))
    assert updated(broadcasts) == {from_bac_giang.pk: False}

    broadcasts.clear()
    with django_capture_on_commit_callbacks(execute=True):
        change_epidemic_area(health, added.pk, AreaData("Bắc Giang", "", DAY))
        delete_epidemic_area(health, added.pk)
    assert [e["port_call"]["id"] for e in broadcasts] == [from_bac_giang.pk, from_bac_giang.pk]
    assert not EpidemicArea.objects.exists()
    assert from_hai_phong.pk not in updated(broadcasts)


# --- Shown wherever the call is shown -----------------------------------------------------


def test_flag_in_the_api_the_pages_and_the_dashboard(client, from_hai_duong, inspector):
    api = APIClient()
    api.force_authenticate(inspector)
    assert api.get(f"/api/v1/port-calls/{from_hai_duong.pk}/").json()["origin_flagged"] is True
    client.force_login(inspector)
    with time_machine.travel(ARRIVAL + HOUR, tick=False):
        for url in [
            reverse("home"),
            reverse("port-call", args=[from_hai_duong.pk]),
            reverse("wharf-dashboard", args=["CP-03"]),
        ]:
            page = client.get(url).content.decode()
            assert shown_flags(page, "origin") == 1, url


def test_a_call_from_elsewhere_carries_no_flag(client, make_call, inspector, hai_duong):
    call = make_call(crew=1)
    api = APIClient()
    api.force_authenticate(inspector)
    assert api.get(f"/api/v1/port-calls/{call.pk}/").json()["origin_flagged"] is False
    client.force_login(inspector)
    assert 'data-flag="origin"' not in client.get(reverse("port-call", args=[call.pk])).content.decode()


# --- The page and the admin -----------------------------------------------------------------


def test_health_officer_keeps_the_list_from_the_page(client, health):
    client.force_login(health)
    reply = client.post(
        reverse("epidemic-areas"), {"province": "Bắc Ninh", "district": "Thuận Thành", "active_from": "2021-08-01"}
    )
    assert reply.status_code == 302
    added = EpidemicArea.objects.get()
    assert (added.province, added.district, added.created_by) == ("Bắc Ninh", "Thuận Thành", health)
    page = client.get(reverse("epidemic-areas")).content.decode()
    assert "Thuận Thành, Bắc Ninh" in page
    client.post(reverse("epidemic-area-end", args=[added.pk]), {"active_to": "2021-08-20"})
    added.refresh_from_db()
    assert added.active_to == date(2021, 8, 20)
    client.post(reverse("epidemic-area-delete", args=[added.pk]))
    assert not EpidemicArea.objects.exists()


def test_a_bad_area_from_the_page_names_the_field(client, health):
    client.force_login(health)
    reply = client.post(
        reverse("epidemic-areas"), {"province": "Bắc Ninh", "active_from": "2021-08-10", "active_to": "2021-08-01"}
    )
    assert reply.status_code == 400
    assert not EpidemicArea.objects.exists()


def test_a_supervisor_can_neither_see_nor_edit_the_list(client, supervisor, hai_duong):
    client.force_login(supervisor)
    assert client.get(reverse("epidemic-areas")).status_code == 403
    assert (
        client.post(reverse("epidemic-areas"), {"province": "Bắc Ninh", "active_from": "2021-08-01"}).status_code == 403
    )
    assert (
        client.post(reverse("epidemic-area-end", args=[hai_duong.pk]), {"active_to": "2021-08-20"}).status_code == 403
    )
    assert client.post(reverse("epidemic-area-delete", args=[hai_duong.pk])).status_code == 403
    assert list(EpidemicArea.objects.values_list("province", "active_to")) == [("Hải Dương", None)]


def test_inspectors_read_the_list_but_cannot_change_it(client, inspector, hai_duong):
    client.force_login(inspector)
    page = client.get(reverse("epidemic-areas")).content.decode()
    assert "Hải Dương" in page
    assert 'name="province"' not in page
    assert reverse("epidemic-area-delete", args=[hai_duong.pk]) not in page
    assert (
        client.post(reverse("epidemic-areas"), {"province": "Bắc Ninh", "active_from": "2021-08-01"}).status_code == 403
    )
    assert client.post(reverse("epidemic-area-delete", args=[hai_duong.pk])).status_code == 403
    assert EpidemicArea.objects.count() == 1


def test_a_superuser_adds_an_area_in_the_admin_through_the_rules(
    client, django_user_model, make_call, broadcasts, django_capture_on_commit_callbacks
):
    call = make_call(crew=1)
    root = django_user_model.objects.create_superuser("root", password="pw-root")
    client.force_login(root)
    with django_capture_on_commit_callbacks(execute=True):
        reply = client.post(
            reverse("admin:vessels_epidemicarea_add"),
            {"province": "Hải Phòng", "district": "", "active_from": "2021-08-01", "active_to": ""},
        )
    assert reply.status_code == 302
    assert EpidemicArea.objects.get().created_by == root
    assert updated(broadcasts) == {call.pk: True}


def test_the_administrator_role_reads_areas_in_the_admin_but_does_not_edit_them(client, hai_duong):
    admin_user = make_user("quantri", roles.ADMIN)
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    assert client.get(reverse("admin:vessels_epidemicarea_changelist")).status_code == 200
    assert client.get(reverse("admin:vessels_epidemicarea_add")).status_code == 403


AREAS_PAGE_QUERIES = 6


@pytest.mark.parametrize("count", [1, 12])
def test_areas_page_runs_a_fixed_number_of_queries(client, health, count, django_assert_max_num_queries):
    for i in range(count):
        add_epidemic_area(health, AreaData(f"Tỉnh {i}", active_from=DAY, active_to=DAY if i % 2 else None))
    client.force_login(health)
    with django_assert_max_num_queries(AREAS_PAGE_QUERIES):
        page = client.get(reverse("epidemic-areas")).content.decode()
    assert page.count("data-area=") == count


def test_ending_an_area_before_it_starts_is_refused(client, health, hai_duong):
    client.force_login(health)
    client.post(reverse("epidemic-area-end", args=[hai_duong.pk]), {"active_to": "2021-07-01"})
    client.post(reverse("epidemic-area-end", args=[hai_duong.pk]), {"active_to": "not a date"})
    hai_duong.refresh_from_db()
    assert hai_duong.active_to is None


@pytest.mark.parametrize("count", [1, 12])
def test_admin_lists_areas_in_a_fixed_number_of_queries(
    client, django_user_model, health, count, django_assert_max_num_queries
):
    for i in range(count):
        add_epidemic_area(health, AreaData(f"Tỉnh {i}", active_from=DAY))
    client.force_login(django_user_model.objects.create_superuser("root", password="pw-root"))
    with django_assert_max_num_queries(8):
        assert client.get(reverse("admin:vessels_epidemicarea_changelist")).status_code == 200
