"""Contact lists of confirmed cases (rule R2): computed when a case is confirmed, kept
with the reason each person is on them, recomputed on demand, exported for Excel."""

import io
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import time_machine
from django.urls import reverse

from crews.choices import CrewRole, TestKind, TestResult
from crews.stations import RosterLine, create_station, load_roster
from portguard.domain import NotAllowed
from tests.helpers import ARRIVAL, people_of, refused
from vessels.choices import ContactLevel, ContactReason
from vessels.contact_rule import OnBoard, OnShift, Stay, contacts_of
from vessels.contacts import CONTACT_COLUMNS, recompute_contacts
from vessels.models import Contact
from vessels.services import record_departure

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
CONFIRMED_AT = ARRIVAL + 8 * HOUR  # 16:00 on 12/08/2021, Vietnam time
STAFF = ["Nguyễn Thị Hằng", "Trần Đức Mạnh", "Phạm Văn Quý", "Lê Thị Thuỷ"]


def staff_line(row: int, i: int, day: date, shift: str) -> RosterLine:
    return RosterLine(row=row, id_number=f"0229{i:08d}", full_name=STAFF[i], date=day.isoformat(), shift=shift)


@pytest.fixture
def scenario(make_call, record, inspector, outsider, supervisor, health, cam_pha, ha_long):
    """Vessel A arrives at CP-03 at 08:00 on 12/08 and its captain is confirmed at 16:00.

    At CP-03 meanwhile: B berthed from the day before until 10:00 (F2), C left at 07:00
    (no contact), E arrived at 11:00 (F2). D is at HL-01 (no contact). The CP-03 KCS
    station had Hằng on 06–14 and Mạnh on 14–22 that day (F1); Quý's night shift ended
    at 06:00 and Thuỷ works the next day (no contact). HL-01's station staff are not.
    """
    station = create_station(code="KCS-CP-03", name="Trạm KCS Mông Dương", wharf=cam_pha, supervisors=[supervisor])
    other_station = create_station(
        code="KCS-HL-01", name="Trạm KCS Làng Khánh", wharf=ha_long, supervisors=[supervisor]
    )
    day = date(2021, 8, 12)
    load_roster(
        supervisor,
        station,
        [
            staff_line(2, 0, day, "S1"),
            staff_line(3, 1, day, "S2"),
            staff_line(4, 2, day - timedelta(days=1), "S3"),
            staff_line(5, 3, day + timedelta(days=1), "S1"),
        ],
    )
    load_roster(supervisor, other_station, [RosterLine(2, "022955555555", "Đỗ Quốc Việt", day.isoformat(), "S1")])

    c = make_call(crew=2, arrived_at=ARRIVAL - 2 * DAY)
    record_departure(inspector, c.pk, departed_at=ARRIVAL - HOUR)
    b = make_call(crew=2, arrived_at=ARRIVAL - DAY)
    record_departure(inspector, b.pk, departed_at=ARRIVAL + 2 * HOUR)
    a = make_call(crew=3)
    d = make_call(crew=2, wharf=ha_long, by=outsider)
    e = make_call(crew=2, arrived_at=ARRIVAL + 3 * HOUR)

    case = people_of(a)[0]
    record(a, case, result=TestResult.POSITIVE, sampled_at=ARRIVAL + HOUR)
    test = record(
        a,
        case,
        kind=TestKind.RT_PCR,
        result=TestResult.POSITIVE,
        sampled_at=ARRIVAL + 2 * HOUR,
        by=health,
        now=CONFIRMED_AT,
    )
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "case": case, "test": test, "station": station}


def contacts_by_level(call, person) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {ContactLevel.F1: set(), ContactLevel.F2: set()}
    for contact in Contact.objects.filter(port_call=call, case_person=person).select_related("person"):
        found[contact.level].add(contact.person.full_name)
    return found


def names(*calls) -> set[str]:
    return {p.full_name for call in calls for p in people_of(call)}


# --- Computed when the case is confirmed -----------------------------------------------


def test_confirming_a_case_stores_its_f1_and_f2_contacts(scenario):
    a, case = scenario["a"], scenario["case"]
    found = contacts_by_level(a, case)
    assert found[ContactLevel.F1] == (names(a) - {case.full_name}) | {"Nguyễn Thị Hằng", "Trần Đức Mạnh"}
    assert found[ContactLevel.F2] == names(scenario["b"], scenario["e"])
    assert case.full_name not in found[ContactLevel.F1] | found[ContactLevel.F2]


def test_each_contact_says_why_and_when_it_was_computed(scenario, health):
    a = scenario["a"]
    contacts = {c.person.full_name: c for c in Contact.objects.filter(port_call=a).select_related("person")}
    crew_member = people_of(a)[1]
    assert contacts[crew_member.full_name].reason_code == ContactReason.MANIFEST
    assert a.vessel.registration in contacts[crew_member.full_name].reason
    kcs = contacts["Trần Đức Mạnh"]
    assert kcs.reason_code == ContactReason.KCS_ROSTER
    assert "KCS-CP-03" in kcs.reason and "S2" in kcs.reason and "14:00 12/08/2021" in kcs.reason
    nearby = contacts[people_of(scenario["b"])[0].full_name]
    assert nearby.reason_code == ContactReason.BERTHED_NEARBY
    assert scenario["b"].vessel.registration in nearby.reason
    assert "08:00 12/08/2021" in nearby.reason and "10:00 12/08/2021" in nearby.reason
    assert {(c.computed_at, c.computed_by, c.case_test) for c in contacts.values()} == {
        (CONFIRMED_AT, health, scenario["test"])
    }


def test_a_positive_rapid_test_alone_makes_no_contact_list(make_call, record):
    call = make_call(crew=3)
    record(call, people_of(call)[0], result=TestResult.POSITIVE)
    assert not Contact.objects.exists()


# --- Recomputed --------------------------------------------------------------------------


def test_recomputing_finds_the_vessel_registered_late_and_replaces_the_list(scenario, make_call, health):
    a, case = scenario["a"], scenario["case"]
    late = make_call(crew=1, arrived_at=ARRIVAL + 4 * HOUR)
    before = Contact.objects.filter(port_call=a).count()
    contacts = recompute_contacts(health, a.pk, case.pk, now=CONFIRMED_AT + HOUR)
    assert len(contacts) == before + 1
    assert Contact.objects.filter(port_call=a).count() == before + 1
    assert names(late) <= contacts_by_level(a, case)[ContactLevel.F2]


@pytest.mark.parametrize("who", ["inspector", "authority", "supervisor"])
def test_only_a_health_officer_recomputes_a_contact_list(scenario, who, request):
    with refused("forbidden", NotAllowed, field=None):
        recompute_contacts(request.getfixturevalue(who), scenario["a"].pk, scenario["case"].pk)


# --- The rule as a pure function ---------------------------------------------------------

VN = ZoneInfo("Asia/Ho_Chi_Minh")
STAY = Stay(1, "QN-1001", "CP-03", ARRIVAL, ARRIVAL + 10 * HOUR)


def test_a_person_found_two_ways_keeps_the_closest_level_and_both_reasons():
    other = Stay(2, "QN-2002", "CP-03", ARRIVAL + HOUR, None)
    records = contacts_of(
        case_person=100,
        stay=STAY,
        on_board=[OnBoard(100, CrewRole.CAPTAIN, STAY), OnBoard(7, CrewRole.CREW, other)],
        on_shift=[OnShift(7, "KCS-CP-03", "S1", ARRIVAL - 2 * HOUR, ARRIVAL + 6 * HOUR)],
        now=ARRIVAL + 20 * HOUR,
        tz=VN,
    )
    (record,) = records
    assert (record.person, record.level, record.reason_code) == (7, ContactLevel.F1, ContactReason.KCS_ROSTER)
    assert "KCS-CP-03" in record.reason and "QN-2002" in record.reason


@pytest.mark.parametrize(
    ("arrived", "departed", "removed", "expected"),
    [
        (-5, 0, None, []),  # left as the case's vessel arrived: the stays only touch
        (10, 12, None, []),  # arrived as the case's vessel left
        (-5, 1, None, [ContactLevel.F2]),
        (2, None, None, [ContactLevel.F2]),
        (-5, None, -1, []),  # taken off the manifest before the case's vessel arrived
        (-5, None, 3, [ContactLevel.F2]),
    ],
)
def test_f2_needs_an_overlapping_stay_at_the_same_wharf(arrived, departed, removed, expected):
    other = Stay(
        2, "QN-2002", "CP-03", ARRIVAL + arrived * HOUR, None if departed is None else ARRIVAL + departed * HOUR
    )
    entry = OnBoard(7, CrewRole.CREW, other, None if removed is None else ARRIVAL + removed * HOUR)
    records = contacts_of(100, STAY, [entry], [], ARRIVAL + 20 * HOUR, VN)
    assert [r.level for r in records] == expected


def test_vessels_at_another_wharf_are_not_contacts():
    other = Stay(2, "QN-2002", "HL-01", ARRIVAL, None)
    assert contacts_of(100, STAY, [OnBoard(7, CrewRole.CREW, other)], [], ARRIVAL + 20 * HOUR, VN) == []


def test_a_stay_still_open_lasts_until_now():
    open_stay = Stay(1, "QN-1001", "CP-03", ARRIVAL, None)
    shift = OnShift(7, "KCS-CP-03", "S2", ARRIVAL + 6 * HOUR, ARRIVAL + 14 * HOUR)
    assert contacts_of(100, open_stay, [], [shift], ARRIVAL + 5 * HOUR, VN) == []
    assert len(contacts_of(100, open_stay, [], [shift], ARRIVAL + 7 * HOUR, VN)) == 1


# --- Page and exports --------------------------------------------------------------------


def test_health_officer_sees_each_case_with_its_contacts(client, scenario, health):
    client.force_login(health)
    page = client.get(reverse("cases")).content.decode()
    a, case = scenario["a"], scenario["case"]
    assert f'data-case="{a.pk}-{case.pk}"' in page
    assert case.full_name in page
    assert page.count('data-level="F1"') == 4
    assert page.count('data-level="F2"') == 4
    assert "Nguyễn Thị Hằng" in page
    assert reverse("case-contacts-xlsx", args=[a.pk, case.pk]) in page
    assert reverse("case-recompute", args=[a.pk, case.pk]) in page


@pytest.mark.parametrize("who", ["inspector", "authority", "supervisor"])
def test_cases_page_and_exports_are_for_health_officers(client, scenario, who, request):
    client.force_login(request.getfixturevalue(who))
    args = [scenario["a"].pk, scenario["case"].pk]
    assert client.get(reverse("cases")).status_code == 403
    assert client.get(reverse("case-contacts-csv", args=args)).status_code == 403
    assert client.post(reverse("case-recompute", args=args)).status_code == 403


def test_recompute_button_computes_the_list_again(client, scenario, health):
    client.force_login(health)
    a, case = scenario["a"], scenario["case"]
    Contact.objects.filter(port_call=a).delete()
    with time_machine.travel(CONFIRMED_AT, tick=False):
        reply = client.post(reverse("case-recompute", args=[a.pk, case.pk]))
    assert reply.status_code == 302
    assert Contact.objects.filter(port_call=a).count() == 8
    # A day later the vessel is still berthed: Thuỷ's shift of 13/08 overlaps its stay too.
    with time_machine.travel(CONFIRMED_AT + DAY, tick=False):
        client.post(reverse("case-recompute", args=[a.pk, case.pk]))
    assert "Lê Thị Thuỷ" in contacts_by_level(a, case)[ContactLevel.F1]


def test_unknown_case_is_not_found(client, scenario, health):
    client.force_login(health)
    a = scenario["a"]
    other = people_of(a)[1]
    assert client.get(reverse("case-contacts-csv", args=[a.pk, other.pk])).status_code == 404
    assert client.post(reverse("case-recompute", args=[a.pk, other.pk])).status_code == 404


def test_csv_export_opens_in_excel_with_vietnamese_names(client, scenario, health):
    client.force_login(health)
    reply = client.get(reverse("case-contacts-csv", args=[scenario["a"].pk, scenario["case"].pk]))
    assert reply.status_code == 200
    assert reply["Content-Type"].startswith("text/csv")
    assert reply.content.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs to read UTF-8
    frame = pd.read_csv(io.BytesIO(reply.content), dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert list(frame.columns) == list(CONTACT_COLUMNS)
    assert {"Nguyễn Thị Hằng", "Trần Đức Mạnh"} <= set(frame["full_name"])
    assert set(frame["case_full_name"]) == {scenario["case"].full_name}
    assert all(len(n) == 12 and n.startswith("022") for n in frame["id_number"])  # leading zeros kept
    assert sorted(frame["level"].value_counts().items()) == [("F1", 4), ("F2", 4)]
    assert all(frame["reason"])


def test_xlsx_export_keeps_vietnamese_names_and_reasons(client, scenario, health):
    client.force_login(health)
    reply = client.get(reverse("case-contacts-xlsx", args=[scenario["a"].pk, scenario["case"].pk]))
    assert reply.status_code == 200
    assert "attachment" in reply["Content-Disposition"]
    frame = pd.read_excel(io.BytesIO(reply.content), dtype=str)
    assert {"Nguyễn Thị Hằng", "Trần Đức Mạnh"} <= set(frame["full_name"])
    hang = frame[frame["full_name"] == "Nguyễn Thị Hằng"].iloc[0]
    assert hang["level"] == "F1"
    assert hang["id_number"] == "022900000000"
    assert "KCS-CP-03" in hang["reason"]


CASES_PAGE_QUERIES = 8  # + the access log's entry (rule R8)


@pytest.mark.parametrize("count", [1, 6])
def test_cases_page_runs_a_fixed_number_of_queries(
    client, make_call, record, health, count, django_assert_max_num_queries
):
    for _ in range(count):
        call = make_call(crew=4)
        record(call, people_of(call)[0], kind=TestKind.RT_PCR, result=TestResult.POSITIVE, by=health)
    client.force_login(health)
    with django_assert_max_num_queries(CASES_PAGE_QUERIES):
        page = client.get(reverse("cases")).content.decode()
    assert page.count("data-case=") == count


def test_admin_shows_contacts_read_only_in_a_fixed_number_of_queries(
    client, django_user_model, scenario, django_assert_max_num_queries
):
    client.force_login(django_user_model.objects.create_superuser("root", password="pw-root"))
    with django_assert_max_num_queries(9):
        page = client.get(reverse("admin:vessels_contact_changelist")).content.decode()
    assert "Nguyễn Thị Hằng" in page
    assert client.get(reverse("admin:vessels_contact_add")).status_code == 403
