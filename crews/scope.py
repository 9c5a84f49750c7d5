"""Which KCS stations a user may see and act for: a supervisor the stations they
supervise; the port authority, health officers and administrators all of them."""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from portguard.domain import NotAllowed
from vessels.scope import sees_all_wharves

from .models import KcsStation


def visible_stations(user) -> QuerySet[KcsStation]:
    if not user.is_authenticated:
        return KcsStation.objects.none()
    stations = KcsStation.objects.select_related("wharf")
    if sees_all_wharves(user):
        return stations
    return stations.filter(supervisors=user)


def station_in_scope(user, station: KcsStation) -> bool:
    return sees_all_wharves(user) or station.supervisors.filter(pk=user.pk).exists()


def require_station_in_scope(user, station: KcsStation) -> None:
    if not station_in_scope(user, station):
        raise NotAllowed(_("You do not supervise station %(code)s.") % {"code": station.code}, field="station")
