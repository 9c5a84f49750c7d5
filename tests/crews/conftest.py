"""KCS stations and their supervisors: Sơn supervises the Cẩm Phả station, Tuấn the
Hạ Long one (the outsider for Cẩm Phả). Rosters are loaded through the domain layer."""

import io
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crews.models import KcsStation
from crews.stations import RosterLine, create_station, load_roster
from portguard import roles
from tests.conftest import make_user

START = date(2021, 8, 9)  # a Monday
NAMES = ["Nguyễn Thị Hằng", "Trần Đức Mạnh", "Phạm Văn Quý", "Lê Thị Thuỷ", "Đỗ Quốc Việt"]


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
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


@pytest.fixture
def other_supervisor(db):
    return make_user("tuan", roles.SUPERVISOR)


@pytest.fixture
def station(cam_pha, supervisor) -> KcsStation:
    return create_station(code="kcs-cp-03", name="Trạm KCS Mông Dương", wharf=cam_pha, supervisors=[supervisor])


@pytest.fixture
def other_station(ha_long, other_supervisor) -> KcsStation:
    return create_station(code="KCS-HL-01", name="Trạm KCS Làng Khánh", wharf=ha_long, supervisors=[other_supervisor])


@pytest.fixture
def rostered(station, supervisor):
    """Load ``staff`` people working every day for ``days`` days from START."""

    def load(staff: int = 3, days: int = 7) -> KcsStation:
        load_roster(supervisor, station, roster_lines(staff, days))
        return station

    return load
