"""One person's history as a user may read it: the port calls they were on, the KCS
stations they are rostered at, every test in time order with its corrections, the
alerts about them and the contact lists they are on. Each part within the reader's
scope (a health officer or the port authority reads all of it, an inspector what
happened at their wharves, a supervisor at their stations), in one query each."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Max, Min

from vessels.models import Alert, Contact
from vessels.scope import sees_all_wharves, visible_alerts, visible_port_calls

from .models import CrewMember, Person, ScreeningTest, StaffMember
from .scope import visible_stations, visible_tests


@dataclass
class StationPost:
    """A station whose staff the person is on, with the days of its roster they work."""

    staff: StaffMember
    first_day: date | None
    last_day: date | None
    shifts: int


@dataclass
class PersonHistory:
    person: Person
    manifests: list[CrewMember]
    posts: list[StationPost]
    tests: list[ScreeningTest]
    alerts: list[Alert]
    contacts: list[Contact] | None  # None: the reader's role reads no contact lists


def person_history(user, person: Person) -> PersonHistory:
    """``person``'s history as ``user`` may read it (call with a person from
    ``visible_people(user)``). Five queries at most, whatever its length."""
    manifests = CrewMember.objects.filter(person=person)
    if not sees_all_wharves(user):
        manifests = manifests.filter(port_call__in=visible_port_calls(user))
    posts = (
        StaffMember.objects.filter(person=person, station__in=visible_stations(user))
        .select_related("station__wharf")
        .annotate(first_day=Min("roster__date"), last_day=Max("roster__date"), shifts=Count("roster"))
        .order_by("station__wharf__route_order", "station__code")
    )
    tests = (
        visible_tests(user)
        .filter(person=person)
        .select_related(
            "port_call__vessel",
            "port_call__wharf",
            "station",
            "wharf",
            "supersedes",
            "superseded_by__recorded_by",
        )
        .order_by("sampled_at", "recorded_at", "id")
    )
    contacts = None
    if user.has_perm("vessels.view_contact"):
        contacts = list(
            Contact.objects.filter(person=person)
            .select_related("case_person", "port_call__vessel", "port_call__wharf", "station__wharf")
            .order_by("computed_at", "id")
        )
    return PersonHistory(
        person=person,
        manifests=list(
            manifests.select_related("port_call__vessel", "port_call__wharf", "added_by", "removed_by").order_by(
                "port_call__arrived_at", "id"
            )
        ),
        posts=[StationPost(s, s.first_day, s.last_day, s.shifts) for s in posts],
        tests=list(tests),
        alerts=list(visible_alerts(user).filter(person=person).order_by("created_at", "id")),
        contacts=contacts,
    )
