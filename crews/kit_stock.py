"""Kit stock per KCS station and per wharf (rule R7), derived and never typed: the kits
delivered to a place, less the rapid results recorded there (one kit each), plus or
minus its adjustments. Read in one query for any number of places, lots and results.

A rapid result that names a lot uses a kit of that lot; one that names none is counted
against the place's lots first-expiring-first. A place keeps stock from its first
delivery: a result that names a lot there must name a lot delivered to it that had not
expired on the sample day (``check_kit_lots``)."""

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from django.conf import settings
from django.db.models import Case, CharField, Count, DateField, F, Min, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from portguard.domain import DomainError
from vessels.models import Wharf
from vessels.scope import sees_all_wharves, visible_wharves

from .choices import KitKind, TestKind
from .models import KcsStation, KitAdjustment, KitDelivery, ScreeningTest
from .scope import station_in_scope, visible_stations

logger = logging.getLogger(__name__)

PlaceKey = tuple[int | None, int | None]  # (station id, wharf id), exactly one set


@dataclass(frozen=True)
class Place:
    """A station or a wharf, where kits are kept."""

    station: KcsStation | None = None
    wharf: Wharf | None = None

    @property
    def key(self) -> PlaceKey:
        return (self.station.pk, None) if self.station else (None, self.wharf.pk)

    @property
    def code(self) -> str:
        return self.station.code if self.station else self.wharf.code

    @property
    def name(self) -> str:
        return self.station.name if self.station else self.wharf.name

    @property
    def is_station(self) -> bool:
        return self.station is not None

    def filter(self) -> dict:
        """The place as keyword arguments of a kit record."""
        return {"station": self.station} if self.station else {"wharf": self.wharf}

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


@dataclass
class LotStock:
    """One lot at one place: what came in, what was used and adjusted, what is left."""

    kind: str
    lot: str
    expires_on: date
    delivered: int = 0
    adjusted: int = 0
    used_named: int = 0
    # Rapid results with no lot, counted against this lot first-expiring-first.
    used_unnamed: int = 0

    @property
    def used(self) -> int:
        return self.used_named + self.used_unnamed

    @property
    def on_hand(self) -> int:
        return self.delivered + self.adjusted - self.used

    def expired_on(self, day: date) -> bool:
        return self.expires_on < day

    @property
    def kind_label(self) -> str:
        return KitKind(self.kind).label


@dataclass
class PlaceStock:
    place: Place
    lots: list[LotStock] = field(default_factory=list)
    # Rapid results naming a lot never delivered here (kept under the "warn" setting, or
    # recorded before the place kept stock), by lot: they use no kit of the stock.
    unlisted: dict[str, int] = field(default_factory=dict)
    # Rapid results with no lot beyond every kit the place received.
    unallocated: int = 0

    @property
    def on_hand(self) -> int:
        return sum(max(lot.on_hand, 0) for lot in self.lots)

    def in_stock(self, day: date) -> list[LotStock]:
        """The lots with kits left that had not expired on ``day``, first-expiring first."""
        return [lot for lot in self.lots if lot.on_hand > 0 and not lot.expired_on(day)]

    def lot(self, kind: str, lot: str) -> LotStock | None:
        return next((s for s in self.lots if s.kind == kind and s.lot == lot), None)

    def rapid_lots(self) -> list[tuple[date, int]]:
        """The rapid lots as ``(expiry date, kits on hand)``, as the forecast carries them."""
        return [(lot.expires_on, lot.on_hand) for lot in self.lots if lot.kind == KitKind.RAPID]

    def changed(
        self, used: Mapping[str, int] | None = None, unnamed: int = 0, adjusted: Mapping[str, int] | None = None
    ) -> "PlaceStock":
        """A copy of this stock with more rapid kits ``used`` by results naming each lot,
        ``unnamed`` more used by results naming none, and rapid lots ``adjusted`` by these
        amounts (negative numbers take them back): the stock just before or after a
        write, without reading it again. Pure."""
        used, adjusted = used or {}, adjusted or {}
        lots = [
            replace(
                lot,
                used_named=lot.used_named + (used.get(lot.lot, 0) if lot.kind == KitKind.RAPID else 0),
                adjusted=lot.adjusted + (adjusted.get(lot.lot, 0) if lot.kind == KitKind.RAPID else 0),
                used_unnamed=0,
            )
            for lot in self.lots
        ]
        unallocated = _allocate(lots, sum(lot.used_unnamed for lot in self.lots) + self.unallocated + unnamed)
        return PlaceStock(self.place, lots, dict(self.unlisted), unallocated)


def _allocate(lots: list[LotStock], unnamed: int) -> int:
    """Count ``unnamed`` kits used by results naming no lot against ``lots``,
    first-expiring first; returns those beyond every kit the place received."""
    left = max(unnamed, 0)
    for lot in lots:
        take = min(left, max(lot.on_hand, 0))
        lot.used_unnamed += take
        left -= take
    return left


def _place_filter(stations: Iterable[int], wharves: Iterable[int], station_field: str, wharf_field: str) -> Q:
    return Q(**{f"{station_field}__in": list(stations)}) | Q(**{f"{wharf_field}__in": list(wharves)})


COLUMNS = ("p_station", "p_wharf", "p_kind", "p_lot", "source", "expires", "amount")


def _rows(station_ids: list[int], wharf_ids: list[int]) -> QuerySet:
    """The deliveries, adjustments and uses of the places, each summed by place and lot:
    one query (a UNION ALL of three grouped selects)."""
    no_date = Value(None, output_field=DateField())
    deliveries = (
        KitDelivery.objects.filter(_place_filter(station_ids, wharf_ids, "station_id", "wharf_id"))
        .annotate(p_station=F("station_id"), p_wharf=F("wharf_id"), p_kind=F("kind"), p_lot=F("lot"))
        .values("p_station", "p_wharf", "p_kind", "p_lot")
        .annotate(source=Value("d"), expires=Min("expires_on"), amount=Sum("quantity"))
        .values(*COLUMNS)
        .order_by()
    )
    adjustments = (
        KitAdjustment.objects.filter(_place_filter(station_ids, wharf_ids, "station_id", "wharf_id"))
        .annotate(p_station=F("station_id"), p_wharf=F("wharf_id"), p_kind=F("kind"), p_lot=F("lot"))
        .values("p_station", "p_wharf", "p_kind", "p_lot")
        .annotate(source=Value("a"), expires=no_date, amount=Sum("quantity"))
        .values(*COLUMNS)
        .order_by()
    )
    # A test's place: its station if it has one, else its wharf (a port call's). A
    # correction is the same sample again: it uses no second kit.
    uses = (
        ScreeningTest.objects.filter(kind=TestKind.RAPID, supersedes__isnull=True)
        .annotate(
            p_station=F("station_id"),
            p_wharf=Case(
                When(station__isnull=True, then=Coalesce("wharf_id", "port_call__wharf_id")),
                default=None,
            ),
            p_kind=Value(KitKind.RAPID.value, output_field=CharField()),
            p_lot=F("kit_lot"),
        )
        .filter(_place_filter(station_ids, wharf_ids, "p_station", "p_wharf"))
        .values("p_station", "p_wharf", "p_kind", "p_lot")
        .annotate(source=Value("u"), expires=no_date, amount=Count("id"))
        .values(*COLUMNS)
        .order_by()
    )
    return deliveries.union(adjustments, uses, all=True)


def stock_of(places: Sequence[Place]) -> dict[PlaceKey, PlaceStock]:
    """Each place's stock by lot, first-expiring first; one query."""
    stocks = {place.key: PlaceStock(place) for place in places}
    if not stocks:
        return stocks
    station_ids = [p.station.pk for p in places if p.station]
    wharf_ids = [p.wharf.pk for p in places if p.wharf]
    lots: dict[PlaceKey, dict[tuple[str, str], LotStock]] = {key: {} for key in stocks}
    adjusted: list[dict] = []
    used: list[dict] = []
    for row in _rows(station_ids, wharf_ids):
        key = (row["p_station"], None) if row["p_station"] is not None else (None, row["p_wharf"])
        if key not in stocks:
            continue
        if row["source"] == "d":
            lots[key][(row["p_kind"], row["p_lot"])] = LotStock(
                row["p_kind"], row["p_lot"], row["expires"], delivered=row["amount"]
            )
        else:
            (adjusted if row["source"] == "a" else used).append({**row, "key": key})
    for row in adjusted:
        lot = lots[row["key"]].get((row["p_kind"], row["p_lot"]))
        if lot is not None:  # an adjustment names a lot delivered there (crews.kits)
            lot.adjusted += row["amount"]
    unnamed: dict[PlaceKey, int] = {}
    for row in used:
        key = row["key"]
        if not row["p_lot"]:
            unnamed[key] = unnamed.get(key, 0) + row["amount"]
        elif (row["p_kind"], row["p_lot"]) in lots[key]:
            lots[key][(row["p_kind"], row["p_lot"])].used_named += row["amount"]
        else:
            stocks[key].unlisted[row["p_lot"]] = row["amount"]
    for key, stock in stocks.items():
        stock.lots = sorted(lots[key].values(), key=lambda s: (s.kind, s.expires_on, s.lot))
        stock.unallocated = _allocate(stock.lots, unnamed.get(key, 0))
    return stocks


def stock_at(place: Place) -> PlaceStock:
    return stock_of([place])[place.key]


# --- Who sees and keeps which place's kits --------------------------------------------


def visible_places(user) -> list[Place]:
    """The stations and wharves whose kits a user may see: a supervisor's stations, an
    inspector's wharves, every one for the province's roles. Two queries."""
    if not (user.is_authenticated and user.has_perm("crews.view_kitdelivery")):
        return []
    stations = [Place(station=s) for s in visible_stations(user)]
    wharves = [Place(wharf=w) for w in visible_wharves(user).order_by("route_order", "code")]
    return stations + wharves


def visible_place(user, kind: str, code: str) -> Place | None:
    """The station (``kind`` "station") or wharf of that code if the user may see its
    kits; None for one unknown or out of scope alike. One query."""
    if not (user.is_authenticated and user.has_perm("crews.view_kitdelivery")):
        return None
    code = code.strip().upper()
    if kind == "station":
        station = visible_stations(user).filter(code=code).first()
        return Place(station=station) if station else None
    wharf = visible_wharves(user).filter(code=code).first()
    return Place(wharf=wharf) if wharf else None


def may_see(user, place: Place) -> bool:
    if not (user.is_authenticated and user.has_perm("crews.view_kitdelivery")):
        return False
    if sees_all_wharves(user):
        return True
    if place.station:
        return station_in_scope(user, place.station)
    return visible_wharves(user).filter(pk=place.wharf.pk).exists()


# --- Lots named by results -------------------------------------------------------------


@dataclass(frozen=True)
class LotUse:
    """A rapid result about to be recorded with a lot, and where."""

    place: Place
    lot: str
    sampled_at: datetime
    entry: object = None


class KitLotRefused(DomainError):
    """Results naming a lot their place does not hold: ``problems`` lists each, as
    ``(entry, message)``; the error itself speaks of the first."""

    code = "kit_lot_refused"

    def __init__(self, problems: list[tuple[object, str]]):
        super().__init__(problems[0][1], field="kit_lot")
        self.entry = problems[0][0]
        self.problems = problems


def check_kit_lots(uses: Sequence[LotUse]) -> list[tuple[object, str]]:
    """Refuse (``KitLotRefused``, on ``kit_lot``) results naming a lot not delivered to
    their place, or expired on the sample day; under ``PORTGUARD_KIT_LOT_CHECK = "warn"``,
    return those problems as warnings instead, as ``(entry, message)``. A place with no
    delivery at all keeps no stock yet: its lots are not checked. One query, whatever
    the number of results."""
    uses = [use for use in uses if use.lot]
    if not uses:
        return []
    station_ids = {u.place.station.pk for u in uses if u.place.station}
    wharf_ids = {u.place.wharf.pk for u in uses if u.place.wharf}
    expiry: dict[PlaceKey, dict[str, date]] = {}
    for station_id, wharf_id, lot, expires_on in (
        KitDelivery.objects.filter(_place_filter(station_ids, wharf_ids, "station_id", "wharf_id"), kind=KitKind.RAPID)
        .values_list("station_id", "wharf_id", "lot", "expires_on")
        .order_by()
        .distinct()
    ):
        expiry.setdefault((station_id, wharf_id), {})[lot] = expires_on
    problems = []
    for use in uses:
        lots = expiry.get(use.place.key)
        if lots is None:
            continue
        day = timezone.localdate(use.sampled_at)
        if use.lot not in lots:
            message = _("Kit lot %(lot)s is unknown at %(place)s: no delivery of it was recorded there.") % {
                "lot": use.lot,
                "place": use.place.code,
            }
        elif lots[use.lot] < day:
            message = _("Kit lot %(lot)s expired on %(date)s, before the sample was taken.") % {
                "lot": use.lot,
                "date": date_format(lots[use.lot], "d/m/Y"),
            }
        else:
            continue
        problems.append((use.entry, message))
    if problems and settings.PORTGUARD_KIT_LOT_CHECK != "warn":
        raise KitLotRefused(problems)
    return problems
