"""The folded copies the search reads (a person's name, a vessel's name, a call's
origin) follow every way of writing them: a crew list, a roster, an arrival, the
admin's save, ``update``, ``bulk_create``, ``bulk_update``; and the migration fills
those of rows stored before the column existed."""

import importlib

import pytest
from django.apps import apps

from crews.models import Person
from portguard.collation import fold_name
from tests.crews.helpers import roster_lines
from tests.helpers import people_of
from vessels.models import PortCall, Vessel
from vessels.services import VesselData, register_port_call

fill_people = importlib.import_module("crews.migrations.0008_people_keep_a_folded_name_for_search")
fill_vessels = importlib.import_module("vessels.migrations.0011_vessels_and_origins_keep_folded_copies_for_search")


def test_fold_name_drops_case_diacritics_and_extra_spaces():
    assert fold_name("  Nguyễn  Văn HÙNG ") == "nguyen van hung"
    assert fold_name("Đỗ Thị Thuỷ") == "do thi thuy"
    assert fold_name("") == ""


def test_people_registered_with_an_arrival_are_folded(make_call):
    call = make_call(crew=2)
    for person in people_of(call):
        assert person.name_folded == fold_name(person.full_name) != ""
    assert call.origin_folded == "hai phong"
    assert call.vessel.name_folded == fold_name(call.vessel.name) != ""


def test_staff_loaded_by_a_roster_are_folded(rostered):
    rostered(staff=2, days=1)
    for line in roster_lines(2, 1):
        assert Person.objects.get(id_number=line.id_number).name_folded == fold_name(line.full_name)


def test_a_renamed_person_or_vessel_is_folded_again_whichever_way_it_is_written(make_call, inspector, cam_pha):
    call = make_call(crew=1)
    person = people_of(call)[0]
    person.full_name = "Trần Thị Ánh"
    person.save(update_fields=["full_name"])
    person.refresh_from_db()
    assert person.name_folded == "tran thi anh"

    Person.objects.filter(pk=person.pk).update(full_name="Lê Văn Đạt")
    assert Person.objects.get(pk=person.pk).name_folded == "le van dat"

    person.full_name = "Vũ Thị Hường"
    Person.objects.bulk_update([person], ["full_name"])
    assert Person.objects.get(pk=person.pk).name_folded == "vu thi huong"

    # A later arrival renames the vessel (``save(update_fields=["name", "kind"])``).
    call.departed_at = call.arrived_at
    call.save(update_fields=["departed_at"])
    register_port_call(
        inspector,
        wharf=cam_pha,
        vessel=VesselData(registration=call.vessel.registration, name="Đông Bắc 36", kind="tug"),
        arrived_at=call.arrived_at,
        crew=[],
    )
    assert Vessel.objects.get(pk=call.vessel_id).name_folded == "dong bac 36"


def test_bulk_created_rows_are_folded(db):
    (person,) = Person.objects.bulk_create(
        [Person(full_name="Phạm Đức Thắng", id_kind="cccd", id_number="022000000001")]
    )
    (boat,) = Vessel.objects.bulk_create([Vessel(registration="QN-1000", name="Hải Âu 02")])
    assert Person.objects.get(pk=person.pk).name_folded == "pham duc thang"
    assert Vessel.objects.get(pk=boat.pk).name_folded == "hai au 02"


def test_update_refuses_a_name_it_cannot_fold(db):
    with pytest.raises(ValueError):
        Person.objects.update(full_name=Person.objects.values("id_number")[:1])


def test_the_migrations_fill_the_rows_stored_before_them(make_call):
    calls = [make_call(crew=3) for _ in range(2)]
    Person.objects.update(name_folded="")
    Vessel.objects.update(name_folded="")
    PortCall.objects.update(origin_folded="")
    fill_people.fold_existing_names(apps, None)
    fill_vessels.fold_existing_rows(apps, None)
    for call in calls:
        call.refresh_from_db()
        assert call.origin_folded == "hai phong"
        assert Vessel.objects.get(pk=call.vessel_id).name_folded == fold_name(call.vessel.name)
    assert {p.name_folded for p in Person.objects.all()} == {fold_name(p.full_name) for p in Person.objects.all()}
    assert "" not in {p.name_folded for p in Person.objects.all()}
