"""The live alert when a KCS station or a wharf is under ``SHORT_DAYS`` days of rapid kit
stock (rule R7): ``kits.short``, sent to the place's wharf (a station's own wharf) and
the province once the write that brought it there commits.

Only a write that takes kits out can make a place short: a rapid result (one kit each)
or a negative adjustment. After such a write at a place that keeps stock (it has had a
delivery), the place is *newly* short when its usable stock does not cover the need of
the next ``SHORT_DAYS`` days and did just before the write; a place already short says
nothing more, so a dashboard is told once, and a dashboard opened later reads the places
short now from its snapshot (``short_places``).

The other way, a delivery or a count that adds rapid kits at a place that was short and
covers it again sends ``kits.restocked``, so that the dashboards showing the shortage
drop it."""

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from realtime.broadcast import send_events_on_commit
from vessels.models import Wharf

from .choices import KitKind, TestKind
from .kit_forecast import SHORT_DAYS, DayNeed, forecast, needs_of, project
from .kit_stock import Place, PlaceKey, PlaceStock, stock_at, stock_of
from .models import KcsStation, KitAdjustment, KitDelivery, ScreeningTest

EVENT = "kits.short"
RESTOCKED = "kits.restocked"


def newly_short(
    before: Iterable[tuple[date, int]], after: Iterable[tuple[date, int]], needs: Sequence[tuple[date, int]]
) -> list[DayNeed] | None:
    """The days of ``needs`` carried from the rapid lots ``after`` a write, if they are
    not all covered while they were from the lots ``before`` it; else None. Pure."""
    days = project(after, needs)
    if all(day.covered for day in days) or not all(day.covered for day in project(before, needs)):
        return None
    return days


def newly_covered(
    before: Iterable[tuple[date, int]], after: Iterable[tuple[date, int]], needs: Sequence[tuple[date, int]]
) -> bool:
    """Whether the rapid lots ``after`` a write cover every day of ``needs`` and the lots
    ``before`` it did not. Pure."""
    return all(day.covered for day in project(after, needs)) and not all(day.covered for day in project(before, needs))


def place_payload(place: Place) -> dict[str, Any]:
    """A place as its events name it: station or wharf, its code and name, its wharf."""
    return {
        "place_kind": "station" if place.is_station else "wharf",
        "code": place.code,
        "name": place.name,
        "wharf": _wharf_of(place).code,
    }


def shortage_payload(place: Place, days: Sequence[DayNeed]) -> dict[str, Any]:
    """A short place as its ``kits.short`` event and its snapshot entry carry it: the kits
    usable today, the need of the days ahead and the first day not covered."""
    return {
        **place_payload(place),
        "left": days[0].available,
        "need": sum(day.need for day in days),
        "days": len(days),
        "runs_out_on": next(day.day for day in days if not day.covered),
    }


def _wharf_of(place: Place) -> Wharf:
    return place.station.wharf if place.station else place.wharf


def keeps_stock(place: Place) -> bool:
    """Whether the place has received rapid kits, as its row says (``rapid_kits_since``,
    set by ``crews.kits.record_delivery``): no query."""
    return (place.station or place.wharf).rapid_kits_since is not None


def _send(found: list[tuple[Place, list[DayNeed]]]) -> None:
    send_events_on_commit(
        [(_wharf_of(place).code, EVENT, shortage_payload(place, days)) for place, days in found if days is not None]
    )


def after_results(tests: Sequence[ScreeningTest], now: datetime) -> None:
    """After ``tests`` are saved (call inside their transaction): ``kits.short`` for each
    place their rapid results made newly short, on commit. No query when none is rapid
    or their places keep no stock (their rows, already read, say so); three at most when
    some do: their stock and their need (the stations' rosters, the wharves' arrivals
    and declarations)."""
    places: dict[PlaceKey, Place] = {}
    named: dict[PlaceKey, Counter[str]] = {}
    unnamed: Counter[PlaceKey] = Counter()
    for test in tests:
        if test.kind != TestKind.RAPID or test.supersedes_id is not None:
            continue
        if test.station_id is not None:
            place = Place(station=test.station)
        elif test.wharf_id is not None:
            place = Place(wharf=test.wharf)
        else:
            continue
        places.setdefault(place.key, place)
        if test.kit_lot:
            named.setdefault(place.key, Counter())[test.kit_lot] += 1
        else:
            unnamed[place.key] += 1
    if not places:
        return
    stocked = [place for place in places.values() if keeps_stock(place)]
    if not stocked:
        return
    today = timezone.localdate(now)
    stocks = stock_of(stocked)
    needs = needs_of(stocked, today, SHORT_DAYS)
    found = []
    for place in stocked:
        after = stocks[place.key]
        used = named.get(place.key, Counter())
        before = after.changed(used={lot: -count for lot, count in used.items()}, unnamed=-unnamed[place.key])
        found.append((place, newly_short(before.rapid_lots(), after.rapid_lots(), sorted(needs[place.key].items()))))
    _send(found)


def after_adjustment(place: Place, before: PlaceStock, adjustment: KitAdjustment, now: datetime) -> None:
    """After ``adjustment`` is saved at ``place`` whose stock was ``before`` (call inside
    its transaction): ``kits.short`` on commit if it took rapid kits out and made the
    place newly short, ``kits.restocked`` if it added some and covered the place again.
    One or two queries (the need)."""
    if adjustment.kind != KitKind.RAPID or not adjustment.quantity:
        return
    after = before.changed(adjusted={adjustment.lot: adjustment.quantity})
    if adjustment.quantity > 0:
        _send_restocked(place, before, after, now)
        return
    _send([(place, newly_short(before.rapid_lots(), after.rapid_lots(), _needs_ahead(place, now)))])


def after_delivery(place: Place, delivery: KitDelivery, now: datetime) -> None:
    """After a rapid ``delivery`` is saved at ``place``, which kept stock before it (call
    inside its transaction): ``kits.restocked`` on commit if it covered the place again.
    Two or three queries (the stock, the need)."""
    after = stock_at(place)
    before = after.changed(adjusted={delivery.lot: -delivery.quantity})
    _send_restocked(place, before, after, now)


def _needs_ahead(place: Place, now: datetime) -> list[tuple[date, int]]:
    """The place's need of rapid kits for each of the ``SHORT_DAYS`` days from today."""
    return sorted(needs_of([place], timezone.localdate(now), SHORT_DAYS)[place.key].items())


def _send_restocked(place: Place, before: PlaceStock, after: PlaceStock, now: datetime) -> None:
    if newly_covered(before.rapid_lots(), after.rapid_lots(), _needs_ahead(place, now)):
        send_events_on_commit([(_wharf_of(place).code, RESTOCKED, place_payload(place))])


def short_places(wharves: Sequence[Wharf], today: date) -> list[dict[str, Any]]:
    """The wharves and their stations under ``SHORT_DAYS`` days of stock now, shaped as
    their ``kits.short`` events, soonest out first. One query (their stations keeping
    stock) when none keeps stock, five at most otherwise, whatever the number of places."""
    if not wharves:
        return []
    stations = KcsStation.objects.filter(wharf__in=wharves, rapid_kits_since__isnull=False).select_related("wharf")
    places = [Place(station=station) for station in stations]
    places += [Place(wharf=wharf) for wharf in wharves if wharf.rapid_kits_since is not None]
    if not places:
        return []
    short = [f for f in forecast(places, today, SHORT_DAYS).values() if f.short]
    short.sort(key=lambda f: (f.runs_out_on, not f.place.is_station, f.place.code))
    return [shortage_payload(f.place, f.days) for f in short]
