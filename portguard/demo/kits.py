"""The demo's rapid kits (rule R7): a delivery at every KCS station and wharf, received by
its supervisor or inspector as the kits page would record it.

Every place gets enough for its next 7 days and more (twice the forecast's need), except
``SHORT_STATION``, which gets exactly its need for today and the next two days: the
forecast then shows it running out on the fourth day, in 3 days (three days of stock,
not yet short), on the station page, the kits pages and the province overview. The
delivery's lot is one the demo's past results never named, so none of them uses its kits.

Seeded once: nothing is delivered if a demo place already has a delivery."""

from datetime import date, datetime, timedelta

from django.core.management import CommandError
from django.utils import timezone

from crews.kit_forecast import forecast
from crews.kit_stock import Place
from crews.kits import DeliveryData, record_delivery
from crews.models import KcsStation, KitDelivery
from portguard.demo.data import STATIONS, USERS, WHARVES
from portguard.domain import DomainError
from vessels.models import Wharf

# At Cửa Ông's station (the demo supervisor's), the kits last today, tomorrow and the day
# after: the station runs out in 3 days.
SHORT_STATION = "KCS-CP-01"
STOCK_DAYS = 3
# Twice the week's need for the others, and a box of 20 at least.
MIN_DELIVERY = 20
SHELF_LIFE = timedelta(days=180)


def delivery_lot(today: date) -> str:
    """A lot no demo result names (those are ``QCO…A``, ``portguard.demo.data.kit_lot``)."""
    return f"QCO{today:%y%m}K"


def runs_out_on(today: date) -> date:
    """The day ``SHORT_STATION`` runs out, for a demo seeded ``today``."""
    return today + timedelta(days=STOCK_DAYS)


def seed_kits(users: dict, now: datetime) -> None:
    station_codes = [demo.code for demo in STATIONS]
    wharf_codes = [demo.code for demo in WHARVES]
    if (
        KitDelivery.objects.filter(station__code__in=station_codes).exists()
        or KitDelivery.objects.filter(wharf__code__in=wharf_codes).exists()
    ):
        return
    today = timezone.localtime(now).date()
    places = [Place(station=s) for s in KcsStation.objects.filter(code__in=station_codes).select_related("wharf")]
    places += [Place(wharf=w) for w in Wharf.objects.filter(code__in=wharf_codes)]
    forecasts = forecast(places, today)
    keepers = _keepers(users)
    for place in places:
        outlook = forecasts[place.key]
        if place.code == SHORT_STATION:
            wanted = sum(day.need for day in outlook.days[:STOCK_DAYS])
        else:
            wanted = max(2 * outlook.total_need, MIN_DELIVERY)
        # Results with no lot use the first kits received: deliver those on top.
        quantity = wanted + outlook.stock.unallocated
        if not quantity:
            continue
        keeper = keepers(place)
        data = DeliveryData(lot=delivery_lot(today), expires_on=today + SHELF_LIFE, quantity=quantity, received_at=now)
        try:
            record_delivery(keeper, place, data, now=now)
        except DomainError as exc:
            raise CommandError(f"Kits at {place.code}: {exc.message}") from exc


def _keepers(users: dict):
    """Who receives a place's kits: the demo user supervising the station's locality, or
    the inspector of the wharf's."""
    supervisors = [(users[demo.username], demo.stations) for demo in USERS if demo.stations]
    inspectors = [(users[demo.username], demo.localities) for demo in USERS if demo.localities]

    def keeper(place: Place):
        candidates, locality = (
            (supervisors, place.station.wharf.locality) if place.station else (inspectors, place.wharf.locality)
        )
        found = next((user for user, localities in candidates if locality in localities), None)
        if found is None:
            raise CommandError(f"No demo user keeps the kits at {place.code}.")
        return found

    return keeper
