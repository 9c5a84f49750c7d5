"""The clearance certificate of an approved cargo handover (rule R1): a one-page A4 PDF
in Vietnamese with who was on board and the test that cleared each of them, and a QR
code that opens the certificate's public verification page.

The verification token is a signed handover id (``django.core.signing``): it cannot be
guessed or altered, and the page it opens reads the handover's state now, so a later
suspension shows there.
"""

import io
from collections.abc import Sequence
from datetime import datetime
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from crews.choices import CrewRole, TestKind, TestResult
from portguard.pdf import BOLD, FONT, register_fonts

from .choices import HandoverState
from .models import Handover, HandoverEvidence

SALT = "portguard.certificate"
MARGIN = 15 * mm
QR_SIZE = 32 * mm
PEOPLE_HEIGHT = 350  # points left for the table of people on one page
# The official heading and title are the document's, in Vietnamese whatever the
# interface language; the labels follow the interface.
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập – Tự do – Hạnh phúc"
TITLE = "GIẤY XÁC NHẬN ĐỦ ĐIỀU KIỆN GIAO NHẬN HÀNG HÓA"


def certificate_token(handover: Handover) -> str:
    return signing.dumps(handover.pk, salt=SALT, compress=True)


def handover_of_token(token: str) -> Handover | None:
    """The handover a verification token names, or None for a forged or mangled one."""
    try:
        pk = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(pk, int):
        return None
    return Handover.objects.select_related("port_call__vessel", "port_call__wharf", "approved_by").filter(pk=pk).first()


def certificate_number(handover: Handover) -> str:
    return f"PG-{handover.approved_at:%Y}-{handover.pk:06d}"


def qr_drawing(url: str, size: float = QR_SIZE) -> Drawing:
    widget = QrCodeWidget(url, barBorder=0)
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0])
    drawing.add(widget)
    return drawing


def _local(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).strftime("%H:%M %d/%m/%Y")


def _officer(user) -> str:
    return user.get_full_name() or user.get_username()


def certificate_pdf(
    handover: Handover, evidence: Sequence[HandoverEvidence], verify_url: str, printed_at: datetime
) -> bytes:
    """The certificate of ``handover`` (port call, vessel and wharf loaded) with its
    ``evidence`` (people and tests loaded), as PDF bytes."""
    register_fonts()
    call = handover.port_call
    vessel, wharf = call.vessel, call.wharf
    small = ParagraphStyle("small", fontName=FONT, fontSize=8, leading=10)
    centred = ParagraphStyle("centred", parent=small, alignment=TA_CENTER)
    heading = ParagraphStyle("heading", fontName=BOLD, fontSize=10, leading=13, alignment=TA_CENTER)
    title = ParagraphStyle("title", fontName=BOLD, fontSize=12.5, leading=16, alignment=TA_CENTER)

    top = Table(
        [
            [
                [
                    Paragraph(NATION, heading),
                    Paragraph(MOTTO, ParagraphStyle("motto", parent=heading, fontSize=9)),
                    Spacer(1, 5 * mm),
                    Paragraph(TITLE, title),
                    Paragraph(_("Clearance certificate for cargo handover"), centred),
                    Paragraph(_("No. %(number)s") % {"number": certificate_number(handover)}, centred),
                ],
                [qr_drawing(verify_url), Paragraph(_("Scan to verify"), centred)],
            ]
        ],
        colWidths=[A4[0] - 2 * MARGIN - QR_SIZE - 6 * mm, QR_SIZE + 6 * mm],
    )
    top.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, 0), "CENTER")]))

    cargo = call.cargo_kind or "—"
    if call.cargo_tonnes is not None:
        cargo = _("%(cargo)s, %(tonnes)s t") % {"cargo": cargo, "tonnes": call.cargo_tonnes}
    facts = [
        (_("Vessel"), f"{vessel.registration} {vessel.name}".strip() + (f" · {vessel.owner}" if vessel.owner else "")),
        (_("Wharf"), f"{wharf.code} — {wharf.name} ({wharf.get_locality_display()})"),
        (
            _("Port call"),
            _("No. %(id)d, arrived %(when)s from %(origin)s")
            % {"id": call.pk, "when": _local(call.arrived_at), "origin": call.origin or "—"},
        ),
        (_("Cargo"), cargo),
        (_("Approved by"), _officer(handover.approved_by)),
        (_("Approved at"), _local(handover.approved_at)),
    ]
    if handover.state == HandoverState.SUSPENDED:
        facts.append(
            (
                _("SUSPENDED"),
                _("%(when)s: %(reason)s")
                % {"when": _local(handover.suspended_at), "reason": handover.suspended_reason},
            )
        )
    facts_table = Table(
        [[Paragraph(f"<b>{escape(label)}</b>", small), Paragraph(escape(value), small)] for label, value in facts],
        colWidths=[35 * mm, A4[0] - 2 * MARGIN - 35 * mm],
    )
    fact_style = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.grey),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    if handover.state == HandoverState.SUSPENDED:
        fact_style.append(("TEXTCOLOR", (0, len(facts) - 1), (-1, len(facts) - 1), colors.red))
    facts_table.setStyle(TableStyle(fact_style))

    story = [
        top,
        Spacer(1, 4 * mm),
        facts_table,
        Spacer(1, 4 * mm),
        Paragraph(
            _(
                "Every person on board was cleared for cargo handover (rule R1): the latest test of each, "
                "sampled after the vessel arrived, was negative and still valid when handover was approved."
            ),
            small,
        ),
        Spacer(1, 2 * mm),
        _people_table(evidence),
        Spacer(1, 6 * mm),
        _signature(handover),
    ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 8 * mm,
        title=f"{TITLE} {certificate_number(handover)}",
        author="PortGuard",
    )
    footer = _("Printed %(when)s · verify at %(url)s") % {"when": _local(printed_at), "url": verify_url}

    def decorate(pdf, _document) -> None:
        pdf.saveState()
        pdf.setFont(FONT, 6.5)
        pdf.drawString(MARGIN, MARGIN, footer)
        pdf.restoreState()

    document.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


def _people_table(evidence: Sequence[HandoverEvidence]) -> Table:
    # One page for any crew an inland vessel carries: the rows shrink for a long manifest
    # to fit the space left under the facts (a 60-strong one would flow onto a second page).
    size = min(8.0, max(4.5, (PEOPLE_HEIGHT / (len(evidence) + 1) - 2.5) / 1.2))
    header = ["#", _("Full name"), _("ID number"), _("Role"), _("Test"), _("Sampled at"), _("Result")]
    roles = dict(CrewRole.choices)
    rows = [header] + [
        [
            str(index),
            e.person.full_name,
            e.person.id_number,
            str(roles.get(e.role, e.role)),
            str(TestKind(e.test.kind).label),
            _local(e.test.sampled_at),
            str(TestResult(e.test.result).label),
        ]
        for index, e in enumerate(evidence, start=1)
    ]
    widths = [8 * mm, 52 * mm, 27 * mm, 22 * mm, 27 * mm, 27 * mm, 17 * mm]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, size, size * 1.2),
                ("FONT", (0, 0), (-1, 0), BOLD, size, size * 1.2),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _signature(handover: Handover) -> Table:
    cells = [
        ["", _("Port authority officer")],
        ["", _("(signature and full name)")],
        ["", "\n\n"],
        ["", _officer(handover.approved_by)],
    ]
    table = Table(cells, colWidths=[(A4[0] - 2 * MARGIN) / 2] * 2)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 8),
                ("FONT", (1, 0), (1, 0), BOLD, 9),
                ("FONT", (1, 3), (1, 3), BOLD, 9),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
            ]
        )
    )
    return table
