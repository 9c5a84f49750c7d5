"""The demo as plain values: wharves, users, vessels, people, epidemic areas, KCS stations
and their staff, and how the demo's tests are taken and read."""

import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from crews.choices import TestKind
from portguard import roles
from vessels.choices import Locality, VesselKind, WharfKind

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


# Health officers' list of epidemic areas (rule R4): (province, district, active since
# how many days).
EPIDEMIC_AREAS = [("Bắc Giang", "", 20)]

# --- KCS stations ----------------------------------------------------------------------

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

# --- Tests as the demo takes them ------------------------------------------------------

# A rapid kit is read about 15 minutes after the sample is taken.
RESULT_DELAY = timedelta(minutes=15)


def kit_lot(kind: str, sampled_at: datetime) -> str:
    """Rapid kits carry a lot number; RT-PCR samples go to the lab without one."""
    if kind == TestKind.RAPID:
        return f"QCO{timezone.localtime(sampled_at):%y%m}A"
    return ""
