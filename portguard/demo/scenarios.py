"""Port-call scenarios: each vessel's visit and crew, replayed through the domain services
the way the people at the wharf would write it."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.management import CommandError

from crews.choices import CrewRole, TestKind, TestResult
from crews.models import Person
from crews.people import PersonData
from crews.results import TestData, record_tests
from portguard.demo.data import RESULT_DELAY, VESSELS, DemoPerson, kit_lot
from portguard.demo.report import SeedReport
from portguard.domain import DomainError
from vessels.areas import ViolationData, record_violation
from vessels.choices import ViolationKind, ViolationTarget
from vessels.models import Vessel, Wharf
from vessels.services import VesselData, approve_handover, record_departure, register_port_call


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


def seed_port_calls(report: SeedReport, wharves: dict[str, tuple[Wharf, bool]], users: dict, now: datetime) -> None:
    """Play each scenario whose vessel has no port call yet."""
    for scenario in SCENARIOS:
        if Vessel.objects.filter(registration=scenario.vessel, port_calls__isnull=False).exists():
            report.port_calls_skipped += 1
            continue
        try:
            _play(scenario, {code: wharf for code, (wharf, _new) in wharves.items()}, users, now)
        except DomainError as exc:
            raise CommandError(f"{scenario.vessel} at {scenario.wharf}: {exc.message}") from exc
        report.port_calls_created += 1


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
                    kit_lot=kit_lot(sample.kind, sampled_at),
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
