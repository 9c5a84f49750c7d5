"""Roles are Groups with explicit permissions; scope follows the role."""

from django.contrib.auth.models import Group

from portguard import roles
from tests.helpers import make_user
from vessels.scope import visible_port_calls, visible_wharves


def perms_of(role):
    return {f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name=role).permissions.all()}


def test_every_role_exists_as_a_group(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {
        roles.INSPECTOR,
        roles.SUPERVISOR,
        roles.AUTHORITY,
        roles.HEALTH,
        roles.ADMIN,
    }


def test_only_the_port_authority_group_may_approve_handover(db):
    holders = {role for role in roles.ROLE_LABELS if "vessels.approve_handover" in perms_of(role)}
    assert holders == {roles.AUTHORITY}


def test_inspectors_record_results_but_authority_does_not(db):
    assert "crews.add_screeningtest" in perms_of(roles.INSPECTOR)
    assert "crews.add_screeningtest" not in perms_of(roles.AUTHORITY)


def test_inspector_sees_only_assigned_wharves_and_their_calls(make_call, inspector, outsider, authority, ha_long):
    at_cam_pha = make_call(crew=1)
    at_ha_long = make_call(crew=1, wharf=ha_long, by=outsider)
    assert list(visible_wharves(inspector).values_list("code", flat=True)) == ["CP-03"]
    assert set(visible_port_calls(inspector)) == {at_cam_pha}
    assert set(visible_port_calls(outsider)) == {at_ha_long}
    assert set(visible_port_calls(authority)) == {at_cam_pha, at_ha_long}


def test_user_without_a_role_sees_nothing(make_call):
    make_call(crew=1)
    nobody = make_user("dave", roles.SUPERVISOR)
    assert not visible_wharves(nobody).exists()
    assert not visible_port_calls(nobody).exists()


def test_administrator_keeps_reference_data_but_writes_no_screening(db):
    perms = perms_of(roles.ADMIN)
    assert {"vessels.change_wharf", "vessels.add_vessel", "auth.change_user", "crews.change_person"} <= perms
    assert {"crews.change_kcsstation", "crews.change_staffmember", "vessels.view_portcall"} <= perms
    forbidden = {"vessels.approve_handover", "vessels.add_portcall", "crews.add_screeningtest", "crews.add_crewmember"}
    assert not perms & forbidden


def test_administrator_reads_no_personal_health_data(db):
    """Rule R8: results, alerts, cases and contacts are not the IT administrator's."""
    held = Group.objects.get(name=roles.ADMIN).permissions.select_related("content_type")
    assert not [p for p in held if f"{p.content_type.app_label}.{p.content_type.model}" in roles.HEALTH_DATA]
    assert not perms_of(roles.ADMIN) & {"crews.view_screeningtest", "vessels.view_alert", "vessels.view_contact"}
    assert {"crews.view_screeningtest", "vessels.view_alert", "vessels.view_contact"} <= perms_of(roles.HEALTH)


def test_logins_and_their_sessions_name_djangos_model_backend(client, inspector, cam_pha):
    # portguard.roles.PermissionBackend reads permissions and logs nobody in: a session
    # names Django's ModelBackend, as sessions from before it did, and stays logged in.
    response = client.post("/login/", {"username": inspector.username, "password": "pw-" + inspector.username})
    assert response.status_code == 302
    assert client.session["_auth_user_backend"] == "django.contrib.auth.backends.ModelBackend"
    assert client.get("/").status_code == 200
    assert roles.PermissionBackend().authenticate(None, inspector.username, "pw-" + inspector.username) is None


def test_permission_checks_read_the_permissions_once(inspector, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert inspector.has_perm("crews.add_screeningtest")
        assert not inspector.has_perm("vessels.approve_handover")  # every backend asked, none reads again
    assert inspector.get_all_permissions() == set(perms_of(roles.INSPECTOR))
