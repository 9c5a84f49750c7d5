"""The kits pages (rule R7): every station's and wharf's stock the user may see, and one
place's stock by lot with its deliveries and adjustments and the forms that record them.
Thin: the stock is derived by ``crews.kit_stock``, writes go through ``crews.kits``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portguard.domain import DomainError
from portguard.pages import page

from . import kits
from .kit_forecast import forecast, forecast_at
from .kit_forms import AdjustmentForm, DeliveryForm
from .kit_stock import Place, stock_at, visible_place, visible_places
from .models import KitAdjustment, KitDelivery

# The newest records shown under the stock; the stock itself counts them all.
RECENT = 50


def _require_view(user) -> None:
    if not user.has_perm("crews.view_kitdelivery"):
        raise PermissionDenied


def place_or_404(request, kind: str, code: str) -> Place:
    """The station or wharf if the user may see its kits: out of scope and unknown look
    the same."""
    _require_view(request.user)
    place = visible_place(request.user, kind, code)
    if place is None:
        raise Http404
    return place


def kits_url(place: Place) -> str:
    return reverse("station-kits" if place.is_station else "wharf-kits", args=[place.code])


@login_required
def kit_list(request):
    _require_view(request.user)
    places = visible_places(request.user)
    today = timezone.localdate()
    forecasts = forecast(places, today)
    rows = [(place, forecasts[place.key].stock, kits_url(place), forecasts[place.key]) for place in places]
    return page(request, "crews/kit_list.html", {"rows": rows, "today": today})


def render_kits(
    request,
    place: Place,
    *,
    delivery_form: DeliveryForm | None = None,
    adjustment_form: AdjustmentForm | None = None,
    status: int = 200,
):
    user = request.user
    today = timezone.localdate()
    place_forecast = forecast_at(place, today)
    stock = place_forecast.stock
    deliveries = KitDelivery.objects.filter(**place.filter()).select_related("received_by")[:RECENT]
    adjustments = KitAdjustment.objects.filter(**place.filter()).select_related("recorded_by")[:RECENT]
    may_deliver = user.has_perm("crews.add_kitdelivery")
    may_adjust = user.has_perm("crews.add_kitadjustment") and bool(stock.lots)
    prefix = "station" if place.is_station else "wharf"
    return page(
        request,
        "crews/kits.html",
        {
            "place": place,
            "stock": stock,
            "forecast": place_forecast,
            "today": today,
            "deliveries": deliveries,
            "adjustments": adjustments,
            "delivery_form": delivery_form or (DeliveryForm() if may_deliver else None),
            "adjustment_form": adjustment_form or (AdjustmentForm(stock=stock) if may_adjust else None),
            "delivery_url": reverse(f"{prefix}-kit-deliveries", args=[place.code]),
            "adjustment_url": reverse(f"{prefix}-kit-adjustments", args=[place.code]),
            "place_url": reverse("station", args=[place.code])
            if place.is_station
            else reverse("wharf-dashboard", args=[place.code]),
        },
        status=status,
    )


@login_required
def station_kits(request, code: str):
    return render_kits(request, place_or_404(request, "station", code))


@login_required
def wharf_kits(request, code: str):
    return render_kits(request, place_or_404(request, "wharf", code))


def _deliver(request, place: Place):
    form = DeliveryForm(request.POST)
    if not form.is_valid():
        return render_kits(request, place, delivery_form=form, status=400)
    try:
        delivery, _created = kits.record_delivery(request.user, place, form.data_for_service())
    except DomainError as exc:
        form.add_domain_error(exc)
        return render_kits(request, place, delivery_form=form, status=exc.status)
    messages.success(
        request,
        _("%(count)d kits of lot %(lot)s received.") % {"count": delivery.quantity, "lot": delivery.lot},
    )
    return redirect(kits_url(place) + "#stock")


def _adjust(request, place: Place):
    form = AdjustmentForm(request.POST, stock=stock_at(place))
    if not form.is_valid():
        return render_kits(request, place, adjustment_form=form, status=400)
    try:
        adjustment, _created = kits.record_adjustment(request.user, place, form.data_for_service())
    except DomainError as exc:
        form.add_domain_error(exc)
        return render_kits(request, place, adjustment_form=form, status=exc.status)
    messages.success(
        request,
        _("Lot %(lot)s adjusted by %(change)+d (%(reason)s).")
        % {"lot": adjustment.lot, "change": adjustment.quantity, "reason": adjustment.get_reason_display()},
    )
    return redirect(kits_url(place) + "#stock")


@login_required
@require_POST
def station_delivery(request, code: str):
    return _deliver(request, place_or_404(request, "station", code))


@login_required
@require_POST
def wharf_delivery(request, code: str):
    return _deliver(request, place_or_404(request, "wharf", code))


@login_required
@require_POST
def station_adjustment(request, code: str):
    return _adjust(request, place_or_404(request, "station", code))


@login_required
@require_POST
def wharf_adjustment(request, code: str):
    return _adjust(request, place_or_404(request, "wharf", code))
