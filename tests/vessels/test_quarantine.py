"""Confirmation and quarantine (rule R2): the RT-PCR that follows a positive rapid test,
and the release of a quarantine by a health officer, with a reason."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from crews.choices import Screening, TestKind, TestResult
from crews.models import ScreeningTest
from portguard import roles
from portguard.domain import NotAllowed
from tests.helpers import ARRIVAL, people_of, refused
from vessels.choices import PortCallStatus
from vessels.clearance import Validity, screen_person
from vessels.models import QuarantineRelease
from vessels.quarantine import release_quarantine
from vessels.scope import lock_port_call
from vessels.services import record_departure
from vessels.status import clearance_of

HOUR = timedelta(hours=1)


def status_at(call, when):
    return clearance_of(call, now=when).status


@pytest.fixture
def quarantined(make_call, record, health):
    """A call of three: the captain positive on a rapid test at +1 h, confirmed by a
    positive RT-PCR sampled at +2 h and reported at +6 h."""
    call = make_call(crew=3)
    captain = people_of(call)[0]
    record(call, captain, result=TestResult.POSITIVE, sampled_at=ARRIVAL + HOUR)
    record(
        call,
        captain,
        kind=TestKind.RT_PCR,
        result=TestResult.POSITIVE,
        sampled_at=ARRIVAL + 2 * HOUR,
        by=health,
        now=ARRIVAL + 6 * HOUR,
    )
    assert status_at(call, ARRIVAL + 7 * HOUR) == PortCallStatus.QUARANTINED
    return call


# --- Confirmation ----------------------------------------------------------------------


def test_health_officer_records_the_confirming_rt_pcr_at_any_wharf(make_call, record, outsider, health, ha_long):
    call = make_call(crew=2, wharf=ha_long, by=outsider)
    first, _second = people_of(call)
    record(call, first, result=TestResult.POSITIVE, by=outsider)
    assert status_at(call, ARRIVAL + 2 * HOUR) == PortCallStatus.BLOCKED
    test = record(
        call, first, kind=TestKind.RT_PCR, result=TestResult.POSITIVE, sampled_at=ARRIVAL + 2 * HOUR, by=health
    )
    assert test.recorded_by == health
    assert test.wharf == ha_long
    clearance = clearance_of(call, now=ARRIVAL + 3 * HOUR)
    assert clearance.status == PortCallStatus.QUARANTINED
    assert clearance.people[0].confirmed_case


def test_negative_rt_pcr_from_the_health_officer_answers_a_positive_rapid(make_call, record, health):
    call = make_call(crew=1)
    (captain,) = people_of(call)
    record(call, captain, result=TestResult.POSITIVE, sampled_at=ARRIVAL + HOUR)
    record(call, captain, kind=TestKind.RT_PCR, sampled_at=ARRIVAL + 2 * HOUR, by=health)
    clearance = clearance_of(call, now=ARRIVAL + 3 * HOUR)
    assert clearance.status == PortCallStatus.CLEARED
    assert clearance.people[0].test.kind == TestKind.RT_PCR


# --- Release ---------------------------------------------------------------------------


def test_health_officer_releases_a_quarantine_with_a_reason(quarantined, health):
    release = release_quarantine(
        health, quarantined.pk, "  Ca bệnh đã chuyển viện, tàu đã khử khuẩn  ", now=ARRIVAL + 8 * HOUR
    )
    assert release.released_by == health
    assert release.reason == "Ca bệnh đã chuyển viện, tàu đã khử khuẩn"
    assert set(release.cases.all()) == set(
        ScreeningTest.objects.filter(port_call=quarantined, kind=TestKind.RT_PCR, result=TestResult.POSITIVE)
    )
    clearance = clearance_of(quarantined, now=ARRIVAL + 9 * HOUR)
    # The case still blocks handover, but the call is no longer in quarantine.
    assert clearance.status == PortCallStatus.BLOCKED
    assert clearance.release == release
    assert clearance.people[0].state == Screening.POSITIVE
    assert clearance.people[0].reason_code == "released_case"
    assert not clearance.people[0].confirmed_case


def test_a_release_needs_a_reason(quarantined, health):
    with refused("invalid", field="reason"):
        release_quarantine(health, quarantined.pk, "   ", now=ARRIVAL + 8 * HOUR)
    assert not QuarantineRelease.objects.exists()


@pytest.mark.parametrize("who", ["inspector", "authority", "supervisor"])
def test_only_a_health_officer_releases_a_quarantine(quarantined, who, request):
    user = request.getfixturevalue(who)
    with refused("forbidden", NotAllowed, field=None):
        release_quarantine(user, quarantined.pk, "Hết thời gian cách ly", now=ARRIVAL + 8 * HOUR)
    assert not QuarantineRelease.objects.exists()
    assert status_at(quarantined, ARRIVAL + 9 * HOUR) == PortCallStatus.QUARANTINED


def test_only_the_health_group_holds_the_release_permission(db):
    holders = {
        role
        for role in roles.ROLE_LABELS
        if Group.objects.get(name=role).permissions.filter(codename="release_quarantine").exists()
    }
    assert holders == {roles.HEALTH}


def test_a_call_not_in_quarantine_cannot_be_released(make_call, record, health):
    call = make_call(crew=1)
    record(call, people_of(call)[0], result=TestResult.POSITIVE)
    with refused("not_quarantined"):
        release_quarantine(health, call.pk, "Nhầm", now=ARRIVAL + 3 * HOUR)


def test_a_release_takes_the_port_calls_lock(quarantined, health, monkeypatch):
    locked = []
    real_lock = lock_port_call
    monkeypatch.setattr("vessels.quarantine.lock_port_call", lambda pk: locked.append(pk) or real_lock(pk))
    release_quarantine(health, quarantined.pk, "Hết thời gian cách ly", now=ARRIVAL + 8 * HOUR)
    assert locked == [quarantined.pk]


def test_positive_rt_pcr_sampled_after_the_release_quarantines_again(quarantined, health, record):
    release_quarantine(health, quarantined.pk, "Hết thời gian cách ly", now=ARRIVAL + 8 * HOUR)
    second = people_of(quarantined)[1]
    record(
        quarantined, second, kind=TestKind.RT_PCR, result=TestResult.POSITIVE, sampled_at=ARRIVAL + 9 * HOUR, by=health
    )
    clearance = clearance_of(quarantined, now=ARRIVAL + 10 * HOUR)
    assert clearance.status == PortCallStatus.QUARANTINED
    assert [p.member.person for p in clearance.people if p.confirmed_case] == [second]


def test_positive_recorded_after_the_release_quarantines_again_though_sampled_before(quarantined, health, record):
    release_quarantine(health, quarantined.pk, "Hết thời gian cách ly", now=ARRIVAL + 8 * HOUR)
    second = people_of(quarantined)[1]
    record(
        quarantined,
        second,
        kind=TestKind.RT_PCR,
        result=TestResult.POSITIVE,
        sampled_at=ARRIVAL + 3 * HOUR,
        by=health,
        now=ARRIVAL + 9 * HOUR,
    )
    assert status_at(quarantined, ARRIVAL + 10 * HOUR) == PortCallStatus.QUARANTINED


def test_a_released_case_is_cleared_by_a_negative_rt_pcr_sampled_after_the_positive(quarantined, health, record):
    release_quarantine(health, quarantined.pk, "Hết thời gian cách ly", now=ARRIVAL + 8 * HOUR)
    captain, *others = people_of(quarantined)
    for person in others:
        record(quarantined, person, kind=TestKind.RT_PCR, sampled_at=ARRIVAL + 9 * HOUR, by=health)
    record(quarantined, captain, sampled_at=ARRIVAL + 9 * HOUR, by=health)  # a rapid test does not answer it
    assert status_at(quarantined, ARRIVAL + 10 * HOUR) == PortCallStatus.BLOCKED
    record(quarantined, captain, kind=TestKind.RT_PCR, sampled_at=ARRIVAL + 10 * HOUR, by=health)
    assert status_at(quarantined, ARRIVAL + 11 * HOUR) == PortCallStatus.CLEARED


def test_a_quarantined_vessel_departs_only_once_released(quarantined, health, inspector):
    with refused("quarantined"):
        record_departure(inspector, quarantined.pk)
    release_quarantine(health, quarantined.pk, "Cho phép rời bến về nơi cách ly")
    record_departure(inspector, quarantined.pk)
    quarantined.refresh_from_db()
    assert quarantined.departed_at is not None


def test_a_release_is_announced_after_commit(quarantined, health, broadcasts, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        release_quarantine(health, quarantined.pk, "Hết thời gian cách ly", now=ARRIVAL + 8 * HOUR)
    assert broadcasts == []
    for callback in callbacks:
        callback()
    assert [(e["type"], e["port_call"]["id"]) for e in broadcasts] == [("port_call.updated", quarantined.pk)]


# --- The rule as a pure function -------------------------------------------------------


def rt_pcr(pk, result, hours):
    return SimpleNamespace(pk=pk, kind=TestKind.RT_PCR, result=result, sampled_at=ARRIVAL + hours * HOUR)


VALIDITY = Validity(rapid=timedelta(hours=24), rt_pcr=timedelta(hours=72))


@pytest.mark.parametrize(
    ("tests", "released", "state", "reason"),
    [
        ([rt_pcr(1, TestResult.POSITIVE, 2)], set(), Screening.POSITIVE, "confirmed_case"),
        ([rt_pcr(1, TestResult.POSITIVE, 2)], {1}, Screening.POSITIVE, "released_case"),
        (
            [rt_pcr(1, TestResult.POSITIVE, 2), rt_pcr(2, TestResult.POSITIVE, 1)],
            {1},
            Screening.POSITIVE,
            "confirmed_case",
        ),
        ([rt_pcr(1, TestResult.POSITIVE, 2), rt_pcr(2, TestResult.NEGATIVE, 3)], {1}, Screening.NEGATIVE, ""),
        (
            [rt_pcr(1, TestResult.POSITIVE, 2), rt_pcr(2, TestResult.NEGATIVE, 3)],
            set(),
            Screening.POSITIVE,
            "confirmed_case",
        ),
    ],
    ids=[
        "not released",
        "released",
        "another case not covered by the release",
        "released, then negative",
        "negative does not end a quarantine",
    ],
)
def test_screening_of_a_case_against_the_release(tests, released, state, reason):
    tests = sorted(tests, key=lambda t: t.sampled_at)
    screening = screen_person(None, tests, ARRIVAL, ARRIVAL + 10 * HOUR, VALIDITY, frozenset(released))
    assert (screening.state, screening.reason_code) == (state, reason)


# --- The port call page ----------------------------------------------------------------


def test_health_officer_releases_from_the_port_call_page(client, quarantined, health):
    client.force_login(health)
    page = client.get(reverse("port-call", args=[quarantined.pk])).content.decode()
    assert reverse("port-call-release", args=[quarantined.pk]) in page
    response_ = client.post(reverse("port-call-release", args=[quarantined.pk]), {"reason": "Đã cách ly F0"})
    assert response_.status_code == 302
    page = client.get(reverse("port-call", args=[quarantined.pk])).content.decode()
    assert 'id="quarantine-release"' in page
    assert "Đã cách ly F0" in page
    assert reverse("port-call-release", args=[quarantined.pk]) not in page


def test_inspector_gets_no_release_form_and_is_refused(client, quarantined, inspector):
    client.force_login(inspector)
    page = client.get(reverse("port-call", args=[quarantined.pk])).content.decode()
    assert reverse("port-call-release", args=[quarantined.pk]) not in page
    response_ = client.post(reverse("port-call-release", args=[quarantined.pk]), {"reason": "Thử"})
    assert response_.status_code == 403
    assert not QuarantineRelease.objects.exists()


def test_release_without_a_reason_from_the_page_is_refused(client, quarantined, health):
    client.force_login(health)
    response_ = client.post(reverse("port-call-release", args=[quarantined.pk]), {"reason": ""})
    assert response_.status_code == 400
    assert not QuarantineRelease.objects.exists()


def test_admin_shows_releases_read_only(client, django_user_model, quarantined, health, django_assert_max_num_queries):
    release_quarantine(health, quarantined.pk, "Đã cách ly F0", now=ARRIVAL + 8 * HOUR)
    client.force_login(django_user_model.objects.create_superuser("root", password="pw-root"))
    with django_assert_max_num_queries(9):
        page = client.get(reverse("admin:vessels_quarantinerelease_changelist")).content.decode()
    assert "Đã cách ly F0" in page
    assert client.get(reverse("admin:vessels_quarantinerelease_add")).status_code == 403
