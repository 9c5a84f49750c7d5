"""The management commands: ``seed_demo`` and ``issue_token`` (its tokens' rules:
tests/portguard/test_api_tokens.py)."""

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from crews import schedule
from crews.choices import RT_PCR_KINDS, IdKind, Screening, TestKind
from crews.lab_load import lab_outlook
from crews.models import KcsStation, Lab, Person, RosterEntry, ScreeningTest, StaffMember
from crews.stations import needs_attention, station_schedule
from portguard import demo, roles
from portguard.models import ApiToken
from portguard.tokens import authenticate, digest_of
from tests.helpers import VN
from vessels.choices import AlertKind, ContactLevel, Locality, PortCallStatus
from vessels.models import Alert, Contact, EpidemicArea, Handover, PortCall, Vessel, Violation, Wharf
from vessels.scope import visible_wharves
from vessels.status import clearance_for

BASE_DIR = Path(settings.BASE_DIR)
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed_demo() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def statuses() -> dict[str, str]:
    calls = list(PortCall.objects.select_related("vessel"))
    clearance = clearance_for(calls)
    return {call.vessel.registration: clearance[call.pk].status for call in calls}


def open_calls_by_status() -> dict[str, list]:
    calls = list(PortCall.objects.filter(departed_at__isnull=True).select_related("vessel", "wharf"))
    clearance = clearance_for(calls)
    by_status: dict[str, list] = {}
    for call in calls:
        by_status.setdefault(clearance[call.pk].status, []).append((call, clearance[call.pk]))
    return by_status


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """The demo, loaded once for the tests of a class and rolled back after the last one;
    each test's own changes are rolled back after it, as usual."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER), transaction.atomic():
        yield seed_demo()
        transaction.set_rollback(True)


# --- seed_demo -------------------------------------------------------------------------


def test_seed_demo_run_twice_creates_nothing_new(db):
    seed_demo()
    counts = row_counts()
    before = statuses()
    passwords = dict(User.objects.values_list("username", "password"))
    for model in (KcsStation, StaffMember, RosterEntry):
        assert counts[model._meta.label] > 0, model
    seed_demo()
    assert row_counts() == counts
    assert statuses() == before
    assert dict(User.objects.values_list("username", "password")) == passwords


def test_demo_password_comes_from_the_environment(db, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "mat-khau-thu-nghiem")
    output = seed_demo()
    assert "mat-khau-thu-nghiem" in output
    assert User.objects.get(username="health").check_password("mat-khau-thu-nghiem")


def test_seed_demo_refuses_without_roles(db):
    Group.objects.filter(name=roles.HEALTH).delete()
    with pytest.raises(CommandError, match="migrate"):
        seed_demo()
    assert not Wharf.objects.exists(), "nothing is saved"


def assert_demo_kits_and_lab(client, today):
    """Through the pages: the province overview lists one place whose kits run out this
    week, Cửa Ông's station, in 3 days (not yet short); its station page says the same;
    the lab is over capacity on one to six days of the week, on both pages."""
    in_three_days = (today + timedelta(days=3)).isoformat()
    client.force_login(User.objects.get(username="health"))
    province = client.get("/province/").content.decode()
    shortages = re.findall(r'<li data-kit-place="([^"]+)">.*?data-runs-out="([^"]*)"( data-short)?', province)
    assert shortages == [("KCS-CP-01", in_three_days, "")]
    over = re.findall(r'data-lab-over-day="([\d-]+)"', province)
    assert 1 <= len(over) < 7
    assert all(today.isoformat() <= day < (today + timedelta(days=7)).isoformat() for day in over)
    client.force_login(User.objects.get(username="supervisor"))
    station = client.get("/stations/KCS-CP-01/").content.decode()
    assert re.findall(r'data-runs-out="([^"]*)"', station) == [in_three_days]
    assert "data-short" not in station
    assert re.findall(r'data-lab-over-day="([\d-]+)"', station) == over
    other = client.get("/stations/KCS-CP-02/").content.decode()
    assert re.findall(r'data-runs-out="([^"]*)"', other) == [""], "enough for the week"


@pytest.mark.parametrize(
    "local_time",
    [
        # A Sunday late in the evening: the week ahead reaches the roster's last day.
        datetime(2026, 12, 6, 23, 40),
        # A Monday just after midnight: the first day of the week's printed schedule.
        datetime(2026, 12, 7, 0, 20),
    ],
)
def test_the_demos_kits_run_out_in_three_days_whatever_day_it_is_seeded(db, client, local_time):
    now = local_time.replace(tzinfo=VN)
    with time_machine.travel(now, tick=False), override_settings(PASSWORD_HASHERS=FAST_HASHER):
        seed_demo()
        assert_demo_kits_and_lab(client, now.date())


def this_weeks_monday():
    today = timezone.localdate()
    return today - timedelta(days=today.weekday())


@pytest.mark.django_db
class TestTheDemo:
    """What ``seed_demo`` loads, read by many tests from one run."""

    def test_seed_demo_second_run_reports_everything_already_there(self, seeded):
        second = seed_demo()
        assert "Wharves: 0 new, vessels: 0 new, port calls: 0 new" in second
        assert "KCS stations: 0 new, 0 given staff, three weeks of roster and tests, 11 already rostered." in second
        assert "Epidemic areas: 0 new." in second
        assert "password left as it was" in second

    def test_seed_demo_loads_the_route_from_cam_pha_to_dong_trieu(self, seeded):
        wharves = list(Wharf.objects.all())
        assert 8 <= len(wharves) <= 12
        assert wharves[0].locality == Locality.CAM_PHA
        assert wharves[-1].locality == Locality.DONG_TRIEU
        route = list(Locality.values)
        positions = [route.index(w.locality) for w in wharves]
        assert positions == sorted(positions), "wharves follow the route from Cẩm Phả to Đông Triều"
        assert set(positions) == set(range(len(route))), "every locality on the route has a wharf"
        assert Wharf.objects.filter(code="CP-03", locality=Locality.CAM_PHA).exists()
        assert Wharf.objects.filter(locality=Locality.CAM_PHA).count() >= 3
        assert Wharf.objects.get(code="CP-01").operator == "Công ty Kho vận và Cảng Cẩm Phả - Vinacomin"

    def test_seed_demo_loads_about_fifteen_vessels(self, seeded):
        vessels = list(Vessel.objects.all())
        assert 12 <= len(vessels) <= 18
        assert all(re.fullmatch(r"(QN|HP)-\d{4}", v.registration) for v in vessels)
        assert {v.kind for v in vessels} >= {"self_propelled_barge", "towed_barge", "tug"}
        assert all(v.owner for v in vessels)

    def test_demo_port_calls_show_every_state(self, seeded):
        by_status = open_calls_by_status()
        assert {
            PortCallStatus.AWAITING_TESTS,
            PortCallStatus.CLEARED,
            PortCallStatus.BLOCKED,
            PortCallStatus.HANDOVER_APPROVED,
        } <= set(by_status)
        assert len(by_status[PortCallStatus.BLOCKED]) == 1
        assert len(by_status[PortCallStatus.HANDOVER_APPROVED]) == 1
        assert len({call.wharf_id for calls in by_status.values() for call, _c in calls}) >= 5

    def test_demo_has_a_confirmed_case_in_quarantine_with_its_contacts(self, seeded):
        ((call, clearance),) = open_calls_by_status()[PortCallStatus.QUARANTINED]
        (case,) = [p for p in clearance.people if p.state == Screening.POSITIVE]
        assert case.confirmed_case and case.test.kind == TestKind.RT_PCR
        assert case.test.recorded_by.username == "health"
        contacts = list(Contact.objects.filter(case_test=case.test).select_related("person"))
        on_board = {p.member.person_id for p in clearance.people} - {case.member.person_id}
        f1 = {c.person_id for c in contacts if c.level == ContactLevel.F1}
        assert on_board < f1, "everyone else on board, and KCS staff on duty"
        assert f1 - on_board <= set(
            StaffMember.objects.filter(station__wharf=call.wharf).values_list("person_id", flat=True)
        )
        assert any(c.level == ContactLevel.F2 for c in contacts), "the crew of another vessel at the wharf"
        assert Alert.objects.filter(port_call=call, kind=AlertKind.QUARANTINE, acknowledged_at__isnull=True).exists()

    def test_demo_arrival_from_an_epidemic_area_waits_for_rt_pcr_and_is_a_repeat_offender(self, seeded):
        assert EpidemicArea.objects.filter(province="Bắc Giang", created_by__username="health").exists()
        flagged = [(call, c) for calls in open_calls_by_status().values() for call, c in calls if c.origin_flagged]
        ((call, clearance),) = flagged
        assert clearance.status == PortCallStatus.AWAITING_TESTS
        assert {p.reason_code for p in clearance.people} == {"rt_pcr_required"}
        assert clearance.repeat_offender
        violations = Violation.objects.filter(vessel=call.vessel)
        assert violations.count() == 2 and {v.recorded_by.username for v in violations} == {"inspector2"}

    def test_demo_cleared_calls_rest_on_recent_negative_tests(self, seeded):
        cleared = open_calls_by_status()[PortCallStatus.CLEARED]
        assert len(cleared) >= 2
        for _call, clearance in cleared:
            assert clearance.can_approve
            assert all(p.state == Screening.NEGATIVE for p in clearance.people)
        assert any(all(p.test.kind == TestKind.RAPID for p in clearance.people) for _call, clearance in cleared)

    def test_demo_blocked_call_has_a_positive_rapid_test(self, seeded):
        ((call, clearance),) = open_calls_by_status()[PortCallStatus.BLOCKED]
        (blocking,) = [p for p in clearance.people if p.state == Screening.POSITIVE]
        assert blocking.reason_code == "positive_rapid"
        assert blocking.test.kind == TestKind.RAPID
        assert call.wharf.locality == Locality.CAM_PHA, "the demo inspector sees the alert"

    def test_demo_handover_was_approved_by_the_authority_with_evidence(self, seeded):
        ((call, clearance),) = open_calls_by_status()[PortCallStatus.HANDOVER_APPROVED]
        handover = Handover.objects.get(port_call=call)
        assert handover.approved_by.username == "authority"
        assert handover.evidence.count() == len(clearance.people) > 0

    def test_demo_calls_awaiting_tests_include_untested_pending_invalid_and_expired(self, seeded):
        states = {p.state for _call, c in open_calls_by_status()[PortCallStatus.AWAITING_TESTS] for p in c.people}
        assert {Screening.UNTESTED, Screening.PENDING, Screening.INVALID, Screening.EXPIRED} <= states

    def test_demo_writes_are_attributed_to_users_allowed_to_make_them(self, seeded):
        for call in PortCall.objects.select_related("registered_by", "wharf"):
            assert call.registered_by.has_perm("vessels.add_portcall")
            assert call.wharf.inspectors.filter(pk=call.registered_by.pk).exists()
        recorders = User.objects.filter(pk__in=ScreeningTest.objects.values("recorded_by"))
        assert recorders.exists()
        assert all(user.has_perm("crews.add_screeningtest") for user in recorders)

    def test_demo_inspector_sees_only_cam_pha_wharves(self, seeded):
        inspector = User.objects.get(username="inspector")
        seen = set(visible_wharves(inspector))
        assert seen == set(Wharf.objects.filter(locality=Locality.CAM_PHA))
        assert Wharf.objects.get(code="CP-03") in seen
        authority = User.objects.get(username="authority")
        assert set(visible_wharves(authority)) == set(Wharf.objects.all())

    def test_demo_people_have_vietnamese_names_and_identity_documents(self, seeded):
        people = list(Person.objects.all())
        crews = sum(len(scenario.crew) for scenario in demo.SCENARIOS)
        staff = sum(len(station.staff) for station in demo.STATIONS)
        assert len(people) == crews + staff >= 30 + 66, "no two share a document"
        for person in people:
            assert any(ord(c) > 127 for c in person.full_name), person.full_name
            assert len(person.full_name.split()) >= 3
            assert person.date_of_birth is not None
            expected = r"\d{12}" if person.id_kind == IdKind.CCCD else r"\d{9}"
            assert re.fullmatch(expected, person.id_number), person.id_number
        assert {p.id_kind for p in people} == {IdKind.CCCD, IdKind.CMND}

    def test_demo_crews_have_captains_crew_and_workers(self, seeded):
        roles_on_board = set(PortCall.objects.values_list("crew__role", flat=True))
        assert roles_on_board >= {"captain", "crew", "worker"}

    def test_demo_takes_rt_pcr_samples_too(self, seeded):
        assert ScreeningTest.objects.filter(kind__in=RT_PCR_KINDS).exists()

    def test_demo_lab_takes_every_stations_samples_and_is_over_capacity_one_day(self, seeded):
        lab = Lab.objects.get()
        assert not KcsStation.objects.filter(lab__isnull=True).exists()
        over = [day for day in lab_outlook(lab, timezone.localdate()) if day.over]
        assert 1 <= len(over) < 7

    def test_demo_shows_a_station_running_out_in_three_days_and_a_lab_day_over_capacity(self, seeded, client):
        assert_demo_kits_and_lab(client, timezone.localdate())

    def test_demo_has_a_kcs_station_at_every_wharf(self, seeded):
        stations = list(KcsStation.objects.select_related("wharf"))
        assert sorted(s.wharf.code for s in stations) == sorted(Wharf.objects.values_list("code", flat=True))
        assert all(s.code == f"KCS-{s.wharf.code}" for s in stations)
        assert all(s.name.startswith("Trạm KCS ") for s in stations)
        assert KcsStation.objects.get(code="KCS-CP-03").name == "Trạm KCS Mông Dương"
        for station in stations:
            assert [shift.code for shift in station.shifts.all()] == ["S1", "S2", "S3"]

    def test_demo_has_a_kcs_staff_case_blocked_from_duty_with_its_contact_list(self, seeded):
        station = KcsStation.objects.get(wharf__code=demo.STAFF_CASE_WHARF)
        (alert,) = Alert.objects.filter(station=station, kind=AlertKind.CONFIRMED_CASE)
        assert alert.wharf_id == station.wharf_id and alert.port_call_id is None
        assert Alert.objects.filter(station=station, kind=AlertKind.POSITIVE, person=alert.person).exists()
        contacts = Contact.objects.filter(station=station, case_person=alert.person)
        assert contacts.filter(reason_code="same_shift").exists(), "the staff on the same shift"
        assert {c.level for c in contacts} == {ContactLevel.F1}
        now = timezone.now()
        today = timezone.localtime(now).date()
        states = {
            e.state
            for e in station_schedule(station, this_weeks_monday(), 7, now)
            if e.person == alert.person and e.planned.date == today
        }
        assert states <= {schedule.BLOCKED}

    def test_demo_has_a_cleared_call_whose_negatives_run_out_within_minutes(self, seeded):
        call = PortCall.objects.get(vessel__registration="QN-2468")
        now = timezone.now()
        assert clearance_for([call], now)[call.pk].status == PortCallStatus.CLEARED
        later = clearance_for([call], now + timedelta(minutes=10))[call.pk]
        assert later.status == PortCallStatus.AWAITING_TESTS
        assert {p.reason_code for p in later.people} == {"expired"}

    def test_the_demo_supervisor_supervises_the_cam_pha_stations_only(self, seeded):
        supervisor = User.objects.get(username="supervisor")
        assert set(supervisor.supervised_stations.all()) == set(
            KcsStation.objects.filter(wharf__locality=Locality.CAM_PHA)
        )
        west = set(KcsStation.objects.exclude(wharf__locality=Locality.CAM_PHA))
        assert set(User.objects.get(username="supervisor2").supervised_stations.all()) == west
        assert roles.role_of(User.objects.get(username="supervisor2")) == roles.SUPERVISOR

    def test_every_station_has_staff_and_three_weeks_of_roster_from_last_weeks_monday(self, seeded):
        first_day = this_weeks_monday() - timedelta(days=7)
        for station in KcsStation.objects.all():
            staff = list(station.staff.select_related("person"))
            assert 6 <= len(staff) <= 10, station.code
            assert all(re.fullmatch(r"\d{12}", m.person.id_number) for m in staff)
            assert all(any(ord(c) > 127 for c in m.person.full_name) for m in staff)
            days = sorted(set(RosterEntry.objects.filter(staff__station=station).values_list("date", flat=True)))
            # To next week's Sunday: at least 7 days past today, whatever day it is.
            assert days == [first_day + timedelta(days=d) for d in range(21)], station.code
            assert days[-1] >= timezone.localdate() + timedelta(days=7)

    def test_demo_rosters_are_realistic(self, seeded):
        """One shift a day at most, most days worked, days off, and every shift of every day covered."""
        entries = list(RosterEntry.objects.select_related("shift", "staff"))
        per_day: dict[tuple, int] = {}
        worked: dict[int, set] = {}
        covered: dict[int, set] = {}
        for entry in entries:
            per_day[(entry.staff_id, entry.date)] = per_day.get((entry.staff_id, entry.date), 0) + 1
            worked.setdefault(entry.staff_id, set()).add(entry.date)
            covered.setdefault(entry.staff.station_id, set()).add((entry.date, entry.shift.code))
        assert max(per_day.values()) == 1
        assert all(15 <= len(days) <= 17 for days in worked.values()), "most of the 21 days, with days off"
        assert all(len(shifts) == 21 * 3 for shifts in covered.values())
        night_then_morning = {(e.staff_id, e.date) for e in entries if e.shift.code == "S3"} & {
            (e.staff_id, e.date - timedelta(days=1)) for e in entries if e.shift.code == "S1"
        }
        assert not night_then_morning, "nobody works a morning shift straight after a night"

    def test_demo_station_pages_show_done_due_and_overdue_tests(self, seeded):
        monday = this_weeks_monday()
        for station in KcsStation.objects.all():
            states = {
                e.state for start in (monday - timedelta(days=7), monday) for e in station_schedule(station, start, 7)
            }
            # The station with the demo's staff case also shows that one blocked from duty.
            blocked = {schedule.BLOCKED} if station.wharf.code == demo.STAFF_CASE_WHARF else set()
            assert states == {schedule.DONE, schedule.DUE, schedule.OVERDUE} | blocked, station.code
            overdue = [e for e in needs_attention(station) if e.state == schedule.OVERDUE]
            assert 1 <= len({e.staff.pk for e in overdue}) <= 3, "a few staff forgot a test"
        assert ScreeningTest.objects.filter(station__isnull=False, kind=TestKind.RAPID).count() > 200
        assert ScreeningTest.objects.filter(station__isnull=False, kind__in=RT_PCR_KINDS).exists()

    def test_demo_staff_tests_are_recorded_by_the_stations_supervisors(self, seeded):
        tests = ScreeningTest.objects.filter(station__isnull=False).select_related("station", "recorded_by")
        pairs = {(t.station_id, t.recorded_by_id) for t in tests}
        assert pairs
        for station_id, user_id in pairs:
            assert KcsStation.objects.get(pk=station_id).supervisors.filter(pk=user_id).exists()
            assert ScreeningTest.objects.filter(station_id=station_id, port_call__isnull=False).count() == 0

    def test_demo_has_one_user_per_role(self, seeded):
        for username, role in [
            ("inspector", roles.INSPECTOR),
            ("supervisor", roles.SUPERVISOR),
            ("authority", roles.AUTHORITY),
            ("health", roles.HEALTH),
            ("admin", roles.ADMIN),
        ]:
            assert roles.role_of(User.objects.get(username=username)) == role

    def test_demo_admin_uses_the_admin_site_but_cannot_approve_handover(self, seeded):
        admin = User.objects.get(username="admin")
        assert admin.is_staff
        assert not admin.is_superuser
        assert not admin.has_perm("vessels.approve_handover")
        assert User.objects.get(username="authority").has_perm("vessels.approve_handover")

    def test_seed_demo_prints_each_user_role_and_password(self, seeded):
        for username in ["inspector", "supervisor", "authority", "health", "admin"]:
            line = next(line for line in seeded.splitlines() if line.split()[:1] == [username])
            assert demo.DEFAULT_PASSWORD in line
            assert str(roles.ROLE_LABELS[roles.role_of(User.objects.get(username=username))]) in line

    def test_seed_demo_leaves_a_changed_password_alone(self, seeded):
        user = User.objects.get(username="authority")
        user.set_password("doi-mat-khau")
        user.save()
        seed_demo()
        user.refresh_from_db()
        assert user.check_password("doi-mat-khau")

    def test_seed_demo_keeps_an_administrators_wharf_assignments(self, seeded):
        inspector = User.objects.get(username="inspector")
        Wharf.objects.get(code="CP-04").inspectors.remove(inspector)
        seed_demo()
        assert not Wharf.objects.get(code="CP-04").inspectors.filter(pk=inspector.pk).exists()


# --- issue_token -----------------------------------------------------------------------


def issue_token(username: str) -> str:
    out = StringIO()
    call_command("issue_token", username, stdout=out)
    return out.getvalue()


def test_issue_token_prints_the_token_alone(authority):
    output = issue_token("bob")
    assert re.fullmatch(r"pgt_[A-Za-z0-9_-]{43}\n", output)
    assert ApiToken.objects.get(user=authority).digest == digest_of(output.strip())
    assert authenticate(output.strip()).user == authority


def test_issue_token_again_replaces_the_devices_token(authority):
    first, second = issue_token("bob"), issue_token("bob")
    assert first != second
    assert ApiToken.objects.get(user=authority, revoked_at__isnull=True).digest == digest_of(second.strip())


def test_issue_token_for_an_unknown_user_fails(db):
    with pytest.raises(CommandError, match="No user named 'nobody'") as excinfo:
        issue_token("nobody")
    assert excinfo.value.returncode != 0
    assert not ApiToken.objects.exists()


def test_issue_token_refuses_an_inactive_user(authority):
    authority.is_active = False
    authority.save()
    with pytest.raises(CommandError, match="inactive"):
        issue_token("bob")


def _env_for_test_database() -> dict[str, str]:
    """Environment that points a child ``manage.py`` at this test run's database."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        env["SQLITE_PATH"] = str(db["NAME"])
    else:
        credentials = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
        env["DATABASE_URL"] = f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    return env


def run_manage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=_env_for_test_database(),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.django_db(transaction=True)
def test_issue_token_from_the_command_line_prints_only_the_token():
    user = User.objects.create_user("lan")
    result = run_manage("issue_token", "lan", "--device", "Máy tính bảng", "--days", "7")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"pgt_[A-Za-z0-9_-]{43}\n", result.stdout)
    token = authenticate(result.stdout.strip())
    assert (token.user, token.device, (token.expires_at - token.created_at).days) == (user, "Máy tính bảng", 7)


@pytest.mark.django_db(transaction=True)
def test_issue_token_from_the_command_line_exits_non_zero_for_an_unknown_user():
    result = run_manage("issue_token", "nobody")
    assert result.returncode != 0
    assert result.stdout == ""
    assert "No user named 'nobody'" in result.stderr
