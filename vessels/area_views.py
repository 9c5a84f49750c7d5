"""Pages of rules R4 and R5: the epidemic areas health officers keep, and a vessel's
history with its violations."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portguard.domain import DomainError, NotAllowed
from portguard.pages import page
from vessels.areas import (
    AreaData,
    add_epidemic_area,
    change_epidemic_area,
    record_violation,
    vessel_history,
)
from vessels.areas import delete_epidemic_area as do_delete_epidemic_area
from vessels.scope import visible_wharves

from .forms import EndAreaForm, EpidemicAreaForm, ViolationForm
from .models import EpidemicArea, Vessel, normalise_registration


@login_required
def epidemic_areas(request):
    if not request.user.has_perm("vessels.view_epidemicarea"):
        raise PermissionDenied
    can_edit = request.user.has_perm("vessels.add_epidemicarea")
    form = EpidemicAreaForm(request.POST or None) if can_edit else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                area = add_epidemic_area(request.user, form.area_data())
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, _("%(area)s added to the epidemic areas.") % {"area": area})
                return redirect("epidemic-areas")
    today = timezone.localdate()
    areas = list(EpidemicArea.objects.select_related("created_by"))
    return page(
        request,
        "vessels/epidemic_areas.html",
        {
            "active": [a for a in areas if a.active_to is None or a.active_to >= today],
            "ended": [a for a in areas if a.active_to is not None and a.active_to < today],
            "today": today,
            "form": form,
            "can_change": request.user.has_perm("vessels.change_epidemicarea"),
            "can_delete": request.user.has_perm("vessels.delete_epidemicarea"),
        },
        status=400 if form is not None and form.errors else 200,
    )


@login_required
@require_POST
def end_epidemic_area(request, pk: int):
    area = get_object_or_404(EpidemicArea, pk=pk)
    form = EndAreaForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["active_to"][0])
        return redirect("epidemic-areas")
    try:
        data = AreaData(area.province, area.district, area.active_from, form.cleaned_data["active_to"])
        change_epidemic_area(request.user, area.pk, data)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(area)s ended.") % {"area": area})
    return redirect("epidemic-areas")


@login_required
@require_POST
def delete_epidemic_area(request, pk: int):
    area = get_object_or_404(EpidemicArea, pk=pk)
    try:
        do_delete_epidemic_area(request.user, area.pk)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    messages.success(request, _("%(area)s taken off the list.") % {"area": area})
    return redirect("epidemic-areas")


@login_required
def vessel(request, registration: str):
    if not request.user.has_perm("vessels.view_vessel"):
        raise PermissionDenied
    boat = get_object_or_404(Vessel, registration=normalise_registration(registration))
    form = None
    if request.user.has_perm("vessels.add_violation"):
        form = ViolationForm(
            request.POST or None,
            wharves=visible_wharves(request.user),
            initial={"wharf": request.GET.get("wharf")},
        )
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                record_violation(request.user, form.violation_data(boat))
            except NotAllowed as exc:
                raise PermissionDenied(exc.message) from exc
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, _("Violation recorded against %(vessel)s.") % {"vessel": boat.registration})
                return redirect(reverse("vessel", args=[boat.registration]) + "#violations")
    return page(
        request,
        "vessels/vessel.html",
        {"history": vessel_history(request.user, boat), "form": form},
        status=400 if form is not None and form.errors else 200,
    )
