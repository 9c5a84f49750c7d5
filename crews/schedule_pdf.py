"""The printed KCS test schedule (rule R3): A4 landscape, one row per staff member and
one column per day, to post at the station.

The font is DejaVu Sans, shipped in ``portguard/fonts/``: it covers Vietnamese, and
neither reportlab's built-in fonts nor the host's can be relied on to.
"""

import io
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import cache

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from . import schedule
from .models import KcsStation
from .stations import ScheduleEntry

FONT = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
PAGE = landscape(A4)
MARGIN = 10 * mm
HEADER_SPACE = 22 * mm
DAYS_PER_TABLE = 7
RT_PCR_SHADE = colors.Color(0.78, 0.78, 0.78)


@cache
def register_fonts() -> None:
    folder = settings.BASE_DIR / "portguard" / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(folder / "DejaVuSans-Bold.ttf")))


def _hour(moment: datetime) -> str:
    return f"{moment:%H}h" if moment.minute == 0 else f"{moment:%H}h{moment:%M}"


def _cells(entries: Sequence[ScheduleEntry]) -> tuple[list, dict, set]:
    """Staff in name order, their cell texts by (staff, day), and the RT-PCR cells."""
    staff = {}
    lines: dict[tuple[int, date], list[str]] = defaultdict(list)
    rt_pcr: set[tuple[int, date]] = set()
    for entry in entries:
        plan = entry.planned
        staff[entry.staff.pk] = entry.person
        key = (entry.staff.pk, plan.date)
        if plan.kind == schedule.RT_PCR:
            rt_pcr.add(key)
            lines[key].insert(0, _("■ RT-PCR · pool %(pool)s") % {"pool": plan.pool.rsplit("-", 1)[-1]})
        else:
            lines[key].append(
                _("%(shift)s · rapid %(start)s–%(end)s")
                % {"shift": plan.shift, "start": _hour(plan.due_from), "end": _hour(plan.due_by)}
            )
    people = sorted(staff.items(), key=lambda item: (item[1].full_name, item[1].id_number))
    return people, lines, rt_pcr


def schedule_pdf(
    station: KcsStation, start: date, days: int, entries: Sequence[ScheduleEntry], printed_at: datetime
) -> bytes:
    """The schedule of ``entries`` (from ``stations.station_schedule``) as a PDF."""
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
    people, lines, rt_pcr = _cells(entries)

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
    for offset in range(0, days, DAYS_PER_TABLE):
        block = [start + timedelta(days=d) for d in range(offset, min(offset + DAYS_PER_TABLE, days))]
        story += [_table(block, people, lines, rt_pcr), Spacer(1, 5 * mm)]
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


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break ``text`` at spaces so each line fits ``width`` points."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and pdfmetrics.stringWidth(f"{lines[-1]} {word}", font, size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _table(block: list[date], people, lines, rt_pcr) -> Table:
    name_width = 62 * mm
    day_width = (PAGE[0] - 2 * MARGIN - name_width - 8 * mm) / DAYS_PER_TABLE
    text_width = day_width - 4
    header = ["#", _("Staff member"), *(date_format(day, "D d/m") for day in block)]
    rows = [header]
    style = [
        ("FONT", (0, 0), (-1, -1), FONT, 7),
        ("FONT", (0, 0), (-1, 0), BOLD, 7.5),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("LINEBELOW", (0, 0), (-1, 0), 1.2, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
    ]
    for index, (staff_pk, person) in enumerate(people, start=1):
        row = [str(index), f"{person.full_name}\n{person.id_number}"]
        for column, day in enumerate(block, start=2):
            font = BOLD if (staff_pk, day) in rt_pcr else FONT
            cell = [part for line in lines.get((staff_pk, day), ()) for part in _wrap(line, font, 7, text_width)]
            row.append("\n".join(cell))
            if (staff_pk, day) in rt_pcr:
                style.append(("BACKGROUND", (column, index), (column, index), RT_PCR_SHADE))
                style.append(("FONT", (column, index), (column, index), BOLD, 7))
                style.append(("BOX", (column, index), (column, index), 1.4, colors.black))
        rows.append(row)
    widths = [8 * mm, name_width, *([day_width] * len(block))]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle(style))
    return table


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
