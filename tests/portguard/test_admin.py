"""The Django admin: every model listed in constant queries, rules not skippable."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse

from crews.access_log import record_read
from crews.choices import ReadKind, ReadVia, TestKind, TestResult
from crews.models import CrewMember, KcsStation, Person, RosterEntry, ScreeningTest, StaffMember
from crews.stations import RosterLine, create_station, load_roster
from portguard import roles
from portguard.domain import HandoverBlocked
from tests.helpers import ARRIVAL, make_user, people_of, refused
from vessels.choices import PortCallStatus
from vessels.models import Handover, HandoverEvidence, HandoverRefusal, PortCall, Vessel, Wharf
from vessels.quarantine import release_quarantine
from vessels.services import approve_handover

# The most queries a changelist may take, whatever the number of rows.
CHANGELIST_MAX_QUERIES = {
    Wharf: 7,
    Vessel: 7,
    PortCall: 15,  # + epidemic areas (R4) and violations (R5) for the status column
    Handover: 10,
    HandoverEvidence: 9,
    Person: 8,
    CrewMember: 8,
    ScreeningTest: 10,
    KcsStation: 8,
    StaffMember: 8,
    RosterEntry: 11,
    HandoverRefusal: 10,
}
READ_ONLY = [PortCall, Handover, HandoverEvidence, HandoverRefusal, CrewMember, ScreeningTest, RosterEntry]


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def administrator(db):
    user = make_user("quantri", roles.ADMIN)
    user.is_staff = True
    user.save()
    return user


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


@pytest.fixture
def superuser_client(db, django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("root", password="pw-root"))
    return client


def client_for_model(model, request):
    """The personal health data (rule R8) is not the administrator's: only a superuser
    lists it in the admin."""
    label = model._meta.label_lower
    return request.getfixturevalue("superuser_client" if label in roles.HEALTH_DATA else "admin_client")


@pytest.fixture
def add_calls(make_call, record, authority):
    """Port calls whose handover was refused while untested, then approved once their
    crew tested negative, through the services."""

    def add(n: int) -> list[PortCall]:
        calls = []
        for _ in range(n):
            call = make_call(crew=3)
            with refused("handover_blocked", HandoverBlocked):
                approve_handover(authority, call.pk, now=ARRIVAL + timedelta(minutes=30))
            for person in people_of(call):
                record(call, person)
            approve_handover(authority, call.pk, now=ARRIVAL + timedelta(hours=2))
            calls.append(call)
        return calls

    return add


@pytest.fixture
def add_stations(cam_pha, supervisor):
    """KCS stations with two staff members each and two days of roster, through the domain."""
    counter = iter(range(10, 100))

    def add(n: int) -> list[KcsStation]:
        stations = []
        for _ in range(n):
            k = next(counter)
            station = create_station(code=f"KCS-T{k}", name=f"Trạm KCS {k}", wharf=cam_pha, supervisors=[supervisor])
            lines = [
                RosterLine(
                    2 + 2 * i + d, f"022{k:03d}{i:06d}", f"Nguyễn Thị Hằng {k}-{i}", f"2021-08-{9 + d:02d}", "S1"
                )
                for i in range(2)
                for d in range(2)
            ]
            load_roster(supervisor, station, lines)
            stations.append(station)
        return stations

    return add


@pytest.mark.parametrize("model", list(CHANGELIST_MAX_QUERIES), ids=lambda m: m.__name__)
def test_changelist_loads_in_a_constant_number_of_queries(
    add_calls, add_stations, django_assert_max_num_queries, model, request
):
    client = client_for_model(model, request)
    url = admin_url(model, "changelist")
    counts = []
    for more in (1, 4):
        add_calls(more)
        add_stations(more)
        with django_assert_max_num_queries(CHANGELIST_MAX_QUERIES[model]) as captured:
            response = client.get(url)
        assert response.status_code == 200
        assert model.objects.exists()
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1], "one more row must not cost one more query"


def test_port_call_changelist_shows_each_calls_status(admin_client, add_calls, make_call):
    add_calls(1)
    waiting = make_call(crew=2)
    response = admin_client.get(admin_url(PortCall, "changelist"))
    content = response.content.decode()
    assert waiting.vessel.registration in content
    assert content.count(f">{PortCallStatus.HANDOVER_APPROVED.label}<") == 1
    assert content.count(f">{PortCallStatus.AWAITING_TESTS.label}<") == 1


@pytest.mark.parametrize("model", list(CHANGELIST_MAX_QUERIES), ids=lambda m: m.__name__)
def test_change_page_of_every_model_loads(add_calls, add_stations, model, request):
    add_calls(1)
    add_stations(1)
    response = client_for_model(model, request).get(admin_url(model, "change", model.objects.first().pk))
    assert response.status_code == 200


HEALTH_MODELS = [m for m in admin.site._registry if m._meta.label_lower in roles.HEALTH_DATA]


def test_every_model_holding_personal_health_data_is_registered():
    assert sorted(m._meta.label_lower for m in HEALTH_MODELS) == sorted(roles.HEALTH_DATA)


@pytest.mark.parametrize("model", HEALTH_MODELS, ids=lambda m: m.__name__)
def test_the_administrator_reads_no_personal_health_data_in_the_admin(
    admin_client, add_calls, make_call, record, health, model
):
    """Rule R8: results, alerts, cases and contacts, and who cleared or blocked a
    handover with which result, are not the IT administrator's to read."""
    add_calls(1)
    case = make_call(crew=2)
    record(case, people_of(case)[0], result=TestResult.POSITIVE, kind=TestKind.RT_PCR)
    release_quarantine(health, case.pk, "Đủ 14 ngày cách ly", now=ARRIVAL + timedelta(days=14))
    record_read(health, ReadKind.CASES, door="cases", via=ReadVia.PAGE, count=1)
    assert model.objects.exists()
    assert admin_client.get(admin_url(model, "changelist")).status_code == 403
    assert admin_client.get(admin_url(model, "change", model.objects.first().pk)).status_code == 403
    index = admin_client.get(reverse("admin:index")).content.decode()
    assert admin_url(model, "changelist") not in index
    assert admin_url(PortCall, "changelist") in index


def test_the_administrator_sees_a_port_call_without_its_results(admin_client, superuser_client, make_call, record):
    case = make_call(crew=2)
    captain = people_of(case)[0]
    record(case, captain, result=TestResult.POSITIVE, kind=TestKind.RT_PCR)
    url = admin_url(PortCall, "change", case.pk)
    page = admin_client.get(url).content.decode()
    assert captain.full_name in page  # the manifest is reference data
    assert str(TestResult.POSITIVE.label) not in page
    assert str(ScreeningTest._meta.verbose_name_plural).capitalize() not in page
    assert str(TestResult.POSITIVE.label) in superuser_client.get(url).content.decode()


def test_admin_site_is_titled_portguard(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "PortGuard" in response.content.decode()


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_records_written_by_the_rules_are_read_only_even_for_a_superuser(model, django_user_model):
    superuser = django_user_model(username="root", is_superuser=True, is_staff=True)
    request = RequestFactory().get("/admin/")
    request.user = superuser
    model_admin = admin.site._registry[model]
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_administrator_cannot_add_a_screening_test(admin_client, make_call, administrator):
    call = make_call(crew=1)
    (person,) = people_of(call)
    assert admin_client.get(admin_url(ScreeningTest, "add")).status_code == 403
    response = admin_client.post(
        admin_url(ScreeningTest, "add"),
        {
            "person": person.pk,
            "port_call": call.pk,
            "kind": "rapid",
            "sampled_at_0": "2021-08-12",
            "sampled_at_1": "09:00:00",
            "result": "negative",
            "recorded_by": administrator.pk,
        },
    )
    assert response.status_code == 403
    assert not ScreeningTest.objects.exists()


def test_administrator_cannot_change_or_delete_a_screening_test(admin_client, make_call, record):
    call = make_call(crew=1)
    (person,) = people_of(call)
    test = record(call, person, result=TestResult.POSITIVE)
    response = admin_client.post(admin_url(ScreeningTest, "change", test.pk), {"result": "negative"})
    assert response.status_code == 403
    assert admin_client.post(admin_url(ScreeningTest, "delete", test.pk), {"post": "yes"}).status_code == 403
    test.refresh_from_db()
    assert test.result == TestResult.POSITIVE


def test_administrator_cannot_change_a_port_calls_arrival(admin_client, make_call):
    call = make_call(crew=1)
    response = admin_client.post(admin_url(PortCall, "change", call.pk), {"arrived_at_0": "2021-08-01"})
    assert response.status_code == 403
    assert PortCall.objects.get(pk=call.pk).arrived_at == call.arrived_at


def test_administrator_edits_a_wharf_and_its_inspectors(admin_client, cam_pha, inspector, outsider):
    response = admin_client.get(admin_url(Wharf, "change", cam_pha.pk))
    assert 'class="selectfilter"' in response.content.decode() or "SelectFilter" in response.content.decode()
    response = admin_client.post(
        admin_url(Wharf, "change", cam_pha.pk),
        {
            "code": "CP-03",
            "name": "Bến Mông Dương",
            "locality": "cam_pha",
            "kind": "wharf",
            "operator": "Công ty Kho vận và Cảng Cẩm Phả - Vinacomin",
            "route_order": 3,
            "inspectors": [inspector.pk, outsider.pk],
        },
    )
    assert response.status_code == 302
    cam_pha.refresh_from_db()
    assert cam_pha.operator == "Công ty Kho vận và Cảng Cẩm Phả - Vinacomin"
    assert set(cam_pha.inspectors.all()) == {inspector, outsider}


def test_only_a_roles_members_are_offered_as_a_wharfs_inspectors_or_a_stations_supervisors(
    admin_client, administrator, cam_pha, inspector, supervisor, health
):
    """Scope follows the role (rule R8): the administrator cannot list themselves (or a
    health officer, or a supervisor) among a wharf's inspectors to read its port calls."""
    form = {
        "code": "CP-03",
        "name": "Bến Mông Dương",
        "locality": "cam_pha",
        "kind": "wharf",
        "operator": "",
        "route_order": 3,
        "inspectors": [inspector.pk, administrator.pk],
    }
    response = admin_client.post(admin_url(Wharf, "change", cam_pha.pk), form)
    assert response.status_code == 200
    assert "inspectors" in response.context["adminform"].form.errors
    assert list(cam_pha.inspectors.all()) == [inspector]
    offered = response.context["adminform"].form.fields["inspectors"].queryset
    assert list(offered) == [inspector]
    response = admin_client.post(
        admin_url(KcsStation, "add"), station_form(wharf=cam_pha.pk, supervisors=[supervisor.pk, administrator.pk])
    )
    assert response.status_code == 200
    assert "supervisors" in response.context["adminform"].form.errors
    assert not KcsStation.objects.exists()


def test_administrator_adds_a_vessel_with_its_registration_normalised(admin_client):
    response = admin_client.post(
        admin_url(Vessel, "add"),
        {"registration": "qn 1357", "name": "Hạ Long 01", "kind": "tug", "owner": "", "capacity_tonnes": ""},
    )
    assert response.status_code == 302
    assert Vessel.objects.get().registration == "QN-1357"


def person_form(**overrides) -> dict:
    data = {
        "full_name": "Nguyễn Thị Thanh Hà",
        "id_kind": "cccd",
        "id_number": "022 190 123 456",
        "date_of_birth": "1990-03-08",
        "phone": "",
        "nationality": "Việt Nam",
    }
    return data | overrides


def test_administrator_adds_a_person_with_a_well_formed_id_number(admin_client):
    response = admin_client.post(admin_url(Person, "add"), person_form())
    assert response.status_code == 302
    assert Person.objects.get().id_number == "022190123456"


@pytest.mark.parametrize(
    "overrides",
    [{"id_number": "12345"}, {"id_kind": "cmnd"}],
    ids=["malformed number", "number of another document kind"],
)
def test_administrator_cannot_save_a_person_with_a_bad_id_number(admin_client, overrides):
    response = admin_client.post(admin_url(Person, "add"), person_form(**overrides))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["id_number"]
    assert not Person.objects.exists()


def test_administrator_cannot_add_a_second_person_with_the_same_document(admin_client):
    admin_client.post(admin_url(Person, "add"), person_form())
    response = admin_client.post(admin_url(Person, "add"), person_form(full_name="Người Khác"))
    assert response.status_code == 200
    assert Person.objects.count() == 1


def test_people_outside_the_admin_role_are_kept_out(client, inspector):
    client.force_login(inspector)
    response = client.get(admin_url(ScreeningTest, "changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


# --- KCS stations ------------------------------------------------------------------------


def station_form(**overrides) -> dict:
    data = {
        "code": "KCS-CP-03",
        "name": "Trạm KCS Mông Dương",
        "wharf": "",
        "supervisors": [],
        "shifts-TOTAL_FORMS": "0",
        "shifts-INITIAL_FORMS": "0",
        "shifts-MIN_NUM_FORMS": "0",
        "shifts-MAX_NUM_FORMS": "1000",
    }
    return data | overrides


def test_a_station_saved_in_the_admin_without_shifts_gets_the_default_three(admin_client, cam_pha, supervisor):
    page = admin_client.get(admin_url(KcsStation, "add")).content.decode()
    assert "SelectFilter" in page or 'class="selectfilter"' in page
    response = admin_client.post(
        admin_url(KcsStation, "add"), station_form(wharf=cam_pha.pk, supervisors=[supervisor.pk])
    )
    assert response.status_code == 302
    station = KcsStation.objects.get()
    assert [(s.code, f"{s.starts_at:%H}-{s.ends_at:%H}") for s in station.shifts.all()] == [
        ("S1", "06-14"),
        ("S2", "14-22"),
        ("S3", "22-06"),
    ]
    assert list(station.supervisors.all()) == [supervisor]


def test_a_station_saved_with_its_own_shifts_keeps_them(admin_client, cam_pha):
    form = station_form(wharf=cam_pha.pk) | {
        "shifts-TOTAL_FORMS": "2",
        "shifts-0-code": "N",
        "shifts-0-name": "Ca ngày",
        "shifts-0-starts_at": "07:00",
        "shifts-0-ends_at": "19:00",
        "shifts-1-code": "D",
        "shifts-1-name": "Ca đêm",
        "shifts-1-starts_at": "19:00",
        "shifts-1-ends_at": "07:00",
    }
    assert admin_client.post(admin_url(KcsStation, "add"), form).status_code == 302
    assert sorted(KcsStation.objects.get().shifts.values_list("code", flat=True)) == ["D", "N"]


def test_the_administrator_deactivates_a_staff_member(admin_client, add_stations):
    add_stations(1)
    member = StaffMember.objects.select_related("person", "station").first()
    response = admin_client.post(
        admin_url(StaffMember, "change", member.pk),
        {"station": member.station_id, "person": member.person_id, "active": ""},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert not member.active


def test_the_administrator_cannot_edit_a_roster_entry(admin_client, add_stations):
    add_stations(1)
    entry = RosterEntry.objects.first()
    assert admin_client.get(admin_url(RosterEntry, "add")).status_code == 403
    assert admin_client.post(admin_url(RosterEntry, "delete", entry.pk), {"post": "yes"}).status_code == 403
    assert RosterEntry.objects.filter(pk=entry.pk).exists()


# --- Deleting: what depends on a record, without the health data behind it -----------------
# Results, alerts and evidence are read-only in the admin, so the page that refuses a
# deletion lists their kinds (the permissions lacking), never the records themselves.


def test_deleting_a_tested_person_names_no_result_to_the_administrator(admin_client, make_call, record):
    call = make_call(crew=1)
    (person,) = people_of(call)
    test = record(call, person, result=TestResult.POSITIVE)
    url = admin_url(Person, "delete", person.pk)
    page = admin_client.get(url).content.decode()
    assert f"<li>{ScreeningTest._meta.verbose_name}</li>" in page
    assert str(test) not in page and str(TestResult.POSITIVE.label) not in page
    assert admin_client.post(url, {"post": "yes"}).status_code == 200  # the same page again
    assert Person.objects.filter(pk=person.pk).exists()


def test_deleting_a_user_who_recorded_results_names_none_of_them(admin_client, make_call, record, inspector):
    call = make_call(crew=1)
    test = record(call, people_of(call)[0], result=TestResult.POSITIVE)
    page = admin_client.get(reverse("admin:auth_user_delete", args=[inspector.pk])).content.decode()
    assert f"<li>{ScreeningTest._meta.verbose_name}</li>" in page
    assert str(test) not in page


def test_the_administrator_deletes_a_person_with_no_history(admin_client):
    admin_client.post(admin_url(Person, "add"), person_form())
    person = Person.objects.get()
    response = admin_client.post(admin_url(Person, "delete", person.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Person.objects.exists()
