"""Plain helpers and constants for port calls: an arrival as the API takes it, a screening
sheet as a phone posts it, the query count pinned for the port call page."""

from datetime import date, timedelta

from crews.choices import CrewRole, TestKind
from tests.helpers import ARRIVAL, VN
from vessels.declarations import DeclarationData, DeclaredPersonData, PortOfCallData

# The port call page evaluates clearance with the flags beside each status: epidemic areas
# (R4) and violations (R5), and one query for its recorded results, corrections and authors.
PORT_CALL_QUERIES = 14


def arrival_payload(**overrides) -> dict:
    payload = {
        "wharf": "CP-03",
        "vessel": {"registration": "qn 4567", "name": "Hoàng Long 18", "kind": "self_propelled_barge"},
        "arrived_at": "2021-08-12T08:30:00+07:00",
        "origin": "Hải Phòng",
        "crew": [
            {
                "id_number": "022081000123",
                "full_name": "Nguyễn Văn Hùng",
                "role": "captain",
                "date_of_birth": "1981-04-02",
            },
            {"id_number": "031234567", "full_name": "Trần Thị Lan", "role": "worker"},
        ],
    }
    payload.update(overrides)
    return payload


def local(dt) -> str:
    """A datetime as a phone's datetime-local input sends it (Vietnam time)."""
    return dt.astimezone(VN).strftime("%Y-%m-%dT%H:%M")


def sheet_post(call, results: dict, sampled_at=None, kind=TestKind.RAPID) -> dict:
    """The screening sheet's form data: one result per person, sampled 40 minutes after
    ARRIVAL unless told otherwise."""
    data = {"kind": kind, "sampled_at": local(sampled_at or ARRIVAL + timedelta(minutes=40)), "kit_lot": "LOT-7"}
    for person, result in results.items():
        data[f"result_{person.pk}"] = result
    return data


def declaration_data(**overrides) -> DeclarationData:
    """A good declaration of QN-4567 expected at ARRIVAL, with ``overrides``."""
    values = {
        "registration": "qn 4567",
        "vessel_name": "Hoàng Long 18",
        "vessel_kind": "self_propelled_barge",
        "expected_at": ARRIVAL,
        "declarant_name": "Nguyễn Văn Hùng",
        "declarant_phone": "0912 345 678",
        "ports": [PortOfCallData("Cảng Cái Lân, Quảng Ninh", date(2021, 8, 10))],
        "people": [
            DeclaredPersonData("Nguyễn Văn Hùng", "022081000123", CrewRole.CAPTAIN, date(1981, 4, 2)),
            DeclaredPersonData("Trần Thị Lan", "031234567", CrewRole.WORKER, cough=True, provinces=["Bắc Giang"]),
        ],
    }
    values.update(overrides)
    return DeclarationData(**values)
