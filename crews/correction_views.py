"""The correction form of the port call and station pages. Thin: who may correct, and
what a correction does, are in ``crews.corrections``."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from portguard.domain import DomainError, NotAllowed
from vessels.views import safe_next

from .choices import TestResult
from .corrections import REASON_MAX, correct_test
from .models import ScreeningTest
from .scope import visible_tests


class CorrectionForm(forms.Form):
    result = forms.ChoiceField(label=gettext_lazy("Right result"), choices=TestResult.choices)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=REASON_MAX)


def page_of(test: ScreeningTest) -> str:
    """The page a result is listed on: its port call's, or its KCS station's."""
    if test.port_call_id is not None:
        return reverse("port-call", args=[test.port_call_id])
    if test.station_id is not None:
        return reverse("station", args=[test.station.code])
    return reverse("home")


@login_required
@require_POST
def correct(request, pk: int):
    original = get_object_or_404(visible_tests(request.user).select_related("station"), pk=pk)
    back = safe_next(request, page_of(original)).split("#", 1)[0] + "#results"
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{form.fields[field].label}: {errors[0]}")
        return redirect(back)
    try:
        correct_test(request.user, original, form.cleaned_data["result"], form.cleaned_data["reason"])
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("The result of %(name)s was corrected: %(result)s.")
            % {"name": original.person.full_name, "result": TestResult(form.cleaned_data["result"]).label},
        )
    return redirect(back)
