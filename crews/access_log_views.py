"""The access log's page for health officers (rule R8): who read which person's results
or which contact list, when and through which door, filtered by reader, person and
dates, with its CSV and XLSX export of exactly what the filters keep. Reading the log
is not itself logged: it names who read, not what they were shown."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from portguard import tabular
from portguard.pages import page

from .access_log import reads
from .models import HealthDataRead, normalise_id_number

PER_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_COLUMNS = (
    "read_at",
    "user",
    "user_name",
    "kind",
    "via",
    "door",
    "method",
    "person_id_number",
    "person",
    "port_call",
    "vessel",
    "station",
    "count",
)
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def _date_field(label) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class ReadFilterForm(forms.Form):
    """The log's filters, from the query string; every bad value is named."""

    user = forms.CharField(label=gettext_lazy("Read by (user name)"), required=False, max_length=150)
    person = forms.CharField(label=gettext_lazy("Person (ID number)"), required=False, max_length=20)
    read_from = _date_field(gettext_lazy("Read from"))
    read_until = _date_field(gettext_lazy("Read until"))
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    def clean_person(self) -> str:
        return normalise_id_number(self.cleaned_data["person"])

    def clean(self):
        data = super().clean()
        start, end = data.get("read_from"), data.get("read_until")
        if start and end and start > end:
            self.add_error("read_until", gettext_lazy("The end of the range is before its start."))
        return data

    def entries(self) -> QuerySet[HealthDataRead]:
        """What the filters keep, newest first. Call after ``is_valid()`` answered True."""
        data, found = self.cleaned_data, reads()
        if data["user"]:
            found = found.filter(user__username=data["user"].strip())
        if data["person"]:
            found = found.filter(person__id_number=data["person"])
        zone = ZoneInfo(settings.TIME_ZONE)
        if data["read_from"]:
            found = found.filter(read_at__gte=datetime.combine(data["read_from"], time.min, tzinfo=zone))
        if data["read_until"]:
            end = datetime.combine(data["read_until"] + timedelta(days=1), time.min, tzinfo=zone)
            found = found.filter(read_at__lt=end)
        return found.order_by("-read_at", "-id")


def _form(request) -> ReadFilterForm:
    if not request.user.has_perm("crews.view_healthdataread"):
        raise PermissionDenied
    return ReadFilterForm(request.GET)


def _refused(request, form):
    return page(request, "crews/access_log.html", {"form": form, "entries": [], "page_obj": None}, status=400)


@login_required
def access_log(request):
    form = _form(request)
    if not form.is_valid():
        return _refused(request, form)
    current = Paginator(form.entries(), PER_PAGE).get_page(form.cleaned_data["page"] or 1)
    query = request.GET.copy()
    query.pop("page", None)
    return page(
        request,
        "crews/access_log.html",
        {"form": form, "entries": list(current.object_list), "page_obj": current, "query": query.urlencode()},
    )


def export_rows(entries) -> list[dict[str, str]]:
    """The entries as the files hold them (``EXPORT_COLUMNS``): times in Vietnam's, ISO 8601."""
    zone = ZoneInfo(settings.TIME_ZONE)
    return [
        {
            "read_at": e.read_at.astimezone(zone).isoformat(timespec="seconds"),
            "user": e.user.get_username(),
            "user_name": e.user.get_full_name(),
            "kind": e.kind,
            "via": e.via,
            "door": e.door,
            "method": e.method,
            "person_id_number": e.person.id_number if e.person else "",
            "person": e.person.full_name if e.person else "",
            "port_call": e.port_call_id or "",
            "vessel": e.port_call.vessel.registration if e.port_call else "",
            "station": e.station.code if e.station else "",
            "count": "" if e.count is None else e.count,
        }
        for e in entries
    ]


@login_required
def access_log_file(request, fmt: str):
    form = _form(request)
    if not form.is_valid():
        return _refused(request, form)
    rows = export_rows(form.entries())
    if fmt == "csv":
        body, content_type = tabular.to_csv(rows, EXPORT_COLUMNS), "text/csv; charset=utf-8"
    else:
        body, content_type = tabular.to_xlsx(rows, EXPORT_COLUMNS, sheet="access-log"), XLSX
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="access-log-{timezone.localdate().isoformat()}.{fmt}"'
    return response
