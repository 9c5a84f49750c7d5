"""The rapid kits each station and wharf will need over the next days (rule R7), beside
its stock, and the day the stock runs out.

- A **station** needs one kit per rapid test the R3 schedule plans from its roster: one
  per staff member after each shift rostered that day, counted on the day the shift
  starts (a night shift's test, due the next morning, counts on the day it starts). The
  RT-PCR rotation does not enter, so the need is a grouped count of the roster rows
  (``rapid_counts``), not the whole schedule planned.
- A **wharf** needs one kit per person expected: the average number of people on the
  arrivals of the same weekday over the last ``WEEKS`` weeks (rounded up), plus the
  people on the declarations expected that day that are not arrivals yet.

The stock is carried forward day by day, first-expiring lot first, and a lot is no use
after its expiry date: a place *runs out* on the first day its usable stock does not
cover that day's need. ``project`` is the pure core (no database, no clock); ``forecast``
reads any number of places in four queries."""

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from vessels.models import Declaration, PortCall

from .kit_stock import Place, PlaceKey, PlaceStock, stock_of
from .models import RosterEntry

DAYS = 7
WEEKS = 4
# Under this many days of stock, a place is short (the live alert's threshold).
SHORT_DAYS = 2


@dataclass(frozen=True)
class DayNeed:
    day: date
    need: int
    # Usable kits at the start of the day (not expired that day), after the days before.
    available: int

    @property
    def covered(self) -> bool:
        return self.available >= self.need


@dataclass
class Forecast:
    place: Place
    stock: PlaceStock
    days: list[DayNeed] = field(default_factory=list)

    @property
    def runs_out_on(self) -> date | None:
        """The first day whose need the usable stock does not cover; None if it lasts."""
        return next((d.day for d in self.days if not d.covered), None)

    @property
    def total_need(self) -> int:
        return sum(d.need for d in self.days)

    @property
    def short(self) -> bool:
        """Under ``SHORT_DAYS`` days of stock: it runs out within them."""
        out = self.runs_out_on
        return out is not None and bool(self.days) and (out - self.days[0].day).days < SHORT_DAYS


def project(lots: Iterable[tuple[date, int]], needs: Sequence[tuple[date, int]]) -> list[DayNeed]:
    """Carry ``lots`` (expiry date, kits on hand) through ``needs`` (day, kits needed),
    in day order: each day uses the first-expiring lots not expired that day. Pure."""
    left = sorted([expires_on, on_hand] for expires_on, on_hand in lots if on_hand > 0)
    result = []
    for day, need in needs:
        usable = [lot for lot in left if lot[0] >= day]
        result.append(DayNeed(day, need, sum(lot[1] for lot in usable)))
        take = need
        for lot in usable:
            used = min(take, lot[1])
            lot[1] -= used
            take -= used
    return result


def station_needs(counts: Iterable[tuple[date, int]], start: date, days: int = DAYS) -> dict[date, int]:
    """Rapid tests each day of ``[start, start + days)`` from ``counts``, the rapid tests
    (day, number) of the station's crews (``rapid_counts``' rows of one station); days
    outside the period are left out. Pure."""
    needs = dict.fromkeys((start + timedelta(days=i) for i in range(days)), 0)
    for day, number in counts:
        if day in needs:
            needs[day] += number
    return needs


def wharf_needs(
    past: Mapping[date, int], declared: Mapping[date, int], start: date, days: int = DAYS, weeks: int = WEEKS
) -> dict[date, int]:
    """People expected each day: the mean of the people arrived (``past``, by local day)
    on the same weekday of the ``weeks`` weeks before ``start``, rounded up, plus the
    people declared for that day. Pure."""
    needs = {}
    for i in range(days):
        day = start + timedelta(days=i)
        same_weekday = [day - timedelta(weeks=w) for w in range(1, weeks + 1)]
        # A day less than a week after start has its weekdays before start; later ones
        # (if days > 7) count only the weeks already past.
        seen = [past.get(d, 0) for d in same_weekday if d < start]
        mean = math.ceil(sum(seen) / weeks) if seen else 0
        needs[day] = mean + declared.get(day, 0)
    return needs


# --- Reads -------------------------------------------------------------------------------


def _local_day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.get_current_timezone())


def rapid_counts(station_ids: Iterable[int], start: date, days: int) -> dict[int, list[tuple[date, int]]]:
    """The rapid tests R3 plans (``schedule.plan_tuples``) at each station over
    ``[start, start + days)``, as (day, number) per crew: its staff members rostered on
    one shift (code and times, as the schedule tells shifts apart) on the day the shift
    starts, each counted once. Every roster row of the station's staff counts, as the
    schedule plans them all (an assignment's end takes its roster off); the RT-PCR
    rotation and the look-ahead past the period play no part. One query, grouped."""
    counts: dict[int, list[tuple[date, int]]] = defaultdict(list)
    station_ids = list(station_ids)
    if not station_ids:
        return counts
    crews = (
        RosterEntry.objects.filter(
            staff__station_id__in=station_ids, date__gte=start, date__lt=start + timedelta(days=days)
        )
        .order_by()
        .values_list("staff__station_id", "date", "shift__code", "shift__starts_at", "shift__ends_at")
        .annotate(staff_count=Count("staff_id", distinct=True))
    )
    for station_id, day, _code, _starts, _ends, number in crews:
        counts[station_id].append((day, number))
    return counts


def _arrived(wharf_ids: list[int], start: date, weeks: int) -> dict[int, dict[date, int]]:
    """People on the manifests of each wharf's arrivals of the ``weeks`` weeks before
    ``start``, by local day of arrival; one query."""
    past: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    if not wharf_ids:
        return past
    calls = (
        PortCall.objects.filter(
            wharf_id__in=wharf_ids,
            arrived_at__gte=_local_day_start(start - timedelta(weeks=weeks)),
            arrived_at__lt=_local_day_start(start),
        )
        .annotate(people=Count("crew", filter=Q(crew__removed_at__isnull=True)))
        .order_by()
        .values_list("wharf_id", "arrived_at", "people")
    )
    for wharf_id, arrived_at, people in calls:
        past[wharf_id][timezone.localdate(arrived_at)] += people
    return past


def declared_rows(wharf_ids: Iterable[int], start: date, days: int, **extra) -> QuerySet:
    """The declarations expected at the wharves in ``[start, start + days)`` and not yet
    arrived, as ``(wharf_id, expected_at, people, *extra)`` rows, not read yet: read alone
    (``declared_by_day``) or in a union with other rows (``crews.lab_load``), whose
    ``extra`` annotations (a source tag) then follow the people."""
    return (
        Declaration.objects.filter(
            wharf_id__in=list(wharf_ids),
            port_call__isnull=True,
            expected_at__gte=_local_day_start(start),
            expected_at__lt=_local_day_start(start + timedelta(days=days)),
        )
        .annotate(declared_people=Count("people"), **extra)
        .order_by()
        .values_list("wharf_id", "expected_at", "declared_people", *extra)
    )


def declared_by_day(rows: Iterable[tuple]) -> dict[int, dict[date, int]]:
    """``declared_rows``' people by wharf and local day of expected arrival."""
    declared: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for wharf_id, expected_at, people, *_extra in rows:
        declared[wharf_id][timezone.localdate(expected_at)] += people
    return declared


def _declared(wharf_ids: list[int], start: date, days: int) -> dict[int, dict[date, int]]:
    """People on each wharf's declarations expected in the period and not yet arrived,
    by local day; one query."""
    return declared_by_day(declared_rows(wharf_ids, start, days) if wharf_ids else ())


def needs_of(places: Sequence[Place], start: date, days: int = DAYS) -> dict[PlaceKey, dict[date, int]]:
    """Each place's need for each day of ``[start, start + days)``. Three queries for
    any number of places: the stations' rapid tests (``rapid_counts``), the wharves'
    past arrivals and their declarations (those not needed are skipped)."""
    station_ids = [p.station.pk for p in places if p.station]
    wharf_ids = [p.wharf.pk for p in places if p.wharf]
    rapid = rapid_counts(station_ids, start, days)
    past = _arrived(wharf_ids, start, WEEKS)
    declared = _declared(wharf_ids, start, days)
    return {
        place.key: (
            station_needs(rapid.get(place.station.pk, ()), start, days)
            if place.station
            else wharf_needs(past.get(place.wharf.pk, {}), declared.get(place.wharf.pk, {}), start, days)
        )
        for place in places
    }


def forecast(places: Sequence[Place], start: date, days: int = DAYS) -> dict[PlaceKey, Forecast]:
    """Each place's need for ``[start, start + days)`` beside its rapid kit stock. Four
    queries for any number of places: the stock and ``needs_of``'s three."""
    if not places:
        return {}
    stocks = stock_of(places)
    needs = needs_of(places, start, days)
    return {
        place.key: Forecast(
            place, stocks[place.key], project(stocks[place.key].rapid_lots(), sorted(needs[place.key].items()))
        )
        for place in places
    }


def forecast_at(place: Place, start: date, days: int = DAYS) -> Forecast:
    return forecast([place], start, days)[place.key]
