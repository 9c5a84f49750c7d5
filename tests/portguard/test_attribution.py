"""Every action is attributed to a named user (SPEC §1): after each write of the domain
layer, the stored rows name who did it.

Writes whose own tests already check it are not repeated here: a result's recorder
(tests/crews/test_record_test.py, test_station_api.py), a correction
(tests/crews/test_corrections.py), the approval and the refusal of a handover
(tests/vessels/test_handover.py, test_daily_report.py), a violation, a quarantine
release, an alert's acknowledgement, a contact list and the declaration of an
epidemic area (tests/vessels/test_violations.py, test_quarantine.py, test_alerts.py,
test_contacts.py, test_epidemic_areas.py)."""

from datetime import date

from crews.crew_lists import load_crew_list
from crews.lab_results import load_lab_results
from crews.manifest import remove_crew_member
from crews.models import CrewMember, RosterEntry, ScreeningTest
from crews.stations import create_station, load_roster
from portguard import roles
from tests.crews.helpers import csv_file, roster_lines
from tests.helpers import make_user, people_of
from vessels.areas import AreaData, add_epidemic_area, change_epidemic_area
from vessels.models import EpidemicArea, PortCall
from vessels.services import record_departure


def test_registering_an_arrival_names_the_registrar_on_the_call_and_on_each_person(make_call, inspector):
    call = make_call(crew=3)
    assert call.registered_by == inspector
    assert [m.added_by for m in call.crew.all()] == [inspector] * 3


def test_taking_someone_off_the_manifest_names_who_did_it_and_keeps_who_added_them(make_call, inspector, cam_pha):
    colleague = make_user("dung", roles.INSPECTOR, [cam_pha])
    call = make_call(crew=2)
    removed = remove_crew_member(colleague, call.pk, people_of(call)[1].pk)
    stored = CrewMember.objects.get(pk=removed.pk)
    assert (stored.added_by, stored.removed_by) == (inspector, colleague)
    assert stored.removed_at is not None


def test_a_crew_list_file_names_who_loaded_it_on_each_person_it_adds(make_call, cam_pha):
    call = make_call(crew=1)
    loader = make_user("dung", roles.INSPECTOR, [cam_pha])
    upload = csv_file("full_name,role,id_number\nVũ Văn Nam,crew,031234567\nĐào Thị Hoa,worker,031234568\n")
    load_crew_list(loader, call.pk, upload)
    added = CrewMember.objects.filter(port_call=call, person__id_number__in=["031234567", "031234568"])
    assert [m.added_by for m in added] == [loader, loader]


def test_a_departure_names_who_recorded_it(make_call, inspector, cam_pha):
    call = make_call(crew=1)
    colleague = make_user("dung", roles.INSPECTOR, [cam_pha])
    record_departure(colleague, call.pk)
    stored = PortCall.objects.get(pk=call.pk)
    assert stored.departed_at is not None
    assert (stored.registered_by, stored.departed_by) == (inspector, colleague)


def test_a_roster_names_who_loaded_it_and_a_day_loaded_again_names_the_new_loader(cam_pha, supervisor):
    deputy = make_user("tuan", roles.SUPERVISOR)
    station = create_station(
        code="KCS-CP-03", name="Trạm KCS Mông Dương", wharf=cam_pha, supervisors=[supervisor, deputy]
    )
    load_roster(supervisor, station, roster_lines(staff=2, days=2))
    first_day, second_day = sorted(set(RosterEntry.objects.values_list("date", flat=True)))
    load_roster(deputy, station, roster_lines(staff=2, days=1, start=second_day))
    loaders = dict(RosterEntry.objects.values_list("date", "loaded_by").distinct())
    assert loaders == {first_day: supervisor.pk, second_day: deputy.pk}


def test_a_lab_results_file_names_who_loaded_it_on_each_result(make_call, health):
    call = make_call(crew=2)
    rows = "".join(f"{p.id_number},rt_pcr,2021-08-12T10:00:00+07:00,negative,{call.pk}\n" for p in people_of(call))
    load_lab_results(health, csv_file("id_number,kind,sampled_at,result,port_call\n" + rows, name="lab.csv"))
    assert [t.recorded_by for t in ScreeningTest.objects.filter(port_call=call)] == [health, health]


def test_ending_an_epidemic_area_names_who_ended_it_and_keeps_who_declared_it(health):
    colleague = make_user("lan", roles.HEALTH)
    area = add_epidemic_area(health, AreaData("Hải Dương", "Chí Linh", date(2021, 8, 1)))
    assert (area.changed_by, area.changed_at) == (None, None)
    change_epidemic_area(colleague, area.pk, AreaData("Hải Dương", "Chí Linh", date(2021, 8, 1), date(2021, 8, 20)))
    stored = EpidemicArea.objects.get(pk=area.pk)
    assert (stored.active_to, stored.created_by, stored.changed_by) == (date(2021, 8, 20), health, colleague)
    assert stored.changed_at is not None
