"""Demo data for ``manage.py seed_demo``: the coal route from Cẩm Phả to Đông Triều.

Wharves, vessels and users are reference data, looked up by their natural key. Every
port call, manifest, test result, approval and departure is written through the domain
services, acting as the demo user whose role allows it, so the demo obeys the same rules
as real use. A vessel's scenario is skipped once that vessel has any port call, and a KCS
station's staff, roster and tests once the station has a roster, and a health
declaration once its vessel is declared, so a second run changes nothing. Times are
relative to the moment of the first run.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from portguard.demo.data import DEFAULT_PASSWORD, STATIONS, USERS, VESSELS, WHARVES
from portguard.demo.declarations import seed_declarations
from portguard.demo.kits import seed_kits
from portguard.demo.labs import seed_labs
from portguard.demo.reference import seed_epidemic_areas, seed_users, seed_vessels, seed_wharves
from portguard.demo.report import DemoUserResult, SeedReport
from portguard.demo.scenarios import SCENARIOS, seed_port_calls
from portguard.demo.stations import STAFF_CASE_WHARF, roster_lines, seed_stations

__all__ = [
    "DEFAULT_PASSWORD",
    "SCENARIOS",
    "STAFF_CASE_WHARF",
    "STATIONS",
    "USERS",
    "VESSELS",
    "WHARVES",
    "DemoUserResult",
    "SeedReport",
    "roster_lines",
    "seed",
]


def seed(password: str = DEFAULT_PASSWORD, now: datetime | None = None) -> SeedReport:
    """Load the demo, all or nothing. ``password`` is set only on the users it creates.

    Raises ``CommandError`` when the roles are missing or a service refuses a write.
    """
    now = now or timezone.now()
    report = SeedReport()
    with transaction.atomic():
        wharves = seed_wharves(report)
        users = seed_users(report, wharves, password)
        seed_vessels(report)
        seed_epidemic_areas(report, users["health"], now)
        # Rosters first: a confirmed case's contacts include the KCS staff on duty.
        seed_stations(report, wharves, users, now)
        seed_port_calls(report, wharves, users, now)
        seed_declarations(report, wharves, now)
        # Kits after every result and declaration: sized to the forecast of what is there.
        seed_kits(users, now)
        seed_labs(now)
    return report
