"""Demo data for ``manage.py seed_demo``: the coal route from Cẩm Phả to Đông Triều.

Wharves, vessels and users are reference data, looked up by their natural key. Every
port call, manifest, test result, approval and departure is written through the domain
services, acting as the demo user whose role allows it, so the demo obeys the same rules
as real use. A vessel's scenario is skipped once that vessel has any port call, and a KCS
station's staff, roster and tests once the station has a roster, so a second run changes
nothing. Times are relative to the moment of the first run.
"""

import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group
from django.core.management import CommandError
from django.db import transaction
from django.utils import timezone

from crews import schedule
from crews.choices import CrewRole, TestKind, TestResult
from crews.models import KcsStation, Person, RosterEntry
from crews.services import PersonData, TestData, record_tests, resolve_people
from crews.stations import (
    RosterLine,
    create_station,
    load_roster,
    needs_attention,
    record_staff_tests,
    station_schedule,
)
from portguard import roles
from portguard.domain import DomainError
from vessels.choices import Locality, VesselKind, ViolationKind, ViolationTarget, WharfKind
from vessels.models import EpidemicArea, Vessel, Wharf
from vessels.response import AreaData, ViolationData, add_epidemic_area, record_violation
from vessels.services import VesselData, approve_handover, record_departure, register_port_call

DEFAULT_PASSWORD = "portguard-demo"

CAM_PHA_PORTS = "Công ty Kho vận và Cảng Cẩm Phả - Vinacomin"
HON_GAI_PORTS = "Công ty Kho vận Hòn Gai - Vinacomin"
DA_BAC_PORTS = "Công ty Kho vận Đá Bạc - Vinacomin"


@dataclass(frozen=True)
class DemoWharf:
    code: str
    name: str
    locality: str
    kind: str
    operator: str


# In route order, from Cẩm Phả to Đông Triều.
WHARVES = [
    DemoWharf("CP-01", "Cảng Cửa Ông", Locality.CAM_PHA, WharfKind.PORT, CAM_PHA_PORTS),
    DemoWharf("CP-02", "Cảng Km6", Locality.CAM_PHA, WharfKind.PORT, CAM_PHA_PORTS),
    DemoWharf("CP-03", "Bến Mông Dương", Locality.CAM_PHA, WharfKind.WHARF, CAM_PHA_PORTS),
    DemoWharf("CP-04", "Bến Khe Dây", Locality.CAM_PHA, WharfKind.WHARF, CAM_PHA_PORTS),
    DemoWharf("HL-01", "Cảng Làng Khánh", Locality.HA_LONG, WharfKind.PORT, HON_GAI_PORTS),
    DemoWharf("HL-02", "Cảng Nam Cầu Trắng", Locality.HA_LONG, WharfKind.PORT, HON_GAI_PORTS),
    DemoWharf("QY-01", "Cảng Đầm Nhà Mạc", Locality.QUANG_YEN, WharfKind.PORT, "Công ty CP Cảng Đầm Nhà Mạc"),
    DemoWharf("QY-02", "Bến Phong Cốc", Locality.QUANG_YEN, WharfKind.WHARF, "Hợp tác xã Vận tải thủy Phong Cốc"),
    DemoWharf("UB-01", "Cảng Điền Công", Locality.UONG_BI, WharfKind.PORT, DA_BAC_PORTS),
    DemoWharf("UB-02", "Cảng Bến Cân", Locality.UONG_BI, WharfKind.PORT, DA_BAC_PORTS),
    DemoWharf("DT-01", "Bến Đạm Thủy", Locality.DONG_TRIEU, WharfKind.WHARF, "Công ty Than Mạo Khê - TKV"),
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    first_name: str
    last_name: str
    localities: tuple[str, ...] = ()
    is_staff: bool = False
    # Supervisors: the localities whose KCS stations they supervise.
    stations: tuple[str, ...] = ()


WEST_OF_CAM_PHA = (Locality.HA_LONG, Locality.QUANG_YEN, Locality.UONG_BI, Locality.DONG_TRIEU)

USERS = [
    DemoUser("inspector", roles.INSPECTOR, "Phạm Văn", "Quân", localities=(Locality.CAM_PHA,)),
    # The wharves west of Cẩm Phả need an inspector too, or nobody could register arrivals there.
    DemoUser("inspector2", roles.INSPECTOR, "Đoàn Thị", "Hương", localities=WEST_OF_CAM_PHA),
    DemoUser("supervisor", roles.SUPERVISOR, "Lê Minh", "Tuấn", stations=(Locality.CAM_PHA,)),
    # And a supervisor for the KCS stations west of Cẩm Phả, who loads their rosters.
    DemoUser("supervisor2", roles.SUPERVISOR, "Ngô Thị", "Thu", stations=WEST_OF_CAM_PHA),
    DemoUser("authority", roles.AUTHORITY, "Trần Quốc", "Bảo"),
    DemoUser("health", roles.HEALTH, "Vũ Thị", "Hạnh"),
    DemoUser("admin", roles.ADMIN, "Nguyễn Đức", "Anh", is_staff=True),
]


@dataclass(frozen=True)
class DemoVessel:
    registration: str
    name: str
    kind: str
    owner: str
    capacity_tonnes: int | None


SP_BARGE = VesselKind.SELF_PROPELLED_BARGE

VESSELS = [
    DemoVessel("QN-4567", "Hoàng Long 18", SP_BARGE, "Công ty TNHH Vận tải thủy Hoàng Long", 1200),
    DemoVessel("QN-6688", "Thành Đạt 68", SP_BARGE, "Công ty CP Vận tải thủy Thành Đạt", 1500),
    DemoVessel("HP-1234", "Minh Khang 27", SP_BARGE, "Công ty TNHH Thương mại Vận tải Minh Khang", 980),
    DemoVessel("QN-5012", "Quang Vinh 09", SP_BARGE, "Hộ kinh doanh Phạm Quang Vinh", 750),
    DemoVessel("QN-3579", "Đông Bắc 36", SP_BARGE, "Tổng công ty Đông Bắc", 1600),
    DemoVessel("HP-2468", "Hải Âu 02", VesselKind.TUG, "Công ty TNHH Lai dắt Hải Âu", None),
    DemoVessel("HP-8013", "Hải Âu SL-13", VesselKind.TOWED_BARGE, "Công ty TNHH Lai dắt Hải Âu", 1000),
    DemoVessel("QN-7890", "Phúc Hưng 88", SP_BARGE, "Công ty TNHH Phúc Hưng", 1100),
    DemoVessel("QN-1122", "Tân Cảng 12", SP_BARGE, "Công ty CP Vận tải Tân Cảng Quảng Ninh", 900),
    DemoVessel("HP-3355", "Việt Thắng 55", SP_BARGE, "Công ty TNHH Vận tải biển Việt Thắng", 1300),
    DemoVessel("QN-8899", "An Phú 99", SP_BARGE, "Công ty TNHH An Phú", 1250),
    DemoVessel("QN-2021", "Thợ Mỏ 21", VesselKind.PASSENGER, "Công ty Vận tải và Đưa đón thợ mỏ - Vinacomin", None),
    DemoVessel("QN-9012", "Trường An 12", SP_BARGE, "Công ty TNHH Trường An", 1150),
    DemoVessel("HP-5678", "Nam Sơn 78", VesselKind.TOWED_BARGE, "Công ty CP Vận tải Nam Sơn", 800),
    DemoVessel("QN-0979", "Hồng Hà 79", VesselKind.OTHER, "Công ty TNHH Dịch vụ Hàng hải Hồng Hà", 300),
    DemoVessel("QN-2468", "Minh Châu 86", SP_BARGE, "Công ty TNHH Vận tải thủy Minh Châu", 1050),
]

# Province codes that open a CCCD number and a CMND number.
CCCD_PROVINCE = {
    "Quảng Ninh": "022",
    "Hải Phòng": "031",
    "Hải Dương": "030",
    "Thái Bình": "034",
    "Nam Định": "036",
    "Bắc Giang": "024",
}
CMND_PROVINCE = {
    "Quảng Ninh": "10",
    "Hải Phòng": "03",
    "Hải Dương": "14",
    "Thái Bình": "15",
    "Nam Định": "16",
    "Bắc Giang": "12",
}


@dataclass(frozen=True)
class DemoPerson:
    full_name: str
    born: str
    home: str
    cmnd: bool = False

    @property
    def date_of_birth(self) -> date:
        return date.fromisoformat(self.born)

    @property
    def id_number(self) -> str:
        """A well-formed, stable document number: the CCCD encodes the province, the
        holder's sex and century of birth, and the year of birth."""
        serial = zlib.crc32(f"{self.full_name}|{self.born}".encode())
        if self.cmnd:
            return f"{CMND_PROVINCE[self.home]}{serial % 10**7:07d}"
        # A woman's middle name is almost always Thị; the CCCD's fourth digit encodes sex.
        female = " Thị " in self.full_name
        century = (0 if self.date_of_birth.year < 2000 else 2) + (1 if female else 0)
        return f"{CCCD_PROVINCE[self.home]}{century}{self.date_of_birth.year % 100:02d}{serial % 10**6:06d}"

    @property
    def phone(self) -> str:
        return f"09{zlib.crc32(self.id_number.encode()) % 10**8:08d}"


@dataclass(frozen=True)
class Sample:
    """A test taken for one person of the manifest (by index), ``hours`` before now."""

    person: int
    result: str
    hours: float
    kind: str = TestKind.RAPID
    by: str = ""


@dataclass(frozen=True)
class Scenario:
    vessel: str
    wharf: str
    registered_by: str
    arrived_hours: float
    origin: str
    cargo_kind: str
    cargo_tonnes: int | None
    crew: list[tuple[str, DemoPerson]]
    samples: list[Sample] = field(default_factory=list)
    approved_hours: float | None = None
    departed_hours: float | None = None
    violations: list["DemoViolation"] = field(default_factory=list)


@dataclass(frozen=True)
class DemoViolation:
    """A violation the registering inspector recorded ``hours`` before now, against the
    vessel or, with ``person`` (an index in the manifest), someone on board."""

    kind: str
    hours: float
    person: int | None = None
    note: str = ""
    fine_vnd: int | None = None


def everyone(crew: list, result: str, hours: float, kind: str = TestKind.RAPID, by: str = "") -> list[Sample]:
    return [Sample(index, result, hours, kind, by) for index in range(len(crew))]


CAPTAIN, CREW, WORKER = CrewRole.CAPTAIN, CrewRole.CREW, CrewRole.WORKER
P = DemoPerson

CREW_QN_4567 = [
    (CAPTAIN, P("Nguyễn Văn Hùng", "1976-03-14", "Quảng Ninh")),
    (CREW, P("Trần Đức Mạnh", "1985-11-02", "Quảng Ninh")),
    (CREW, P("Bùi Xuân Trường", "1990-07-21", "Hải Dương")),
    (WORKER, P("Nguyễn Thị Hằng", "1988-05-09", "Quảng Ninh")),
]
CREW_QN_6688 = [
    (CAPTAIN, P("Phạm Văn Tuấn", "1972-01-30", "Hải Phòng", cmnd=True)),
    (CREW, P("Lê Quang Huy", "1994-09-12", "Hải Phòng")),
    (CREW, P("Đỗ Minh Đức", "2001-04-18", "Hải Phòng")),
    (WORKER, P("Ngô Văn Lực", "1983-12-05", "Hải Dương")),
]
CREW_HP_1234 = [
    (CAPTAIN, P("Hoàng Văn Dũng", "1970-06-25", "Thái Bình", cmnd=True)),
    (CREW, P("Vũ Đình Khoa", "1987-02-11", "Thái Bình")),
    (CREW, P("Đặng Văn Thắng", "1992-10-03", "Thái Bình")),
    (WORKER, P("Trần Thị Lan", "1986-08-17", "Thái Bình")),
    (WORKER, P("Dương Văn Hải", "1979-03-29", "Hải Phòng")),
]
CREW_QN_5012 = [
    (CAPTAIN, P("Phạm Quang Vinh", "1968-12-20", "Nam Định", cmnd=True)),
    (CREW, P("Mai Văn Tiến", "1996-05-14", "Nam Định")),
    (WORKER, P("Phạm Thị Thu Trang", "1991-01-07", "Nam Định")),
]
CREW_QN_2468 = [
    (CAPTAIN, P("Vương Đình Lộc", "1975-09-09", "Quảng Ninh")),
    (CREW, P("Lý Văn Phúc", "1993-03-03", "Quảng Ninh")),
]
CREW_QN_3579 = [
    (CAPTAIN, P("Trịnh Quốc Khánh", "1974-04-04", "Quảng Ninh")),
    (CREW, P("Đinh Công Sơn", "1982-07-19", "Quảng Ninh")),
    (CREW, P("Lý Văn Toàn", "1989-02-27", "Quảng Ninh")),
    (WORKER, P("Lê Thị Hoa", "1984-11-23", "Quảng Ninh")),
    (WORKER, P("Phan Thanh Bình", "1993-06-08", "Quảng Ninh")),
]
CREW_HP_2468 = [
    (CAPTAIN, P("Cao Văn Thịnh", "1971-09-16", "Hải Phòng", cmnd=True)),
    (CREW, P("Hà Văn Quyết", "1980-03-02", "Hải Phòng")),
    (CREW, P("Lương Đình Chiến", "1995-12-28", "Hải Phòng")),
]
CREW_HP_8013 = [
    (CREW, P("Tô Văn Phúc", "1977-08-10", "Hải Phòng")),
    (WORKER, P("Vũ Thị Mai", "1990-04-15", "Hải Phòng")),
]
CREW_QN_7890 = [
    (CAPTAIN, P("Nguyễn Hữu Thành", "1973-10-31", "Quảng Ninh", cmnd=True)),
    (CREW, P("Trần Văn Long", "1988-01-19", "Quảng Ninh")),
    (CREW, P("Phạm Quang Hưng", "2000-06-06", "Quảng Ninh")),
    (WORKER, P("Đỗ Thị Ngọc Ánh", "1992-09-24", "Quảng Ninh")),
]
CREW_QN_1122 = [
    (CAPTAIN, P("Lê Văn Hòa", "1969-05-05", "Quảng Ninh", cmnd=True)),
    (CREW, P("Hoàng Minh Tâm", "1991-03-13", "Quảng Ninh")),
    (WORKER, P("Hoàng Thị Yến", "1987-07-01", "Quảng Ninh")),
]
CREW_HP_3355 = [
    (CAPTAIN, P("Vũ Văn Cường", "1975-02-22", "Hải Phòng")),
    (CREW, P("Nguyễn Đình Phong", "1984-10-09", "Hải Phòng")),
    (CREW, P("Đào Văn Nghĩa", "1997-08-30", "Hải Dương")),
    (WORKER, P("Bùi Thị Huệ", "1989-12-12", "Hải Dương")),
]
CREW_QN_8899 = [
    (CAPTAIN, P("Tạ Quang Hưng", "1978-11-11", "Hải Dương")),
    (CREW, P("Nguyễn Trọng Hiếu", "1993-04-26", "Hải Dương")),
    (CREW, P("Phùng Văn Sáng", "1999-01-03", "Quảng Ninh")),
    (WORKER, P("Đặng Thị Thanh Xuân", "1985-06-20", "Quảng Ninh")),
]
CREW_QN_2021 = [
    (CAPTAIN, P("Chu Văn Lâm", "1981-09-09", "Quảng Ninh")),
    (CREW, P("Ngô Thị Nhung", "1995-03-17", "Quảng Ninh")),
    (CREW, P("Lã Văn Khải", "2002-11-05", "Quảng Ninh")),
]
CREW_QN_9012 = [
    (CAPTAIN, P("Đồng Văn Bắc", "1970-02-14", "Quảng Ninh", cmnd=True)),
    (CREW, P("Kiều Văn Định", "1986-05-28", "Quảng Ninh")),
    (WORKER, P("Lưu Thị Hồng", "1990-10-10", "Quảng Ninh")),
]

CREW_HP_5678 = [
    (CAPTAIN, P("Vũ Văn Thuận", "1977-07-07", "Hải Phòng")),
    (CREW, P("Lê Văn Bảo", "1990-12-01", "Hải Phòng")),
    (WORKER, P("Nguyễn Thị Thơm", "1986-02-19", "Hải Phòng")),
]
CREW_QN_0979 = [
    (CAPTAIN, P("Thân Văn Hiệp", "1980-08-08", "Bắc Giang", cmnd=True)),
    (CREW, P("Giáp Văn Quân", "1994-01-21", "Bắc Giang")),
    (WORKER, P("Nguyễn Thị Duyên", "1998-06-30", "Bắc Giang")),
]

# Health officers' list of epidemic areas (rule R4): (province, district, active since
# how many days).
EPIDEMIC_AREAS = [("Bắc Giang", "", 20)]

PHA_LAI = "Nhiệt điện Phả Lại, Hải Dương"
# Negative rapid tests this many hours old run out (24 h) about 5 minutes after seeding.
EXPIRING_HOURS = 24 - 5 / 60
THAI_BINH = "Nhiệt điện Thái Bình, Thái Bình"

# Together they show every state a dashboard should: cleared; awaiting tests (untested,
# pending, invalid, expired, an arrival from an epidemic area tested only by rapid test);
# blocked by a positive rapid test; a confirmed case in quarantine, with its contacts;
# handover approved; departed; a repeat offender.
SCENARIOS = [
    Scenario(
        vessel="QN-9012",
        wharf="CP-01",
        registered_by="inspector",
        arrived_hours=72,
        origin="Hải Phòng",
        cargo_kind="than cám",
        cargo_tonnes=1100,
        crew=CREW_QN_9012,
        samples=everyone(CREW_QN_9012, TestResult.NEGATIVE, 71),
        approved_hours=70,
        departed_hours=60,
    ),
    Scenario(
        vessel="QN-4567",
        wharf="CP-03",
        registered_by="inspector",
        arrived_hours=5,
        origin=PHA_LAI,
        cargo_kind="than cám",
        cargo_tonnes=1150,
        crew=CREW_QN_4567,
        samples=everyone(CREW_QN_4567, TestResult.NEGATIVE, 4.5),
    ),
    Scenario(
        vessel="QN-6688",
        wharf="CP-01",
        registered_by="inspector",
        arrived_hours=0.7,
        origin="Hải Phòng",
        cargo_kind="than cục",
        cargo_tonnes=1400,
        crew=CREW_QN_6688,
    ),
    Scenario(
        vessel="HP-1234",
        wharf="CP-02",
        registered_by="inspector",
        arrived_hours=3,
        origin=THAI_BINH,
        cargo_kind="than cám",
        cargo_tonnes=950,
        crew=CREW_HP_1234,
        samples=everyone(CREW_HP_1234[:4], TestResult.NEGATIVE, 2.5)
        + [
            Sample(4, TestResult.POSITIVE, 2.5),
            Sample(4, TestResult.PENDING, 2, TestKind.RT_PCR, by="health"),
        ],
    ),
    Scenario(
        vessel="QN-5012",
        wharf="CP-04",
        registered_by="inspector",
        arrived_hours=2,
        origin="Nam Định",
        cargo_kind="than cục",
        cargo_tonnes=700,
        crew=CREW_QN_5012,
        samples=everyone(CREW_QN_5012[:2], TestResult.NEGATIVE, 0.5) + [Sample(2, TestResult.PENDING, 0.3)],
    ),
    # Cleared now, by rapid tests that run out a few minutes after the demo starts: the
    # clock turns it back to awaiting tests on every open dashboard.
    Scenario(
        vessel="QN-2468",
        wharf="CP-02",
        registered_by="inspector",
        arrived_hours=24.5,
        origin="Quảng Ninh",
        cargo_kind="than cám",
        cargo_tonnes=950,
        crew=CREW_QN_2468,
        samples=everyone(CREW_QN_2468, TestResult.NEGATIVE, EXPIRING_HOURS),
    ),
    Scenario(
        vessel="QN-3579",
        wharf="HL-01",
        registered_by="inspector2",
        arrived_hours=8,
        origin="Hải Phòng",
        cargo_kind="than cám",
        cargo_tonnes=1500,
        crew=CREW_QN_3579,
        samples=everyone(CREW_QN_3579, TestResult.NEGATIVE, 7.5),
        approved_hours=7,
    ),
    Scenario(
        vessel="HP-2468",
        wharf="HL-02",
        registered_by="inspector2",
        arrived_hours=1.5,
        origin="Hải Phòng",
        cargo_kind="",
        cargo_tonnes=None,
        crew=CREW_HP_2468,
        samples=everyone(CREW_HP_2468, TestResult.NEGATIVE, 1),
    ),
    Scenario(
        vessel="HP-8013",
        wharf="HL-02",
        registered_by="inspector2",
        arrived_hours=1.5,
        origin="Hải Phòng",
        cargo_kind="than cám",
        cargo_tonnes=950,
        crew=CREW_HP_8013,
    ),
    Scenario(
        vessel="QN-7890",
        wharf="QY-01",
        registered_by="inspector2",
        arrived_hours=6,
        origin="Cảng Ninh Phúc, Ninh Bình",
        cargo_kind="clinker",
        cargo_tonnes=1050,
        crew=CREW_QN_7890,
        samples=everyone(CREW_QN_7890, TestResult.NEGATIVE, 5),
    ),
    Scenario(
        vessel="QN-1122",
        wharf="UB-01",
        registered_by="inspector2",
        arrived_hours=30,
        origin=PHA_LAI,
        cargo_kind="than cám",
        cargo_tonnes=880,
        crew=CREW_QN_1122,
        samples=everyone(CREW_QN_1122, TestResult.NEGATIVE, 29),
    ),
    Scenario(
        vessel="HP-3355",
        wharf="UB-02",
        registered_by="inspector2",
        arrived_hours=10,
        origin="Hải Phòng",
        cargo_kind="than cục",
        cargo_tonnes=1250,
        crew=CREW_HP_3355,
        samples=everyone(CREW_HP_3355, TestResult.NEGATIVE, 9, TestKind.RT_PCR, by="health"),
    ),
    Scenario(
        vessel="QN-8899",
        wharf="DT-01",
        registered_by="inspector2",
        arrived_hours=3,
        origin="Nam Định",
        cargo_kind="than cám",
        cargo_tonnes=1200,
        crew=CREW_QN_8899,
        samples=[
            Sample(0, TestResult.NEGATIVE, 2),
            Sample(1, TestResult.INVALID, 2),
            Sample(2, TestResult.NEGATIVE, 2),
            Sample(3, TestResult.NEGATIVE, 2),
        ],
    ),
    Scenario(
        vessel="HP-5678",
        wharf="UB-01",
        registered_by="inspector2",
        arrived_hours=9,
        origin="Hải Phòng",
        cargo_kind="than cám",
        cargo_tonnes=780,
        crew=CREW_HP_5678,
        samples=[
            Sample(0, TestResult.POSITIVE, 8),
            Sample(1, TestResult.NEGATIVE, 8),
            Sample(2, TestResult.NEGATIVE, 8),
            Sample(0, TestResult.POSITIVE, 5, TestKind.RT_PCR, by="health"),
        ],
    ),
    Scenario(
        vessel="QN-0979",
        wharf="HL-02",
        registered_by="inspector2",
        arrived_hours=2.5,
        origin="Việt Yên, Bắc Giang",
        cargo_kind="vật tư",
        cargo_tonnes=120,
        crew=CREW_QN_0979,
        samples=everyone(CREW_QN_0979, TestResult.NEGATIVE, 2),
        violations=[
            DemoViolation(ViolationKind.NO_DECLARATION, 2.4, note="Không khai báo y tế trước khi cập bến."),
            DemoViolation(
                ViolationKind.LEFT_VESSEL,
                1.5,
                person=1,
                note="Rời phương tiện lên bờ khi chưa có kết quả xét nghiệm.",
                fine_vnd=2_000_000,
            ),
        ],
    ),
    Scenario(
        vessel="QN-2021",
        wharf="QY-02",
        registered_by="inspector2",
        arrived_hours=0.3,
        origin="Uông Bí",
        cargo_kind="",
        cargo_tonnes=None,
        crew=CREW_QN_2021,
    ),
]

# A rapid kit is read about 15 minutes after the sample is taken.
RESULT_DELAY = timedelta(minutes=15)


@dataclass
class DemoUserResult:
    user: AbstractBaseUser
    role: str
    created: bool


@dataclass
class SeedReport:
    wharves_created: int = 0
    vessels_created: int = 0
    port_calls_created: int = 0
    port_calls_skipped: int = 0
    stations_created: int = 0
    stations_rostered: int = 0
    stations_skipped: int = 0
    epidemic_areas_created: int = 0
    users: list[DemoUserResult] = field(default_factory=list)


def seed(password: str = DEFAULT_PASSWORD, now: datetime | None = None) -> SeedReport:
    """Load the demo, all or nothing. ``password`` is set only on the users it creates.

    Raises ``CommandError`` when the roles are missing or a service refuses a write.
    """
    now = now or timezone.now()
    report = SeedReport()
    with transaction.atomic():
        wharves = _seed_wharves(report)
        users = _seed_users(report, wharves, password)
        _seed_vessels(report)
        _seed_epidemic_areas(report, users["health"], now)
        # Rosters first: a confirmed case's contacts include the KCS staff on duty.
        _seed_stations(report, wharves, users, now)
        for scenario in SCENARIOS:
            if Vessel.objects.filter(registration=scenario.vessel, port_calls__isnull=False).exists():
                report.port_calls_skipped += 1
                continue
            try:
                _play(scenario, {code: wharf for code, (wharf, _new) in wharves.items()}, users, now)
            except DomainError as exc:
                raise CommandError(f"{scenario.vessel} at {scenario.wharf}: {exc.message}") from exc
            report.port_calls_created += 1
    return report


def _seed_epidemic_areas(report: SeedReport, health, now: datetime) -> None:
    for province, district, days in EPIDEMIC_AREAS:
        if EpidemicArea.objects.filter(province=province, district=district).exists():
            continue
        since = timezone.localdate(now) - timedelta(days=days)
        add_epidemic_area(health, AreaData(province=province, district=district, active_from=since))
        report.epidemic_areas_created += 1


def _seed_wharves(report: SeedReport) -> dict[str, tuple[Wharf, bool]]:
    wharves = {}
    for order, demo in enumerate(WHARVES, start=1):
        wharf, created = Wharf.objects.get_or_create(
            code=demo.code,
            defaults={
                "name": demo.name,
                "locality": demo.locality,
                "kind": demo.kind,
                "operator": demo.operator,
                "route_order": order * 10,
            },
        )
        wharves[demo.code] = (wharf, created)
        report.wharves_created += created
    return wharves


def _seed_users(report: SeedReport, wharves: dict[str, tuple[Wharf, bool]], password: str) -> dict:
    groups = {group.name: group for group in Group.objects.filter(name__in=[u.role for u in USERS])}
    missing = sorted({u.role for u in USERS} - set(groups))
    if missing:
        raise CommandError(f"Roles {', '.join(missing)} are missing: run `manage.py migrate` first.")
    User = get_user_model()
    users = {}
    for demo in USERS:
        user, created = User.objects.get_or_create(
            username=demo.username,
            defaults={"first_name": demo.first_name, "last_name": demo.last_name, "is_staff": demo.is_staff},
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
            user.groups.add(groups[demo.role])
        # Assign only what is new on either side, so an administrator's later changes stand.
        for wharf, wharf_created in wharves.values():
            if wharf.locality in demo.localities and (created or wharf_created):
                wharf.inspectors.add(user)
        users[demo.username] = user
        report.users.append(DemoUserResult(user, demo.role, created))
    return users


def _seed_vessels(report: SeedReport) -> None:
    for demo in VESSELS:
        _vessel, created = Vessel.objects.get_or_create(
            registration=demo.registration,
            defaults={
                "name": demo.name,
                "kind": demo.kind,
                "owner": demo.owner,
                "capacity_tonnes": None if demo.capacity_tonnes is None else Decimal(demo.capacity_tonnes),
            },
        )
        report.vessels_created += created


def _play(scenario: Scenario, wharves: dict[str, Wharf], users: dict, now: datetime) -> None:
    """One vessel's visit, written the way the people at the wharf would write it."""
    vessel = next(v for v in VESSELS if v.registration == scenario.vessel)
    arrived_at = now - timedelta(hours=scenario.arrived_hours)
    registrar = users[scenario.registered_by]
    call = register_port_call(
        registrar,
        wharf=wharves[scenario.wharf],
        vessel=VesselData(registration=vessel.registration, name=vessel.name, kind=vessel.kind, owner=vessel.owner),
        arrived_at=arrived_at,
        origin=scenario.origin,
        cargo_kind=scenario.cargo_kind,
        cargo_tonnes=None if scenario.cargo_tonnes is None else Decimal(scenario.cargo_tonnes),
        crew=[
            PersonData(
                id_number=person.id_number,
                full_name=person.full_name,
                date_of_birth=person.date_of_birth,
                role=role,
                phone=person.phone if role == CrewRole.CAPTAIN else "",
            )
            for role, person in scenario.crew
        ],
        now=arrived_at,
    )
    people = _people(scenario)
    # One screening sheet per round: the samples one user took at one moment.
    rounds = sorted({(sample.hours, sample.by or scenario.registered_by) for sample in scenario.samples}, reverse=True)
    for hours, by in rounds:
        sampled_at = now - timedelta(hours=hours)
        record_tests(
            users[by],
            [
                TestData(
                    person=people[sample.person],
                    kind=sample.kind,
                    sampled_at=sampled_at,
                    result=sample.result,
                    port_call=call,
                    kit_lot=_kit_lot(sample.kind, sampled_at),
                )
                for sample in scenario.samples
                if (sample.hours, sample.by or scenario.registered_by) == (hours, by)
            ],
            now=sampled_at + RESULT_DELAY,
        )
    if scenario.approved_hours is not None:
        approve_handover(users["authority"], call.pk, now=now - timedelta(hours=scenario.approved_hours))
    if scenario.departed_hours is not None:
        record_departure(registrar, call.pk, departed_at=now - timedelta(hours=scenario.departed_hours))
    for violation in scenario.violations:
        record_violation(
            registrar,
            ViolationData(
                vessel=call.vessel,
                kind=violation.kind,
                occurred_at=now - timedelta(hours=violation.hours),
                wharf=call.wharf,
                against=ViolationTarget.VESSEL if violation.person is None else ViolationTarget.PERSON,
                person=None if violation.person is None else people[violation.person],
                note=violation.note,
                fine_vnd=violation.fine_vnd,
            ),
            now=now,
        )


def _people(scenario: Scenario) -> list[Person]:
    numbers = [person.id_number for _role, person in scenario.crew]
    by_number = {p.id_number: p for p in Person.objects.filter(id_number__in=numbers)}
    return [by_number[number] for number in numbers]


def _kit_lot(kind: str, sampled_at: datetime) -> str:
    """Rapid kits carry a lot number; RT-PCR samples go to the lab without one."""
    if kind == TestKind.RAPID:
        return f"QCO{timezone.localtime(sampled_at):%y%m}A"
    return ""


# --- KCS stations ----------------------------------------------------------------------

# A staff member's fortnight: two mornings, two afternoons, two nights, two days off.
# The shifts move forward (a night ends at 06:00, never straight into a morning shift).
SHIFT_CYCLE = ("S1", "S1", "S2", "S2", "S3", "S3", None, None)
ROSTER_DAYS = 14

SURNAMES = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ",
    "Ngô", "Dương", "Lý", "Đinh", "Trịnh", "Phùng", "Lương", "Hà", "Tạ",
]  # fmt: skip
MEN = [
    "Văn Hải", "Đức Thịnh", "Minh Quang", "Quốc Toản", "Văn Tùng", "Hữu Nghĩa", "Công Thành",
    "Thanh Tùng", "Xuân Trường", "Đình Khang", "Mạnh Cường", "Trọng Hiếu", "Văn Khoa",
]  # fmt: skip
WOMEN = [
    "Thị Hằng", "Thị Thu Hà", "Thị Ngọc", "Thị Lan Anh", "Thị Mai", "Thị Huyền", "Thị Phương",
    "Thị Thảo", "Thị Bích Ngọc", "Thị Dung", "Thị Kim Oanh",
]  # fmt: skip


@dataclass(frozen=True)
class DemoStation:
    wharf: DemoWharf
    index: int

    @property
    def code(self) -> str:
        return f"KCS-{self.wharf.code}"

    @property
    def name(self) -> str:
        place = self.wharf.name.removeprefix("Cảng ").removeprefix("Bến ")
        return f"Trạm KCS {place}"

    @property
    def staff(self) -> list[DemoPerson]:
        """Six to ten people, with stable names, birthdays and CCCD numbers."""
        people = []
        for j in range(6 + (self.index * 3) % 5):
            k = self.index * 10 + j
            given = WOMEN[(k * 5) % len(WOMEN)] if k % 3 == 1 else MEN[(k * 7) % len(MEN)]
            born = date(1972 + (k * 7) % 28, k % 12 + 1, (k * 11) % 28 + 1)
            people.append(DemoPerson(f"{SURNAMES[k % len(SURNAMES)]} {given}", born.isoformat(), "Quảng Ninh"))
        return people


STATIONS = [DemoStation(wharf, index) for index, wharf in enumerate(WHARVES)]


def roster_lines(staff: list[DemoPerson], first_day: date, days: int = ROSTER_DAYS) -> list[RosterLine]:
    """Each person on the shift cycle, started at a different point so that every shift
    of every day is covered."""
    lines = []
    for j, person in enumerate(staff):
        phase = j * len(SHIFT_CYCLE) // len(staff)
        for d in range(days):
            shift = SHIFT_CYCLE[(d + phase) % len(SHIFT_CYCLE)]
            if shift:
                day = first_day + timedelta(days=d)
                lines.append(RosterLine(len(lines) + 2, person.id_number, person.full_name, day.isoformat(), shift))
    return lines


def _seed_stations(report: SeedReport, wharves: dict[str, tuple[Wharf, bool]], users: dict, now: datetime) -> None:
    """A station at every wharf; a new one gets staff, two weeks of roster (from last
    week's Monday) and the tests its staff took so far, a few of them missed."""
    supervisors = {demo.username: demo.stations for demo in USERS if demo.stations}
    created_users = {entry.user.pk for entry in report.users if entry.created}
    existing = {s.code: s for s in KcsStation.objects.filter(code__in=[d.code for d in STATIONS])}
    today = timezone.localtime(now).date()
    first_day = today - timedelta(days=today.weekday() + 7)
    for demo in STATIONS:
        wharf, _new = wharves[demo.wharf.code]
        station = existing.get(demo.code)
        own = [users[name] for name, localities in supervisors.items() if wharf.locality in localities]
        if station is None:
            station = create_station(code=demo.code, name=demo.name, wharf=wharf, supervisors=own)
            report.stations_created += 1
        else:
            # As for wharves: add only a supervisor the command has just created.
            station.supervisors.add(*[user for user in own if user.pk in created_users])
        if RosterEntry.objects.filter(staff__station=station).exists():
            report.stations_skipped += 1
            continue
        if not own:
            raise CommandError(f"No demo supervisor for {demo.code}.")
        try:
            _play_station(demo, station, own[0], first_day, now)
        except DomainError as exc:
            raise CommandError(f"{demo.code}: {exc.message}") from exc
        report.stations_rostered += 1


def _play_station(demo: DemoStation, station: KcsStation, supervisor, first_day: date, now: datetime) -> None:
    staff = demo.staff
    # Registered with their birthdays and phones first; the roster then finds them.
    resolve_people(
        [
            PersonData(id_number=p.id_number, full_name=p.full_name, date_of_birth=p.date_of_birth, phone=p.phone)
            for p in staff
        ],
        field="staff",
    )
    load_roster(supervisor, station, roster_lines(staff, first_day))
    shift_starts = {shift.code: shift.starts_at for shift in station.shifts.all()}
    missed: set[tuple] = set()
    # Each week is worked from its printed schedule, planned from the tests done before
    # it. The station's list of who is overdue plans its last days again from the tests
    # before them and may ask for an RT-PCR on another day: staff take that one too, until
    # the printed weeks and the list agree that only the forgotten tests are missing.
    for _round in range(4):
        taken = 0
        for week in range(ROSTER_DAYS // 7):
            planned = [
                e
                for e in station_schedule(station, first_day + timedelta(weeks=week), 7, now)
                if e.planned.due_by < now
            ]
            if _round == 0:
                missed |= {_test_key(e) for e in _missed(demo, planned, now)}
            taken += _take_tests(station, supervisor, _owed(planned, missed), shift_starts, now)
        taken += _take_tests(station, supervisor, _owed(needs_attention(station, now), missed), shift_starts, now)
        if not taken:
            break
    if demo.wharf.code == STAFF_CASE_WHARF:
        _staff_case(station, supervisor, staff[0], now)


# At Cảng Km6's station, one staff member tested positive after yesterday's shift and
# the lab confirmed it this morning: blocked from duty, with a contact list.
STAFF_CASE_WHARF = "CP-02"


def _staff_case(station: KcsStation, supervisor, demo: DemoPerson, now: datetime) -> None:
    person = Person.objects.get(id_number=demo.id_number)
    yesterday = timezone.localtime(now).date() - timedelta(days=1)
    last_shift = (
        RosterEntry.objects.filter(staff__station=station, staff__person=person, date__lte=yesterday)
        .select_related("shift")
        .order_by("-date", "-shift__starts_at")
        .first()
    )
    ends = datetime.combine(last_shift.date, last_shift.shift.ends_at, tzinfo=timezone.get_current_timezone())
    if last_shift.shift.ends_at <= last_shift.shift.starts_at:
        ends += timedelta(days=1)
    positive = min(ends + timedelta(minutes=20), now - timedelta(hours=3))
    record_staff_tests(
        supervisor,
        station,
        [TestData(person, TestKind.RAPID, positive, TestResult.POSITIVE, kit_lot=_kit_lot(TestKind.RAPID, positive))],
        now=positive + RESULT_DELAY,
    )
    confirm = positive + timedelta(minutes=30)
    record_staff_tests(supervisor, station, [TestData(person, TestKind.RT_PCR, confirm, TestResult.POSITIVE)], now=now)


def _test_key(entry) -> tuple:
    plan = entry.planned
    return (entry.staff.pk, plan.kind, plan.date, plan.shift if plan.kind == schedule.RAPID else "")


def _owed(entries: list, missed: set[tuple]) -> list:
    return [e for e in entries if e.state == schedule.OVERDUE and _test_key(e) not in missed]


def _take_tests(station: KcsStation, supervisor, planned: list, shift_starts: dict, now: datetime) -> int:
    """Record the ``planned`` tests as taken: one sheet of rapid results and one of RT-PCR."""
    yesterday = timezone.localtime(now).date() - timedelta(days=1)
    rounds: dict[str, list[TestData]] = {}
    for entry in planned:
        plan = entry.planned
        if plan.kind == schedule.RAPID:
            # Read at the station between 10 and 50 minutes after the shift.
            sampled_at = plan.due_from + timedelta(minutes=10 + zlib.crc32(entry.person.id_number.encode()) % 41)
            data = TestData(entry.person, TestKind.RAPID, sampled_at, TestResult.NEGATIVE)
        else:
            # Sampled as the shift of that day starts (mid-morning on a day off), pooled for the lab.
            start = shift_starts.get(plan.shift)
            sampled_at = plan.due_from + (
                timedelta(hours=start.hour, minutes=start.minute + 15) if start else timedelta(hours=9)
            )
            result = TestResult.PENDING if plan.date >= yesterday else TestResult.NEGATIVE
            data = TestData(entry.person, TestKind.RT_PCR_POOLED, sampled_at, result)
        data.kit_lot = _kit_lot(data.kind, data.sampled_at)
        rounds.setdefault(data.kind, []).append(data)
    for kind, entries in rounds.items():
        last = max(e.sampled_at for e in entries)
        # Rapid kits are read on the spot; the lab answers RT-PCR pools the next day.
        delay = RESULT_DELAY if kind == TestKind.RAPID else timedelta(hours=20)
        record_staff_tests(supervisor, station, entries, now=min(now, last + delay))
    return len(planned)


def _missed(demo: DemoStation, planned: list, now: datetime) -> set:
    """The tests the demo staff forgot in the last two days, so the station page shows
    some overdue: one person's latest rapid test, and at every third station another's
    RT-PCR of yesterday."""
    recent = [e for e in planned if e.planned.due_by > now - timedelta(days=2)]
    missed = set()
    rapid = [e for e in recent if e.planned.kind == schedule.RAPID]
    if rapid:
        forgetful = rapid[-1 - demo.index % min(3, len(rapid))].staff.pk
        missed.add(max((e for e in rapid if e.staff.pk == forgetful), key=lambda e: e.planned.due_by))
    yesterday = timezone.localtime(now).date() - timedelta(days=1)
    rt_pcr = [e for e in recent if e.planned.kind == schedule.RT_PCR and e.planned.date == yesterday]
    if demo.index % 3 == 0 and rt_pcr:
        missed.add(rt_pcr[0])
    return missed
