"""Alerts (rule R2): every positive, confirmed case, quarantine and suspension is
recorded, sent live after commit, and acknowledged by a named user."""

from datetime import timedelta

import pytest
from django.urls import reverse

from crews.choices import TestKind, TestResult
from crews.manifest import add_crew_member
from crews.people import PersonData
from portguard.domain import NotAllowed
from tests.helpers import ARRIVAL, people_of, refused
from vessels.alerts import acknowledge_alert
from vessels.choices import AlertKind
from vessels.models import Alert
from vessels.quarantine import release_quarantine
from vessels.services import approve_handover

HOUR = timedelta(hours=1)


def of_type(broadcasts, kind):
    return [e for e in broadcasts if e["type"] == kind]


def confirm(record, call, person, by, at=ARRIVAL + 2 * HOUR, now=None):
    return record(call, person, kind=TestKind.RT_PCR, result=TestResult.POSITIVE, sampled_at=at, by=by, now=now)


# --- Raised where things happen --------------------------------------------------------


def test_a_positive_rapid_test_raises_an_alert_sent_with_its_result(
    make_call, record, broadcasts, django_capture_on_commit_callbacks
):
    call = make_call(crew=2)
    person = people_of(call)[1]
    with django_capture_on_commit_callbacks(execute=True):
        test = record(call, person, result=TestResult.POSITIVE)
    alert = Alert.objects.get()
    assert (alert.kind, alert.port_call, alert.person, alert.test) == (AlertKind.POSITIVE, call, person, test)
    assert person.full_name in alert.message
    assert alert.acknowledged_at is None
    (event,) = of_type(broadcasts, "alert.positive")
    assert event["alert"] == alert.pk
    assert event["test"]["id"] == test.pk
    assert of_type(broadcasts, "alert.raised") == []


def test_a_negative_result_raises_no_alert(make_call, record):
    call = make_call(crew=1)
    record(call, people_of(call)[0])
    assert not Alert.objects.exists()


def test_a_confirmed_case_raises_a_case_alert_and_a_quarantine_alert(
    make_call, record, health, broadcasts, django_capture_on_commit_callbacks
):
    call = make_call(crew=2)
    person = people_of(call)[0]
    record(call, person, result=TestResult.POSITIVE)
    with django_capture_on_commit_callbacks(execute=True):
        test = confirm(record, call, person, health)
    case, quarantine = Alert.objects.exclude(kind=AlertKind.POSITIVE).order_by("id")
    assert (case.kind, case.person, case.test) == (AlertKind.CONFIRMED_CASE, person, test)
    assert (quarantine.kind, quarantine.person, quarantine.test) == (AlertKind.QUARANTINE, None, None)
    assert call.vessel.registration in quarantine.message
    raised = of_type(broadcasts, "alert.raised")
    assert [(e["alert"]["id"], e["alert"]["kind"]) for e in raised] == [
        (case.pk, AlertKind.CONFIRMED_CASE),
        (quarantine.pk, AlertKind.QUARANTINE),
    ]
    assert raised[0]["alert"]["full_name"] == person.full_name
    assert of_type(broadcasts, "alert.positive")[0]["alert"] == case.pk


def test_a_second_case_on_a_quarantined_call_raises_no_second_quarantine_alert(make_call, record, health):
    call = make_call(crew=2)
    first, second = people_of(call)
    confirm(record, call, first, health)
    confirm(record, call, first, health, at=ARRIVAL + 3 * HOUR)
    confirm(record, call, second, health, at=ARRIVAL + 3 * HOUR)
    assert Alert.objects.filter(kind=AlertKind.CONFIRMED_CASE).count() == 3
    assert Alert.objects.filter(kind=AlertKind.QUARANTINE).count() == 1


def test_a_call_quarantined_again_after_its_release_raises_a_new_quarantine_alert(make_call, record, health):
    call = make_call(crew=2)
    first, second = people_of(call)
    confirm(record, call, first, health, now=ARRIVAL + 3 * HOUR)
    release_quarantine(health, call.pk, "F0 đã chuyển viện", now=ARRIVAL + 4 * HOUR)
    confirm(record, call, second, health, at=ARRIVAL + 5 * HOUR)
    assert Alert.objects.filter(kind=AlertKind.QUARANTINE).count() == 2


def test_a_positive_after_approval_raises_a_suspension_alert(
    make_call, record, authority, broadcasts, django_capture_on_commit_callbacks
):
    call = make_call(crew=2)
    for person in people_of(call):
        record(call, person)
    approve_handover(authority, call.pk, now=ARRIVAL + 2 * HOUR)
    with django_capture_on_commit_callbacks(execute=True):
        record(call, people_of(call)[0], result=TestResult.POSITIVE, sampled_at=ARRIVAL + 3 * HOUR)
    assert sorted(Alert.objects.values_list("kind", flat=True)) == [AlertKind.POSITIVE, AlertKind.SUSPENSION]
    suspension = Alert.objects.get(kind=AlertKind.SUSPENSION)
    assert people_of(call)[0].full_name in suspension.message
    assert [e["alert"]["id"] for e in of_type(broadcasts, "alert.raised")] == [suspension.pk]


def test_a_person_added_after_approval_raises_a_suspension_alert(make_call, record, authority, inspector):
    call = make_call(crew=1)
    record(call, people_of(call)[0])
    approve_handover(authority, call.pk, now=ARRIVAL + 2 * HOUR)
    add_crew_member(inspector, call.pk, PersonData(id_number="031234567", full_name="Vũ Văn Nam"))
    assert Alert.objects.get().kind == AlertKind.SUSPENSION


def test_alert_events_wait_for_the_commit(make_call, record, broadcasts, django_capture_on_commit_callbacks):
    call = make_call(crew=1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record(call, people_of(call)[0], result=TestResult.POSITIVE)
    assert Alert.objects.exists()
    assert broadcasts == []
    for callback in callbacks:
        callback()
    assert of_type(broadcasts, "alert.positive")


# --- Acknowledging ---------------------------------------------------------------------


@pytest.fixture
def alert(make_call, record):
    call = make_call(crew=1)
    record(call, people_of(call)[0], result=TestResult.POSITIVE)
    return Alert.objects.get()


@pytest.mark.parametrize("who", ["inspector", "authority", "health"])
def test_the_wharf_the_authority_and_health_acknowledge_an_alert(
    alert, who, request, broadcasts, django_capture_on_commit_callbacks
):
    user = request.getfixturevalue(who)
    with django_capture_on_commit_callbacks(execute=True):
        acknowledged = acknowledge_alert(user, alert.pk, now=ARRIVAL + 3 * HOUR)
    assert (acknowledged.acknowledged_by, acknowledged.acknowledged_at) == (user, ARRIVAL + 3 * HOUR)
    (event,) = of_type(broadcasts, "alert.acknowledged")
    assert (event["alert"], event["acknowledged_by"]) == (alert.pk, user.username)


def test_an_alert_is_acknowledged_once(alert, inspector, health):
    acknowledge_alert(inspector, alert.pk)
    with refused("already_acknowledged"):
        acknowledge_alert(health, alert.pk)
    alert.refresh_from_db()
    assert alert.acknowledged_by == inspector


@pytest.mark.parametrize("who", ["outsider", "supervisor"])
def test_an_inspector_of_another_wharf_or_a_supervisor_cannot_acknowledge(alert, who, request):
    with refused("forbidden", NotAllowed):
        acknowledge_alert(request.getfixturevalue(who), alert.pk)
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


# --- Pages -----------------------------------------------------------------------------


def test_alerts_page_shows_the_inspector_only_their_wharves(
    client, make_call, record, inspector, outsider, authority, health, ha_long
):
    here = make_call(crew=1)
    there = make_call(crew=1, wharf=ha_long, by=outsider)
    record(here, people_of(here)[0], result=TestResult.POSITIVE)
    record(there, people_of(there)[0], result=TestResult.POSITIVE, by=outsider)
    client.force_login(inspector)
    page = client.get(reverse("alerts")).content.decode()
    assert here.vessel.registration in page
    assert there.vessel.registration not in page
    for user in (authority, health):
        client.force_login(user)
        page = client.get(reverse("alerts")).content.decode()
        assert here.vessel.registration in page
        assert there.vessel.registration in page


def test_wharf_alerts_page_lists_that_wharf_and_stays_in_scope(client, make_call, record, inspector, ha_long):
    call = make_call(crew=1)
    record(call, people_of(call)[0], result=TestResult.POSITIVE)
    client.force_login(inspector)
    assert call.vessel.registration in client.get(reverse("wharf-alerts", args=["CP-03"])).content.decode()
    assert client.get(reverse("wharf-alerts", args=["HL-01"])).status_code == 404


def test_supervisor_has_no_alerts_page(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("alerts")).status_code == 403


def test_acknowledge_button_acknowledges_and_moves_the_alert_down(client, alert, inspector):
    client.force_login(inspector)
    page = client.get(reverse("alerts")).content.decode()
    assert reverse("alert-acknowledge", args=[alert.pk]) in page
    reply = client.post(reverse("alert-acknowledge", args=[alert.pk]), {"next": reverse("alerts")})
    assert reply.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == inspector
    page = client.get(reverse("alerts")).content.decode()
    assert reverse("alert-acknowledge", args=[alert.pk]) not in page
    open_part, acknowledged_part = page.split('id="acknowledged-alerts"')
    assert f'data-alert="{alert.pk}"' in acknowledged_part


def test_acknowledging_an_alert_out_of_scope_is_not_found(client, alert, outsider):
    client.force_login(outsider)
    assert client.post(reverse("alert-acknowledge", args=[alert.pk])).status_code == 404


ALERTS_PAGE_QUERIES = 8  # + the access log's entry (rule R8)


@pytest.mark.parametrize("calls", [1, 15])
def test_alerts_page_runs_a_fixed_number_of_queries(
    client, make_call, record, health, inspector, calls, django_assert_max_num_queries
):
    for _ in range(calls):
        call = make_call(crew=2)
        first, second = people_of(call)
        record(call, first, result=TestResult.POSITIVE)
        confirm(record, call, second, health)
    acknowledge_alert(inspector, Alert.objects.first().pk)
    for user in (inspector, health):
        client.force_login(user)
        with django_assert_max_num_queries(ALERTS_PAGE_QUERIES):
            page = client.get(reverse("alerts")).content.decode()
        assert page.count("data-alert=") == 3 * calls


@pytest.mark.parametrize("calls", [1, 8])
def test_admin_shows_alerts_read_only_in_a_fixed_number_of_queries(
    client, django_user_model, make_call, record, calls, django_assert_max_num_queries
):
    for _ in range(calls):
        call = make_call(crew=1)
        record(call, people_of(call)[0], result=TestResult.POSITIVE)
    client.force_login(django_user_model.objects.create_superuser("root", password="pw-root"))
    with django_assert_max_num_queries(9):
        assert client.get(reverse("admin:vessels_alert_changelist")).status_code == 200
    alert = Alert.objects.first()
    assert client.post(reverse("admin:vessels_alert_change", args=[alert.pk]), {"message": "x"}).status_code == 403
