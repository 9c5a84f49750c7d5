"""The list of port calls with its filters, and its CSV and XLSX export of exactly the
calls the filters keep."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from portguard import tabular
from portguard.pages import page

from .call_list import EXPORT_COLUMNS, CallFilter, export_rows, filtered_calls, listed
from .choices import PortCallStatus
from .scope import visible_wharves

PER_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FLAGGED, NOT_FLAGGED = "yes", "no"


class CallFilterForm(forms.Form):
    """The list's filters, from the query string; every bad value is named."""

    wharf = forms.ChoiceField(label=gettext_lazy("Wharf"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    arrived_after = forms.DateField(
        label=gettext_lazy("Arrived from"),
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    arrived_before = forms.DateField(
        label=gettext_lazy("Arrived until"),
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    origin = forms.ChoiceField(
        label=gettext_lazy("Origin"),
        required=False,
        choices=[
            ("", gettext_lazy("All")),
            (FLAGGED, gettext_lazy("From an epidemic area")),
            (NOT_FLAGGED, gettext_lazy("Not from an epidemic area")),
        ],
    )
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    def __init__(self, data, wharves):
        super().__init__(data)
        self.wharves = {w.code: w for w in wharves}
        everywhere = [("", gettext_lazy("All"))]
        self.fields["wharf"].choices = everywhere + [(code, f"{code} — {w.name}") for code, w in self.wharves.items()]
        self.fields["status"].choices = everywhere + [(s.value, s.label.capitalize()) for s in PortCallStatus]

    def clean(self):
        data = super().clean()
        start, end = data.get("arrived_after"), data.get("arrived_before")
        if start and end and start > end:
            self.add_error("arrived_before", gettext_lazy("The end of the range is before its start."))
        return data

    def call_filter(self) -> CallFilter:
        """Call after ``is_valid()`` answered True."""
        data = self.cleaned_data
        return CallFilter(
            wharf=self.wharves.get(data["wharf"]),
            status=data["status"],
            arrived_from=data["arrived_after"],
            arrived_to=data["arrived_before"],
            epidemic_origin={FLAGGED: True, NOT_FLAGGED: False}.get(data["origin"]),
        )


def _form(request) -> CallFilterForm:
    if not request.user.has_perm("vessels.view_portcall"):
        raise PermissionDenied
    return CallFilterForm(request.GET, visible_wharves(request.user))


@login_required
def port_calls(request):
    form = _form(request)
    if not form.is_valid():
        return page(request, "vessels/port_calls.html", {"form": form, "rows": [], "page_obj": None}, status=400)
    now = timezone.now()
    pages = Paginator(filtered_calls(request.user, form.call_filter(), now), PER_PAGE)
    current = pages.get_page(form.cleaned_data["page"] or 1)
    query = request.GET.copy()
    query.pop("page", None)
    return page(
        request,
        "vessels/port_calls.html",
        {
            "form": form,
            "rows": listed(list(current.object_list), now),
            "page_obj": current,
            "query": query.urlencode(),
        },
    )


@login_required
def port_calls_file(request, fmt: str):
    form = _form(request)
    if not form.is_valid():
        return page(request, "vessels/port_calls.html", {"form": form, "rows": [], "page_obj": None}, status=400)
    now = timezone.now()
    rows = export_rows(listed(list(filtered_calls(request.user, form.call_filter(), now)), now))
    if fmt == "csv":
        body, content_type = tabular.to_csv(rows, EXPORT_COLUMNS), "text/csv; charset=utf-8"
    else:
        body, content_type = tabular.to_xlsx(rows, EXPORT_COLUMNS, sheet="port-calls"), XLSX
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="port-calls-{timezone.localdate().isoformat()}.{fmt}"'
    return response
