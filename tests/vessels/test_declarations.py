"""Rule R6 in the domain: a declaration is stored whole or not at all, every bad field
reported at once and named; only the holder of the receipt code reads or amends it, until
the vessel arrives; inspectors register the arrival from it; flags for symptoms and
epidemic areas (R4)."""

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import translation

from crews.choices import CrewRole
from tests.helpers import ARRIVAL, people_of, refused
from tests.vessels.helpers import declaration_data
from vessels.areas import AreaData, add_epidemic_area
from vessels.declarations import (
    AlreadyDeclared,
    DeclarationArrived,
    DeclarationInvalid,
    DeclaredPersonData,
    PortOfCallData,
    amend,
    declaration_by_receipt,
    declare,
    expected_arrivals,
    receipt_hash,
    register_from_declaration,
)
from vessels.models import Declaration, DeclaredPerson, DeclaredPortOfCall

NOW = ARRIVAL - timedelta(hours=6)
EXPECTED = ARRIVAL


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_a_declaration_is_stored_whole_and_its_receipt_code_opens_it(cam_pha):
    declaration, code = declare(declaration_data(), wharf=cam_pha)
    assert declaration.registration == "QN-4567"
    assert [p.full_name for p in declaration.people.all()] == ["Nguyễn Văn Hùng", "Trần Thị Lan"]
    assert declaration.people.get(id_number="031234567").cough
    assert declaration.ports.get().port == "Cảng Cái Lân, Quảng Ninh"
    # Only the code's hash is kept; the code opens the declaration, written any way.
    assert code not in str(Declaration.objects.values_list().get())
    assert declaration.receipt_hash == receipt_hash(code)
    assert declaration_by_receipt(code.lower()) == declaration
    assert declaration_by_receipt(f"{code[:4]}-{code[4:8]} {code[8:]}") == declaration


def test_receipt_codes_are_random_and_a_wrong_one_opens_nothing(cam_pha):
    codes = {declare(declaration_data(registration=f"QN-{n}"), wharf=cam_pha)[1] for n in range(1000, 1020)}
    assert len(codes) == 20 and all(len(c) == 12 for c in codes)
    code = codes.pop()
    wrong = code[:-1] + ("A" if code[-1] != "A" else "B")
    assert declaration_by_receipt(wrong) is None
    assert declaration_by_receipt("") is None
    assert declaration_by_receipt("x" * 500) is None


def test_every_bad_field_is_reported_at_once_by_name_and_nothing_is_stored(cam_pha):
    data = declaration_data(
        registration="4567",
        expected_at=NOW - timedelta(days=2),
        declarant_phone="call me",
        ports=[PortOfCallData("", None)],
        people=[
            DeclaredPersonData("", "12345", "cook", date(2090, 1, 1)),
            DeclaredPersonData("Trần Thị Lan", "031234567"),
            DeclaredPersonData("Trần Thị Lan", "031 234 567"),
        ],
    )
    with refused("validation_error", DeclarationInvalid) as error:
        declare(data, wharf=cam_pha)
    assert set(error.value.errors) == {
        "registration",
        "expected_at",
        "declarant_phone",
        "ports[0].port",
        "ports[0].left_on",
        "people[0].full_name",
        "people[0].id_number",
        "people[0].role",
        "people[0].date_of_birth",
        "people[2].id_number",
    }
    assert error.value.field == "registration"
    assert Declaration.objects.count() == DeclaredPerson.objects.count() == DeclaredPortOfCall.objects.count() == 0


def test_messages_are_in_vietnamese_and_name_their_field(cam_pha):
    data = declaration_data(people=[DeclaredPersonData("Trần Thị Lan", "12345", CrewRole.CREW)])
    with translation.override("vi"), refused("validation_error", DeclarationInvalid) as error:
        declare(data, wharf=cam_pha)
    assert error.value.errors == {
        "people[0].id_number": [
            "Người thứ 1, số giấy tờ: 12345 không phải số CCCD 12 chữ số, CMND 9 chữ số hay số hộ chiếu."
        ]
    }


def test_ports_of_call_are_those_of_the_last_14_days_before_arrival(cam_pha):
    early = PortOfCallData("Cảng Hải Phòng", date(2021, 7, 28))
    late = PortOfCallData("Cảng Hải Phòng", date(2021, 8, 13))
    with refused("validation_error", DeclarationInvalid) as error:
        declare(declaration_data(ports=[early, late]), wharf=cam_pha)
    assert set(error.value.errors) == {"ports[0].left_on", "ports[1].left_on"}
    with refused("validation_error", DeclarationInvalid) as error:
        declare(declaration_data(ports=[], people=[]), wharf=cam_pha)
    assert set(error.value.errors) == {"ports", "people"}


def test_a_vessel_already_declared_is_refused_until_it_arrives(cam_pha, inspector):
    first, _code = declare(declaration_data(), wharf=cam_pha)
    with refused("already_declared", AlreadyDeclared, field="registration"):
        declare(declaration_data(registration="QN 4567"), wharf=cam_pha)
    register_from_declaration(inspector, first.pk, arrived_at=NOW)
    second, _code = declare(declaration_data(expected_at=EXPECTED + timedelta(days=3)), wharf=cam_pha)
    assert second.pk != first.pk


def test_the_receipt_holder_amends_it_until_arrival(cam_pha, inspector, broadcasts, django_capture_on_commit_callbacks):
    declaration, code = declare(declaration_data(), wharf=cam_pha)
    with django_capture_on_commit_callbacks(execute=True):
        amend(code, declaration_data(people=[DeclaredPersonData("Vũ Văn Nam", "031234568", CrewRole.CAPTAIN)]))
    declaration.refresh_from_db()
    assert declaration.amended_at == NOW
    assert [p.full_name for p in declaration.people.all()] == ["Vũ Văn Nam"]
    assert broadcasts[-1]["type"] == "declaration.received"
    assert broadcasts[-1]["declaration"]["amended"] is True
    # A bad amendment changes nothing; a wrong code finds nothing.
    with refused("validation_error", DeclarationInvalid):
        amend(code, declaration_data(people=[]))
    assert [p.full_name for p in declaration.people.all()] == ["Vũ Văn Nam"]
    with refused("not_found"):
        amend("ABCDEFGHJKLM", declaration_data())
    register_from_declaration(inspector, declaration.pk, arrived_at=NOW)
    with refused("arrived", DeclarationArrived):
        amend(code, declaration_data())


def test_a_declaration_tells_the_wharf_dashboards_without_names(
    cam_pha, broadcasts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        declaration, _code = declare(declaration_data(), wharf=cam_pha)
    [event] = broadcasts
    assert event["type"] == "declaration.received"
    assert event["declaration"]["id"] == declaration.pk
    assert event["declaration"]["registration"] == "QN-4567"
    assert event["declaration"]["flagged"] == 1
    assert "Trần Thị Lan" not in str(event)


def test_registering_from_a_declaration_fills_the_crew_list_and_links_them(cam_pha, inspector):
    declaration, _code = declare(declaration_data(), wharf=cam_pha)
    call = register_from_declaration(inspector, declaration.pk, arrived_at=NOW)
    assert call.vessel.registration == "QN-4567"
    assert call.vessel.name == "Hoàng Long 18"
    assert call.origin == "Cảng Cái Lân, Quảng Ninh"
    assert [(p.id_number, p.full_name) for p in people_of(call)] == [
        ("022081000123", "Nguyễn Văn Hùng"),
        ("031234567", "Trần Thị Lan"),
    ]
    assert {m.person.id_number: m.role for m in call.crew.select_related("person")} == {
        "022081000123": "captain",
        "031234567": "worker",
    }
    declaration.refresh_from_db()
    assert declaration.port_call == call
    with refused("arrived", DeclarationArrived):
        register_from_declaration(inspector, declaration.pk, arrived_at=NOW)


def test_registering_from_a_declaration_takes_it_off_the_dashboards_list(
    cam_pha, inspector, broadcasts, django_capture_on_commit_callbacks
):
    declaration, _code = declare(declaration_data(), wharf=cam_pha)
    with django_capture_on_commit_callbacks(execute=True):
        call = register_from_declaration(inspector, declaration.pk, arrived_at=NOW)
    arrived = [e for e in broadcasts if e["type"] == "declaration.arrived"]
    assert arrived == [{"type": "declaration.arrived", "declaration": declaration.pk, "port_call": call.pk}]


def test_only_inspectors_of_its_wharf_register_from_a_declaration(cam_pha, outsider, authority):
    declaration, _code = declare(declaration_data(), wharf=cam_pha)
    with refused("not_found"):
        register_from_declaration(outsider, declaration.pk, arrived_at=NOW)
    with refused("forbidden"):
        register_from_declaration(authority, declaration.pk, arrived_at=NOW)
    assert Declaration.objects.get().port_call is None


def test_expected_arrivals_flag_symptoms_contacts_and_epidemic_areas(cam_pha, ha_long, health, inspector):
    add_epidemic_area(health, AreaData("Bắc Giang", "", date(2021, 8, 1)))
    declare(declaration_data(), wharf=cam_pha)
    declare(
        declaration_data(
            registration="QN-1111",
            people=[DeclaredPersonData("Lê Quang Vũ", "022081000999", CrewRole.CAPTAIN, case_contact=True)],
        ),
        wharf=cam_pha,
    )
    declare(declaration_data(registration="QN-2222"), wharf=ha_long)
    with translation.override("vi"):
        rows = expected_arrivals([cam_pha])
    assert [r.declaration.registration for r in rows] == ["QN-4567", "QN-1111"]
    lan = rows[0].flagged_people
    assert [p.person.full_name for p in lan] == ["Trần Thị Lan"]
    assert lan[0].symptoms == ["Ho"]
    assert lan[0].epidemic_provinces == ["Bắc Giang"]
    assert rows[1].flagged_people[0].case_contact


@pytest.mark.parametrize("size", [1, 6])
def test_expected_arrivals_take_the_same_queries_whatever_their_number(cam_pha, size, django_assert_max_num_queries):
    for n in range(size):
        declare(declaration_data(registration=f"QN-{3000 + n}"), wharf=cam_pha)
    with django_assert_max_num_queries(4):
        rows = expected_arrivals([cam_pha])
        assert sum(len(r.people) for r in rows) == 2 * size


def test_a_malformed_id_number_is_refused_as_the_crew_list_refuses_it(cam_pha):
    with refused("validation_error", DeclarationInvalid, field="people[0].id_number"):
        declare(declaration_data(people=[DeclaredPersonData("A", "A12", CrewRole.CREW)]), wharf=cam_pha)
