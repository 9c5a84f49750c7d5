"""The printed side of labelled pools (rule R7): a sheet of sample labels for a station's
day, and the pool manifest the lab receives with the tubes.

The labels fill an A4 sheet of 3 × 8 self-adhesive labels of 70 × 37 mm, the common
office format. Each pool has a label for its pooled tube, then one per member's sample.
A label's QR code carries the ID, then (for a sample) the pool's ID, the person's ID
number and name, and the day, one per line; the same is printed beside it in the
project's font, which covers Vietnamese.
"""

import io
import itertools
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reportlab.graphics.barcode import qrencoder
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from portguard.pdf import BOLD, FONT, register_fonts

from .pools import DayPools, Pool, Sample

COLUMNS, ROWS = 3, 8
LABEL_WIDTH, LABEL_HEIGHT = A4[0] / COLUMNS, A4[1] / ROWS
QR_SIZE = 30 * mm
QR_BORDER = 2  # modules of quiet zone; the label's edge adds more
PADDING = 2.5 * mm
TEXT_SIZE = 7
MANIFEST_SIZE = 7.5
NAME_WIDTH = 50 * mm


def pool_code(pool: Pool, days: DayPools) -> str:
    """What a pool's QR code carries."""
    return "\n".join((pool.pool_id, days.day.isoformat(), days.station.code))


def sample_code(sample: Sample, pool: Pool, days: DayPools) -> str:
    """What a sample's QR code carries."""
    return "\n".join((sample.sample_id, pool.pool_id, sample.id_number, sample.full_name, days.day.isoformat()))


def qr_drawing(value: str, size: float = QR_SIZE) -> Drawing:
    """The plain way to draw a QR code with reportlab (a shape per run of dark modules):
    the benchmark's floor."""
    widget = QrCodeWidget(value, barLevel="M", barBorder=QR_BORDER)
    widget.barWidth = widget.barHeight = size
    drawing = Drawing(size, size)
    drawing.add(widget)
    return drawing


def draw_qr(pdf: canvas.Canvas, value: str, x: float, y: float, size: float = QR_SIZE) -> None:
    """``value`` as a QR code (error correction M, UTF-8) of ``size`` points with its
    bottom left corner at (x, y): reportlab's encoder, drawn as one filled path rather
    than as a shape per run of modules, which takes most of the time of a page of codes."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(value)
    code.make()
    box = size / (code.getModuleCount() + 2 * QR_BORDER)
    path = pdf.beginPath()
    for row, modules in enumerate(code.modules):
        top = y + size - (row + QR_BORDER + 1) * box
        column = 0
        for dark, run in itertools.groupby(map(bool, modules)):
            count = len(list(run))
            if dark:
                path.rect(x + (column + QR_BORDER) * box, top, count * box, box)
            column += count
    pdf.drawPath(path, stroke=0, fill=1)


def labels_pdf(days: DayPools) -> bytes:
    """The day's labels (``crews.pools.day_pools``), in pool order. They carry no print
    time: printing the day again gives the same sheet."""
    register_fonts()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    title = _("Sample labels")
    pdf.setTitle(f"{title} {days.station.code} {days.day.isoformat()}")
    pdf.setAuthor("PortGuard")
    date_text = days.day.strftime("%d/%m/%Y")
    labels = []
    for pool in days.pools:
        count = len(pool.samples)
        labels.append(
            (
                pool_code(pool, days),
                [
                    (BOLD, 8, _("POOL")),
                    (BOLD, 6, pool.pool_id),
                    (FONT, TEXT_SIZE, f"{days.station.code} · {date_text}"),
                    (FONT, TEXT_SIZE, ngettext("%(count)d sample", "%(count)d samples", count) % {"count": count}),
                ],
            )
        )
        for sample in pool.samples:
            labels.append(
                (
                    sample_code(sample, pool, days),
                    [
                        (FONT, 6, sample.sample_id),
                        (BOLD, 8, sample.full_name),
                        (FONT, TEXT_SIZE, sample.id_number),
                        (FONT, TEXT_SIZE, date_text),
                        (
                            FONT,
                            TEXT_SIZE,
                            _("Pool P%(n)02d · %(position)d/%(count)d")
                            % {"n": pool.number, "position": sample.position, "count": count},
                        ),
                    ],
                )
            )
    if not labels:
        pdf.setFont(FONT, 11)
        pdf.drawString(
            20 * mm,
            A4[1] - 20 * mm,
            _("No RT-PCR is planned at %(code)s on %(day)s.") % {"code": days.station.code, "day": date_text},
        )
    per_page = COLUMNS * ROWS
    text_left = PADDING + QR_SIZE + 1 * mm
    text_width = LABEL_WIDTH - text_left - PADDING
    for index, (code, lines) in enumerate(labels):
        if index and index % per_page == 0:
            pdf.showPage()
        place = index % per_page
        x = (place % COLUMNS) * LABEL_WIDTH
        y = A4[1] - (place // COLUMNS + 1) * LABEL_HEIGHT
        draw_qr(pdf, code, x + PADDING, y + (LABEL_HEIGHT - QR_SIZE) / 2)
        # Each line sits its own height (Vietnamese marks stack above capitals) below the last.
        baseline = y + LABEL_HEIGHT - PADDING
        for font, size, text in lines:
            for part in _fit(text, font, size, text_width):
                baseline -= size * 1.3
                pdf.setFont(font, size)
                pdf.drawString(x + text_left, baseline, part)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _fit(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` in lines of ``width`` points, broken at spaces (or inside a long word)."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and pdfmetrics.stringWidth(f"{lines[-1]} {word}", font, size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
            continue
        while pdfmetrics.stringWidth(word, font, size) > width and len(word) > 1:
            cut = len(word)
            while cut > 1 and pdfmetrics.stringWidth(word[:cut], font, size) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    return lines


def manifest_pdf(days: DayPools, printed_at: datetime) -> bytes:
    """The pool manifest for the lab: each pool with its members, A4 portrait."""
    register_fonts()
    buffer = io.BytesIO()
    date_text = days.day.strftime("%d/%m/%Y")
    title = _("Pool manifest")
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"{title} {days.station.code} {days.day.isoformat()}",
        author="PortGuard",
    )
    heading = ParagraphStyle("heading", fontName=BOLD, fontSize=12, leading=15)
    body = ParagraphStyle("body", fontName=FONT, fontSize=8.5, leading=11)
    count = sum(len(pool.samples) for pool in days.pools)
    story: list = [
        Paragraph(f"{title} — {days.station.code} {days.station.name}", heading),
        Paragraph(
            _("Sampled on %(day)s · %(pools)d pools, %(samples)d samples · Printed %(when)s")
            % {
                "day": date_text,
                "pools": len(days.pools),
                "samples": count,
                "when": timezone.localtime(printed_at).strftime("%d/%m/%Y %H:%M"),
            },
            body,
        ),
        Spacer(1, 4 * mm),
    ]
    rows = [[_("Pool ID"), "#", _("Sample ID"), _("Full name"), _("ID number"), _("Result")]]
    pool_starts = []
    for pool in days.pools:
        pool_starts.append(len(rows))
        for sample in pool.samples:
            first = sample is pool.samples[0]
            rows.append(
                [
                    pool.pool_id if first else "",
                    str(sample.position),
                    sample.sample_id,
                    "\n".join(_fit(sample.full_name, FONT, MANIFEST_SIZE, NAME_WIDTH - 12)),
                    sample.id_number,
                    "",
                ]
            )
    if len(rows) == 1:
        rows.append(["", "", "", _("No RT-PCR is planned this day."), "", ""])
    style = [
        ("FONT", (0, 0), (-1, -1), FONT, MANIFEST_SIZE),
        ("FONT", (0, 0), (-1, 0), BOLD, MANIFEST_SIZE),
        ("FONT", (0, 1), (0, -1), BOLD, MANIFEST_SIZE),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
        ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    style += [("LINEABOVE", (0, start), (-1, start), 1, colors.black) for start in pool_starts[1:]]
    widths = [45 * mm, 7 * mm, 43 * mm, NAME_WIDTH, 24 * mm, 17 * mm]
    story.append(Table(rows, colWidths=widths, repeatRows=1, style=TableStyle(style)))
    document.build(story)
    return buffer.getvalue()
