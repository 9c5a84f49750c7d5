"""Retention: the people past the period are anonymised in place, the reports count the
same, nothing of theirs is left anywhere in the database, the others are untouched; a
second run and a dry run change nothing; the clock runs it once a day."""

import json
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.test import Client
from django.urls import reverse

from crews.choices import TestResult
from crews.manifest import add_crew_member
from crews.models import Person
from crews.people import PersonData
from crews.retention import Counts, anonymise, due_people, placeholder, token
from crews.staffing import end_assignment
from crews.stations import create_station, load_roster
from portguard.domain import HandoverBlocked
from tests.crews.helpers import START, roster_lines, staff_id
from tests.helpers import ARRIVAL, VN, people_of
from vessels import reports
from vessels.call_list import CallFilter, export_rows, filtered_calls, listed
from vessels.clock import Clock
from vessels.declarations import DeclarationData, DeclaredPersonData, PortOfCallData, declare
from vessels.models import Declaration
from vessels.services import approve_handover, record_departure

NOW = datetime(2022, 6, 1, 12, 0, tzinfo=VN)  # 180 days back: 3 December 2021
DAY = timedelta(days=1)


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def build_world(make_call, record, cam_pha, inspector, authority, supervisor) -> SimpleNamespace:
    """At Cẩm Phả: a call of August 2021 long gone (a positive, a refused handover, a
    declaration), one of last month gone 20 days ago (with one of the old crew on it),
    one berthed since August 2021 (never departed), and a KCS station rostered in August
    2021, one of its two staff's assignment ended then."""
    with at(ARRIVAL - 2 * DAY):
        declaration, _code = declare(
            DeclarationData(
                registration="QN-7001",
                expected_at=ARRIVAL,
                declarant_name="Phạm Văn Long",
                declarant_phone="0912 345 678",
                ports=[PortOfCallData("Cảng Cái Lân", (ARRIVAL - 3 * DAY).date())],
                people=[
                    DeclaredPersonData("Nguyễn Văn Hùng 100000", "022000100000", "captain"),
                    DeclaredPersonData("Đinh Văn Toàn", "022086000222", "crew", date_of_birth=date(1979, 3, 14)),
                ],
            ),
            wharf=cam_pha,
        )
    with at(ARRIVAL + DAY):
        old = make_call(crew=3, arrived_at=ARRIVAL)
        gone, positive, stays = people_of(old)
        record(old, gone)
        record(old, positive, result=TestResult.POSITIVE)
        with pytest.raises(HandoverBlocked):
            approve_handover(authority, old.pk, now=ARRIVAL + 3 * timedelta(hours=1))
        berthed = make_call(crew=2, arrived_at=ARRIVAL + DAY)
    Declaration.objects.filter(pk=declaration.pk).update(port_call=old)
    Person.objects.filter(pk=gone.pk).update(phone="0987 654 321", date_of_birth=date(1988, 5, 17))
    with at(ARRIVAL + 2 * DAY):
        record_departure(inspector, old.pk)
    station = create_station(code="KCS-CP-03", name="Trạm KCS Mông Dương", wharf=cam_pha, supervisors=[supervisor])
    with at(datetime(2021, 8, 9, 7, 0, tzinfo=VN)):
        load_roster(supervisor, station, roster_lines(2, 7))
    with at(datetime(2021, 8, 12, 9, 0, tzinfo=VN)):
        left = Person.objects.get(id_number=staff_id(0))
        end_assignment(supervisor, station, left.pk, START + 5 * DAY)
    with at(NOW - 30 * DAY):
        recent = make_call(crew=2, arrived_at=NOW - 30 * DAY)
        add_crew_member(inspector, recent.pk, PersonData(id_number=stays.id_number))
        for person in people_of(recent):
            record(recent, person, sampled_at=NOW - 30 * DAY + timedelta(hours=1))
    with at(NOW - 20 * DAY):
        record_departure(inspector, recent.pk)
    return SimpleNamespace(
        old=old,
        recent=recent,
        berthed=berthed,
        station=station,
        due=[gone, positive, left],
        kept=[stays, *people_of(recent)[:2], *people_of(berthed), Person.objects.get(id_number=staff_id(1))],
        declaration=declaration,
    )


@pytest.fixture
def world(make_call, record, cam_pha, inspector, authority, supervisor, health):
    return build_world(make_call, record, cam_pha, inspector, authority, supervisor)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def secrets_of(person: Person) -> list[str]:
    values = [person.full_name, person.id_number, person.phone]
    if person.date_of_birth:
        values.append(person.date_of_birth.isoformat())
    return [v for v in values if v]


def stored() -> str:
    """Every row of every table, as JSON text."""
    rows = {
        model._meta.label: [list(row) for row in model._default_manager.order_by("pk").values_list()]
        for model in apps.get_models()
    }
    return json.dumps(rows, cls=DjangoJSONEncoder, ensure_ascii=False)


def figures(health) -> list:
    """The daily report of every day something happened, and the port call list."""
    days = {ARRIVAL.date() + timedelta(days=d) for d in range(-2, 4)} | {START + timedelta(days=d) for d in range(7)}
    days |= {(NOW - 30 * DAY).date(), (NOW - 20 * DAY).date(), NOW.date()}
    report = [reports.report_rows(reports.daily_report(health, day, now=NOW)) for day in sorted(days)]
    calls = export_rows(listed(list(filtered_calls(health, CallFilter(), now=NOW)), now=NOW))
    return [report, calls]


def test_the_people_past_the_period_are_anonymised_and_the_reports_count_the_same(world, health):
    due_secrets = [s for person in world.due for s in secrets_of(person)]
    due_secrets += ["Đinh Văn Toàn", "022086000222", "1979-03-14", "Phạm Văn Long", "0912 345 678"]
    kept = {p.pk: (p.full_name, p.id_number) for p in world.kept}
    before, dump = figures(health), stored()
    assert all(secret in dump for secret in due_secrets), "the scenario stores them to begin with"

    with at(NOW):
        assert set(due_people(NOW)) == set(world.due)
        counts = anonymise(NOW)

    assert counts.people == 3 and counts.declarations == 1 and counts.declared_people == 2
    assert counts.texts >= 2, "the positive's alert and the refused handover named them"
    assert figures(health) == before
    dump = stored()
    assert [s for s in due_secrets if s in dump] == []
    for person in world.due:
        person.refresh_from_db()
        assert (person.full_name, person.id_number, person.phone, person.date_of_birth) == (
            placeholder(person.pk),
            token(person.pk),
            "",
            None,
        )
        assert person.anonymised_at == NOW
    positive = world.due[1]
    assert placeholder(positive.pk) in world.old.alerts.get(person=positive).message
    assert {p.pk: (p.full_name, p.id_number) for p in Person.objects.filter(pk__in=kept)} == kept
    assert not Person.objects.filter(pk__in=kept, anonymised_at__isnull=False).exists()
    assert Person.objects.filter(Q(name_folded__startswith="da an danh #")).count() == 3, "the search follows"
    page = logged_in(health).get(reverse("person", args=[positive.pk])).content.decode()
    assert placeholder(positive.pk) in page and "data-anonymised" in page


def test_a_second_run_and_a_dry_run_change_nothing(world):
    dump = stored()
    with at(NOW):
        dry = anonymise(NOW, dry_run=True)
        assert stored() == dump, "a dry run changes nothing"
        assert anonymise(NOW) == dry, "it counted what a run does"
        once = stored()
        assert anonymise(NOW + DAY) == Counts()
    assert stored() == once


def test_the_command_prints_its_counts_and_runs_once_a_day(world, capsys):
    with at(NOW):
        call_command("anonymise_personal_data", "--dry-run")
        assert "Dry run, nothing changed. Past 180 days: people: 3, declarations: 1" in capsys.readouterr().out
        call_command("anonymise_personal_data")
        assert "Anonymised past 180 days: people: 3, declarations: 1" in capsys.readouterr().out
    with at(NOW + timedelta(hours=12)):
        call_command("anonymise_personal_data")
        assert capsys.readouterr().out.startswith("Skipped: already run or running")


def test_people_come_due_as_the_period_runs_out(world, settings):
    """The call of last month left 20 days ago: due 161 days from now, not a day before."""
    recent = set(people_of(world.recent)) - set(world.kept[:1])
    with at(NOW):
        anonymise(NOW)
    gone = NOW - 20 * DAY + 180 * DAY
    assert not set(due_people(gone - timedelta(minutes=1))) & recent
    assert set(due_people(gone + timedelta(minutes=1))) >= recent
    settings.PORTGUARD_RETENTION_DAYS = 10
    assert set(due_people(NOW)) >= recent


def test_the_clock_anonymises_once_a_day(world, settings):
    clock, recent = Clock(), people_of(world.recent)
    with at(NOW):
        assert clock.tick(NOW)
    assert set(Person.objects.filter(anonymised_at__isnull=False)) == set(world.due)
    settings.PORTGUARD_RETENTION_DAYS = 10  # the crew of last month's call come due
    later = NOW + timedelta(hours=1)
    with at(later):
        assert clock.tick(later)
    assert Person.objects.filter(anonymised_at__isnull=False).count() == 3, "not run again the same day"
    next_day = NOW + DAY
    with at(next_day):
        assert clock.tick(next_day)
    assert set(Person.objects.filter(anonymised_at__isnull=False)) == {*world.due, *recent}, "run a day later"


def test_someone_declared_on_a_vessel_still_expected_is_not_due(world):
    """A captain declares the crew of a vessel arriving tomorrow: one of them left in
    August 2021, but is coming back; their record is kept for the arrival."""
    gone = world.due[0]
    with at(NOW):
        declare(
            DeclarationData(
                registration="QN-7002",
                expected_at=NOW + DAY,
                declarant_name="Phạm Văn Long",
                declarant_phone="0912 345 678",
                ports=[PortOfCallData("Cảng Cái Lân", (NOW - DAY).date())],
                people=[DeclaredPersonData(gone.full_name, gone.id_number, "captain")],
            ),
            wharf=world.old.wharf,
        )
        assert set(due_people(NOW)) == set(world.due) - {gone}
