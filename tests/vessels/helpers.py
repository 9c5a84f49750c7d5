"""Plain helpers and constants for port calls: an arrival as the API takes it, a screening
sheet as a phone posts it, the query count pinned for the port call page."""

from datetime import date, timedelta

from crews.choices import CrewRole, TestKind, TestResult
from tests.helpers import ARRIVAL, VN, people_of
from vessels.areas import AreaData, add_epidemic_area
from vessels.declarations import DeclarationData, DeclaredPersonData, PortOfCallData
from vessels.services import VesselData, record_departure, register_port_call

# The port call page evaluates clearance with the flags beside each status: epidemic areas
# (R4) and violations (R5), and one query for its recorded results, corrections and authors;
# one INSERT logs the read (rule R8); one reads the wharf's kit stock for the sheet's lot select (R7).
PORT_CALL_QUERIES = 16


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


def calls_of_every_kind(make_call, record, inspector, outsider, ha_long, health, now) -> dict:
    """At Cẩm Phả, a day apart, oldest first: a departed call, a cleared one, one blocked
    by a positive, one from Bắc Giang (an epidemic area) awaiting tests; one at Hạ Long,
    the newest. The world of the port calls list, page and API alike."""
    departed = make_call(crew=1, arrived_at=ARRIVAL - timedelta(days=2))
    record_departure(inspector, departed.pk)
    cleared = make_call(crew=2, arrived_at=ARRIVAL - timedelta(days=1))
    for person in people_of(cleared):
        record(cleared, person, sampled_at=now - timedelta(hours=1))
    blocked = make_call(crew=2, arrived_at=ARRIVAL)
    record(blocked, people_of(blocked)[0], result=TestResult.POSITIVE, sampled_at=now - timedelta(hours=1))
    add_epidemic_area(health, AreaData("Bắc Giang", "", date(2021, 8, 1)))
    flagged = register_port_call(
        inspector,
        wharf=blocked.wharf,
        vessel=VesselData(registration="QN-5555", name="Phúc Hưng 88"),
        arrived_at=ARRIVAL + timedelta(days=1),
        origin="TP. Bắc  giang",
        crew=[],
    )
    elsewhere = make_call(crew=1, wharf=ha_long, by=outsider, arrived_at=ARRIVAL + timedelta(days=2))
    return {"departed": departed, "cleared": cleared, "blocked": blocked, "flagged": flagged, "elsewhere": elsewhere}
