"""Documents from PortGuard: the clearance certificate of a cargo handover with its
public verification page, and the daily report. Thin: the PDF is drawn by
``vessels.certificate``, the figures are counted by ``vessels.reports``."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from crews.access_log import door_of, record_read
from crews.choices import ReadKind
from portguard import tabular
from portguard.pages import page
from vessels.scope import visible_wharves

from . import certificate, reports
from .choices import HandoverState, Locality
from .models import Handover
from .views import call_or_404


def latest_handover(call) -> Handover | None:
    return (
        Handover.objects.filter(port_call=call)
        .select_related("approved_by", "port_call__vessel", "port_call__wharf")
        .order_by("-approved_at", "-id")
        .first()
    )


@login_required
def certificate_pdf(request, pk: int):
    """The certificate of the call's latest handover (marked if it was suspended since)."""
    handover = latest_handover(call_or_404(request, pk))
    if handover is None:
        raise Http404("No cargo handover was approved for this port call.")
    evidence = list(handover.evidence.select_related("person", "test").order_by("person__full_name", "id"))
    verify_url = request.build_absolute_uri(
        reverse("verify-certificate", args=[certificate.certificate_token(handover)])
    )
    body = certificate.certificate_pdf(handover, evidence, verify_url, printed_at=timezone.now())
    # It names each person on board with the result that cleared them.
    record_read(
        request.user, ReadKind.CERTIFICATE, **door_of(request), port_call=handover.port_call, count=len(evidence)
    )
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{certificate.certificate_number(handover)}.pdf"'
    return response


def verify_certificate(request, token: str):
    """Public, without login: whether the certificate still stands. It names the vessel,
    the wharf and the approval only, never the people on board."""
    handover = certificate.handover_of_token(token)
    if handover is None:
        return page(request, "vessels/verify.html", {"handover": None}, status=404)
    later = Handover.objects.filter(port_call=handover.port_call_id, approved_at__gt=handover.approved_at).exists()
    return page(
        request,
        "vessels/verify.html",
        {
            "handover": handover,
            "call": handover.port_call,
            "number": certificate.certificate_number(handover),
            "people": handover.evidence.count(),
            "valid": handover.state == HandoverState.APPROVED,
            "later": later,
        },
    )


# --- Daily report ------------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ReportForm(forms.Form):
    """The report's filters; a bad or missing value falls back to today, everywhere."""

    date = forms.DateField(
        label=gettext_lazy("Date"),
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    locality = forms.ChoiceField(label=gettext_lazy("Locality"), required=False)
    wharf = forms.ChoiceField(label=gettext_lazy("Wharf"), required=False)

    def __init__(self, data, wharves):
        super().__init__(data)
        everywhere = [("", gettext_lazy("All"))]
        self.fields["locality"].choices = everywhere + list(Locality.choices)
        self.fields["wharf"].choices = everywhere + [(w.code, f"{w.code} — {w.name}") for w in wharves]

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "day": data.get("date") or timezone.localdate(),
            "locality": data.get("locality", ""),
            "wharf": data.get("wharf", ""),
        }


# What each chart shows: (figure, label, colour of its bars).
CHARTS = [
    (
        gettext_lazy("People tested"),
        [
            ("tested_rapid", gettext_lazy("rapid"), "#3b82c4"),
            ("tested_rt_pcr", gettext_lazy("RT-PCR"), "#6a4fb3"),
            ("positives", gettext_lazy("positive"), "#c62828"),
        ],
    ),
    (
        gettext_lazy("Cargo handovers"),
        [
            ("handovers_approved", gettext_lazy("approved"), "#2e7d32"),
            ("handovers_refused", gettext_lazy("refused"), "#ef6c00"),
            ("handovers_suspended", gettext_lazy("suspended"), "#c62828"),
        ],
    ),
    (
        gettext_lazy("KCS staff tests"),
        [
            ("kcs_planned", gettext_lazy("planned"), "#78909c"),
            ("kcs_done", gettext_lazy("done"), "#2e7d32"),
            ("kcs_overdue", gettext_lazy("overdue"), "#c62828"),
        ],
    ),
]
LABEL_WIDTH, BAR_AREA, BAR_HEIGHT, GAP = 150, 420, 9, 8


def bar_chart(title, series, rows: list[reports.ReportRow]) -> dict:
    """One server-drawn SVG chart: a group of horizontal bars per wharf, scaled to the
    largest value (the geometry here, the drawing in the template)."""
    largest = max([getattr(r.figures, name) for r in rows for name, *_rest in series] + [1])
    groups = []
    y = GAP
    for row in rows:
        bars = []
        for index, (name, label, colour) in enumerate(series):
            value = getattr(row.figures, name)
            bars.append(
                {
                    "y": y + index * (BAR_HEIGHT + 1),
                    # As text: a float in a template would be localised (a decimal comma in Vietnamese).
                    "width": f"{BAR_AREA * value / largest:.1f}",
                    "text_x": f"{LABEL_WIDTH + BAR_AREA * value / largest + 4:.1f}",
                    "text_y": y + index * (BAR_HEIGHT + 1) + BAR_HEIGHT - 1,
                    "value": value,
                    "label": label,
                    "colour": colour,
                }
            )
        height = len(series) * (BAR_HEIGHT + 1)
        groups.append({"label": row.wharf, "title": row.wharf_name, "y": y + height // 2 + 3, "bars": bars})
        y += height + GAP
    return {
        "title": title,
        "legend": [{"label": label, "colour": colour} for _name, label, colour in series],
        "groups": groups,
        "height": y,
        "width": LABEL_WIDTH + BAR_AREA + 40,
        "label_width": LABEL_WIDTH,
    }


def report_of(request) -> tuple[ReportForm, reports.DailyReport]:
    if not request.user.has_perm("vessels.view_portcall"):
        raise PermissionDenied
    form = ReportForm(request.GET or None, visible_wharves(request.user))
    filters = form.filters()
    return form, reports.daily_report(request.user, filters.pop("day"), **filters)


@login_required
def daily_report(request):
    form, report = report_of(request)
    query = request.GET.urlencode()
    return page(
        request,
        "vessels/daily_report.html",
        {
            "form": form,
            "report": report,
            "charts": [bar_chart(title, series, report.wharf_rows) for title, series in CHARTS],
            "query": f"?{query}" if query else "",
        },
    )


@login_required
def daily_report_file(request, fmt: str):
    _form, report = report_of(request)
    rows = reports.report_rows(report)
    if fmt == "csv":
        body, content_type = tabular.to_csv(rows, reports.REPORT_COLUMNS), "text/csv; charset=utf-8"
    else:
        body, content_type = tabular.to_xlsx(rows, reports.REPORT_COLUMNS, sheet=report.day.isoformat()), XLSX
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="daily-report-{report.day.isoformat()}.{fmt}"'
    return response
