"""The printed KCS test schedule (rule R3): A4 landscape, one row per staff member and
one column per day, to post at the station.

The font is DejaVu Sans, shipped in ``portguard/fonts/``: it covers Vietnamese, and
neither reportlab's built-in fonts nor the host's can be relied on to.
"""

import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.tables import CellStyle

from portguard.pdf import BOLD, FONT, register_fonts

from . import schedule
from .models import KcsStation
from .stations import StationPlan

PAGE = landscape(A4)
MARGIN = 10 * mm
HEADER_SPACE = 22 * mm
DAYS_PER_TABLE = 7
RT_PCR_SHADE = colors.Color(0.78, 0.78, 0.78)
FONT_SIZE = 7
HEADER_SIZE = 7.5
LEADING = 1.2  # line height, in font sizes
X_PADDING, Y_PADDING = 2, 3  # in a cell, left and right, top and bottom


def _hour(moment: datetime) -> str:
    return f"{moment:%H}h" if moment.minute == 0 else f"{moment:%H}h{moment:%M}"


def _cells(plan: StationPlan) -> tuple[list[int], dict[tuple[int, date], list[str]], set[tuple[int, date]]]:
    """The staff with a planned test, in name order (as positions in ``plan.staff``),
    their cell lines by (staff, day), and the RT-PCR cells."""
    lines: dict[tuple[int, date], list[str]] = defaultdict(list)
    rt_pcr: set[tuple[int, date]] = set()
    # A few dozen texts recur across thousands of cells: write each once.
    texts: dict[tuple, str] = {}
    blocked = _("✖ blocked from duty (positive)")
    for (staff, day, shift, kind, due_from, due_by, pool), state in zip(plan.planned, plan.states, strict=True):
        key = (staff, day)
        if state == schedule.BLOCKED:
            if blocked not in lines[key]:
                lines[key].insert(0, blocked)
            continue
        if kind == schedule.RT_PCR:
            rt_pcr.add(key)
            number = pool.rsplit("-", 1)[-1]
            text = texts.get((kind, number))
            if text is None:
                text = texts[(kind, number)] = _("■ RT-PCR · pool %(pool)s") % {"pool": number}
            lines[key].insert(0, text)
        else:
            text = texts.get((kind, shift, due_from, due_by))
            if text is None:
                text = texts[(kind, shift, due_from, due_by)] = _("%(shift)s · rapid %(start)s–%(end)s") % {
                    "shift": shift,
                    "start": _hour(due_from),
                    "end": _hour(due_by),
                }
            lines[key].append(text)
    return sorted({staff for staff, _day in lines}), lines, rt_pcr


def schedule_pdf(station: KcsStation, start: date, days: int, plan: StationPlan, printed_at: datetime) -> bytes:
    """The schedule of ``plan`` (from ``stations.plan_station``) as a PDF."""
    register_fonts()
    end = start + timedelta(days=days - 1)
    period = f"{date_format(start, 'SHORT_DATE_FORMAT')} – {date_format(end, 'SHORT_DATE_FORMAT')}"
    title = _("KCS staff test schedule")
    heading = [
        f"{title} — {station.code} {station.name}",
        _("Wharf %(code)s %(name)s · Period %(period)s")
        % {"code": station.wharf.code, "name": station.wharf.name, "period": period},
    ]
    body = ParagraphStyle("body", fontName=FONT, fontSize=7.5, leading=9.5)

    story: list = [
        Paragraph(
            _(
                "After every shift: a rapid test, due from the shift's end and overdue %(hours)d h later. "
                "■ RT-PCR days are shaded; samples are pooled for the lab (pool number)."
            )
            % {"hours": settings.PORTGUARD_RAPID_OVERDUE_HOURS},
            body,
        ),
        Spacer(1, 3 * mm),
    ]
    for week in week_cells(plan, start, days):
        story += [_table(week), Spacer(1, 5 * mm)]
    story.append(KeepTogether(_signatures()))

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + HEADER_SPACE,
        bottomMargin=MARGIN + 6 * mm,
        title=f"{title} {station.code} {period}",
        author="PortGuard",
    )
    printed = _("Printed %(when)s") % {"when": timezone.localtime(printed_at).strftime("%d/%m/%Y %H:%M")}

    def decorate(pdf: canvas.Canvas, _document) -> None:
        pdf.saveState()
        pdf.setFont(BOLD, 12)
        pdf.drawString(MARGIN, PAGE[1] - MARGIN - 5 * mm, heading[0])
        pdf.setFont(FONT, 9)
        pdf.drawString(MARGIN, PAGE[1] - MARGIN - 11 * mm, heading[1])
        pdf.setFont(FONT, 7)
        pdf.drawRightString(PAGE[0] - MARGIN, PAGE[1] - MARGIN - 5 * mm, printed)
        pdf.restoreState()

    document.build(story, onFirstPage=decorate, onLaterPages=decorate, canvasmaker=_NumberedCanvas)
    return buffer.getvalue()


@lru_cache(maxsize=4096)  # the same few dozen texts fill thousands of cells
def _wrap(text: str, font: str, size: float, width: float) -> tuple[str, ...]:
    """Break ``text`` at spaces so each line fits ``width`` points."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and pdfmetrics.stringWidth(f"{lines[-1]} {word}", font, size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return tuple(lines)


@dataclass(frozen=True, slots=True)
class WeekCells:
    """What one table of the printed schedule says: a header row, then a row per staff
    member with their number, name and ID and a cell per day. ``marked`` lists the
    RT-PCR cells as (column, row)."""

    rows: list[list[str]]
    widths: list[float]
    heights: list[float]
    marked: list[tuple[int, int]]


def week_cells(plan: StationPlan, start: date, days: int) -> list[WeekCells]:
    """The cells of ``plan``'s tables, a week per table, in the shipped font's metrics."""
    register_fonts()
    people, lines, rt_pcr = _cells(plan)
    name_width = 62 * mm
    day_width = (PAGE[0] - 2 * MARGIN - name_width - 8 * mm) / DAYS_PER_TABLE
    text_width = day_width - 2 * X_PADDING
    weeks = []
    for offset in range(0, days, DAYS_PER_TABLE):
        block = [start + timedelta(days=d) for d in range(offset, min(offset + DAYS_PER_TABLE, days))]
        rows = [["#", _("Staff member"), *(date_format(day, "D d/m") for day in block)]]
        # Row heights given, not measured: reportlab would split every cell's text again.
        heights = [HEADER_SIZE * LEADING + 2 * Y_PADDING]
        marked = []
        for index, rank in enumerate(people, start=1):
            member = plan.staff[rank]
            row = [str(index), f"{member.full_name}\n{member.id_number}"]
            height = 2  # lines: the name and the ID number
            for column, day in enumerate(block, start=2):
                font = FONT
                if (rank, day) in rt_pcr:
                    font = BOLD
                    marked.append((column, index))
                cell = [
                    part for line in lines.get((rank, day), ()) for part in _wrap(line, font, FONT_SIZE, text_width)
                ]
                row.append("\n".join(cell))
                height = max(height, len(cell))
            rows.append(row)
            heights.append(height * FONT_SIZE * LEADING + 2 * Y_PADDING)
        weeks.append(WeekCells(rows, [8 * mm, name_width, *([day_width] * len(block))], heights, marked))
    return weeks


def _table(week: WeekCells) -> Table:
    # One cell style object per kind of cell, shared: style commands would give each of
    # the thousands of cells its own copy, and every page break would carry the per-cell
    # ones over to the rest of the table again.
    body = CellStyle("body")
    body.fontname, body.fontsize, body.leading, body.valign = FONT, FONT_SIZE, FONT_SIZE * LEADING, "TOP"
    body.leftPadding = body.rightPadding = X_PADDING
    body.topPadding = body.bottomPadding = Y_PADDING
    rt_pcr = CellStyle("rt_pcr", body)
    rt_pcr.fontname = BOLD
    header = CellStyle("header", body)
    header.fontname, header.fontsize, header.leading = BOLD, HEADER_SIZE, HEADER_SIZE * LEADING
    styles = [[header] * len(week.widths)] + [[body] * len(week.widths) for _row in week.rows[1:]]
    for column, row in week.marked:
        styles[row][column] = rt_pcr
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("LINEBELOW", (0, 0), (-1, 0), 1.2, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)),
    ]
    return Table(
        week.rows,
        colWidths=week.widths,
        rowHeights=week.heights,
        style=commands,
        repeatRows=1,
        cellStyles=styles,
        renderCB=_MarkRtPcr(rt_pcr),
    )


class _MarkRtPcr:
    """Shades and boxes the cells of one style as the table draws them, under their text."""

    def __init__(self, style: CellStyle):
        self.style = style

    def __call__(self, table: Table, event: str, *args) -> None:
        if event == "startCell" and args[3] is self.style:
            (x, y), (width, height) = args[4:]
            table.canv.saveState()
            table.canv.setFillColor(RT_PCR_SHADE)
            table.canv.setLineWidth(1.4)
            table.canv.rect(x, y, width, height, stroke=1, fill=1)
            table.canv.restoreState()


def _signatures() -> list:
    cells = [
        [_("TKV supervisor"), _("Head of the KCS station")],
        ["\n\n\n", "\n\n\n"],
        ["_" * 40, "_" * 40],
        [_("(signature and full name)"), _("(signature and full name)")],
    ]
    table = Table(cells, colWidths=[(PAGE[0] - 2 * MARGIN) / 2] * 2)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 8),
                ("FONT", (0, 0), (-1, 0), BOLD, 9),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
            ]
        )
    )
    return [Spacer(1, 4 * mm), table]


class _NumberedCanvas(canvas.Canvas):
    """Writes "page n of N" on every page, once the number of pages is known."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self):  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(FONT, 7)
            self.drawRightString(
                PAGE[0] - MARGIN,
                MARGIN,
                _("Page %(page)d of %(total)d") % {"page": self._pageNumber, "total": total},
            )
            super().showPage()
        super().save()
