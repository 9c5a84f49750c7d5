"""Plain helpers and constants for KCS stations and uploads: staff, rosters, files."""

import io
from datetime import date, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from crews.stations import RosterLine

START = date(2021, 8, 9)  # a Monday
NAMES = ["Nguyễn Thị Hằng", "Trần Đức Mạnh", "Phạm Văn Quý", "Lê Thị Thuỷ", "Đỗ Quốc Việt"]
# The station page: one of its queries lists the week's recorded results and their corrections,
# one the current staff (their results sheet, ending an assignment); one INSERT logs the read (rule R8);
# one reads the station's kit stock for the sheet's lot select (rule R7), and one its
# roster for the kit forecast (the day its kits run out).
STATION_PAGE_QUERIES = 27


def staff_id(i: int) -> str:
    """A 12-digit CCCD with its leading zero: Quảng Ninh's province code is 022."""
    return f"0220{i:08d}"


def staff_name(i: int) -> str:
    return f"{NAMES[i % len(NAMES)]} {i}"


def roster_lines(staff: int, days: int, start: date = START, first_row: int = 2) -> list[RosterLine]:
    """``staff`` people working every day, on the three shifts in turn."""
    lines = []
    for i in range(staff):
        for d in range(days):
            lines.append(
                RosterLine(
                    row=first_row + len(lines),
                    id_number=staff_id(i),
                    full_name=staff_name(i),
                    date=(start + timedelta(days=d)).isoformat(),
                    shift=f"S{(i % 3) + 1}",
                )
            )
    return lines


def csv_file(text: str, name: str = "roster.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def xlsx_file(rows: list[list], name: str = "roster.xlsx") -> SimpleUploadedFile:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())
