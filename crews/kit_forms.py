"""Forms of the kits pages, and the lot select of the screening and station sheets.
They parse input only; the rules are in ``crews.kits`` and ``crews.kit_stock``."""

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from vessels.forms import DomainErrorsMixin, LocalDateTimeInput, client_key_field, label, local_now

from .choices import KitAdjustmentReason
from .kit_stock import PlaceStock
from .kits import AdjustmentData, DeliveryData
from .models import KitAdjustment, KitDelivery


class DeliveryForm(DomainErrorsMixin, forms.Form):
    lot = forms.CharField(
        max_length=60,
        label=label(KitDelivery, "lot"),
        help_text=KitDelivery._meta.get_field("lot").help_text,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    expires_on = forms.DateField(
        label=label(KitDelivery, "expires_on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    quantity = forms.IntegerField(
        min_value=1,
        label=label(KitDelivery, "quantity"),
        help_text=KitDelivery._meta.get_field("quantity").help_text,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    received_at = forms.DateTimeField(label=label(KitDelivery, "received_at"), widget=LocalDateTimeInput)
    client_uuid = client_key_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="delivery", **kwargs)
        self.fields["received_at"].initial = local_now

    def data_for_service(self) -> DeliveryData:
        data = self.cleaned_data
        return DeliveryData(
            lot=data["lot"],
            expires_on=data["expires_on"],
            quantity=data["quantity"],
            received_at=data["received_at"],
            client_uuid=data["client_uuid"],
        )


class AdjustmentForm(DomainErrorsMixin, forms.Form):
    lot = forms.ChoiceField(label=label(KitAdjustment, "lot"), choices=())
    reason = forms.ChoiceField(label=label(KitAdjustment, "reason"), choices=KitAdjustmentReason.choices)
    quantity = forms.IntegerField(
        label=_("Kits"),
        help_text=_(
            "Damaged or returned: how many kits left the stock. Counted: the difference the count found, "
            "negative for kits missing."
        ),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    note = forms.CharField(max_length=300, required=False, label=label(KitAdjustment, "note"))
    client_uuid = client_key_field()

    def __init__(self, *args, stock: PlaceStock, **kwargs):
        super().__init__(*args, prefix="adjustment", **kwargs)
        self.fields["lot"].choices = [(lot.lot, lot.lot) for lot in stock.lots]

    def data_for_service(self) -> AdjustmentData:
        data = self.cleaned_data
        return AdjustmentData(
            lot=data["lot"],
            reason=data["reason"],
            quantity=data["quantity"],
            note=data["note"],
            client_uuid=data["client_uuid"],
        )


def lot_label(lot, today: date) -> str:
    return ngettext(
        "%(lot)s — expires %(date)s, %(count)d kit left",
        "%(lot)s — expires %(date)s, %(count)d kits left",
        lot.on_hand,
    ) % {"lot": lot.lot, "date": date_format(lot.expires_on, "d/m/Y"), "count": lot.on_hand}


def offer_lots(sheet: forms.Form, stock: PlaceStock) -> None:
    """The sheet's kit lot as a select of the lots in stock at its place that have not
    expired, the first-expiring chosen, or no lot noted. A place that keeps no stock yet
    keeps the free text field."""
    if not stock.lots:
        return
    today = timezone.localdate()
    lots = stock.in_stock(today)
    choices = [(lot.lot, lot_label(lot, today)) for lot in lots]
    sent = sheet.data.get(sheet.add_prefix("kit_lot")) if sheet.is_bound else None
    if sent and sent not in {lot.lot for lot in lots}:
        choices.append((sent, sent))  # shown again as it was sent, with its refusal
    choices.append(("", _("No lot noted")))
    field = sheet.fields["kit_lot"]
    field.widget = forms.Select(choices=choices)
    field.initial = lots[0].lot if lots else ""
