"""Health declarations (rule R6) for the demo: two vessels expected at Cẩm Phả wharves,
declared by their captains as the public form would, one with a crew member who declared
a fever and a cough after passing through Bắc Giang (the demo's epidemic area). A vessel
already declared is left alone, so a second run changes nothing."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.management import CommandError
from django.utils import timezone

from crews.choices import CrewRole
from portguard.demo.report import SeedReport
from portguard.domain import DomainError
from vessels.choices import VesselKind
from vessels.declarations import DeclarationData, DeclaredPersonData, PortOfCallData, declare
from vessels.models import Declaration, Wharf


@dataclass(frozen=True)
class DemoDeclaration:
    wharf: str
    registration: str
    name: str
    kind: str
    expected_hours: float
    declarant: str
    phone: str
    ports: list[tuple[str, int]]  # (port, days before today it was left)
    people: list[DeclaredPersonData]


DECLARATIONS = [
    DemoDeclaration(
        wharf="CP-02",
        registration="QN-3175",
        name="Minh Khang 26",
        kind=VesselKind.SELF_PROPELLED_BARGE,
        expected_hours=4,
        declarant="Đặng Văn Khánh",
        phone="0913 246 810",
        ports=[("Cảng Hòn Gai, Quảng Ninh", 1), ("Cảng Cái Lân, Quảng Ninh", 5)],
        people=[
            DeclaredPersonData("Đặng Văn Khánh", "022080012345", CrewRole.CAPTAIN, provinces=["Quảng Ninh"]),
            DeclaredPersonData("Bùi Văn Toàn", "022092034567", CrewRole.CREW, provinces=["Quảng Ninh"]),
            DeclaredPersonData("Ngô Thị Huyền", "031195056789", CrewRole.WORKER, provinces=["Hải Phòng"]),
        ],
    ),
    DemoDeclaration(
        wharf="CP-04",
        registration="QN-8642",
        name="Quang Vinh 15",
        kind=VesselKind.TOWED_BARGE,
        expected_hours=7,
        declarant="Lương Văn Quang",
        phone="0988 135 792",
        ports=[("Cảng Cửa Cấm, Hải Phòng", 2), ("Cảng Phả Lại, Hải Dương", 6)],
        people=[
            DeclaredPersonData("Lương Văn Quang", "024079098765", CrewRole.CAPTAIN, provinces=["Hải Phòng"]),
            DeclaredPersonData(
                "Hà Văn Dũng",
                "024088076543",
                CrewRole.CREW,
                fever=True,
                cough=True,
                provinces=["Bắc Giang", "Hải Dương"],
            ),
            DeclaredPersonData("Trịnh Văn Lực", "030090054321", CrewRole.CREW, provinces=["Hải Phòng"]),
            DeclaredPersonData("Mai Thị Thu", "030197032109", CrewRole.WORKER, provinces=["Hải Phòng"]),
        ],
    ),
]


def seed_declarations(report: SeedReport, wharves: dict[str, tuple[Wharf, bool]], now: datetime) -> None:
    today = timezone.localtime(now).date()
    for demo in DECLARATIONS:
        if Declaration.objects.filter(registration=demo.registration).exists():
            continue
        data = DeclarationData(
            registration=demo.registration,
            vessel_name=demo.name,
            vessel_kind=demo.kind,
            expected_at=now + timedelta(hours=demo.expected_hours),
            declarant_name=demo.declarant,
            declarant_phone=demo.phone,
            ports=[PortOfCallData(port, today - timedelta(days=days)) for port, days in demo.ports],
            people=demo.people,
        )
        try:
            declare(data, wharf=wharves[demo.wharf][0], now=now)
        except DomainError as exc:
            raise CommandError(f"Declaration of {demo.registration}: {exc.message}") from exc
        report.declarations_created += 1
