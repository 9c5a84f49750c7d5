"""Recording kit deliveries and adjustments at a KCS station or a wharf (rule R7). The
stock itself is never written: ``crews.kit_stock`` derives it from these records and
the results. Both are attributed and never edited; a mistake is corrected by an
adjustment."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from portguard.domain import DomainError
from portguard.roles import require_perm
from vessels.models import Wharf

from .choices import KIT_REMOVALS, KitAdjustmentReason, KitKind
from .kit_alerts import after_adjustment, after_delivery, keeps_stock
from .kit_stock import Place, may_see, stock_at
from .models import KcsStation, KitAdjustment, KitDelivery

MAX_KITS = 1_000_000


@dataclass
class DeliveryData:
    lot: str
    expires_on: date
    quantity: int
    received_at: datetime | None = None
    kind: str = KitKind.RAPID
    client_uuid: uuid.UUID | None = None


@dataclass
class AdjustmentData:
    lot: str
    reason: str
    # For damaged or returned kits, how many left the stock; for a count, the difference
    # found (positive or negative).
    quantity: int
    note: str = ""
    kind: str = KitKind.RAPID
    client_uuid: uuid.UUID | None = None


def _require_keeper(user, place: Place, perm: str) -> None:
    """Refuse a user who may not see the place (as unknown) or not keep its kits."""
    if not may_see(user, place):
        raise DomainError(_("Unknown station or wharf."), code="not_found")
    require_perm(user, perm, _("You may not record kits at %(place)s.") % {"place": place.code})


def _lock(place: Place) -> None:
    """Take the place's row lock: two adjustments of one lot are checked one after the
    other (on SQLite the write transaction already holds the database's lock)."""
    if place.station:
        KcsStation.objects.select_for_update().filter(pk=place.station.pk).exists()
    else:
        Wharf.objects.select_for_update().filter(pk=place.wharf.pk).exists()


def _stored(model, user, place: Place, key: uuid.UUID | None):
    """The record already stored with this client key, if it is this place's; another
    place's key is refused as unknown."""
    if key is None:
        return None
    found = model.objects.filter(client_uuid=key).first()
    if found is not None and (found.station_id, found.wharf_id) != place.key:
        raise DomainError(_("This client key was used for another record."), field="client_uuid", code="not_found")
    return found


def _lot(value: str) -> str:
    lot = (value or "").strip()
    if not lot:
        raise DomainError(_("Write the kits' lot number."), field="lot")
    return lot


def _kind(value: str) -> str:
    if value not in KitKind.values:
        raise DomainError(_("Unknown kit kind."), field="kind")
    return value


def record_delivery(user, place: Place, data: DeliveryData, now: datetime | None = None) -> tuple[KitDelivery, bool]:
    """Record kits received at ``place``, by ``user``. Returns ``(delivery, created)``:
    the same client key sent again returns the first record."""
    _require_keeper(user, place, "crews.add_kitdelivery")
    now = now or timezone.now()
    stored = _stored(KitDelivery, user, place, data.client_uuid)
    if stored is not None:
        return stored, False
    lot, kind = _lot(data.lot), _kind(data.kind)
    if not 0 < data.quantity <= MAX_KITS:
        raise DomainError(_("Give the number of kits received, at least 1."), field="quantity")
    received_at = data.received_at or now
    if received_at > now + timedelta(minutes=settings.PORTGUARD_CLOCK_SKEW_MINUTES):
        raise DomainError(_("The delivery cannot be received in the future."), field="received_at")
    known = KitDelivery.objects.filter(kind=kind, lot=lot).exclude(expires_on=data.expires_on).first()
    if known is not None:
        # A lot is one manufacturing batch: one expiry date wherever it is delivered.
        raise DomainError(
            _("Lot %(lot)s was delivered before with the expiry date %(date)s: check the box.")
            % {"lot": lot, "date": date_format(known.expires_on, "d/m/Y")},
            field="expires_on",
        )
    try:
        with transaction.atomic():
            delivery = KitDelivery.objects.create(
                **place.filter(),
                kind=kind,
                lot=lot,
                expires_on=data.expires_on,
                quantity=data.quantity,
                received_by=user,
                received_at=received_at,
                client_uuid=data.client_uuid,
            )
            if kind == KitKind.RAPID:
                if keeps_stock(place):  # a place keeping none was never short
                    after_delivery(place, delivery, now)
                _keeps_stock_since(place, received_at)
    except IntegrityError:
        stored = _stored(KitDelivery, user, place, data.client_uuid)
        if stored is None:
            raise
        return stored, False
    return delivery, True


def _keeps_stock_since(place: Place, received_at: datetime) -> None:
    """Mark the place as keeping rapid kit stock from its first delivery: the writes of
    results read the mark with the place's row, at no query of their own
    (``crews.kit_alerts``). One query, none once marked earlier."""
    row = place.station or place.wharf
    if row.rapid_kits_since is not None and row.rapid_kits_since <= received_at:
        return
    type(row).objects.filter(Q(rapid_kits_since__isnull=True) | Q(rapid_kits_since__gt=received_at), pk=row.pk).update(
        rapid_kits_since=received_at
    )
    row.rapid_kits_since = received_at


def record_adjustment(
    user, place: Place, data: AdjustmentData, now: datetime | None = None
) -> tuple[KitAdjustment, bool]:
    """Record a change to ``place``'s stock of one lot, by ``user``, with its reason.
    Damaged and returned kits leave the stock (``quantity`` is how many); a count adds
    the difference it found. The lot must have been delivered there, and the stock of
    it never goes below zero. Returns ``(adjustment, created)``."""
    _require_keeper(user, place, "crews.add_kitadjustment")
    stored = _stored(KitAdjustment, user, place, data.client_uuid)
    if stored is not None:
        return stored, False
    lot, kind = _lot(data.lot), _kind(data.kind)
    if data.reason not in KitAdjustmentReason.values:
        raise DomainError(_("Choose the reason for the adjustment."), field="reason")
    if data.reason in KIT_REMOVALS:
        if not 0 < data.quantity <= MAX_KITS:
            raise DomainError(_("Give the number of kits taken out of the stock, at least 1."), field="quantity")
        change = -data.quantity
    else:
        if data.quantity == 0 or abs(data.quantity) > MAX_KITS:
            raise DomainError(
                _("Give the difference the count found: negative for kits missing, positive for kits found."),
                field="quantity",
            )
        change = data.quantity
    try:
        with transaction.atomic():
            _lock(place)
            before = stock_at(place)
            stock = before.lot(kind, lot)
            if stock is None:
                raise DomainError(
                    _("Lot %(lot)s was never delivered to %(place)s.") % {"lot": lot, "place": place.code},
                    field="lot",
                )
            if stock.on_hand + change < 0:
                raise DomainError(
                    _("Only %(count)d kits of lot %(lot)s are in stock at %(place)s.")
                    % {"count": max(stock.on_hand, 0), "lot": lot, "place": place.code},
                    field="quantity",
                )
            adjustment = KitAdjustment.objects.create(
                **place.filter(),
                kind=kind,
                lot=lot,
                quantity=change,
                reason=data.reason,
                note=data.note.strip(),
                recorded_by=user,
                client_uuid=data.client_uuid,
            )
            after_adjustment(place, before, adjustment, now or timezone.now())
    except IntegrityError:
        stored = _stored(KitAdjustment, user, place, data.client_uuid)
        if stored is None:
            raise
        return stored, False
    return adjustment, True
