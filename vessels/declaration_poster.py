"""A wharf's health declaration poster (rule R6): one A4 page in Vietnamese with a large
QR code of the wharf's public declaration form and its short link, to print and put up
where captains and agents see it. The poster's words are the document's, in Vietnamese
whatever the interface language, as the clearance certificate's heading is."""

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from portguard.pdf import BOLD, FONT, register_fonts

from .certificate import qr_drawing
from .models import Wharf

MARGIN = 18 * mm
QR_SIZE = 110 * mm
TITLE = "KHAI BÁO Y TẾ TRƯỚC KHI CẬP BẾN"
LEAD = "Thuyền trưởng hoặc đại lý khai báo y tế cho mọi người trên phương tiện trước khi cập"
STEPS = [
    "Quét mã QR bằng camera điện thoại, hoặc mở đường dẫn bên dưới.",
    "Khai phương tiện, thời gian dự kiến cập bến, các cảng đã ghé trong 14 ngày và từng người "
    "trên phương tiện (triệu chứng, tiếp xúc ca bệnh, các tỉnh đã đến).",
    "Giữ mã biên nhận: dùng mã này để xem hoặc sửa tờ khai cho đến khi cập bến.",
]
DUTY = (
    "Khai báo y tế là bắt buộc theo quy định phòng, chống dịch COVID-19 tại cảng, bến thủy nội địa; "
    "không khai báo là vi phạm."
)


def poster_pdf(wharf: Wharf, url: str) -> bytes:
    register_fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{TITLE} — {wharf.code}",
        author="PortGuard",
    )
    title = ParagraphStyle("title", fontName=BOLD, fontSize=24, leading=30, alignment=TA_CENTER)
    wharf_style = ParagraphStyle("wharf", fontName=BOLD, fontSize=20, leading=26, alignment=TA_CENTER)
    body = ParagraphStyle("body", fontName=FONT, fontSize=13, leading=18)
    centre = ParagraphStyle("centre", parent=body, alignment=TA_CENTER)
    link = ParagraphStyle("link", fontName=BOLD, fontSize=15, leading=20, alignment=TA_CENTER)
    small = ParagraphStyle("small", parent=body, fontSize=10.5, leading=14, textColor=colors.HexColor("#444444"))
    qr = Table([[qr_drawing(url, QR_SIZE)]], colWidths=[QR_SIZE + 8 * mm])
    qr.setStyle(
        TableStyle(
            [
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("BOX", (0, 0), (-1, -1), 1.5, colors.black),
                ("TOPPADDING", (0, 0), (-1, -1), 4 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4 * mm),
            ]
        )
    )
    steps = Table(
        [[Paragraph(f"<b>{n}</b>", body), Paragraph(escape(text), body)] for n, text in enumerate(STEPS, 1)],
        colWidths=[10 * mm, A4[0] - 2 * MARGIN - 10 * mm],
    )
    steps.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 2 * mm)]))
    story = [
        Paragraph(TITLE, title),
        Spacer(1, 4 * mm),
        Paragraph(escape(f"{wharf.name} ({wharf.code})"), wharf_style),
        Spacer(1, 3 * mm),
        Paragraph(escape(f"{LEAD} {wharf.name}."), centre),
        Spacer(1, 6 * mm),
        qr,
        Spacer(1, 4 * mm),
        Paragraph(escape(url), link),
        Spacer(1, 7 * mm),
        steps,
        Spacer(1, 4 * mm),
        Paragraph(escape(DUTY), small),
    ]
    doc.build(story)
    return buffer.getvalue()
