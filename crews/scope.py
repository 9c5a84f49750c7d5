"""Which KCS stations a user may see and act for: a supervisor the stations they
supervise; the port authority and health officers all of them; the administrator none
(they keep the stations in the admin, rule R8). And
which people and results follow from that and from the wharves (``vessels.scope``)."""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from portguard.domain import NotAllowed
from portguard.roles import SUPERVISOR
from vessels.scope import sees_all_wharves, visible_wharves

from .models import CrewMember, KcsStation, Person, ScreeningTest, StaffMember


def visible_stations(user) -> QuerySet[KcsStation]:
    """Scope follows the role, as for wharves (``vessels.scope.visible_wharves``): a
    station's *supervisors* list counts only for users in the supervisors' group."""
    if not user.is_authenticated:
        return KcsStation.objects.none()
    stations = KcsStation.objects.select_related("wharf")
    if sees_all_wharves(user):
        return stations
    return stations.filter(supervisors=user, supervisors__groups__name=SUPERVISOR)


def station_in_scope(user, station: KcsStation) -> bool:
    return sees_all_wharves(user) or station.supervisors.filter(pk=user.pk, groups__name=SUPERVISOR).exists()


def require_station_in_scope(user, station: KcsStation) -> None:
    if not station_in_scope(user, station):
        raise NotAllowed(_("You do not supervise station %(code)s.") % {"code": station.code}, field="station")


def visible_tests(user) -> QuerySet[ScreeningTest]:
    """The results a user may see, and so ask to correct: those taken for a port call
    of their wharves or at their KCS stations (every one for the province's roles)."""
    tests = ScreeningTest.objects.select_related("person", "recorded_by")
    if sees_all_wharves(user):
        return tests
    wharves = visible_wharves(user)
    return tests.filter(
        Q(port_call__wharf__in=wharves)
        | Q(station__in=visible_stations(user))
        | Q(port_call__isnull=True, station__isnull=True, wharf__in=wharves)
    )


def visible_people(user) -> QuerySet[Person]:
    """The people whose history a user may read: everyone for the port authority and
    health officers; for an inspector, whoever was ever on the manifest of a port call
    at their wharves; for a supervisor, whoever was ever on the staff of their stations.
    Nobody for a role that reads no results (the administrator, rule R8). One query,
    whatever the number of people."""
    if not (user.is_authenticated and user.has_perm("crews.view_screeningtest")):
        return Person.objects.none()
    if sees_all_wharves(user):
        return Person.objects.all()
    on_a_manifest = CrewMember.objects.filter(person=OuterRef("pk"), port_call__wharf__in=visible_wharves(user))
    on_a_staff = StaffMember.objects.filter(person=OuterRef("pk"), station__in=visible_stations(user))
    return Person.objects.filter(Exists(on_a_manifest) | Exists(on_a_staff))
