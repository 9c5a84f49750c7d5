"""The upload pages: a crew list on the port call page, and the templates to fill in.
Thin: the rules are in ``crews.crew_lists`` and ``crews.lab_results``."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from portguard.domain import DomainError, InvalidFile
from portguard.pages import page
from vessels.views import call_or_404, render_call

from .crew_lists import crew_template as crew_list_file
from .crew_lists import load_crew_list
from .lab_results import LAB_COLUMNS, load_lab_results
from .lab_results import lab_template as lab_results_file

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX}


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File (CSV or XLSX)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )


def download(body: bytes, filename: str, fmt: str) -> HttpResponse:
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_POST
def upload_crew_list(request, pk: int):
    call = call_or_404(request, pk)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        refused = InvalidFile(_("Choose a CSV or XLSX file to load."), [])
        return render_call(request, call, crew_refused=refused, status=400)
    try:
        members = load_crew_list(request.user, call.pk, form.cleaned_data["file"])
    except InvalidFile as exc:
        return render_call(request, call, crew_refused=exc, status=exc.status)
    except DomainError as exc:
        messages.error(request, exc.message)
        return render_call(request, call, status=exc.status)
    messages.success(
        request,
        ngettext(
            "%(count)d person added to the manifest from the file.",
            "%(count)d people added to the manifest from the file.",
            len(members),
        )
        % {"count": len(members)},
    )
    return redirect(reverse("port-call", args=[call.pk]) + "#sheet")


@login_required
def crew_template(request, fmt: str):
    return download(crew_list_file(fmt), f"crew-list.{fmt}", fmt)


@login_required
def lab_results(request):
    """A lab's results file for inspectors, health officers and supervisors: the
    summary (with who must be retested alone) or every bad row."""
    if not request.user.has_perm("crews.add_screeningtest"):
        raise PermissionDenied
    form = UploadForm(request.POST or None, request.FILES or None)
    context = {"form": form, "pool_size": settings.PORTGUARD_POOL_SIZE, "columns": LAB_COLUMNS}
    if request.method != "POST":
        return page(request, "crews/lab_results.html", context)
    if not form.is_valid():
        return page(request, "crews/lab_results.html", context, status=400)
    try:
        loaded = load_lab_results(request.user, form.cleaned_data["file"])
    except DomainError as exc:  # a bad file, or a rule refusing the whole of it
        return page(request, "crews/lab_results.html", {**context, "refused": exc}, status=exc.status)
    messages.success(
        request,
        ngettext("%(count)d result recorded.", "%(count)d results recorded.", len(loaded.tests))
        % {"count": len(loaded.tests)},
    )
    return page(request, "crews/lab_results.html", {**context, "form": UploadForm(), "loaded": loaded})


@login_required
def lab_template(request, fmt: str):
    return download(lab_results_file(fmt), f"lab-results.{fmt}", fmt)
